"""The life cycle every stock document shares (SPEC 4): draft → submitted → partial → completed,
or deleted before any confirmation. Lines change only in draft; confirmation ticks lines, posts
them through `stock.post_moves` exactly once each, and may be partial.

Inbound (【入库管理】) and outbound (【出库管理】) differ only in what `KINDS` says: the sign of their
moves, their dictionary of types, what their price means and whether stock must cover them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import realtime
from server.core import audit, money, validate
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.numbering import next_number
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.tenancy import Ctx
from server.inventory import permissions as P
from server.inventory.services import stock
from server.inventory.tables import StockDoc, StockDocLine
from server.masterdata.services import dictionaries, goods, suppliers, warehouses
from server.system.services import orgs

STATUSES = {
    "draft": "暂存",
    "submitted": "已提交",
    "partial": "部分确认",
    "completed": "已完成",
    "deleted": "已删除",
}
MAX_QTY = 1_000_000
MAX_LINES = 500
# a line's amount (price × MAX_QTY) stays within NUMERIC(18,4), and the moving average's
# arithmetic within BIGINT (see stock._average)
MAX_PRICE = Decimal("99999999.9999")


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    prefix: str  # of the document number: RK20261124-0001
    type_kind: str  # the dictionary of its `type`
    sign: int  # +1 brings stock in, -1 takes it out
    price_field: str  # the API name of a line's price
    price_label: str
    perms: dict[str, str]
    topic: str


KINDS = {
    "inbound": Kind("inbound", "入库单", "RK", "inbound_type", 1, "cost_price", "成本价", P.INBOUND, "inbounds"),
    "outbound": Kind("outbound", "出库单", "CK", "outbound_type", -1, "unit_price", "单价", P.OUTBOUND, "outbounds"),
}
for _kind in KINDS.values():
    realtime.topic(_kind.topic, _kind.perms["view"])


def _kind(kind: str) -> Kind:
    return KINDS[kind]


# --- reading ---------------------------------------------------------------------------------------

DOC_COLUMNS = (
    *StockDoc.all_columns(),
    StockDoc.warehouse.code.as_alias("warehouse_code"),
    StockDoc.warehouse.name.as_alias("warehouse_name"),
    StockDoc.supplier.name.as_alias("supplier_name"),
)
LINE_COLUMNS = (
    *StockDocLine.all_columns(),
    StockDocLine.goods.code.as_alias("goods_code"),
    StockDocLine.goods.name.as_alias("goods_name"),
    StockDocLine.goods.unit.as_alias("unit"),
    StockDocLine.goods.spec.as_alias("spec"),
)


def _visible(ctx: Ctx, kind: str):
    return (StockDoc.tenant_id == ctx.tenant_id) & (StockDoc.kind == kind) & StockDoc.org_path.like(f"{ctx.org_path}%")


def _line_dict(k: Kind, line: dict) -> dict:
    price = money.fmt(line["price"])
    return {
        "id": line["id"],
        "goods_id": line["goods"],
        "goods_code": line["goods_code"],
        "goods_name": line["goods_name"],
        "unit": line["unit"],
        "spec": line["spec"],
        "qty": line["qty"],
        k.price_field: price,
        "price": price,
        "amount": money.fmt(line["price"] * line["qty"]),
        "confirmed": line["confirmed_at"] is not None,
        "confirmed_at": line["confirmed_at"],
        "confirmed_by_name": line["confirmed_by_name"],
    }


def _doc_dict(k: Kind, doc: dict, lines: list[dict], type_name: str, org_name: str) -> dict:
    return {
        "id": doc["id"],
        "kind": k.name,
        "no": doc["no"],
        "type": doc["type"],
        "type_name": type_name,
        "status": doc["status"],
        "status_name": STATUSES[doc["status"]],
        "org_id": doc["org_id"],
        "org_name": org_name,
        "warehouse_id": doc["warehouse"],
        "warehouse_code": doc["warehouse_code"],
        "warehouse_name": doc["warehouse_name"],
        "supplier_id": doc["supplier"],
        "supplier_name": doc["supplier_name"] or "",
        "remark": doc["remark"],
        "created_by": doc["created_by"],
        "created_by_name": doc["created_by_name"],
        "created_at": doc["created_at"],
        "submitted_at": doc["submitted_at"],
        "completed_at": doc["completed_at"],
        "total_qty": sum(li["qty"] for li in lines),
        "total_amount": money.fmt(sum(li["price"] * li["qty"] for li in lines)),
        "lines": [_line_dict(k, li) for li in lines],
    }


async def _lines_of(doc_ids: list[int]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {d: [] for d in doc_ids}
    if doc_ids:
        rows = await StockDocLine.select(*LINE_COLUMNS).where(StockDocLine.doc.is_in(doc_ids)).order_by(StockDocLine.id)
        for row in rows:
            found[row["doc"]].append(row)
    return found


async def _present(ctx: Ctx, k: Kind, docs: list[dict]) -> list[dict]:
    """Documents with their lines, type names and org names, in three queries for a page."""
    lines = await _lines_of([d["id"] for d in docs])
    types = {i["code"]: i["name"] for i in await dictionaries.items(ctx, k.type_kind)}
    names = await orgs.names(ctx, {d["org_id"] for d in docs})
    return [_doc_dict(k, d, lines[d["id"]], types.get(d["type"], d["type"]), names.get(d["org_id"], "")) for d in docs]


async def _row(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    did = validate.ident(doc_id, _kind(kind).label, "id")
    row = await StockDoc.select(*DOC_COLUMNS).where(_visible(ctx, kind) & (StockDoc.id == did)).first()
    if row is None or row["status"] == "deleted":
        raise NotFound(_kind(kind).label)
    return row


async def get(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    k = _kind(kind)
    ctx.require(k.perms["view"])
    return (await _present(ctx, k, [await _row(ctx, kind, doc_id)]))[0]


async def get_draft(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """A document whose lines may still be edited (opening a line form); the writes check again."""
    doc = await get(ctx, kind, doc_id)
    if doc["status"] != "draft":
        raise Conflict(f"{_kind(kind).label}已提交，不能修改", code="not_draft")
    return doc


def _day(value: Any, label: str, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise BusinessError(f"{label}格式不正确，应为 YYYY-MM-DD", code="invalid_field", field=field) from None


async def filter_where(
    ctx: Ctx,
    kind: str,
    *,
    no: str = "",
    type: str = "",
    status: str = "",
    warehouse_id: Any = None,
    supplier_id: Any = None,
    created_by: Any = None,
    date_from: Any = None,
    date_to: Any = None,
):
    """The document list's filters (number, type, status, warehouse, supplier, creator, dates
    of creation), inside the caller's subtree; deleted documents only when asked for."""
    where = _visible(ctx, kind)
    no = validate.text(no, "单号", 24)
    if no:
        where &= contains(StockDoc.no, no)
    if type:
        where &= StockDoc.type == validate.text(type, "类型", 32)
    if status:
        where &= StockDoc.status == validate.choice(status, "状态", STATUSES, "status")
    else:
        where &= StockDoc.status != "deleted"
    if warehouse_id not in (None, ""):
        where &= StockDoc.warehouse == validate.ident(warehouse_id, "仓库", "warehouse_id")
    if supplier_id not in (None, ""):
        where &= StockDoc.supplier == validate.ident(supplier_id, "供应商", "supplier_id")
    if created_by not in (None, ""):
        where &= StockDoc.created_by == validate.ident(created_by, "制单人", "created_by")
    start, end = _day(date_from, "开始日期", "date_from"), _day(date_to, "结束日期", "date_to")
    tz = ZoneInfo(ctx.tz)
    if start:
        where &= StockDoc.created_at >= start.replace(tzinfo=tz)
    if end:
        where &= StockDoc.created_at < end.replace(tzinfo=tz) + timedelta(days=1)
    return where


