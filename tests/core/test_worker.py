"""Jobs with REDIS_URL: handed to SAQ after commit and run by the worker (server.core.worker),
once per attempt however often the drainer hands a due job over. Skipped without Redis."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest
import saq

from server import worker
from server.core import jobs
from server.core.db import atomic
from server.core.tables import Job
from tests.core.test_jobs import seen

REDIS = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), 1).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")


@pytest.fixture
async def queue():
    q = saq.Queue.from_url(REDIS, name=f"test-{uuid.uuid4().hex}")  # this test's own queue
    await q.connect()
    jobs.bind_queue(q)
    yield q
    jobs.bind_queue(None)
    await q.disconnect()


async def work(q: saq.Queue) -> None:
    """Run what the queue holds, then stop."""
    await saq.Worker(q, functions=[worker.run_job], burst=True, dequeue_timeout=0.2).start()


async def test_a_job_goes_through_the_queue_to_the_worker(tenant, queue):
    seen.clear()
    async with atomic():
        job = await jobs.enqueue(tenant, "test.echo", args={"n": 7})
    await jobs.drain()  # the hand-over, not the run
    assert seen == [] and (await Job.select(Job.status).where(Job.id == job["id"]).first())["status"] == "queued"
    assert await jobs.run_due() == 1  # the drainer hands it over again: the same key, one SAQ job
    await asyncio.wait_for(work(queue), 30)
    done = await jobs.get(tenant, job["id"])
    assert (done["status"], done["attempts"], done["result"]["args"]) == ("done", 1, {"n": 7}) and len(seen) == 1
