"""The stock ledger (SPEC 4): the one module that changes stock. Every document posts through
`post_moves`; on-hand is changed by conditional atomic UPDATE only, and equals the sum of moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.query import OrderByRaw
from piccolo.querystring import QueryString

import realtime
from server.core import hooks, money, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic, bulk_insert
from server.core.errors import Conflict, NotFound
from server.core.pagination import Page, PageParams, cached_read, paginate
from server.core.search import code_or_name
from server.core.tenancy import Ctx, scoped
from server.inventory import permissions as P
from server.inventory.tables import GoodsCost, Stock, StockMove
from server.masterdata.services import goods as md_goods
from server.masterdata.services import trees
from server.system.services import orgs
from server.system.tables import Org

realtime.topic("stock", P.STOCK["view"])


MAX_ON_HAND = 1_000_000_000  # per org and goods, well inside INTEGER with a document's moves on top
MAX_VALUE = 9 * 10**18  # per org and goods, in ten-thousandths: inside BIGINT with a line's amount on top


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
        # the org's cost rows in key order too: two batches never wait on each other's
        for move in sorted(ordered, key=lambda m: (m.org_id, m.goods_id)):
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


_C = '"inv_goods_cost"'
_VALUE, _QTY, _AVG = f'{_C}."value"', f'{_C}."qty"', f'{_C}."avg_cost"'


def _share(total: str, part: str | int, whole: str) -> str:
    """SQL for round_half_up(total × part / whole) of non-negative integers, without the product
    (which could overflow BIGINT): total/whole·part + round_half_up((total % whole)·part / whole).
    Both engines truncate integer division, which is floor for the non-negative operands here."""
    t, p, w = f"({total})", f"({part})", f"({whole})"
    return f"({t} / {w} * {p} + (2 * ({t} % {w}) * {p} + {w}) / (2 * {w}))"


async def _average(ctx: Ctx, move: Move, stamp) -> None:
    """Keep the org's stock value and moving average cost of a goods (SPEC 4.1), in one UPSERT.

    The truth is `value`, the org's total stock value in ten-thousandths; every move adds or
    subtracts an exact integer amount:
    - stock coming in at a cost adds cost × qty;
    - stock coming in without a cost enters at the current average: avg_cost × qty;
    - stock going out takes value × qty_out / qty_on_hand, rounded ROUND_HALF_UP to 0.0001
      (one unit of the ledger); the move that takes the last units takes the remaining value
      exactly, so value is 0 whenever the quantity is.
    `avg_cost` is derived: value / qty rounded ROUND_HALF_UP to 0.0001, for display (and kept
    when the quantity drops to 0, as the last average). So 13 bought for 4220.0000 show value
    4220.0000 and average 324.6154, and selling the 13 leaves value 0.

    Every product that could overflow BIGINT is split (see `_share`): the org's quantity is
    capped at MAX_ON_HAND (2·qty² stays within BIGINT) and its value at MAX_VALUE; a move that
    would pass either cap is refused with `stock_limit` (a line's amount is at most
    documents.MAX_PRICE × MAX_QTY, well inside)."""
    d = int(move.delta)
    if d > 0 and move.cost is not None:
        amount = int(move.cost) * d
        change, guard = str(amount), f"{_VALUE} <= {MAX_VALUE - amount}"
        first_value, first_avg = amount, move.cost
    elif d > 0:
        change, guard = f"{_AVG} * {d}", f"({_AVG} = 0 OR {d} <= ({MAX_VALUE} - {_VALUE}) / {_AVG})"
        first_value = first_avg = 0
    else:
        q = -d
        change = f"-(CASE WHEN {_QTY} <= {q} THEN {_VALUE} ELSE {_share(_VALUE, q, _QTY)} END)"
        guard, first_value, first_avg = "1 = 1", 0, 0
    value, qty = f"({_VALUE} + {change})", f"({_QTY} + {d})"
    rows = await GoodsCost.raw(
        'INSERT INTO "inv_goods_cost" ("tenant_id", "org_id", "goods_id", "qty", "value", "avg_cost", "updated_at") '
        "VALUES ({}, {}, {}, {}, {}, {}, {}) "
        f'ON CONFLICT ("org_id", "goods_id") DO UPDATE SET "value" = {value}, '
        f'"avg_cost" = CASE WHEN {qty} > 0 THEN {_share(value, 1, qty)} ELSE {_AVG} END, '
        f'"qty" = {qty}, "updated_at" = {{}} '
        f"WHERE {qty} <= {MAX_ON_HAND} AND {guard} "
        'RETURNING "qty"',
        ctx.tenant_id,
        move.org_id,
        move.goods_id,
        d,
        first_value,
        first_avg,
        stamp,
        stamp,
    )
    if not rows:
        raise Conflict(
            f"库存数量或金额超出上限：每个机构每种货品最多 {MAX_ON_HAND} 件、金额最多 {money.fmt(MAX_VALUE)}",
            code="stock_limit",
        )


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
    # the org's name in the same statement (a lookup by primary key per row)
    QueryString(f'(SELECT "name" FROM "{Org._meta.tablename}" o WHERE o."id" = "inv_stock"."org_id")').as_alias(
        "org_name"
    ),
    Stock.warehouse.id.as_alias("warehouse_id"),
    Stock.warehouse.code.as_alias("warehouse_code"),
    Stock.warehouse.name.as_alias("warehouse_name"),
    Stock.goods.id.as_alias("goods_id"),
    Stock.goods.code.as_alias("goods_code"),
    Stock.goods.name.as_alias("goods_name"),
    Stock.goods.unit.as_alias("unit"),
    Stock.goods.category.id.as_alias("category_id"),
    Stock.safety_stock,  # the goods' value, copied by the database
    Stock.qty,
    Stock.updated_at,
    # the org's quantity, value and moving average cost of the goods (`_decorate`), in the same
    # statement: a lookup by the cost row's unique (org, goods) per row
    *(
        QueryString(
            f'(SELECT c."{c}" FROM "{GoodsCost._meta.tablename}" c'
            ' WHERE c."org_id" = "inv_stock"."org_id" AND c."goods_id" = "inv_stock"."goods")'
        ).as_alias(f"cost_{c}")
        for c in ("qty", "value", "avg_cost")
    ),
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
        # the row's copy of its goods' value, as the partial indexes of the short rows are written
        # (inventory migration 2026-12-12T09:00:01): no join with the goods
        where &= Stock.safety_stock > Stock.qty
    q = validate.text(f.q, "关键字", 64)
    if q:
        where &= code_or_name(q, Stock.goods, Stock.goods.code, Stock.goods.name)
    return where


async def search(ctx: Ctx, filters: StockFilters = StockFilters(), *, params: PageParams = PageParams()) -> Page:
    """Stock rows with goods and warehouse, the org, value at the org's moving average cost, the
    below-safety marker and what is in transit to the row's org of its goods; then (after every
    stock row, in org and goods order) a row per goods on its way to an org of the list that holds
    none of it yet (`id` and warehouse None, quantity 0): 在途 shows whether or not stock does."""
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
    scope = await _transit_scope(ctx, filters)
    if scope is None:  # a warehouse filter: goods not yet in any warehouse are in none of them
        return page.with_items(await _decorate(ctx, page.items))
    moving = await hooks.in_transit(ctx, *scope)
    coming = await _unstocked(ctx, where, moving)
    stock_total = page.total
    start = max(0, params.offset - stock_total)
    extra = coming[start : start + params.page_size - len(page.items)]
    if extra:
        names = await orgs.names(ctx, {r["org_id"] for r in extra})
        extra = [r | {"org_name": names.get(r["org_id"], "")} for r in extra]
    items = await _decorate(ctx, page.items + extra, moving)
    return Page(items, stock_total + len(coming), params.page, params.page_size)


async def _transit_scope(ctx: Ctx, filters: StockFilters) -> tuple[Any, Any] | None:
    """The orgs and goods the list's filters take, as the in-transit hook reads them (None for
    "no narrowing"); None when a warehouse filter leaves no room for goods not yet received, or
    the list asks for held stock below safety stock (【看板】 counts those rows: goods an org holds
    none of are not listed as short, coming or not)."""
    f = filters
    if f.warehouse_id or (f.below_safety and validate.boolean(f.below_safety, "低于安全库存", "below_safety")):
        return None
    org_ids = orgs.descendants_of(ctx, await orgs.get(ctx, f.org_id)) if f.org_id else None
    goods_ids = await md_goods.stock_filter(ctx, goods_id=f.goods_id, category_id=f.category_id, q=f.q)
    return org_ids, goods_ids


async def _unstocked(ctx: Ctx, where, moving: dict[tuple[int, int], int]) -> list[dict]:
    """The pairs in transit that no stock row of the list holds, as rows (org and goods order):
    two statements when something is in transit, none otherwise."""
    if not moving:
        return []
    org_ids, goods_ids = sorted({o for o, _ in moving}), sorted({g for _, g in moving})
    # read on every page of the list, like its count: kept as the count is (a few seconds,
    # dropped by this process's stock writes)
    pairs = where & Stock.org_id.is_in(org_ids) & Stock.goods.is_in(goods_ids)
    held = await cached_read(Stock.select(Stock.org_id, Stock.goods).where(pairs))
    left = set(moving) - {(r["org_id"], r["goods"]) for r in held}
    if not left:
        return []
    goods = await md_goods.brief(ctx, sorted({g for _, g in left}))
    rows = [
        {
            "id": None,
            "org_id": org_id,
            "org_name": "",
            "warehouse_id": None,
            "warehouse_code": "",
            "warehouse_name": "",
            "goods_id": goods_id,
            "goods_code": goods[goods_id]["code"],
            "goods_name": goods[goods_id]["name"],
            "unit": goods[goods_id]["unit"],
            "category_id": goods[goods_id]["category"],
            "safety_stock": goods[goods_id]["safety_stock"],
            "qty": 0,
            "updated_at": None,
        }
        for org_id, goods_id in left
        if goods_id in goods
    ]
    return sorted(rows, key=lambda r: (r["org_id"], r["goods_code"]))


async def _decorate(ctx: Ctx, rows: list[dict], moving: dict[tuple[int, int], int] | None = None) -> list[dict]:
    if not rows:
        return []
    paths = await trees.paths_of(ctx, {r["category_id"] for r in rows})
    if moving is None:
        org_ids, goods_ids = sorted({r["org_id"] for r in rows}), sorted({r["goods_id"] for r in rows})
        moving = await hooks.in_transit(ctx, org_ids, goods_ids)
    out = []
    for r in rows:
        out.append(
            r
            | {
                "org_name": r["org_name"] or "",
                "category_path": paths.get(r["category_id"], ""),
                "avg_cost": money.fmt(r.get("cost_avg_cost") or 0),
                "value": money.fmt(row_value(r.get("cost_value") or 0, r["qty"], r.get("cost_qty") or 0)),
                "below_safety": r["qty"] < r["safety_stock"],
                # on its way to the row's org (not yet in any of its warehouses)
                "in_transit": moving.get((r["org_id"], r["goods_id"]), 0),
            }
        )
    return out


def row_value(org_value: int, qty: int, org_qty: int) -> int:
    """A stock row's share of its org's exact value (ten-thousandths): all of it when the row
    holds the org's whole quantity (one warehouse), else org_value × qty / org_qty rounded
    ROUND_HALF_UP, the rule of every amount in the ledger."""
    if qty <= 0 or org_qty <= 0:
        return 0
    if qty >= org_qty:
        return org_value
    return (2 * org_value * qty + org_qty) // (2 * org_qty)


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
        seek=StockMove.id,
        ascending=False,
    )


BELOW_WORST = 5  # the rows furthest below safety stock that 【看板】 lists
# Shortfall first, then id. The whole tenant's worst rows are the first entries of the partial
# index in this order (inventory migration 2026-12-12T09:00:01); a subtree's are its own short
# rows read by org and sorted: walking the tenant's order for a few orgs' rows can read all of it,
# so the subtree writes the same order in a form no index has (both planners took the walk).
SHORTFALL_ORDER = '"inv_stock"."safety_stock" - "inv_stock"."qty" DESC, "inv_stock"."id"'
SUBTREE_SHORTFALL_ORDER = '"inv_stock"."qty" - "inv_stock"."safety_stock", "inv_stock"."id"'


async def below_safety(ctx: Ctx, worst: int = BELOW_WORST) -> dict:
    """【看板】: how many stock rows of the caller's subtree are below their goods' safety stock
    (the stock list with `below_safety=1`), and the furthest below, shortfall first. Counted by
    the database from a partial index of the short rows; only the `worst` rows are read."""
    where = await stock_where(ctx, StockFilters(below_safety="1"))
    count = await Stock.count().where(where)
    rows = (
        await Stock.select(*STOCK_COLUMNS)
        .where(where)
        .order_by(OrderByRaw(SHORTFALL_ORDER if ctx.sees_everything else SUBTREE_SHORTFALL_ORDER))
        .limit(worst)
    )
    items = [
        {
            "stock_id": r["id"],
            "org_id": r["org_id"],
            "org_name": r["org_name"] or "",
            "warehouse_id": r["warehouse_id"],
            "warehouse_name": r["warehouse_name"],
            "goods_id": r["goods_id"],
            "goods_code": r["goods_code"],
            "goods_name": r["goods_name"],
            "qty": r["qty"],
            "safety_stock": r["safety_stock"],
            "short": r["safety_stock"] - r["qty"],
        }
        for r in rows
    ]
    return {"count": count, "worst": items}
