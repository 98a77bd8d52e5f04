"""Helpers of the inventory tests: a small world (goods, warehouses), documents built through
the services, and the ledger invariant every test ends with."""

from __future__ import annotations

from server.core.tenancy import Ctx
from server.inventory.services import documents
from server.inventory.tables import GoodsCost, Stock, StockMove
from server.masterdata.services import warehouses
from tests.masterdata.helpers import basics, make_goods, warehouse


async def world(ctx: Ctx) -> dict:
    """Two parts and a phone under Apple › iPhone › iPhone 15, a 通用库 and a 坏品库 assigned to
    the caller's org, and a 良品库 assigned nowhere."""
    b = await basics(ctx)
    screen = await make_goods(ctx, "SCR", b["iphone15"], name="iPhone 15 屏幕", safety_stock=5)
    battery = await make_goods(ctx, "BAT", b["iphone15"], name="iPhone 15 电池")
    general = await warehouse(ctx, "W-GEN", "general")
    defective = await warehouse(ctx, "W-BAD", "defective")
    spare = await warehouse(ctx, "W-GOOD", "good")
    await warehouses.assign(ctx, [general["id"], defective["id"]], [ctx.org_id])
    return b | {
        "screen": screen["id"],
        "battery": battery["id"],
        "general": general["id"],
        "defective": defective["id"],
        "unassigned": spare["id"],
    }


async def inbound(ctx: Ctx, warehouse_id: int, *lines: tuple[int, int, str], confirm: bool = True) -> dict:
    """An inbound of (goods_id, qty, cost_price) lines, submitted and confirmed unless told."""
    body = {
        "type": "purchase",
        "warehouse_id": warehouse_id,
        "lines": [{"goods_id": g, "qty": q, "cost_price": c} for g, q, c in lines],
    }
    doc = await documents.create(ctx, "inbound", body)
    doc = await documents.submit(ctx, "inbound", doc["id"])
    return await documents.confirm(ctx, "inbound", doc["id"]) if confirm else doc


async def outbound(ctx: Ctx, warehouse_id: int, *lines: tuple[int, int], submit: bool = True) -> dict:
    body = {"type": "scrap", "warehouse_id": warehouse_id, "lines": [{"goods_id": g, "qty": q} for g, q in lines]}
    doc = await documents.create(ctx, "outbound", body)
    return await documents.submit(ctx, "outbound", doc["id"]) if submit else doc


async def on_hand(org_id: int, warehouse_id: int, goods_id: int) -> int:
    row = (
        await Stock.select(Stock.qty)
        .where((Stock.org_id == org_id) & (Stock.warehouse == warehouse_id) & (Stock.goods == goods_id))
        .first()
    )
    return row["qty"] if row else 0


async def assert_ledger() -> None:
    stocks = await Stock.select(Stock.id, Stock.org_id, Stock.goods, Stock.qty)
    moves = await StockMove.select(StockMove.stock, StockMove.delta, StockMove.qty_after).order_by(StockMove.id)
    sums: dict[int, int] = {}
    last: dict[int, int] = {}
    for m in moves:
        sums[m["stock"]] = sums.get(m["stock"], 0) + m["delta"]
        last[m["stock"]] = m["qty_after"]
    org_totals: dict[tuple[int, int], int] = {}
    for s in stocks:
        assert s["qty"] >= 0, s
        assert s["qty"] == sums.get(s["id"], 0), (s, sums.get(s["id"]))
        assert s["qty"] == last.get(s["id"], 0), (s, last.get(s["id"]))
        key = (s["org_id"], s["goods"])
        org_totals[key] = org_totals.get(key, 0) + s["qty"]
    for c in await GoodsCost.select(GoodsCost.org_id, GoodsCost.goods_id, GoodsCost.qty, GoodsCost.value):
        assert c["qty"] == org_totals.get((c["org_id"], c["goods_id"]), 0), c
        # the value is exact: never negative, and nothing left over once the quantity is gone
        assert c["value"] >= 0 and (c["qty"] > 0 or c["value"] == 0), c
