"""The stock ledger (SPEC 4): the one module that changes stock. Every document posts through
`post_moves`; on-hand is changed by conditional atomic UPDATE only, and equals the sum of moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import realtime
from server.core import money, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic, bulk_insert
from server.core.errors import Conflict, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains, starts_with
from server.core.tenancy import Ctx, scoped
from server.inventory import permissions as P
from server.inventory.tables import GoodsCost, Stock, StockMove
from server.masterdata.services import trees
from server.system.services import orgs

realtime.topic("stock", P.STOCK["view"])


MAX_ON_HAND = 1_000_000_000  # per org and goods, well inside INTEGER with a document's moves on top


@dataclass(frozen=True)
class Move:
    """A signed change of one (org warehouse, goods), on behalf of one document line.
    `cost` (ten-thousandths a unit) enters the moving average on stock that comes in."""

    org_id: int
    warehouse_id: int
    goods_id: int
    delta: int
    doc_type: str
    doc_id: int
    doc_no: str
    line_id: int | None = None
    cost: int | None = None


@dataclass(frozen=True)
class Shortage:
    goods_id: int
    warehouse_id: int
    wanted: int
    on_hand: int


class InsufficientStock(Conflict):
    """A batch would drive some stock below zero; nothing of it was posted."""

    def __init__(self, shortages: list[Shortage], names: dict[int, str]) -> None:
        parts = [f"{names.get(s.goods_id, s.goods_id)} 需要 {s.wanted}，库存 {s.on_hand}" for s in shortages]
        super().__init__("库存不足：" + "；".join(parts), code="insufficient_stock")
        self.shortages = shortages


async def post_moves(ctx: Ctx, moves: Sequence[Move], org_path: str) -> list[dict]:
    """Apply `moves` as one batch: each row changes by `UPDATE … SET qty = qty + d WHERE
    qty + d >= 0`; when any would go negative the whole batch is refused with every shortage.
    Rows are touched in key order so concurrent batches on PostgreSQL cannot deadlock."""
    if not moves:
        return []
    stamp = now()
    async with atomic():
        ordered = sorted(moves, key=lambda m: (m.org_id, m.warehouse_id, m.goods_id))
        keys = sorted({(m.org_id, m.warehouse_id, m.goods_id) for m in ordered})
        await Stock.raw(
            'INSERT INTO "inv_stock" ("tenant_id", "org_id", "warehouse", "goods", "qty", "updated_at") VALUES '
            + ", ".join(["({}, {}, {}, {}, 0, {})"] * len(keys))
            + ' ON CONFLICT ("org_id", "warehouse", "goods") DO NOTHING',
            *[v for k in keys for v in (ctx.tenant_id, *k, stamp)],
        )
        applied: list[tuple[Move, dict]] = []
        shortages: list[Shortage] = []
        for move in ordered:
            rows = await Stock.raw(
                'UPDATE "inv_stock" SET "qty" = "qty" + {}, "updated_at" = {} '
                'WHERE "org_id" = {} AND "warehouse" = {} AND "goods" = {} AND "qty" + {} >= 0 '
                'RETURNING "id", "qty"',
                move.delta,
                stamp,
                move.org_id,
                move.warehouse_id,
                move.goods_id,
                move.delta,
            )
            if rows:
                applied.append((move, rows[0]))
            else:
                shortages.append(Shortage(move.goods_id, move.warehouse_id, -move.delta, await _on_hand(move)))
        if shortages:
            raise InsufficientStock(shortages, await _goods_names([s.goods_id for s in shortages]))
        await bulk_insert(
            StockMove,
            MOVE_COLUMNS,
            [
                (
                    ctx.tenant_id,
                    row["id"],
                    m.org_id,
                    m.warehouse_id,
                    m.goods_id,
                    m.delta,
                    row["qty"],
                    m.doc_type,
                    m.doc_id,
                    m.doc_no,
                    m.line_id,
                    ctx.user_id,
                    ctx.user_name,
                    stamp,
                )
                for m, row in applied
            ],
        )
        for move in ordered:
            await _average(ctx, move, stamp)
        realtime.emit(ctx.tenant_id, org_path, "stock", "moved", moves[0].doc_no)
    return [{"stock_id": row["id"], "qty": row["qty"], "goods_id": m.goods_id} for m, row in applied]


MOVE_COLUMNS = (
    StockMove.tenant_id,
    StockMove.stock,
    StockMove.org_id,
    StockMove.warehouse_id,
    StockMove.goods_id,
    StockMove.delta,
    StockMove.qty_after,
    StockMove.doc_type,
    StockMove.doc_id,
    StockMove.doc_no,
    StockMove.line_id,
    StockMove.user_id,
    StockMove.user_name,
    StockMove.created_at,
)


async def _on_hand(move: Move) -> int:
    row = (
        await Stock.select(Stock.qty)
        .where((Stock.org_id == move.org_id) & (Stock.warehouse == move.warehouse_id) & (Stock.goods == move.goods_id))
        .first()
    )
    return row["qty"] if row else 0


async def _goods_names(goods_ids: list[int]) -> dict[int, str]:
    rows = await Stock.select(Stock.goods.id, Stock.goods.code, Stock.goods.name).where(Stock.goods.is_in(goods_ids))
    return {r["goods.id"]: f"{r['goods.code']} {r['goods.name']}" for r in rows}


async def _average(ctx: Ctx, move: Move, stamp) -> None:
    """Keep the org's moving average cost: stock coming in at a cost re-weights the average,
    anything else only changes the quantity it averages over. One UPSERT, no read.

    new = round_half_up((avg·qty + cost·d) / n) with n = qty + d, computed as
    avg + floor(x / n) with x = (cost − avg)·d + n/2: the same integer, but x stays within
    BIGINT whatever quantity the org holds (avg·qty would overflow it; see documents.MAX_PRICE).
    Both engines truncate integer division, so floor of a negative x is −((n − 1 − x) / n).
    The org's quantity is capped at MAX_ON_HAND, so no stock row nears PostgreSQL's INTEGER."""
    incoming = move.delta > 0 and move.cost is not None
    cost = move.cost if incoming else 0
    x = '(({} - "inv_goods_cost"."avg_cost") * {} + ("inv_goods_cost"."qty" + {}) / 2)'
    n = '("inv_goods_cost"."qty" + {})'
    rows = await GoodsCost.raw(
        'INSERT INTO "inv_goods_cost" ("tenant_id", "org_id", "goods_id", "qty", "avg_cost", "updated_at") '
        "VALUES ({}, {}, {}, {}, {}, {}) "
        'ON CONFLICT ("org_id", "goods_id") DO UPDATE SET '
        f'"avg_cost" = CASE WHEN {{}} AND {n} > 0 THEN "inv_goods_cost"."avg_cost" + CASE WHEN {x} >= 0 '
        f"THEN {x} / {n} ELSE -(({n} - 1 - {x}) / {n}) END "
        'ELSE "inv_goods_cost"."avg_cost" END, '
        '"qty" = "inv_goods_cost"."qty" + {}, "updated_at" = {} '
        'WHERE "inv_goods_cost"."qty" + {} <= {} RETURNING "qty"',
        ctx.tenant_id,
        move.org_id,
        move.goods_id,
        move.delta,
        cost,
        stamp,
        incoming,
        move.delta,
        *(cost, move.delta, move.delta),
        *(cost, move.delta, move.delta, move.delta),
        *(move.delta, cost, move.delta, move.delta, move.delta),
        move.delta,
        stamp,
        move.delta,
        MAX_ON_HAND,
    )
    if not rows:
        raise Conflict(f"库存数量超出上限：每个机构每种货品最多 {MAX_ON_HAND} 件", code="stock_limit")


async def on_hand(ctx: Ctx, org_id: int, warehouse_id: int, goods_ids: Sequence[int]) -> dict[int, int]:
    """Current on-hand of some goods in one org warehouse (0 where there is no row)."""
    rows = await Stock.select(Stock.goods, Stock.qty).where(
        scoped(ctx, Stock)
        & (Stock.org_id == org_id)
        & (Stock.warehouse == warehouse_id)
        & Stock.goods.is_in(list(goods_ids) or [0])
    )
    found = {r["goods"]: r["qty"] for r in rows}
    return {g: found.get(g, 0) for g in goods_ids}


# --- 【库存查询】 --------------------------------------------------------------------------------

STOCK_COLUMNS = (
    Stock.id,
    Stock.org_id,
    Stock.warehouse.id.as_alias("warehouse_id"),
    Stock.warehouse.code.as_alias("warehouse_code"),
    Stock.warehouse.name.as_alias("warehouse_name"),
    Stock.goods.id.as_alias("goods_id"),
    Stock.goods.code.as_alias("goods_code"),
    Stock.goods.name.as_alias("goods_name"),
    Stock.goods.unit.as_alias("unit"),
    Stock.goods.category.id.as_alias("category_id"),
    Stock.goods.safety_stock.as_alias("safety_stock"),
    Stock.qty,
    Stock.updated_at,
)


class StockFilters(Filters):
    """【库存查询】's filters (API list and export, page, stock moves)."""

    org_id: str = ""
    warehouse_id: str = ""
    goods_id: str = ""
    category_id: str = ""
    below_safety: str = ""
    q: str = ""


