"""Inbound (【入库管理】) and outbound (【出库管理】) documents (SPEC 4), on the shared life cycle of
`server.core.documents`: draft → submitted → partial → completed, or deleted before any
confirmation. Confirmation ticks lines and posts them through `stock.post_moves`, once each.

What is particular to stock lives here: the header (type from a dictionary, a warehouse assigned
to the org, a supplier), a line's price, the sign of the moves, and that stock must cover an
outbound. Inbound and outbound differ only in what `KINDS` says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import realtime
from server.core import documents as life
from server.core import money, validate
from server.core.documents import DocFilters, DocStatus, DocType
from server.core.errors import BusinessError
from server.core.pagination import Page, PageParams
from server.core.tenancy import Ctx
from server.inventory import permissions as P
from server.inventory.services import stock
from server.inventory.tables import StockDoc, StockDocLine
from server.masterdata.services import dictionaries, goods, suppliers, warehouses
from server.system.services import orgs

MAX_QTY = 1_000_000
MAX_LINES = 500
# a line's amount (price × MAX_QTY) stays within NUMERIC(18,4), and the moving average's
# arithmetic within BIGINT (see stock._average)
MAX_PRICE = Decimal("99999999.9999")


class StockDocFilters(DocFilters):
    """The document list's filters (API, page, export)."""

    type: str = ""
    warehouse_id: str = ""
    supplier_id: str = ""
    created_by: str = ""
    date_from: str = ""
    date_to: str = ""