async def creators(ctx: Ctx, kind: str) -> list[dict]:
    """The 制单人 filter's choices: whoever made documents of this kind the caller can see."""
    ctx.require(_kind(kind).perms["view"])
    return (
        await StockDoc.select(StockDoc.created_by, StockDoc.created_by_name)
        .where(_visible(ctx, kind))
        .distinct()
        .order_by(StockDoc.created_by_name)
        .limit(200)
    )


async def search(ctx: Ctx, kind: str, *, params: PageParams = PageParams(), **filters: Any) -> Page:
    k = _kind(kind)
    ctx.require(k.perms["view"])
    where = await filter_where(ctx, kind, **filters)
    page = await paginate(
        StockDoc.select(*DOC_COLUMNS).where(where).order_by(StockDoc.id, ascending=False),
        StockDoc.count().where(where),
        params,
    )
    return page.with_items(await _present(ctx, k, page.items))


# --- writing -------------------------------------------------------------------------------------


async def _header(ctx: Ctx, k: Kind, data: dict, org_id: int) -> dict:
    """The header fields given in `data`, each checked: type from the dictionary, a warehouse
    assigned (and enabled) to the document's org, an enabled supplier."""
    out: dict[str, Any] = {}
    if "type" in data:
        out["type"] = await dictionaries.require_code(ctx, k.type_kind, data["type"], "type")
    if "warehouse_id" in data:
        wid = validate.ident(data["warehouse_id"], "仓库", "warehouse_id")
        await warehouses.require_usable(ctx, wid, org_id)
        out["warehouse"] = wid
    if "supplier_id" in data:
        sid = validate.optional_ident(data["supplier_id"], "供应商", "supplier_id")
        if sid is not None:
            await suppliers.usable(ctx, sid)
        out["supplier"] = sid
    if "remark" in data:
        out["remark"] = validate.text(data["remark"], "备注", 500, field="remark")
    return out