class MoveFilters(StockFilters):
    """The move history's filters: the stock filters, one stock row, one document."""

    stock_id: str = ""
    doc_no: str = ""


async def stock_where(ctx: Ctx, filters: StockFilters = StockFilters()):
    """The stock list's filters, always inside the caller's subtree (an org filter takes the org
    and its descendants)."""
    f = filters
    if f.org_id:
        org = await orgs.get(ctx, f.org_id)
        where = scoped(ctx, Stock) & Stock.org_id.is_in(orgs.descendants_of(ctx, org))
    else:
        where = scoped(ctx, Stock, subtree=Stock.org_id)
    if f.warehouse_id:
        where &= Stock.warehouse == validate.ident(f.warehouse_id, "仓库", "warehouse_id")
    if f.goods_id:
        where &= Stock.goods == validate.ident(f.goods_id, "货品", "goods_id")
    if f.category_id:
        where &= Stock.goods.category.is_in(await trees.subtree_ids(ctx, "category", f.category_id))
    if f.below_safety and validate.boolean(f.below_safety, "低于安全库存", "below_safety"):
        # the joined column on the left: Piccolo adds the goods join only for a left-hand column
        where &= Stock.goods.safety_stock > Stock.qty
    q = validate.text(f.q, "关键字", 64)
    if q:
        where &= starts_with(Stock.goods.code, q) | contains(Stock.goods.name, q)
    return where