@dataclass(frozen=True)
class Kind(DocType):
    type_kind: str = ""  # the dictionary of its `type`
    sign: int = 1  # +1 brings stock in, -1 takes it out
    price_field: str = "price"  # the API name of a line's price
    price_label: str = ""

    table = StockDoc
    line_table = StockDocLine
    columns = (
        *StockDoc.all_columns(),
        StockDoc.warehouse.code.as_alias("warehouse_code"),
        StockDoc.warehouse.name.as_alias("warehouse_name"),
        StockDoc.supplier.name.as_alias("supplier_name"),
    )
    line_columns = (
        *StockDocLine.all_columns(),
        StockDocLine.goods.code.as_alias("goods_code"),
        StockDocLine.goods.name.as_alias("goods_name"),
        StockDocLine.goods.unit.as_alias("unit"),
        StockDocLine.goods.spec.as_alias("spec"),
    )
    statuses = (DocStatus.DRAFT, DocStatus.SUBMITTED, DocStatus.PARTIAL, DocStatus.COMPLETED, DocStatus.DELETED)
    by_line = True
    max_lines = MAX_LINES

    def check_new(self, data: dict) -> None:
        for required, label in (("type", "类型"), ("warehouse_id", "仓库")):
            if data.get(required) in (None, ""):
                raise BusinessError(f"请选择{label}", code="required", field=required)

    async def header(self, ctx: Ctx, data: dict, doc: dict, new: bool) -> dict:
        """The header fields given in `data`, each checked: type from the dictionary, a warehouse
        assigned (and enabled) to the document's org, an enabled supplier."""
        out: dict[str, Any] = {}
        if "type" in data:
            out["type"] = await dictionaries.require_code(ctx, self.type_kind, data["type"], "type")
        if "warehouse_id" in data:
            wid = validate.ident(data["warehouse_id"], "仓库", "warehouse_id")
            await warehouses.require_usable(ctx, wid, doc["org_id"])
            out["warehouse"] = wid
        if "supplier_id" in data:
            sid = validate.optional_ident(data["supplier_id"], "供应商", "supplier_id")
            if sid is not None:
                await suppliers.usable(ctx, sid)
            out["supplier"] = sid
        if "remark" in data:
            out["remark"] = validate.text(data["remark"], "备注", 500, field="remark")
        return out

    async def line(self, ctx: Ctx, data: dict, doc: dict, current: dict | None = None) -> dict:
        """A line's goods, quantity and price, checked; an outbound price left empty defaults to
        the org's price (`price_for`)."""
        goods_id = current["goods"] if current and "goods_id" not in data else None
        if goods_id is None:
            goods_id = validate.ident(data.get("goods_id"), "货品", "goods_id")
            await goods.usable(ctx, goods_id)
        qty = current["qty"] if current and "qty" not in data else None
        if qty is None:
            qty = validate.integer(data.get("qty"), "数量", 1, MAX_QTY, "qty")
        if current and self.price_field not in data and "price" not in data:
            return {"goods": goods_id, "qty": qty, "price": current["price"]}
        raw_price = data.get(self.price_field, data.get("price"))
        if raw_price not in (None, ""):
            return {"goods": goods_id, "qty": qty, "price": self._price(raw_price)}
        if self.sign > 0:
            raise BusinessError(f"请填写{self.price_label}", code="required", field=self.price_field)
        price = money.to_units((await goods.price_for(ctx, goods_id, doc["org_id"])).order_price)
        return {"goods": goods_id, "qty": qty, "price": price}

    def _price(self, raw: Any) -> int:
        amount = money.parse(raw, self.price_label)
        if amount < 0:
            raise BusinessError(f"{self.price_label}不能为负数", code="invalid_money", field=self.price_field)
        if amount > MAX_PRICE:
            raise BusinessError(f"{self.price_label}不能超过 {MAX_PRICE}", code="invalid_money", field=self.price_field)
        return money.to_units(amount)

    async def check_lines(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """Outbound quantities must be covered by on-hand stock (per goods, over the given lines)."""
        if self.sign > 0 or not lines:
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

    async def header_changed(self, ctx: Ctx, doc: dict, fields: dict, lines: list[dict]) -> None:
        if "warehouse" in fields:
            await self.check_lines(ctx, doc | {"warehouse": fields["warehouse"]}, lines)

    async def on_submit(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """Master data may have changed since the lines were entered; outbound stock is checked again."""
        await warehouses.require_usable(ctx, doc["warehouse"], doc["org_id"])
        for line in lines:
            await goods.usable(ctx, line["goods"])
        await self.check_lines(ctx, doc, lines)

    async def post(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        await warehouses.require_usable(ctx, doc["warehouse"], doc["org_id"])
        moves = [
            stock.Move(
                org_id=doc["org_id"],
                warehouse_id=doc["warehouse"],
                goods_id=li["goods"],
                delta=self.sign * li["qty"],
                doc_type=self.name,
                doc_id=doc["id"],
                doc_no=doc["no"],
                line_id=li["id"],
                cost=li["price"] if self.sign > 0 else None,
            )
            for li in lines
        ]
        await stock.post_moves(ctx, moves, doc["org_path"])

    async def present(self, ctx: Ctx, docs: list[dict], lines: dict[int, list[dict]]) -> list[dict]:
        """Documents with their lines, type names and org names, in three queries for a page."""
        types = {i["code"]: i["name"] for i in await dictionaries.items(ctx, self.type_kind)}
        names = await orgs.names(ctx, {d["org_id"] for d in docs})
        return [
            self._doc_dict(d, lines[d["id"]], types.get(d["type"], d["type"]), names.get(d["org_id"], "")) for d in docs
        ]

    def _line_dict(self, line: dict) -> dict:
        price = money.fmt(line["price"])
        return {
            "id": line["id"],
            "goods_id": line["goods"],
            "goods_code": line["goods_code"],
            "goods_name": line["goods_name"],
            "unit": line["unit"],
            "spec": line["spec"],
            "qty": line["qty"],
            self.price_field: price,
            "price": price,
            "amount": money.fmt(line["price"] * line["qty"]),
            "confirmed": line["confirmed_at"] is not None,
            "confirmed_at": line["confirmed_at"],
            "confirmed_by_name": line["confirmed_by_name"],
        }

    def _doc_dict(self, doc: dict, lines: list[dict], type_name: str, org_name: str) -> dict:
        return {
            "id": doc["id"],
            "kind": self.name,
            "no": doc["no"],
            "type": doc["type"],
            "type_name": type_name,
            "status": doc["status"],
            "status_name": DocStatus(doc["status"]).label,
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
            "lines": [self._line_dict(li) for li in lines],
        }


KINDS = {
    "inbound": Kind("inbound", "入库单", "RK", P.INBOUND, "inbounds", "inbound_type", 1, "cost_price", "成本价"),
    "outbound": Kind("outbound", "出库单", "CK", P.OUTBOUND, "outbounds", "outbound_type", -1, "unit_price", "单价"),
}
STATUSES = life.labels(Kind.statuses)
for _kind in KINDS.values():
    realtime.topic(_kind.topic, _kind.perms["view"])


# --- reading ---------------------------------------------------------------------------------------


def _day(value: Any, label: str, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise BusinessError(f"{label}格式不正确，应为 YYYY-MM-DD", code="invalid_field", field=field) from None


def filter_where(ctx: Ctx, kind: str, filters: StockDocFilters):
    """The document list's filters (number, type, status, warehouse, supplier, creator, dates
    of creation), inside the caller's subtree; deleted documents only when asked for."""
    where = life.list_where(ctx, KINDS[kind], filters)
    if filters.type:
        where &= StockDoc.type == validate.text(filters.type, "类型", 32)
    if filters.warehouse_id:
        where &= StockDoc.warehouse == validate.ident(filters.warehouse_id, "仓库", "warehouse_id")
    if filters.supplier_id:
        where &= StockDoc.supplier == validate.ident(filters.supplier_id, "供应商", "supplier_id")
    if filters.created_by:
        where &= StockDoc.created_by == validate.ident(filters.created_by, "制单人", "created_by")
    start, end = _day(filters.date_from, "开始日期", "date_from"), _day(filters.date_to, "结束日期", "date_to")
    tz = ZoneInfo(ctx.tz)
    if start:
        where &= StockDoc.created_at >= start.replace(tzinfo=tz)
    if end:
        where &= StockDoc.created_at < end.replace(tzinfo=tz) + timedelta(days=1)
    return where


async def creators(ctx: Ctx, kind: str) -> list[dict]:
    """The 制单人 filter's choices: whoever made documents of this kind the caller can see."""
    return (
        await StockDoc.select(StockDoc.created_by, StockDoc.created_by_name)
        .where(life.visible(ctx, KINDS[kind]))
        .distinct()
        .order_by(StockDoc.created_by_name)
        .limit(200)
    )


async def search(
    ctx: Ctx, kind: str, filters: StockDocFilters = StockDocFilters(), *, params: PageParams = PageParams()
) -> Page:
    return await life.search(ctx, KINDS[kind], filter_where(ctx, kind, filters), params)


async def get(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await life.get(ctx, KINDS[kind], doc_id)


async def get_draft(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await life.get_draft(ctx, KINDS[kind], doc_id)


# --- the life cycle (server.core.documents) ------------------------------------------------------


async def create(ctx: Ctx, kind: str, data: dict) -> dict:
    return await life.create(ctx, KINDS[kind], data)


async def update(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    return await life.update(ctx, KINDS[kind], doc_id, data)


async def add_line(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    return await life.add_line(ctx, KINDS[kind], doc_id, data)


async def update_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any, data: dict) -> dict:
    return await life.update_line(ctx, KINDS[kind], doc_id, line_id, data)


async def delete_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any) -> dict:
    return await life.delete_line(ctx, KINDS[kind], doc_id, line_id)


async def delete_lines(ctx: Ctx, kind: str, doc_id: Any, line_ids: Any) -> dict:
    return await life.delete_lines(ctx, KINDS[kind], doc_id, line_ids)


async def submit(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """【提交】: the lines are fixed; outbound stock is checked again."""
    return await life.submit(ctx, KINDS[kind], doc_id)


async def confirm(ctx: Ctx, kind: str, doc_id: Any, line_ids: Any = None) -> dict:
    """【确认入库】/【确认出库】 the ticked lines (all unconfirmed ones when none are named)."""
    return await life.confirm(ctx, KINDS[kind], doc_id, line_ids)


async def delete(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await life.delete(ctx, KINDS[kind], doc_id)