async def _line(ctx: Ctx, k: Kind, data: dict, org_id: int, current: dict | None = None) -> dict:
    """A line's goods, quantity and price, checked; an outbound price left empty defaults to
    the org's price (`price_for`)."""
    goods_id = current["goods"] if current and "goods_id" not in data else None
    if goods_id is None:
        goods_id = validate.ident(data.get("goods_id"), "货品", "goods_id")
        await goods.usable(ctx, goods_id)
    qty = current["qty"] if current and "qty" not in data else None
    if qty is None:
        qty = validate.integer(data.get("qty"), "数量", 1, MAX_QTY, "qty")
    raw_price = data.get(k.price_field, data.get("price"))
    if raw_price in (None, "") and current and k.price_field not in data and "price" not in data:
        price = current["price"]
    elif raw_price in (None, ""):
        if k.sign > 0:
            raise BusinessError(f"请填写{k.price_label}", code="required", field=k.price_field)
        price = money.to_units((await goods.price_for(ctx, goods_id, org_id)).order_price)
    else:
        amount = money.parse(raw_price, k.price_label)
        if amount < 0:
            raise BusinessError(f"{k.price_label}不能为负数", code="invalid_money", field=k.price_field)
        if amount > MAX_PRICE:
            raise BusinessError(f"{k.price_label}不能超过 {MAX_PRICE}", code="invalid_money", field=k.price_field)
        price = money.to_units(amount)
    return {"goods": goods_id, "qty": qty, "price": price}


async def _check_cover(ctx: Ctx, k: Kind, doc: dict, lines: list[dict]) -> None:
    """Outbound quantities must be covered by on-hand stock (per goods, over the given lines)."""
    if k.sign > 0 or not lines:
        return
    wanted: dict[int, int] = {}
    for line in lines:
        wanted[line["goods"]] = wanted.get(line["goods"], 0) + line["qty"]
    have = await stock.on_hand(ctx, doc["org_id"], doc["warehouse"], list(wanted))
    short = [stock.Shortage(g, doc["warehouse"], q, have[g]) for g, q in wanted.items() if q > have[g]]
    if short:
        # a line being added or changed has no code and name yet: its goods was just checked usable
        names = {li["goods"]: f"{li['goods_code']} {li['goods_name']}" for li in lines if li.get("goods_code")}
        for s in short:
            if s.goods_id not in names:
                row = await goods.usable(ctx, s.goods_id)
                names[s.goods_id] = f"{row['code']} {row['name']}"
        raise stock.InsufficientStock(short, names)


