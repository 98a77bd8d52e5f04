"""Live events of work orders (topic `workorders`), service level with an in-process memory
backend: intake, assignment, status changes and line edits reach the order's org and its
ancestors' channels after commit; a refused completion publishes nothing."""

from __future__ import annotations

import asyncio

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

import realtime
from server.core.db import atomic
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


async def test_my_repairs_reach_the_technicians_concerned(tenant):
    """【我的维修】 follows the technician's own channel: the assignee hears intake, reassignment
    (the one it was taken from too) and status changes; nobody else's channel hears them, and
    line edits (not shown there) are not sent."""
    w = await wo_world(tenant, stock=0)
    clerk = await service_user(tenant, "clerk", tenant.org_id, "hq", ALL)
    tech1 = await service_user(tenant, "tech1", tenant.org_id, "hq", ALL)
    tech2 = await service_user(tenant, "tech2", tenant.org_id, "hq", ALL)
    async with ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True) as plugin:
        realtime.bind(plugin)
        async with (
            plugin.start_subscription([realtime.user_channel(tenant.tenant_id, clerk.user_id)]) as s_clerk,
            plugin.start_subscription([realtime.user_channel(tenant.tenant_id, tech1.user_id)]) as s1,
            plugin.start_subscription([realtime.user_channel(tenant.tenant_id, tech2.user_id)]) as s2,
        ):
            subs = {"clerk": s_clerk, "tech1": s1, "tech2": s2}
            streams = {name: sub.iter_events() for name, sub in subs.items()}

            async def heard() -> dict[str, list[tuple[str, str, str]]]:
                await asyncio.sleep(0.05)
                out = {}
                for name, sub in subs.items():
                    got = []
                    while sub.qsize:
                        s = parse(await asyncio.wait_for(anext(streams[name]), 1.0))
                        got.append((s["topic"], s["kind"], s["ref"]))
                    out[name] = got
                return out

            order = await orders.intake(clerk, intake_body(w, technician_id=tech1.user_id))
            ref = str(order["id"])
            assert await heard() == {"clerk": [], "tech1": [("my_repairs", "created", ref)], "tech2": []}
            await orders.assign(clerk, order["id"], tech2.user_id)
            mine = [("my_repairs", "assigned", ref)]
            assert await heard() == {"clerk": [], "tech1": mine, "tech2": mine}
            await orders.start_repair(clerk, order["id"], {"final_service_type": "in_warranty"})
            assert await heard() == {"clerk": [], "tech1": [], "tech2": [("my_repairs", "status", ref)]}
            await orders.add_line(clerk, order["id"], {"repair_code_id": w["diag_code"]})
            assert await heard() == {"clerk": [], "tech1": [], "tech2": []}
            await orders.cancel(clerk, order["id"], {"reason": "客户取回"})
            assert await heard() == {"clerk": [], "tech1": [], "tech2": [("my_repairs", "status", ref)]}


async def test_whoever_starts_an_unassigned_repair_hears_it(tenant):
    w = await wo_world(tenant, stock=0)
    tech = await service_user(tenant, "tech", tenant.org_id, "hq", ALL)
    order = await orders.intake(tech, intake_body(w))
    async with ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True) as plugin:
        realtime.bind(plugin)
        async with plugin.start_subscription([realtime.user_channel(tenant.tenant_id, tech.user_id)]) as sub:
            await orders.start_repair(tech, order["id"], {"final_service_type": "in_warranty"})
            s = parse(await asyncio.wait_for(anext(sub.iter_events()), 1.0))
            assert (s["topic"], s["kind"], s["ref"]) == ("my_repairs", "status", str(order["id"]))


async def test_a_quote_or_a_notice_is_marked_for_its_orders_page_only(tenant):
    """`own_kinds`: a quote's, a notice's and a GSX repair's signals say `data-own="1"` (lists and
    the board let them pass, static/js), a status change does not."""
    async with ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True) as plugin:
        realtime.bind(plugin)
        channel = realtime.org_channel(tenant.tenant_id, tenant.org_id, "workorders")
        async with plugin.start_subscription([channel]) as subscriber:
            events = subscriber.iter_events()
            for kind in ("status", "quote", "notice", "gsx", "lines"):
                async with atomic():
                    realtime.emit(tenant.tenant_id, tenant.org_path, "workorders", kind, 7)
                signal = parse(await asyncio.wait_for(anext(events), 1.0))
                own = "1" if kind in ("quote", "notice", "gsx") else None
                assert (signal["kind"], signal.get("own")) == (kind, own)
