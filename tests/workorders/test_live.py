"""Live events of work orders (topic `workorders`), service level with an in-process memory
backend: intake, assignment, status changes and line edits reach the order's org and its
ancestors' channels after commit; a refused completion publishes nothing."""

from __future__ import annotations

import asyncio

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

import realtime
from server.workorders.services import orders
from tests.masterdata.helpers import refused
from tests.realtime.test_live import no_local_publishing, parse  # noqa: F401  (autouse fixture)
from tests.system.helpers import service_org, service_user
from tests.workorders.helpers import intake_body, wo_world

ALL = [
    "workorders.intake.view",
    "workorders.intake.create",
    "workorders.order.view",
    "workorders.order.repair",
    "workorders.order.assign",
]


async def test_changes_reach_the_org_and_its_ancestors(tenant):
    w = await wo_world(tenant, stock=0)
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    clerk = await service_user(tenant, "clerk", branch["id"], "branch", ALL)
    async with ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True) as plugin:
        realtime.bind(plugin)
        channels = [realtime.org_channel(tenant.tenant_id, org, "workorders") for org in (branch["id"], tenant.org_id)]
        async with plugin.start_subscription(channels) as subscriber:
            events = subscriber.iter_events()

            async def next_signal() -> tuple[str, str, str]:
                s = parse(await asyncio.wait_for(anext(events), 1.0))
                return s["topic"], s["kind"], s["ref"]

            order = await orders.intake(clerk, intake_body(w, goods_id=None, category_id=w["iphone15"]))
            ref = str(order["id"])
            assert [await next_signal() for _ in range(2)] == [("workorders", "created", ref)] * 2
            await orders.assign(clerk, order["id"], clerk.user_id)
            assert await next_signal() == ("workorders", "assigned", ref)
            await next_signal()
            await orders.start_repair(clerk, order["id"], {"final_service_type": "in_warranty"})
            assert await next_signal() == ("workorders", "status", ref)
            await next_signal()
            await orders.add_line(clerk, order["id"], {"repair_code_id": w["diag_code"]})
            assert await next_signal() == ("workorders", "lines", ref)
            await next_signal()
            await refused(orders.complete(clerk, order["id"], {"repair_result": "nope"}), "unknown_dict_item")
            await asyncio.sleep(0.05)
            assert subscriber.qsize == 0
