"""Helpers of the shipment tests: a small network (HQ → B2 → B3, and a sibling S2) with
warehouses of every receiving type assigned to each, stock at HQ and B2, a stand-in for the
orders half of logistics, and the stock invariant across both orgs and transit."""

from __future__ import annotations

from decimal import Decimal

from server.core.tenancy import Ctx
from server.inventory import permissions as INV
from server.inventory.tables import Stock
from server.logistics import permissions as P
from server.logistics.services import orders, shipments
from server.logistics.tables import ShipmentLine
from server.masterdata.services import warehouses
from tests.inventory.helpers import inbound
from tests.masterdata.helpers import basics, make_goods, warehouse
from tests.system.helpers import service_org, service_user

LOGISTICS_ALL = sorted({*P.SHIPMENT.values(), *P.RECEIVING.values(), *P.IN_TRANSIT.values()})
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
    rows = await ShipmentLine.select(ShipmentLine.qty).where(
        (ShipmentLine.goods == goods_id) & ShipmentLine.confirmed_at.is_not_null() & ShipmentLine.received_at.is_null()
    )
    return sum(r["qty"] for r in rows)


async def assert_conserved(goods_id: int, org_ids: list[int], total: int) -> None:
    """Stock invariant: what every org holds plus what is in transit is what there was."""
    held = sum([await on_hand_total(o, goods_id) for o in org_ids])
    assert held + await in_transit_total(goods_id) == total


class FakeOrders:
    """The orders half of logistics as shipments see it: one approved order of a child with open
    lines, recording what the shipment steps report."""

    def __init__(self, monkeypatch, order_id: int, lines: list[dict]) -> None:
        self.order_id = order_id
        self.lines = {li["id"]: dict(li) for li in lines}
        self.shipped: dict[int, Decimal] = {}
        self.received: dict[int, Decimal] = {}
        for name in ("open_lines", "record_shipped", "record_recalled", "record_received"):
            monkeypatch.setattr(orders, name, getattr(self, name))

    async def open_lines(self, ctx: Ctx, order_id: int) -> list[dict]:
        from server.core.errors import Conflict

        if order_id != self.order_id:
            raise Conflict("订单未审核，不能发货", code="invalid_state")
        return [li | {"open_qty": li["qty"] - int(self.shipped.get(i, 0))} for i, li in self.lines.items()]

    async def record_shipped(self, ctx: Ctx, order_id: int, qty_by_line: dict[int, Decimal]) -> None:
        for i, q in qty_by_line.items():
            self.shipped[i] = self.shipped.get(i, Decimal(0)) + q

    async def record_recalled(self, ctx: Ctx, order_id: int, qty_by_line: dict[int, Decimal]) -> None:
        for i, q in qty_by_line.items():
            self.shipped[i] -= q

    async def record_received(self, ctx: Ctx, order_id: int, qty_by_line: dict[int, Decimal]) -> None:
        for i, q in qty_by_line.items():
            self.received[i] = self.received.get(i, Decimal(0)) + q
