"""Helpers of the carry-in tests (issue 20): HQ → C2 (a 维修中心, level 2) → P3 (a 接机点, level 3,
sending to C2), and S2 beside C2 (neither); a user in each of C2, P3 and S2 with every work order,
receiving, stock and credit permission; parts in C2's 通用库; credit for P3."""

from __future__ import annotations

from server.core.tenancy import Ctx
from server.credit import permissions as CR
from server.inventory import permissions as INV
from server.logistics import permissions as LG
from server.masterdata.services import warehouses
from server.workorders import permissions as P
from server.workorders.services import carry, orders
from tests.credit.helpers import recharge
from tests.inventory.helpers import inbound
from tests.system.helpers import service_org, service_user
from tests.workorders.helpers import intake_body, wo_world

STAFF = sorted(
    {
        *(P.INTAKE_VIEW, P.INTAKE, P.VIEW, P.UPDATE, P.ASSIGN, P.REPAIR, P.CLOSE, P.CANCEL, P.SEND),
        *LG.SHIPMENT.values(),
        *LG.RECEIVING.values(),
        *INV.STOCK.values(),
        *CR.ACCOUNT.values(),
    }
)
SHIP = {"carrier": "顺丰", "tracking_no": "SF1001"}


async def carry_world(hq: Ctx, credit: str = "1000.0000") -> dict:
    w = await wo_world(hq, stock=0)
    c2 = await service_org(hq, "C2", hq.org_id, level=2, is_repair_centre=True)
    p3 = await service_org(hq, "P3", c2["id"], level=3, is_carry_in=True, repair_centre_id=c2["id"])
    s2 = await service_org(hq, "S2", hq.org_id, level=2)
    await warehouses.assign(hq, [w["general"], w["defective"]], [c2["id"], p3["id"], s2["id"]])
    centre = await service_user(hq, "centre", c2["id"], "branch", STAFF)
    point = await service_user(hq, "point", p3["id"], "branch", STAFF)
    other = await service_user(hq, "other", s2["id"], "branch", STAFF)
    await inbound(centre, w["general"], (w["screen"], 5, "100"))
    if credit:
        await recharge(hq, (p3["id"], credit))
    return w | {"c2": c2, "p3": p3, "s2": s2, "centre": centre, "point": point, "other": other}


async def sent(w: dict, **fields) -> dict:
    """An order taken in at P3 and sent to C2 (送修在途)."""
    order = await orders.intake(w["point"], intake_body(w, **fields))
    return await carry.send(w["point"], order["id"], SHIP)


async def repaired_at_centre(w: dict, received: dict) -> dict:
    """The centre repairs a received order with one screen (LCD, 50 labour) and completes it."""
    c = w["centre"]
    order = await orders.start_repair(
        c,
        received["id"],
        {
            "final_service_type": "in_warranty",
            "fault_reason_ids": [w["reason"]],
            "defective_warehouse_id": w["defective"],
        },
    )
    await orders.add_line(
        c, order["id"], {"repair_code_id": w["lcd_code"], "goods_id": w["screen"], "warehouse_id": w["general"]}
    )
    return await orders.complete(c, order["id"], {"repair_result": "repaired"})


async def shipment_of(order_id: int, type_: str) -> int:
    """The id of the order's latest device shipment of a type."""
    from server.logistics.tables import Shipment, ShipmentDevice

    rows = (
        await ShipmentDevice.select(ShipmentDevice.shipment)
        .where((ShipmentDevice.work_order_id == order_id) & (ShipmentDevice.shipment.type == type_))
        .order_by(ShipmentDevice.id, ascending=False)
    )
    assert rows, (order_id, type_)
    assert await Shipment.exists().where(Shipment.id == rows[0]["shipment"])
    return rows[0]["shipment"]
