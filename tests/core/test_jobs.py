"""Background jobs (core.jobs): written in the causing transaction, run after its commit with the
starter's Ctx, progress and outcome kept in the job row, read back only by whoever started it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.core import jobs
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, NotFound
from server.core.tables import Job
from tests.masterdata.helpers import hq_ctx

seen: list[jobs.Run] = []


@jobs.register("test.echo")
async def echo(run: jobs.Run) -> dict:
    seen.append(run)
    await run.progress(1, 2)
    await run.progress(2, 2)
    return {"tenant": run.ctx.tenant_id, "user": run.ctx.user_id, "args": run.args, "size": len(run.data or b"")}


@jobs.register("test.refuses")
async def refuses(run: jobs.Run) -> None:
    raise BusinessError("文件中没有货品数据", code="import_empty")


@jobs.register("test.breaks")
async def breaks(run: jobs.Run) -> None:
    raise RuntimeError("secret internals")


async def test_a_job_runs_after_commit_as_its_starter(tenant):
    seen.clear()
    clerk = await hq_ctx(tenant, ["masterdata.goods.view"])
    async with atomic():
        job = await jobs.enqueue(clerk, "test.echo", args={"n": 1}, data=b"abc")
        assert job["status"] == jobs.JobStatus.QUEUED and not job["finished"]
        assert seen == []  # not before the commit
    await jobs.drain()
    done = await jobs.get(clerk, job["id"])
    assert (done["status"], done["done"], done["total"], done["attempts"], done["error"]) == ("done", 2, 2, 1, None)
    assert done["finished"]
    assert done["result"] == {"tenant": tenant.tenant_id, "user": clerk.user_id, "args": {"n": 1}, "size": 3}
    assert seen[0].ctx == clerk  # the same rights, rebuilt from the row
    row = await Job.select(Job.data, Job.started_at, Job.finished_at).where(Job.id == job["id"]).first()
    assert row["data"] is None and row["started_at"] <= row["finished_at"]  # the upload is not kept


async def test_a_rolled_back_change_starts_nothing(tenant):
    seen.clear()
    with pytest.raises(RuntimeError):
        async with atomic():
            await jobs.enqueue(tenant, "test.echo")
            raise RuntimeError("rolled back")
    await jobs.drain()
    assert seen == [] and await Job.count() == 0


async def test_failures_are_recorded(tenant):
    refused = await jobs.enqueue(tenant, "test.refuses")
    broken = await jobs.enqueue(tenant, "test.breaks")
    await jobs.drain()
    refused, broken = await jobs.get(tenant, refused["id"]), await jobs.get(tenant, broken["id"])
    assert (refused["status"], refused["error"], refused["result"]) == ("failed", "文件中没有货品数据", None)
    assert (broken["status"], broken["error"]) == ("failed", jobs.FAILED_UNEXPECTEDLY)  # no internals shown
    assert refused["finished"] and broken["attempts"] == 1


async def test_a_claimed_job_runs_once(tenant):
    seen.clear()
    job = await jobs.enqueue(tenant, "test.echo")
    await jobs.run(job["id"])  # a second runner, racing the first
    await jobs.drain()
    assert len(seen) == 1 and (await jobs.get(tenant, job["id"]))["attempts"] == 1


async def test_only_the_starter_reads_a_job(tenant, other_tenant):
    clerk = await hq_ctx(tenant, ["masterdata.goods.view"])
    job = await jobs.enqueue(clerk, "test.echo")
    await jobs.drain()
    for stranger in (other_tenant, tenant, await hq_ctx(tenant, ["masterdata.goods.view"], account="clerk2")):
        with pytest.raises(NotFound):
            await jobs.get(stranger, job["id"])
    with pytest.raises(NotFound):
        await jobs.get(clerk, job["id"], name="test.refuses")  # asked for as another kind of job
    assert (await jobs.get(clerk, job["id"], name="test.echo"))["status"] == "done"


async def test_names_are_registered_once(tenant):
    with pytest.raises(RuntimeError):
        jobs.register("test.echo")(echo)
    with pytest.raises(RuntimeError):
        await jobs.enqueue(tenant, "test.nobody")


async def test_a_job_whose_process_is_gone_reads_as_failed(tenant):
    job = await jobs.enqueue(tenant, "test.echo")
    await jobs.drain()
    stale = now() - jobs.STALLED - timedelta(minutes=1)
    await Job.update({Job.status: jobs.JobStatus.RUNNING, Job.updated_at: stale}).where(Job.id == job["id"])
    got = await jobs.get(tenant, job["id"])
    assert (got["status"], got["error"], got["finished"]) == ("failed", jobs.STALLED_ERROR, True)


tries: list[int] = []


@jobs.register("test.flaky")
async def flaky(run: jobs.Run) -> dict:
    tries.append(run.attempt)
    if run.attempt < run.args["succeed_on"]:
        raise jobs.Retry("网关繁忙")
    return {"attempt": run.attempt}


async def test_a_retryable_failure_is_tried_again_after_a_backoff(tenant, monkeypatch):
    monkeypatch.setattr(jobs, "BACKOFF", timedelta(0))
    tries.clear()
    ok = await jobs.enqueue(tenant, "test.flaky", args={"succeed_on": 3}, max_attempts=5)
    spent = await jobs.enqueue(tenant, "test.flaky", args={"succeed_on": 9}, max_attempts=2)
    await jobs.drain()
    ok, spent = await jobs.get(tenant, ok["id"]), await jobs.get(tenant, spent["id"])
    assert (ok["status"], ok["attempts"], ok["result"]) == ("done", 3, {"attempt": 3})
    assert (spent["status"], spent["attempts"], spent["error"]) == ("failed", 2, "网关繁忙")


async def test_a_retry_waits_for_its_time(tenant):
    tries.clear()
    job = await jobs.enqueue(tenant, "test.flaky", args={"succeed_on": 2}, max_attempts=2)
    await jobs.drain(retries=False)  # the retry's timer is dropped, as at shutdown
    row = await Job.select(Job.status, Job.run_after).where(Job.id == job["id"]).first()
    assert row["status"] == "queued" and row["run_after"] > now()
    assert await jobs.run_due() == 0  # not due yet
    await Job.update({Job.run_after: now() - timedelta(seconds=1)}).where(Job.id == job["id"])
    assert await jobs.run_due() == 1 and (await jobs.get(tenant, job["id"]))["status"] == "done"


async def test_a_key_enqueues_one_job(tenant):
    seen.clear()
    async with atomic():
        first = await jobs.enqueue(tenant, "test.echo", key="order-1:accepted")
        second = await jobs.enqueue(tenant, "test.echo", key="order-1:accepted")
    await jobs.drain()
    assert first["id"] == second["id"] and len(seen) == 1 and await Job.count() == 1


async def test_a_job_whose_process_died_is_claimed_again_or_failed(tenant, monkeypatch):
    seen.clear()
    monkeypatch.setattr(jobs, "_start", lambda *args: None)  # never handed to a runner
    once = await jobs.enqueue(tenant, "test.echo")
    twice = await jobs.enqueue(tenant, "test.flaky", args={"succeed_on": 1}, max_attempts=2)
    lost = now() - jobs.STALLED - timedelta(minutes=1)
    await Job.update({Job.status: jobs.JobStatus.RUNNING, Job.attempts: 1, Job.updated_at: lost}).where(Job.id > 0)
    assert await jobs.run_due() == 2
    once, twice = await jobs.get(tenant, once["id"]), await jobs.get(tenant, twice["id"])
    assert (once["status"], once["error"]) == ("failed", jobs.STALLED_ERROR) and seen == []  # its one try is spent
    assert (twice["status"], twice["attempts"]) == ("done", 2)
