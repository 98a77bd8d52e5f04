"""Background jobs (ARCHITECTURE "Background jobs"): an async function registered by name; a
service enqueues it inside its `atomic()` (a `job` row: the outbox, so a rolled-back change
starts nothing) and the row is handed to the runner once that transaction commits.

By default the runner is in-process: the process that enqueued a job runs it as an asyncio
task. With REDIS_URL and JOBS_QUEUE=saq the job's id is handed to SAQ (`bind_queue`) and
`python -m server worker` (server.worker) runs it; the row stays the truth. A job never handed
over (its process died between the commit and the hand-off), a retry waiting for its time, or
one whose process died while it ran is found by `run_due`, which the server calls at start-up
and every DRAIN_EVERY (the worker: once a minute): each job is claimed by a conditional UPDATE,
so across processes it runs once per attempt. A job with a `key` is enqueued once per
key (the second enqueue finds the first). A function raising `Retry` is queued again with a
backoff until its `max_attempts`. Status, progress and outcome are in the job row, so any process
answers a poll. The job's function sees a `Run`: who started it (their Ctx as it was then), its
arguments, its upload, its attempt, and `progress()` to record how far it got.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from server.core.clock import now
from server.core.db import after_commit, atomic
from server.core.errors import BusinessError, NotFound
from server.core.states import Labelled
from server.core.tables import Job
from server.core.tenancy import Ctx, scoped

log = logging.getLogger("weifu")


class Retry(Exception):
    """Raised by a job function whose failure may pass (a gateway's 5xx, a timeout): the job is
    tried again after a backoff, and fails with `detail` once its attempts are spent."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class JobStatus(Labelled):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


FAILED_UNEXPECTEDLY = "任务执行出错，请稍后重试或联系管理员"
# A job records progress (or finishes) at least this often; one silent for longer lost its process
# (a restart): `run_due` claims it again, or fails it once its tries are spent, and a poll stops
# waiting for it.
STALLED = timedelta(minutes=10)
STALLED_ERROR = "任务已中断（服务可能已重启），请重新开始"
BACKOFF = timedelta(seconds=15)  # the first retry's wait; each next one waits twice as long
DRAIN_EVERY = 30.0  # seconds between two looks for due jobs in a served app


@dataclasses.dataclass(frozen=True)
class Run:
    """What a job function is given."""

    id: int
    ctx: Ctx
    args: dict
    data: bytes | None
    attempt: int = 1

    async def progress(self, done: int, total: int) -> None:
        """Record progress in its own short transaction; never call it inside the job's own
        `atomic()` (a poll could not see it before the commit, and SQLite would wait for it)."""
        async with atomic():
            await Job.update({Job.done: done, Job.total: total, Job.updated_at: now()}).where(Job.id == self.id)


JobFunction = Callable[[Run], Awaitable[dict | None]]
_functions: dict[str, JobFunction] = {}
_tasks: set[asyncio.Task] = set()
_waiting: set[asyncio.Task] = set()  # retries sleeping until their time
_queue: Any = None  # a saq.Queue with REDIS_URL: jobs go to the worker instead of this process


def register(name: str) -> Callable[[JobFunction], JobFunction]:
    """`@register("goods.import")` on `async def f(run: Run) -> dict | None`: the dict is the
    job's result; a BusinessError fails the job with its message. A job that runs for long calls
    `run.progress` more often than every STALLED."""

    def add(function: JobFunction) -> JobFunction:
        if name in _functions:
            raise RuntimeError(f"job {name!r} registered twice")
        _functions[name] = function
        return function

    return add


def _actor(ctx: Ctx) -> dict:
    return dataclasses.asdict(ctx) | {"permissions": sorted(ctx.permissions), "features": sorted(ctx.features)}


def _ctx(actor: dict) -> Ctx:
    sets = {"permissions": frozenset(actor["permissions"]), "features": frozenset(actor.get("features", ()))}
    return Ctx(**actor | sets)


_SHOWN = (
    Job.id,
    Job.name,
    Job.status,
    Job.done,
    Job.total,
    Job.result,
    Job.error,
    Job.attempts,
    Job.max_attempts,
    Job.created_at,
    Job.updated_at,
)


async def enqueue(
    ctx: Ctx,
    name: str,
    *,
    args: dict | None = None,
    data: bytes | None = None,
    key: str | None = None,
    max_attempts: int = 1,
) -> dict:
    """Write the job in the current transaction (or one of its own); it starts after commit. With
    a `key`, a job of the tenant already holding that key is answered instead of a second one."""
    if name not in _functions:
        raise RuntimeError(f"no job {name!r} registered")
    t = now()
    async with atomic():
        rows = (
            await Job.insert(
                Job(
                    tenant_id=ctx.tenant_id,
                    name=name,
                    status=JobStatus.QUEUED,
                    actor=_actor(ctx),
                    args=args or {},
                    data=data,
                    key=key,
                    max_attempts=max_attempts,
                    created_by=ctx.user_id,
                    created_at=t,
                    updated_at=t,
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(*_SHOWN)
        )
        if not rows:  # the key's job exists: this effect is already on its way
            row = await Job.select(*_SHOWN).where(scoped(ctx, Job) & (Job.key == key)).first()
            return _shown(row)
        row = rows[0]
        after_commit(lambda: _start(row["id"]))
    # as written: a re-read could already find it running (or done) in this process's runner
    return _shown(row)


def bind_queue(queue: Any) -> None:
    """Hand jobs to this SAQ queue (the served app and the worker, with JOBS_QUEUE=saq); None:
    run them in this process."""
    global _queue
    _queue = queue


async def _hand_over(job_id: int, attempts: int, delay: float = 0.0) -> None:
    """Give the job's id to SAQ, once per attempt (its key); a failure leaves the row queued for
    `run_due`."""
    try:
        await _queue.enqueue(
            "run_job",
            job_id=job_id,
            key=f"job-{job_id}-{attempts}",
            scheduled=int(time.time() + delay),
            timeout=int(STALLED.total_seconds()),
            retries=1,
        )
    except Exception:
        log.exception("handing job %s to the queue failed: the drainer will run it", job_id)


def _start(job_id: int, delay: float = 0.0, attempts: int = 0) -> None:
    if _queue is not None:
        task = asyncio.get_running_loop().create_task(_hand_over(job_id, attempts, delay), name=f"job {job_id}")
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
        return

    async def later() -> None:
        await asyncio.sleep(delay)
        _start(job_id)

    tasks = _waiting if delay > 0 else _tasks
    task = asyncio.get_running_loop().create_task(later() if delay > 0 else run(job_id), name=f"job {job_id}")
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def _due():
    """Queued and due, or running but silent for longer than STALLED (its process is gone)."""
    t = now()
    queued = (Job.status == JobStatus.QUEUED) & (Job.run_after.is_null() | (Job.run_after <= t))
    return queued | ((Job.status == JobStatus.RUNNING) & (Job.updated_at < t - STALLED))


async def run(job_id: int) -> None:
    """Claim a due job and run it to DONE, FAILED or (on `Retry`) QUEUED again for later; a job
    another runner claimed is left alone."""
    async with atomic():
        claimed = (
            await Job.update(
                {
                    Job.status: JobStatus.RUNNING,
                    Job.attempts: Job.attempts + 1,
                    Job.started_at: now(),
                    Job.updated_at: now(),
                }
            )
            .where((Job.id == job_id) & _due())
            .returning(Job.id, Job.attempts, Job.max_attempts)
        )
    if not claimed:
        return
    attempt, tries = claimed[0]["attempts"], claimed[0]["max_attempts"]
    row = (
        await Job.select(Job.name, Job.actor, Job.args, Job.data).where(Job.id == job_id).output(load_json=True).first()
    )
    outcome: dict[Any, Any] = {Job.status: JobStatus.DONE, Job.error: None}
    if attempt > tries:  # its last try's process died while it ran
        outcome |= {Job.status: JobStatus.FAILED, Job.error: STALLED_ERROR}
    else:
        try:
            run_ = Run(job_id, _ctx(row["actor"]), row["args"], row["data"], attempt)
            outcome[Job.result] = await _functions[row["name"]](run_)
        except Retry as exc:
            outcome |= {Job.status: JobStatus.FAILED, Job.error: exc.detail}
            if attempt < tries:
                wait = BACKOFF * 2 ** (attempt - 1)
                outcome |= {Job.status: JobStatus.QUEUED, Job.run_after: now() + wait}
        except BusinessError as exc:
            outcome |= {Job.status: JobStatus.FAILED, Job.error: exc.detail}
        except Exception:
            log.exception("job %s (%s) failed", job_id, row["name"])
            outcome |= {Job.status: JobStatus.FAILED, Job.error: FAILED_UNEXPECTEDLY}
    t = now()
    finished = outcome[Job.status] != JobStatus.QUEUED
    if finished:
        outcome |= {Job.data: None, Job.finished_at: t}
    async with atomic():
        await Job.update(outcome | {Job.updated_at: t}).where(Job.id == job_id)
    if not finished:
        _start(job_id, max((outcome[Job.run_after] - t).total_seconds(), 0.001), attempt)


async def run_due(limit: int = 100) -> int:
    """Run the jobs due now that no runner holds (the outbox left by a crash, retries whose time
    came, jobs whose process died); how many this call ran. Each is claimed by a conditional
    UPDATE, so two processes draining at once run every job once."""
    rows = await Job.select(Job.id, Job.attempts).where(_due()).order_by(Job.id).limit(limit)
    for row in rows:
        if _queue is not None:  # the worker runs it (a key per attempt: handed over once)
            await _hand_over(row["id"], row["attempts"])
        else:
            await run(row["id"])
    return len(rows)


async def keep_draining(every: float = DRAIN_EVERY) -> None:
    """The served app's drainer: due jobs at start-up, then every `every` seconds."""
    while True:
        try:
            await run_due()
        except Exception:
            log.exception("draining the job outbox failed")
        await asyncio.sleep(every)


async def get(ctx: Ctx, job_id: int, *, name: str | None = None) -> dict:
    """A job of the caller's tenant that the caller started (of kind `name`, if given); anyone
    else's reads as absent."""
    where = scoped(ctx, Job) & (Job.id == job_id) & (Job.created_by == ctx.user_id)
    if name is not None:
        where &= Job.name == name
    row = await Job.select(*_SHOWN).where(where).output(load_json=True).first()
    if row is None:
        raise NotFound("任务")
    if row["status"] in (JobStatus.QUEUED, JobStatus.RUNNING) and row["updated_at"] < now() - STALLED:
        row |= {"status": JobStatus.FAILED, "error": STALLED_ERROR}  # its process is gone: stop waiting
    return _shown(row)


def _shown(row: dict) -> dict:
    return row | {"finished": row["status"] in (JobStatus.DONE, JobStatus.FAILED)}


async def drain(*, retries: bool = True) -> None:
    """Wait for the jobs this process is running (and, with `retries`, those waiting for their
    backoff): in tests. At shutdown retries are dropped instead: their row waits for `run_due`."""
    if not retries:
        for task in list(_waiting):
            task.cancel()
        await asyncio.gather(*_waiting, return_exceptions=True)
    while _tasks or (retries and _waiting):
        await asyncio.gather(*_tasks, *_waiting, return_exceptions=True)
