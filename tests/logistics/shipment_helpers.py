"""Helpers of the shipment tests: a small network (HQ → B2 → B3, and a sibling S2) with
warehouses of every receiving type assigned to each, stock at HQ and B2, and the stock invariant
across both orgs and transit."""

from __future__ import annotations

from server.core.tenancy import Ctx
from server.inventory import permissions as INV
from server.inventory.tables import Stock
from server.logistics import permissions as P
from server.logistics.services import shipments
from server.logistics.tables import ShipmentDiscrepancy, ShipmentLine
from server.masterdata.services import warehouses
from tests.inventory.helpers import inbound
from tests.masterdata.helpers import basics, make_goods, warehouse
from tests.system.helpers import service_org, service_user

LOGISTICS_ALL = sorted({*P.SHIPMENT.values(), *P.RECEIVING.values(), *P.IN_TRANSIT.values(), *P.DISCREPANCY.values()})
STAFF = [*LOGISTICS_ALL, *INV.STOCK.values()]


async def network(hq: Ctx) -> dict:
    """HQ → B2 (level 2) → B3, and S2 beside B2; 通用库, 良品库 and 坏品库 assigned to each; HQ and
    B2 hold 20 screens and 20 batteries in their 通用库; a logistics user in B2 and in B3."""
    b = await basics(hq)
    screen = await make_goods(hq, "SCR", b["iphone15"], name="iPhone 15 屏幕")
    battery = await make_goods(hq, "BAT", b["iphone15"], name="iPhone 15 电池")
    b2 = await service_org(hq, "B2", hq.org_id, level=2)
    b3 = await service_org(hq, "B3", b2["id"], level=3)
    s2 = await service_org(hq, "S2", hq.org_id, level=2)
    general = await warehouse(hq, "W-GEN", "general")
    good = await warehouse(hq, "W-GOOD", "good")
    bad = await warehouse(hq, "W-BAD", "defective")
    orgs = [hq.org_id, b2["id"], b3["id"], s2["id"]]
    await warehouses.assign(hq, [general["id"], good["id"], bad["id"]], orgs)
    b2_ctx = await service_user(hq, "b2staff", b2["id"], "branch", STAFF)
    b3_ctx = await service_user(hq, "b3staff", b3["id"], "branch", STAFF)
    await inbound(hq, general["id"], (screen["id"], 20, "100.0000"), (battery["id"], 20, "50.0000"))
    await inbound(b2_ctx, general["id"], (screen["id"], 20, "110.0000"), (battery["id"], 20, "55.0000"))
    return {
        "hq": hq.org_id,
        "b2": b2["id"],
        "b3": b3["id"],
        "s2": s2["id"],
        "b2_ctx": b2_ctx,
        "b3_ctx": b3_ctx,
        "screen": screen["id"],
        "battery": battery["id"],
        "general": general["id"],
        "good": good["id"],
        "bad": bad["id"],
    }


async def shipment(ctx: Ctx, type_: str, warehouse_id: int, *lines: tuple, to_org_id=None, step: str = "") -> dict:
    """A shipment of (goods_id, qty) lines; `step` "submit" or "confirm" takes it that far."""
    body = {"type": type_, "warehouse_id": warehouse_id, "to_org_id": to_org_id}
    body["lines"] = [{"goods_id": g, "qty": q} for g, q in lines]
    doc = await shipments.create(ctx, "shipment", body)
    if step in ("submit", "confirm"):
        doc = await shipments.submit(ctx, "shipment", doc["id"])
    if step == "confirm":
        doc = await shipments.confirm(ctx, "shipment", doc["id"])
    return doc


async def on_hand_total(org_id: int, goods_id: int) -> int:
    rows = await Stock.select(Stock.qty).where((Stock.org_id == org_id) & (Stock.goods == goods_id))
    return sum(r["qty"] for r in rows)


async def in_transit_total(goods_id: int) -> int:
    """Straight from the lines: confirmed, less what was received or lost."""
    lt = ShipmentLine
    rows = await lt.select(lt.qty, lt.received_qty, lt.lost_qty).where(
        (lt.goods == goods_id) & lt.confirmed_at.is_not_null()
    )
    return sum(r["qty"] - r["received_qty"] - r["lost_qty"] for r in rows)


async def lost_total(goods_id: int) -> int:
    """What resolved shorts wrote off as lost (the loss records), checked against the lines."""
    rows = await ShipmentDiscrepancy.select(ShipmentDiscrepancy.qty).where(
        (ShipmentDiscrepancy.line.goods == goods_id) & (ShipmentDiscrepancy.resolution == "lost")
    )
    lines = await ShipmentLine.select(ShipmentLine.lost_qty).where(ShipmentLine.goods == goods_id)
    assert sum(r["qty"] for r in rows) == sum(li["lost_qty"] for li in lines)
    return sum(r["qty"] for r in rows)


async def assert_conserved(goods_id: int, org_ids: list[int], total: int) -> None:
    """Stock invariant: what every org holds plus what is in transit plus what was lost is what
    there was."""
    held = sum([await on_hand_total(o, goods_id) for o in org_ids])
    assert held + await in_transit_total(goods_id) + await lost_total(goods_id) == total