async def create(ctx: Ctx, kind: str, data: dict) -> dict:
    """A draft in the caller's own org, with any lines given."""
    k = _kind(kind)
    ctx.require(k.perms["create"])
    for required, label in (("type", "类型"), ("warehouse_id", "仓库")):
        if data.get(required) in (None, ""):
            raise BusinessError(f"请选择{label}", code="required", field=required)
    raw_lines = data.get("lines") or []
    if not isinstance(raw_lines, list) or len(raw_lines) > MAX_LINES:
        raise BusinessError(f"明细最多 {MAX_LINES} 行", code="invalid_field", field="lines")
    async with atomic():
        header = await _header(ctx, k, data, ctx.org_id)
        lines = [await _line(ctx, k, li if isinstance(li, dict) else {}, ctx.org_id) for li in raw_lines]
        stamp = now()
        doc = StockDoc(
            tenant_id=ctx.tenant_id,
            kind=kind,
            no=await next_number(ctx, k.prefix),
            org_id=ctx.org_id,
            org_path=ctx.org_path,
            status="draft",
            created_by=ctx.user_id,
            created_by_name=ctx.user_name,
            created_at=stamp,
            updated_at=stamp,
            **{"remark": "", "supplier": None} | header,
        )
        await doc.save()
        await _check_cover(ctx, k, {"org_id": ctx.org_id, "warehouse": doc.warehouse}, lines)
        for line in lines:
            await StockDocLine.insert(StockDocLine(tenant_id=ctx.tenant_id, doc=doc.id, created_at=stamp, **line))
        await audit.record(ctx, "create", kind, doc.id, f"新增{k.label} {doc.no}")
        realtime.emit(ctx.tenant_id, ctx.org_path, k.topic, "created", doc.id)
        return await get(ctx, kind, doc.id)


async def _claim(doc: dict, statuses: tuple[str, ...]) -> bool:
    """Take the document for this transaction if it is still in one of `statuses`: the UPDATE
    locks its row on PostgreSQL, so a concurrent submit, confirm or delete waits, then sees the
    new state (SQLite serialises writers anyway). One deleted meanwhile is not found, as it
    would have been a moment later, rather than refused for a state it no longer has."""
    rows = (
        await StockDoc.update({StockDoc.updated_at: now()})
        .where((StockDoc.id == doc["id"]) & StockDoc.status.is_in(list(statuses)))
        .returning(StockDoc.id)
    )
    if not rows and await StockDoc.exists().where((StockDoc.id == doc["id"]) & (StockDoc.status == "deleted")):
        raise NotFound(_kind(doc["kind"]).label)
    return bool(rows)


