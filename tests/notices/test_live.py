"""A notice's status is live: written with its move, then sent or failed by its job, each change
is published after its commit on topic `notices` (【通知记录】) and as `workorders`/`notice` of its
order (the order page's timeline). The in-process runner publishes through the app's plugin; the
SAQ worker (server.worker) binds one of its own on the app's Redis channels, so what it sends
reaches the app's sockets."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import saq
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

import realtime
from server import worker
from server.core import jobs
from server.notices.tables import Notice
from server.workorders.services import orders
from tests.conftest import REDIS_URL
from tests.notices.test_notices import sms_on
from tests.realtime.test_live import brief, no_local_publishing, parse, signals_until, socket, token  # noqa: F401
from tests.workorders.helpers import intake_body, wo_world


async def test_the_in_process_runner_publishes_each_status_of_a_notice(tenant, fake_sms):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    async with ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True) as plugin:
        realtime.bind(plugin)
        channels = [realtime.org_channel(tenant.tenant_id, tenant.org_id, t) for t in ("notices", "workorders")]
        async with plugin.start_subscription(channels) as subscriber:
            order = await orders.intake(tenant, intake_body(w))
            await jobs.drain()
            [notice] = await Notice.select(Notice.id, Notice.status)
            assert notice["status"] == "sent"
            events = subscriber.iter_events()
            nid, oid = str(notice["id"]), str(order["id"])
            heard = []
            while ("notices", "sent", nid) not in heard:
                heard.append(brief([parse(await asyncio.wait_for(anext(events), 5))])[0])
            then = brief([parse(await asyncio.wait_for(anext(events), 5))])[0]
    # written with the intake (queued), then sent by the job: each with its order's page signal
    assert [h for h in heard if h[0] == "notices"] == [("notices", "queued", nid), ("notices", "sent", nid)]
    assert ("workorders", "notice", oid) in heard and then == ("workorders", "notice", oid)


@pytest.mark.skipif(not REDIS_URL, reason="the worker's live updates go through Redis: needs TEST_REDIS_URL")
async def test_a_notice_sent_by_the_worker_reaches_the_apps_sockets(tenant, fake_sms, settings, live_server):
    """The app (a live server on Redis) serves the socket; the job runs in a worker bound as
    `python -m server worker` binds (this process publishes nothing else: see no_local_publishing)."""
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    q = saq.Queue.from_url(settings.redis_url, name=f"test-{uuid.uuid4().hex}")  # this test's own queue
    await q.connect()
    jobs.bind_queue(q)
    try:
        async with socket(live_server, await token(live_server, "admin@ACME")) as ws:
            order = await orders.intake(tenant, intake_body(w))
            await jobs.drain()  # handed to the queue: the job is the worker's
            async with worker.live(settings):
                await saq.Worker(q, functions=[worker.run_job], burst=True, dequeue_timeout=0.2).start()
            [notice] = await Notice.select(Notice.id, Notice.status)
            assert notice["status"] == "sent"
            heard = brief(await signals_until(ws, "workorders", order["id"], timeout=10))
    finally:
        jobs.bind_queue(None)
        await q.disconnect()
    assert heard == [("notices", "sent", str(notice["id"])), ("workorders", "notice", str(order["id"]))]
