"""A carry-in point's orders repaired at its repair centre (issue 20).

【送修】 ships the device (a logistics 送修 shipment) from the carry-in point to its centre: the
order is 送修在途; the centre's receipt makes it the centre's (`org_id`, its technicians,
warehouses and codes) in 受理, the carry-in point keeping it read-only (`peer_org_path`). After
【维修完毕】 the centre's 【返还】 ships it back (返还在途); the carry-in point's receipt makes it
the carry-in point's again in 维修完毕, to close with the customer, and bills the centre's labour
and parts to its credit account at its order prices. A refused shipment leaves the device where
it was, in the status it had, and bills nothing. Every move goes through the orders' `claim`
and `log_move`, so the status log, audit, live events and the status hooks follow.
"""

from __future__ import annotations

from typing import Any

from server.core import audit, hooks, money
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import Conflict
from server.core.tenancy import Ctx, scoped
from server.credit.services import ledger
from server.logistics.services import shipments
from server.logistics.services.shipments import ShipmentType
from server.masterdata.services import goods
from server.system.services import orgs
from server.workorders.services.orders import DOC_TYPE, at_intake, claim, emit, get, holding, invalid, log_move, row_of
from server.workorders.states import LineKind, WorkOrderStatus
from server.workorders.tables import WorkOrderLine

S = WorkOrderStatus
audit.ACTIONS.update({"send": "送修", "give_back": "返还", "receive_device": "送修收货", "refuse_device": "送修拒收"})


def _device(order: dict) -> dict:
    return {
        "work_order_id": order["id"],
        "work_order_no": order["no"],
        "serial_no": order["serial_no"],
        "goods_name": (order.get("goods_name") or "")[:200],
        "accessories": order["accessories"],
    }


async def send(ctx: Ctx, order_id: Any, data: dict) -> dict:
    """【送修】 an order taken in by a carry-in point (受理, at the carry-in point) to its repair
    centre: a 送修 shipment with the carrier and tracking number; 受理 → 送修在途."""
    row = await holding(ctx, order_id)
    order = await get(ctx, row["id"])
    if order["status"] != S.ACCEPTED:
        raise invalid(order, "送修")
    if not at_intake(order):
        raise Conflict(f"工单 {order['no']} 已在维修中心，不能再送修", code="invalid_state")
    centre = await orgs.repair_centre_of(ctx, order["org_id"])
    if centre is None:
        raise Conflict("本机构不是接机点或没有可用的维修中心，不能送修：请在【管理机构】中设置", code="not_carry_in")
    if any(ln["kind"] == LineKind.ISSUED for ln in order["lines"]):
        raise Conflict(f"工单 {order['no']} 有受理领用的货品，不能送修：请先在【编辑】中移除", code="has_issued")
    stamp = now()
    async with atomic():
        await claim(
            ctx,
            row,
            (S.ACCEPTED,),
            "送修",
            {
                "status": S.SENDING,
                "status_at": stamp,
                "sent_at": stamp,
                "repair_org_id": centre["id"],
                "peer_org_path": centre["path"],
                "technician_id": None,  # the centre assigns its own
            },
        )
        shipment = await shipments.ship_device(ctx, ShipmentType.DEVICE_SEND, centre, data, _device(order))
        summary = f"工单 {order['no']} 送修 {centre['name']}（物流单 {shipment['no']}）"
        await log_move(ctx, row, S.SENDING, summary, "send")
        emit(ctx, row | {"peer_org_path": centre["path"]}, "status")
    return await get(ctx, order["id"])


async def give_back(ctx: Ctx, order_id: Any, data: dict) -> dict:
    """【返还】 an order repaired at the centre to the carry-in point that took it in: a 送修返还
    shipment; 维修完毕 → 返还在途."""
    row = await holding(ctx, order_id)
    order = await get(ctx, row["id"])
    if order["status"] != S.REPAIRED:
        raise invalid(order, "返还")
    if at_intake(order):
        raise Conflict(f"工单 {order['no']} 不是送修来的工单，无需返还", code="not_sent")
    intake = {"id": order["intake_org_id"], "path": row["peer_org_path"]}
    async with atomic():
        await claim(ctx, row, (S.REPAIRED,), "返还", {"status": S.RETURNING, "status_at": now()})
        shipment = await shipments.ship_device(ctx, ShipmentType.DEVICE_RETURN, intake, data, _device(order))
        summary = f"工单 {order['no']} 返还 {order['intake_org_name']}（物流单 {shipment['no']}）"
        await log_move(ctx, row, S.RETURNING, summary, "give_back")
        emit(ctx, row, "status")
    return await get(ctx, order["id"])


async def charge_of(ctx: Ctx, order: dict) -> int:
    """What the centre bills the carry-in point (units): each line's labour fee as fixed at
    【维修完毕】, and its part at the carry-in point's order price."""
    lines = await WorkOrderLine.select().where(scoped(ctx, WorkOrderLine) & (WorkOrderLine.work_order == order["id"]))
    total, prices = 0, {}
    for ln in lines:
        total += ln["labor_fee"]
        if ln["goods_id"]:
            if ln["goods_id"] not in prices:
                price = await goods.price_for(ctx, ln["goods_id"], order["intake_org_id"])
                prices[ln["goods_id"]] = money.to_units(price.order_price)
            total += prices[ln["goods_id"]] * ln["qty"]
    return total


# (shipment type, refused) → the status the order leaves, the one it takes, the timeline's action
MOVES = {
    (ShipmentType.DEVICE_SEND, False): (S.SENDING, S.ACCEPTED, "receive_device"),
    (ShipmentType.DEVICE_SEND, True): (S.SENDING, S.ACCEPTED, "refuse_device"),
    (ShipmentType.DEVICE_RETURN, False): (S.RETURNING, S.REPAIRED, "receive_device"),
    (ShipmentType.DEVICE_RETURN, True): (S.RETURNING, S.REPAIRED, "refuse_device"),
}


@hooks.on_device_arrived
async def arrived(ctx: Ctx, shipment: dict, refused: bool) -> None:
    """The receiver (`ctx`) took the device shipment, or refused it: received, the device and
    the order are the receiver's (the sender reads it); refused, they stay the sender's (a
    refused 送修 is the carry-in point's plain order again). A received return bills the charge
    to the carry-in point's credit (usage; refused for want of credit, the receipt with it)."""
    kind = ShipmentType(shipment["type"])
    leaves, takes, action = MOVES[(kind, refused)]
    order = await row_of(ctx, shipment["work_order_id"])
    values: dict = {"status": takes, "status_at": now()}
    if not refused:
        values |= {"org_id": ctx.org_id, "org_path": ctx.org_path, "peer_org_path": order["org_path"]}
    elif kind == ShipmentType.DEVICE_SEND:
        values |= {"repair_org_id": order["intake_org_id"], "peer_org_path": "", "sent_at": None}
    if kind == ShipmentType.DEVICE_RETURN and not refused:
        charge = await charge_of(ctx, order)
        values["carry_charge"] = charge
        if charge:
            ref = ledger.DocRef(DOC_TYPE, order["no"], order["id"])
            frozen = await ledger.freeze(ctx, order["intake_org_id"], charge, ref, f"送修维修费 {shipment['no']}")
            await ledger.use(ctx, frozen, charge, ref)
    doing = "拒收" if refused else "收货"
    await claim(ctx, order, (leaves,), doing, values)
    summary = f"工单 {order['no']} {kind.label}{doing}（物流单 {shipment['no']}）"
    await log_move(ctx, order, takes, summary, action)
    emit(ctx, order, "status")
