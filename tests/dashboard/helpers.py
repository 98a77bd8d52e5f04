"""Known data for 【看板】's tests: work orders in every status (one overdue, one older than
today, one at a branch), completions by two technicians, queue tickets (one called), stock below
safety, credit accounts (one under 10 % of its limit) and a shipment in transit."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient

from server.core.db import atomic
from server.core.tenancy import Ctx
from server.credit.services import ledger
from server.dashboard import permissions as DP
from server.masterdata.services import warehouses
from server.masterdata.tables import Goods
from server.workorders import permissions as WP
from server.workorders.services import orders
from server.workorders.tables import WorkOrder
from tests.credit.helpers import recharge
from tests.logistics.shipment_helpers import shipment
from tests.queue.helpers import call_next, queue_world, take
from tests.system.helpers import service_org, service_user
from tests.workorders.helpers import intake_body, repairing, wo_world

URL = "/api/v1/dashboard"
TECH = [WP.VIEW, WP.REPAIR]
MANAGER = [DP.VIEW, WP.VIEW, WP.INTAKE, WP.INTAKE_VIEW]


async def done(ctx: Ctx, w: dict, technician: Ctx, phone: str) -> dict:
    """An order repaired (维修完毕) today by `technician`."""
    order = await repairing(ctx, w, (w["diag_code"], None, 1), phone=phone, technician_id=technician.user_id)
    return await orders.complete(ctx, order["id"], {"repair_result": "repaired"})


async def board_world(hq: Ctx, client: AsyncTestClient, admin: dict) -> dict:
    w = await wo_world(hq, stock=5)
    b2 = await service_org(hq, "B2", hq.org_id, level=2)
    s2 = await service_org(hq, "S2", hq.org_id, level=2)
    await warehouses.assign(hq, [w["general"], w["defective"]], [b2["id"], s2["id"]])
    t1 = await service_user(hq, "tech1", hq.org_id, "hq", TECH)
    t2 = await service_user(hq, "tech2", hq.org_id, "hq", TECH)
    b2_manager = await service_user(hq, "b2boss", b2["id"], "branch", MANAGER)

    overdue = await orders.intake(hq, intake_body(w, phone="13800000001"))
    await WorkOrder.update({WorkOrder.status_at: overdue["status_at"] - timedelta(hours=10)}).where(
        WorkOrder.id == overdue["id"]
    )
    fresh = await orders.intake(hq, intake_body(w, phone="13800000002"))
    older = await orders.intake(hq, intake_body(w, phone="13800000003"))
    three_days = older["created_at"] - timedelta(days=3)
    await WorkOrder.update({WorkOrder.created_at: three_days}).where(WorkOrder.id == older["id"])
    repairing_now = await repairing(hq, w, phone="13800000004")
    a = await done(hq, w, t1, "13800000005")
    await done(hq, w, t1, "13800000006")
    await done(hq, w, t2, "13800000007")
    await orders.close(hq, a["id"], {"closing_method": "mail", "carrier": "顺丰", "tracking_no": "SF1"})
    gone = await orders.intake(hq, intake_body(w, phone="13800000008"))
    await orders.cancel(hq, gone["id"], {"reason": "不修了"})
    branch_order = await orders.intake(b2_manager, intake_body(w, phone="13800000009"))

    q = await queue_world(client, admin)
    for phone in ("", "", ""):
        await take(client, q["kiosk_auth"], q["a"]["id"], phone)
    await call_next(client, admin, q["c1"]["id"])

    # the screens (5 in stock) and the batteries (5) fall under safety stock 10 and 6
    await Goods.update({Goods.safety_stock: 10}).where(Goods.id == w["screen"])
    await Goods.update({Goods.safety_stock: 6}).where(Goods.id == w["battery"])

    await recharge(hq, (b2["id"], "1000.0000"), (s2["id"], "100.0000"))
    async with atomic():
        await ledger.freeze(hq, s2["id"], 95_0000, ledger.DocRef("test", "T1"))

    shipped = await shipment(hq, "distribution", w["general"], (w["battery"], 1), to_org_id=b2["id"], step="confirm")
    return w | {
        "b2": b2["id"],
        "s2": s2["id"],
        "t1": t1,
        "t2": t2,
        "b2_manager": b2_manager,
        "overdue": overdue["id"],
        "fresh": fresh["id"],
        "repairing": repairing_now["id"],
        "branch_order": branch_order["id"],
        "queue": q,
        "shipment": shipped["id"],
    }
