"""The job worker with REDIS_URL and JOBS_QUEUE=saq: `python -m server worker` (the Procfile's
`worker:` line). SAQ carries job ids from the app (core.jobs hands them over after commit); each is run by
`jobs.run`, whose conditional claim keeps a job to one runner. Its cron drains the outbox once
a minute across all workers (SAQ runs a cron job once per period), for jobs never handed over.
What a job emits (a notice sent or failed) is published on the app's own channels (`live`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import saq

import realtime
from realtime.plugin import LiveChannelsPlugin, channels_plugin
from server import domains  # noqa: F401  (registers every job function)
from server.core import db, jobs, logs, secrets
from server.settings import Settings

QUEUE = "weifu-jobs"


def queue(redis_url: str) -> saq.Queue:
    return saq.Queue.from_url(redis_url, name=QUEUE)


async def run_job(_ctx: dict, *, job_id: int) -> None:
    await jobs.run(job_id)


async def drain_due(_ctx: dict) -> None:
    await jobs.run_due()


def worker(q: saq.Queue) -> saq.Worker:
    return saq.Worker(q, functions=[run_job], cron_jobs=[saq.CronJob(drain_due, cron="* * * * *")], concurrency=4)


@asynccontextmanager
async def live(settings: Settings) -> AsyncIterator[LiveChannelsPlugin]:
    """Bind live updates as the app does (its channels plugin, its channel names on the same
    Redis), so the events a job emits after its commits reach the app's sockets instead of
    being dropped; those still waiting are published on the way out."""
    plugin = channels_plugin(settings.redis_url)
    async with plugin:
        realtime.bind(plugin, settings.channel_prefix)
        try:
            yield plugin
        finally:
            realtime.bind(None)


def main() -> None:
    settings = Settings()
    if not settings.redis_url:
        raise SystemExit("python -m server worker 需要 REDIS_URL（没有 Redis 时任务在服务进程内运行）")
    logs.install()
    db.configure(settings.database_url, settings.db_timeouts)
    secrets.bind(settings.secret_key)

    async def serve() -> None:
        q = queue(settings.redis_url)
        jobs.bind_queue(q)  # a retry goes back to the queue with its backoff
        await db.start(settings.db_pool_size)
        try:
            async with live(settings):
                await worker(q).start()
        finally:
            await db.stop()
            await q.disconnect()

    asyncio.run(serve())