async def search(ctx: Ctx, filters: StockFilters = StockFilters(), *, params: PageParams = PageParams()) -> Page:
    """Stock rows with goods and warehouse, the org, value at the org's moving average cost and
    the below-safety marker."""
    where = await stock_where(ctx, filters)
    page = await paginate(
        Stock.select(*STOCK_COLUMNS)
        .where(where)
        .order_by(Stock.org_id)
        .order_by(Stock.goods.code)
        .order_by(Stock.warehouse.code),  # a total order: pages neither repeat nor skip rows
        Stock.count().where(where),
        params,
    )
    return page.with_items(await _decorate(ctx, page.items))


async def _decorate(ctx: Ctx, rows: list[dict]) -> list[dict]:
    if not rows:
        return []
    costs = {
        (c["org_id"], c["goods_id"]): c["avg_cost"]
        for c in await GoodsCost.select(GoodsCost.org_id, GoodsCost.goods_id, GoodsCost.avg_cost).where(
            scoped(ctx, GoodsCost)
            & GoodsCost.org_id.is_in(list({r["org_id"] for r in rows}))
            & GoodsCost.goods_id.is_in(list({r["goods_id"] for r in rows}))
        )
    }
    names = await orgs.names(ctx, {r["org_id"] for r in rows})
    paths = await trees.paths_of(ctx, {r["category_id"] for r in rows})
    out = []
    for r in rows:
        avg = costs.get((r["org_id"], r["goods_id"]), 0)
        out.append(
            r
            | {
                "org_name": names.get(r["org_id"], ""),
                "category_path": paths.get(r["category_id"], ""),
                "avg_cost": money.fmt(avg),
                "value": money.fmt(avg * r["qty"]),
                "below_safety": r["qty"] < r["safety_stock"],
            }
        )
    return out


async def get(ctx: Ctx, stock_id: Any) -> dict:
    """One stock row the caller may see."""
    sid = validate.ident(stock_id, "库存", "stock_id")
    where = (await stock_where(ctx)) & (Stock.id == sid)
    row = await Stock.select(*STOCK_COLUMNS).where(where).first()
    if row is None:
        raise NotFound("库存")
    return (await _decorate(ctx, [row]))[0]


# a move as lists show it: its id and stock row instead of the tenant
MOVE_LIST_COLUMNS = (StockMove.id, StockMove.stock.as_alias("stock_id"), *MOVE_COLUMNS[2:])


async def moves(ctx: Ctx, filters: MoveFilters = MoveFilters(), *, params: PageParams = PageParams()) -> Page:
    """The move history: of one stock row, of a document, or under the stock filters."""
    stock_filters = StockFilters(**{f: getattr(filters, f) for f in StockFilters.__struct_fields__})
    if stock_filters != StockFilters() or not ctx.sees_everything:
        # the stock rows in scope already carry the tenant: one more condition on the moves would
        # stop the (stock, id) index from serving the count
        where = StockMove.stock.is_in(Stock.select(Stock.id).where(await stock_where(ctx, stock_filters)))
    else:  # the head office, unfiltered: the whole tenant
        where = scoped(ctx, StockMove)
    if filters.stock_id:
        where &= StockMove.stock == validate.ident(filters.stock_id, "库存", "stock_id")
    doc_no = validate.text(filters.doc_no, "单号", 24)
    if doc_no:
        where &= StockMove.doc_no == doc_no
    return await paginate(
        StockMove.select(*MOVE_LIST_COLUMNS).where(where).order_by(StockMove.id, ascending=False),
        StockMove.count().where(where),
        params,
    )
