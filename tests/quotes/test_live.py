"""A quote made or decided anywhere (the staff's services and API, the customer's status page)
reaches the order's open pages live: a `workorders` event of kind `quote` for the order on its
org's channel (and its ancestors'), published after commit; a refused decision publishes
nothing, and 【我的维修】 (which shows no quote) hears none."""

from __future__ import annotations

import asyncio

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

import realtime
from server.masterdata.services import warehouses
from server.quotes import services as quotes
from server.selfservice import services as selfservice
from server.workorders.services import orders
from tests.masterdata.helpers import refused
from tests.quotes.test_quotes import ALL, PNG, _order
from tests.realtime.test_live import no_local_publishing, parse  # noqa: F401  (autouse fixture)
from tests.system.helpers import service_org, service_user
from tests.workorders.helpers import wo_world


async def test_quotes_made_and_decided_reach_the_orders_pages(tenant):
    w = await wo_world(tenant, stock=5)
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    clerk = await service_user(tenant, "clerk", branch["id"], "branch", ALL)
    await warehouses.assign(tenant, [w["general"], w["defective"]], [branch["id"]])
    order, _ = await _order(clerk, w)
    await orders.assign(clerk, order["id"], clerk.user_id)  # its technician's 【我的维修】 hears no quote
    ref = str(order["id"])
    async with ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True) as plugin:
        realtime.bind(plugin)
        pages = [realtime.org_channel(tenant.tenant_id, org, "workorders") for org in (branch["id"], tenant.org_id)]
        mine = [realtime.user_channel(tenant.tenant_id, clerk.user_id)]
        async with plugin.start_subscription(pages) as subscriber, plugin.start_subscription(mine) as technician:
            events = subscriber.iter_events()

            async def heard() -> list[tuple[str, str, str]]:
                await asyncio.sleep(0.05)
                got = []
                while subscriber.qsize:
                    s = parse(await asyncio.wait_for(anext(events), 1.0))
                    got.append((s["topic"], s["kind"], s["ref"]))
                return got

            both = [("workorders", "quote", ref)] * 2  # the branch's channel and its parent's
            quote = await quotes.create(clerk, order["id"], {})
            assert await heard() == both
            await refused(quotes.approve(clerk, quote["id"], ""), "required")
            await refused(quotes.decline(clerk, 99999999, ""), "not_found", 404)
            assert await heard() == []
            await quotes.approve(clerk, quote["id"], PNG)
            assert await heard() == both
            await refused(quotes.decline(clerk, quote["id"], "晚了"), "invalid_state", 409)
            assert await heard() == []
            again = await quotes.create(clerk, order["id"], {"replace_approved": True})
            assert await heard() == both
            await quotes.decline(clerk, again["id"], "太贵")
            assert await heard() == both
            # the customer on their status page
            third = await quotes.create(clerk, order["id"], {})
            assert await heard() == both
            found, _ = await selfservice.prove(order["status_url"].rsplit("/", 1)[-1], order["customer"]["phone"][-4:])
            await selfservice.approve_quote(found, PNG)
            assert await heard() == both
            assert (await quotes.get(clerk, third["id"]))["status"] == "approved"
            assert technician.qsize == 0
