"""Background jobs (ARCHITECTURE "Background jobs"): an async function registered by name; a
service enqueues it inside its `atomic()` (a `job` row, so a rolled-back change starts nothing)
and the runner starts it once that transaction commits.

The runner is in-process for now, with or without REDIS_URL: the process that enqueued a job
runs it as an asyncio task. Status, progress and outcome are in the job row, so any process
answers a poll. The job's function sees a `Run`: who started it (their Ctx as it was then), its
arguments, its upload, and `progress()` to record how far it got.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
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


class JobStatus(Labelled):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


FAILED_UNEXPECTEDLY = "任务执行出错，请稍后重试或联系管理员"
# A job records progress (or finishes) at least this often; one silent for longer lost its process
# (a restart: the in-process runner does not resume jobs) and reads as failed.
STALLED = timedelta(minutes=10)
STALLED_ERROR = "任务已中断（服务可能已重启），请重新开始"


@dataclasses.dataclass(frozen=True)
class Run:
    """What a job function is given."""

    id: int
    ctx: Ctx
    args: dict
    data: bytes | None

    async def progress(self, done: int, total: int) -> None:
        """Record progress in its own short transaction; never call it inside the job's own
        `atomic()` (a poll could not see it before the commit, and SQLite would wait for it)."""
        async with atomic():
            await Job.update({Job.done: done, Job.total: total, Job.updated_at: now()}).where(Job.id == self.id)


JobFunction = Callable[[Run], Awaitable[dict | None]]
_functions: dict[str, JobFunction] = {}
_tasks: set[asyncio.Task] = set()


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
    Job.created_at,
    Job.updated_at,
)


async def enqueue(ctx: Ctx, name: str, *, args: dict | None = None, data: bytes | None = None) -> dict:
    """Write the job in the current transaction (or one of its own); it starts after commit."""
    if name not in _functions:
        raise RuntimeError(f"no job {name!r} registered")
    t = now()
    async with atomic():
        row = (
            await Job.insert(
                Job(
                    tenant_id=ctx.tenant_id,
                    name=name,
                    status=JobStatus.QUEUED,
                    actor=_actor(ctx),
                    args=args or {},
                    data=data,
                    created_by=ctx.user_id,
                    created_at=t,
                    updated_at=t,
                )
            ).returning(*_SHOWN)
        )[0]
        after_commit(lambda: _start(row["id"]))
    # as written: a re-read could already find it running (or done) in this process's runner
    return _shown(row)


def _start(job_id: int) -> None:
    task = asyncio.get_running_loop().create_task(run(job_id), name=f"job {job_id}")
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def run(job_id: int) -> None:
    """Claim a queued job and run it to DONE or FAILED; a job another runner claimed is left alone."""
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
            .where((Job.id == job_id) & (Job.status == JobStatus.QUEUED))
            .returning(Job.id)
        )
    if not claimed:
        return
    row = (
        await Job.select(Job.name, Job.actor, Job.args, Job.data).where(Job.id == job_id).output(load_json=True).first()
    )
    outcome: dict[Any, Any] = {Job.status: JobStatus.DONE, Job.error: None}
    try:
        result = await _functions[row["name"]](Run(job_id, _ctx(row["actor"]), row["args"], row["data"]))
        outcome[Job.result] = result
    except BusinessError as exc:
        outcome |= {Job.status: JobStatus.FAILED, Job.error: exc.detail}
    except Exception:
        log.exception("job %s (%s) failed", job_id, row["name"])
        outcome |= {Job.status: JobStatus.FAILED, Job.error: FAILED_UNEXPECTEDLY}
    t = now()
    async with atomic():
        await Job.update(outcome | {Job.data: None, Job.finished_at: t, Job.updated_at: t}).where(Job.id == job_id)


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


async def drain() -> None:
    """Wait for the jobs this process is running: at shutdown, and in tests."""
    while _tasks:
        await asyncio.gather(*_tasks, return_exceptions=True)
