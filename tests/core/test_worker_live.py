"""What a job run by the worker emits is published as the app publishes (server.worker.live):
after the job's own transaction commits, never when it rolls back. Needs TEST_REDIS_URL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import saq

import realtime
from realtime.plugin import channels_plugin
from server import worker
from server.core import jobs
from server.core.db import atomic
from server.core.errors import BusinessError
from tests.conftest import REDIS_URL
from tests.realtime.test_live import parse

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="the worker publishes through Redis: needs TEST_REDIS_URL")
ORDER = 7
published: list[list[str]] = []  # the channels of each event handed to the worker's plugin


@jobs.register("test.emits")
async def emits(run: jobs.Run) -> dict:
    async with atomic():
        realtime.emit_order(run.ctx.tenant_id, ORDER, run.args["kind"])
        held = len(published)  # nothing is handed over while the transaction is open
        if run.args["kind"] == "rolled_back":
            raise BusinessError("回滚了", code="rolled_back")
    return {"published_before_commit": held}


async def test_a_job_in_the_worker_publishes_after_its_commit_and_nothing_on_rollback(tenant, settings, monkeypatch):
    published.clear()
    heard: asyncio.Queue[bytes] = asyncio.Queue()
    q = saq.Queue.from_url(settings.redis_url, name=f"test-{uuid.uuid4().hex}")
    await q.connect()
    jobs.bind_queue(q)
    app_side = channels_plugin(settings.redis_url)  # as create_app builds it, listening on Redis
    try:
        async with app_side, worker.live(settings) as plugin:
            publish = plugin.publish

            def recorded(data: object, channels: list[str]) -> None:
                published.append(channels)
                publish(data, channels)

            monkeypatch.setattr(plugin, "publish", recorded)
            channel = f"{settings.channel_prefix}t{tenant.tenant_id}:w{ORDER}"  # the name the app hears
            subscriber = await app_side.subscribe([channel])
            subscriber.attach(heard.put)
            async with atomic():
                rolled = await jobs.enqueue(tenant, "test.emits", args={"kind": "rolled_back"})
            async with atomic():
                kept = await jobs.enqueue(tenant, "test.emits", args={"kind": "committed"})
            await jobs.drain()  # handed to the queue
            await saq.Worker(q, functions=[worker.run_job], burst=True, dequeue_timeout=0.2).start()
            first = parse(await asyncio.wait_for(heard.get(), 10))
            await subscriber.detach()
            await app_side.unsubscribe(subscriber, [channel])
    finally:
        jobs.bind_queue(None)
        await q.disconnect()
    assert (first["topic"], first["kind"], first["ref"]) == ("order", "committed", str(ORDER))
    assert published == [[channel]]  # one event: the rolled-back job's went with its transaction
    rolled, kept = await jobs.get(tenant, rolled["id"]), await jobs.get(tenant, kept["id"])
    assert (rolled["status"], rolled["error"]) == ("failed", "回滚了")
    assert (kept["status"], kept["result"]) == ("done", {"published_before_commit": 0})