async def _editable(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """A document whose header and lines may still change: a draft, taken for this transaction."""
    k = _kind(kind)
    ctx.require(k.perms["create"])
    doc = await _row(ctx, kind, doc_id)
    if not await _claim(doc, ("draft",)):
        raise Conflict(f"{k.label}已提交，不能修改", code="not_draft")
    return doc


def _changed(ctx: Ctx, k: Kind, doc: dict, event: str) -> None:
    realtime.emit(ctx.tenant_id, doc["org_path"], k.topic, event, doc["id"])


async def update(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    k = _kind(kind)
    async with atomic():
        doc = await _editable(ctx, kind, doc_id)
        header = await _header(ctx, k, data, doc["org_id"])
        if header:
            await StockDoc.update({getattr(StockDoc, f): v for f, v in header.items()}).where(StockDoc.id == doc["id"])
            if "warehouse" in header:
                lines = (await _lines_of([doc["id"]]))[doc["id"]]
                await _check_cover(ctx, k, doc | {"warehouse": header["warehouse"]}, lines)
        _changed(ctx, k, doc, "updated")
        return await get(ctx, kind, doc["id"])


async def add_line(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    k = _kind(kind)
    async with atomic():
        doc = await _editable(ctx, kind, doc_id)
        lines = (await _lines_of([doc["id"]]))[doc["id"]]
        if len(lines) >= MAX_LINES:
            raise BusinessError(f"明细最多 {MAX_LINES} 行", code="too_many_lines")
        line = await _line(ctx, k, data, doc["org_id"])
        await _check_cover(ctx, k, doc, [*lines, line])
        await StockDocLine.insert(StockDocLine(tenant_id=ctx.tenant_id, doc=doc["id"], created_at=now(), **line))
        _changed(ctx, k, doc, "updated")
        return await get(ctx, kind, doc["id"])


async def _line_row(doc: dict, line_id: Any) -> dict:
    lid = validate.ident(line_id, "明细", "line_id")
    row = (
        await StockDocLine.select(*LINE_COLUMNS)
        .where((StockDocLine.doc == doc["id"]) & (StockDocLine.id == lid))
        .first()
    )
    if row is None:
        raise NotFound("明细")
    return row


async def update_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any, data: dict) -> dict:
    k = _kind(kind)
    async with atomic():
        doc = await _editable(ctx, kind, doc_id)
        current = await _line_row(doc, line_id)
        line = await _line(ctx, k, data, doc["org_id"], current)
        others = [li for li in (await _lines_of([doc["id"]]))[doc["id"]] if li["id"] != current["id"]]
        await _check_cover(ctx, k, doc, [*others, line])
        await StockDocLine.update({getattr(StockDocLine, f): v for f, v in line.items()}).where(
            StockDocLine.id == current["id"]
        )
        _changed(ctx, k, doc, "updated")
        return await get(ctx, kind, doc["id"])


async def delete_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any) -> dict:
    k = _kind(kind)
    async with atomic():
        doc = await _editable(ctx, kind, doc_id)
        current = await _line_row(doc, line_id)
        await StockDocLine.delete().where(StockDocLine.id == current["id"])
        _changed(ctx, k, doc, "updated")
        return await get(ctx, kind, doc["id"])


async def delete_lines(ctx: Ctx, kind: str, doc_id: Any, line_ids: Any) -> dict:
    """【删除】 of the lines ticked on the page: all of them or, when one is gone, none."""
    k = _kind(kind)
    wanted = set(validate.id_list(line_ids, "明细", "line_ids", max_items=MAX_LINES))
    if not wanted:
        raise BusinessError("请勾选要删除的明细", code="required", field="line_ids")
    async with atomic():
        doc = await _editable(ctx, kind, doc_id)
        where = (StockDocLine.doc == doc["id"]) & StockDocLine.id.is_in(list(wanted))
        if await StockDocLine.count().where(where) != len(wanted):
            raise NotFound("明细")
        await StockDocLine.delete().where(where)
        _changed(ctx, k, doc, "updated")
        return await get(ctx, kind, doc["id"])


async def submit(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """【提交】: the lines are fixed; outbound stock is checked again."""
    k = _kind(kind)
    async with atomic():
        doc = await _editable(ctx, kind, doc_id)
        lines = (await _lines_of([doc["id"]]))[doc["id"]]
        if not lines:
            raise BusinessError("请先添加明细", code="no_lines")
        await warehouses.require_usable(ctx, doc["warehouse"], doc["org_id"])
        for line in lines:
            await goods.usable(ctx, line["goods"])
        await _check_cover(ctx, k, doc, lines)
        stamp = now()
        await StockDoc.update(
            {StockDoc.status: "submitted", StockDoc.submitted_at: stamp, StockDoc.updated_at: stamp}
        ).where(StockDoc.id == doc["id"])
        await audit.record(ctx, "submit", kind, doc["id"], f"提交{k.label} {doc['no']}")
        realtime.emit(ctx.tenant_id, doc["org_path"], k.topic, "submitted", doc["id"])
        return await get(ctx, kind, doc["id"])


async def confirm(ctx: Ctx, kind: str, doc_id: Any, line_ids: Any = None) -> dict:
    """【确认入库】/【确认出库】 the ticked lines (all unconfirmed ones when none are named). Each
    line is claimed by a conditional UPDATE, so a line posts once however often it is confirmed;
    a line confirmed already answers 409 `already_confirmed` and nothing of the call is posted."""
    k = _kind(kind)
    ctx.require(k.perms["confirm"])
    async with atomic():
        doc = await _row(ctx, kind, doc_id)
        if doc["status"] == "draft":
            raise Conflict(f"{k.label}尚未提交，不能确认", code="not_submitted")
        if not await _claim(doc, ("submitted", "partial")):
            raise Conflict(f"{k.label}已全部确认", code="already_confirmed")
        lines = (await _lines_of([doc["id"]]))[doc["id"]]
        if line_ids is None:
            wanted = [li["id"] for li in lines if li["confirmed_at"] is None]
            if not wanted:
                raise Conflict(f"{k.label}已全部确认", code="already_confirmed")
        else:
            wanted = validate.id_list(line_ids, "明细", "line_ids", max_items=MAX_LINES)
            if not wanted:
                raise BusinessError("请勾选要确认的明细", code="required", field="line_ids")
        by_id = {li["id"]: li for li in lines}
        unknown = [i for i in wanted if i not in by_id]
        if unknown:
            raise NotFound("明细")
        await warehouses.require_usable(ctx, doc["warehouse"], doc["org_id"])
        stamp = now()
        claimed = (
            await StockDocLine.update(
                {
                    StockDocLine.confirmed_at: stamp,
                    StockDocLine.confirmed_by: ctx.user_id,
                    StockDocLine.confirmed_by_name: ctx.user_name,
                }
            )
            .where(StockDocLine.id.is_in(wanted) & StockDocLine.confirmed_at.is_null())
            .returning(StockDocLine.id)
        )
        if len(claimed) != len(set(wanted)):
            done = sorted(set(wanted) - {c["id"] for c in claimed})
            codes = "、".join(by_id[i]["goods_code"] for i in done)
            raise Conflict(f"明细已确认过，不能重复确认：{codes}", code="already_confirmed")
        moves = [
            stock.Move(
                org_id=doc["org_id"],
                warehouse_id=doc["warehouse"],
                goods_id=by_id[i]["goods"],
                delta=k.sign * by_id[i]["qty"],
                doc_type=kind,
                doc_id=doc["id"],
                doc_no=doc["no"],
                line_id=i,
                cost=by_id[i]["price"] if k.sign > 0 else None,
            )
            for i in sorted(set(wanted))
        ]
        await stock.post_moves(ctx, moves, doc["org_path"])
        remaining = await StockDocLine.count().where(
            (StockDocLine.doc == doc["id"]) & StockDocLine.confirmed_at.is_null()
        )
        status = "partial" if remaining else "completed"
        await StockDoc.update(
            {StockDoc.status: status, StockDoc.updated_at: stamp, StockDoc.completed_at: None if remaining else stamp}
        ).where(StockDoc.id == doc["id"])
        await audit.record(
            ctx, "confirm", kind, doc["id"], f"确认{k.label} {doc['no']}（{len(moves)} 行）", None, {"line_ids": wanted}
        )
        realtime.emit(ctx.tenant_id, doc["org_path"], k.topic, "confirmed", doc["id"])
        return await get(ctx, kind, doc["id"])


async def delete(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """A draft, or a submitted document nothing of which is confirmed, can be deleted."""
    k = _kind(kind)
    ctx.require(k.perms["delete"])
    async with atomic():
        doc = await _row(ctx, kind, doc_id)
        if doc["status"] not in ("draft", "submitted"):
            raise Conflict(f"{k.label}已确认，不能删除", code="confirmed")
        if not await _claim(doc, ("draft", "submitted")):
            raise Conflict(f"{k.label}已确认，不能删除", code="confirmed")
        await StockDoc.update({StockDoc.status: "deleted"}).where(StockDoc.id == doc["id"])
        await audit.record(ctx, "delete", kind, doc["id"], f"删除{k.label} {doc['no']}")
        realtime.emit(ctx.tenant_id, doc["org_path"], k.topic, "deleted", doc["id"])
        result = await _present(ctx, k, [doc | {"status": "deleted"}])
        return result[0]
