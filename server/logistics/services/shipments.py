"""Shipments 【物流发货】 and their receipt 【物流收货】 (SPEC 4.3), on the shared life cycle of
`server.core.documents`: draft → submitted → 部分出库 → 已出库 → 部分收货 → 已收货.

The type fixes the direction: 订单 and 配送 go from an org to one of its children, 核销 and the
two returns from an org to its parent. 【确认出库】 posts the ticked lines out of the ship-from
warehouse: they are then *in transit*, in neither org's on-hand — the in-transit quantity is
derived from the lines (confirmed, not yet received), so it can never drift from the stock
ledger. 【确认收货】 posts them into a warehouse of the receiver that the type allows, once each;
a received return refunds the child at its order price. Before anything is received the shipper
may 【撤回】: the stock goes back and the shipment is 已提交 again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Sum
from piccolo.querystring import QueryString

import realtime
from server.core import audit, hooks, money, uploads, validate
from server.core import documents as life
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic
from server.core.documents import DocFilters, DocStatus, DocType
from server.core.errors import BusinessError, Conflict, Forbidden, NotFound
from server.core.numbering import next_number
from server.core.pagination import Page, PageParams, cached_read, paginate, remembered
from server.core.search import contains
from server.core.tenancy import Ctx, scoped
from server.credit.services import ledger
from server.inventory.services import documents as stock_documents
from server.inventory.services import stock
from server.logistics import permissions as P
from server.logistics.services import orders
from server.logistics.states import DiscrepancyKind, DiscrepancyStatus, Resolution
from server.logistics.tables import Shipment, ShipmentDevice, ShipmentDiscrepancy, ShipmentLine
from server.masterdata.services import goods, warehouses
from server.masterdata.states import WarehouseType
from server.system.services import orgs

MAX_QTY = 1_000_000
MAX_LINES = 500
DOC_TYPE = "shipment"  # the stock moves' and credit entries' document type


class ShipmentType(StrEnum):
    ORDER = "order"
    DISTRIBUTION = "distribution"
    WRITE_OFF = "write_off"
    DEFECTIVE_RETURN = "defective_return"
    GOOD_RETURN = "good_return"
    DEVICE_SEND = "device_send"
    DEVICE_RETURN = "device_return"

    @property
    def label(self) -> str:
        return TYPE_LABELS[self]

    @property
    def device(self) -> bool:
        """A customer's device between a carry-in point and its repair centre (issue 20): no
        warehouse, no lines, no stock; made by the work order's 【送修】/【返还】, not by hand."""
        return self in (ShipmentType.DEVICE_SEND, ShipmentType.DEVICE_RETURN)

    @property
    def downward(self) -> bool:
        """To a child (订单, 配送); the others go to the parent."""
        return self in (ShipmentType.ORDER, ShipmentType.DISTRIBUTION)

    @property
    def refunds(self) -> bool:
        return self in (ShipmentType.DEFECTIVE_RETURN, ShipmentType.GOOD_RETURN)

    @property
    def into(self) -> tuple[str, ...]:
        """The warehouse types a receipt may go into."""
        if self == ShipmentType.DEFECTIVE_RETURN:
            return (WarehouseType.DEFECTIVE,)
        if self == ShipmentType.GOOD_RETURN:
            return (WarehouseType.GOOD,)
        return (WarehouseType.GENERAL, WarehouseType.GOOD)


TYPE_LABELS = {
    ShipmentType.ORDER: "订单",
    ShipmentType.DISTRIBUTION: "配送",
    ShipmentType.WRITE_OFF: "核销",
    ShipmentType.DEFECTIVE_RETURN: "来料不良退回",
    ShipmentType.GOOD_RETURN: "良品退回",
    ShipmentType.DEVICE_SEND: "送修",
    ShipmentType.DEVICE_RETURN: "送修返还",
}
TYPES = {t.value: t.label for t in ShipmentType}


class ShipmentStatus(StrEnum):
    """The shared life cycle's states (its partial/completed are 部分出库/已出库), then receipt."""

    DRAFT = DocStatus.DRAFT.value
    SUBMITTED = DocStatus.SUBMITTED.value
    PARTIAL = DocStatus.PARTIAL.value
    SHIPPED = DocStatus.COMPLETED.value
    PART_RECEIVED = "part_received"
    RECEIVED = "received"
    REFUSED = "refused"  # a device shipment its receiver refused: the device stays with the sender
    DELETED = DocStatus.DELETED.value

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


S = ShipmentStatus
STATUS_LABELS = {
    S.DRAFT: "暂存",
    S.SUBMITTED: "已提交",
    S.PARTIAL: "部分出库",
    S.SHIPPED: "已出库",
    S.PART_RECEIVED: "部分收货",
    S.RECEIVED: "已收货",
    S.REFUSED: "已拒收",
    S.DELETED: "已删除",
}
BADGES = {
    S.DRAFT: "grey",
    S.SUBMITTED: "blue",
    S.PARTIAL: "amber",
    S.SHIPPED: "blue",
    S.PART_RECEIVED: "amber",
    S.RECEIVED: "green",
    S.REFUSED: "red",
    S.DELETED: "grey",
}
RECEIVABLE = (S.PARTIAL, S.SHIPPED, S.PART_RECEIVED)  # something left: the receiver sees it
INCOMING = (S.PARTIAL, S.SHIPPED, S.PART_RECEIVED, S.RECEIVED, S.REFUSED)

audit.ACTIONS.setdefault("refuse", "拒收")
realtime.topic("shipments", (P.SHIPMENT["view"], P.RECEIVING["view"], P.DISCREPANCY["view"]))


class ShipmentFilters(DocFilters):
    """The lists' filters (【物流发货】, 【物流收货】, the API, the exports). `side` is `out`
    (shipped by the caller's subtree) or `in` (to be received by it); empty: both."""

    type: str = ""
    side: str = ""
    from_org_id: str = ""
    to_org_id: str = ""


class InTransitFilters(Filters):
    no: str = ""
    type: str = ""
    from_org_id: str = ""
    to_org_id: str = ""
    goods: str = ""


def _child(doc: dict) -> int:
    """The child org of the flow: whose order prices value the lines."""
    return doc["to_org_id"] if ShipmentType(doc["type"]).downward else doc["org_id"]


def _parent_of(path: str) -> tuple[int, str] | None:
    """The parent's id and path, from an org's materialised path (None at the head office)."""
    ids = [p for p in path.strip("/").split("/") if p]
    if len(ids) < 2:
        return None
    return int(ids[-2]), "/" + "/".join(ids[:-1]) + "/"


def _units(value: Any) -> int:
    return money.to_units(Decimal(str(value)))


@dataclass(frozen=True)
class Kind(DocType):
    table = Shipment
    line_table = ShipmentLine
    columns = (
        *Shipment.all_columns(),
        Shipment.warehouse.code.as_alias("warehouse_code"),
        Shipment.warehouse.name.as_alias("warehouse_name"),
    )
    line_columns = (
        *ShipmentLine.all_columns(),
        ShipmentLine.goods.code.as_alias("goods_code"),
        ShipmentLine.goods.name.as_alias("goods_name"),
        ShipmentLine.goods.unit.as_alias("unit"),
        ShipmentLine.goods.spec.as_alias("spec"),
    )
    statuses = tuple(ShipmentStatus)
    by_line = True
    max_lines = MAX_LINES

    def check_new(self, data: dict) -> None:
        for required, label in (("type", "类型"), ("warehouse_id", "出库仓库")):
            if data.get(required) in (None, ""):
                raise BusinessError(f"请选择{label}", code="required", field=required)

    async def header(self, ctx: Ctx, data: dict, doc: dict, new: bool) -> dict:
        """The header given in `data`, checked. Type, receiving org and order are fixed at
        creation; the receiving org follows from the type (403 for a flow the org may not start)."""
        out: dict[str, Any] = {}
        if new:
            out |= await self._flow(ctx, data)
        if "warehouse_id" in data:
            wid = validate.ident(data["warehouse_id"], "出库仓库", "warehouse_id")
            await warehouses.require_usable(ctx, wid, doc["org_id"])
            out["warehouse"] = wid
        for field, label, size in (
            ("carrier", "物流公司", 100),
            ("tracking_no", "物流单号", 64),
            ("remark", "备注", 500),
        ):
            if field in data:
                out[field] = validate.text(data[field], label, size, field=field)
        return out

    async def _flow(self, ctx: Ctx, data: dict) -> dict:
        kind = ShipmentType(validate.choice(data.get("type"), "类型", TYPES, "type"))
        if kind.device:
            raise BusinessError(
                f"{kind.label}发货由工单的【送修】或【返还】生成，不能手工新建", code="invalid_field", field="type"
            )
        given = validate.optional_ident(data.get("to_org_id"), "收货机构", "to_org_id")
        if kind.downward:
            if given is None:
                raise BusinessError("请选择收货机构", code="required", field="to_org_id")
            org = await orgs.get(ctx, given, active_only=True)
            if org["parent"] != ctx.org_id:
                raise Forbidden(f"{kind.label}只能发往本机构的直属下级机构", code="wrong_direction")
            to_org = (org["id"], org["path"])
        else:
            parent = _parent_of(ctx.org_path)
            if parent is None:
                raise Forbidden(f"总部没有上级机构，不能{kind.label}发货", code="wrong_direction")
            if given is not None and given != parent[0]:
                raise Forbidden(f"{kind.label}只能发往本机构的上级机构", code="wrong_direction")
            to_org = parent
        order_id = validate.optional_ident(data.get("order_id"), "订单", "order_id")
        if kind == ShipmentType.ORDER:
            if order_id is None:
                raise BusinessError("请选择订单", code="required", field="order_id")
            if await orders.applicant(ctx, order_id) != to_org[0]:  # refuses an order not approved
                raise BusinessError("订单不是收货机构的订单", code="invalid_field", field="order_id")
        elif order_id is not None:
            raise BusinessError("只有订单发货可以关联订单", code="invalid_field", field="order_id")
        return {"type": kind.value, "to_org_id": to_org[0], "to_org_path": to_org[1], "order_id": order_id}

    async def line(self, ctx: Ctx, data: dict, doc: dict, current: dict | None = None) -> dict:
        """Goods and quantity; an order line names its order line (its goods, at its price), any
        other is valued at the child's order price."""
        qty = current["qty"] if current and "qty" not in data else None
        if qty is None:
            qty = validate.integer(data.get("qty"), "数量", 1, MAX_QTY, "qty")
        if doc["type"] == ShipmentType.ORDER:
            return await self._order_line(ctx, data, doc, current) | {"qty": qty}
        goods_id = current["goods"] if current and "goods_id" not in data else None
        if goods_id is None:
            goods_id = validate.ident(data.get("goods_id"), "货品", "goods_id")
            await goods.usable(ctx, goods_id)
        price = money.to_units((await goods.price_for(ctx, goods_id, _child(doc))).order_price)
        return {"goods": goods_id, "qty": qty, "price": price, "order_line_id": None}

    async def _order_line(self, ctx: Ctx, data: dict, doc: dict, current: dict | None) -> dict:
        raw = data.get("order_line_id", current["order_line_id"] if current else None)
        line_id = validate.ident(raw, "订单明细", "order_line_id")
        open_line = (await self._open(ctx, doc)).get(line_id)
        if open_line is None:
            raise BusinessError("订单明细不存在或已发完", code="invalid_field", field="order_line_id")
        if data.get("goods_id") not in (None, "", open_line["goods_id"]):
            raise BusinessError("货品与订单明细不一致", code="invalid_field", field="goods_id")
        await goods.usable(ctx, open_line["goods_id"])
        return {"goods": open_line["goods_id"], "price": _units(open_line["unit_price"]), "order_line_id": line_id}

    async def _open(self, ctx: Ctx, doc: dict) -> dict[int, dict]:
        return {li["id"]: li for li in await orders.open_lines(ctx, doc["order_id"])}

    async def check_lines(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """Stock covers the lines (as for an outbound); an order's lines stay within what is open."""
        await stock_documents.KINDS["outbound"].check_lines(ctx, doc, lines)
        if doc["type"] != ShipmentType.ORDER or not lines:
            return
        open_lines = await self._open(ctx, doc)
        wanted: dict[int, int] = {}
        for line in lines:
            wanted[line["order_line_id"]] = wanted.get(line["order_line_id"], 0) + line["qty"]
        for line_id, qty in wanted.items():
            left = open_lines.get(line_id, {}).get("open_qty", 0)
            if qty > left:
                raise Conflict(f"超过订单未发数量：需要 {qty}，未发 {left}", code="exceeds_open")

    async def header_changed(self, ctx: Ctx, doc: dict, fields: dict, lines: list[dict]) -> None:
        if "warehouse" in fields:
            await self.check_lines(ctx, doc | {"warehouse": fields["warehouse"]}, lines)

    async def on_submit(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        await warehouses.require_usable(ctx, doc["warehouse"], doc["org_id"])
        for line in lines:
            await goods.usable(ctx, line["goods"])
        await self.check_lines(ctx, doc, lines)

    async def post(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """【确认出库】 of the ticked lines: out of the ship-from warehouse, into transit; an
        order's shipped value moves from freeze to usage. The receiver hears of it."""
        await warehouses.require_usable(ctx, doc["warehouse"], doc["org_id"])
        moves = [_move(doc, li, doc["org_id"], doc["warehouse"], -li["qty"]) for li in lines]
        await stock.post_moves(ctx, moves, doc["org_path"])
        if doc["type"] == ShipmentType.ORDER:
            await orders.record_shipped(ctx, doc["order_id"], _by_order_line(lines))
        note = f"新的物流发货 {doc['no']} 待收货"  # a toast beside the receiver's 【物流收货】 badge
        realtime.emit(ctx.tenant_id, doc["to_org_path"], "shipments", "incoming", doc["id"], note=note)
        realtime.emit(ctx.tenant_id, doc["to_org_path"], "stock", "in_transit", doc["no"])  # its 在途 column

    async def present(self, ctx: Ctx, docs: list[dict], lines: dict[int, list[dict]]) -> list[dict]:
        names = await orgs.names(ctx, {d["org_id"] for d in docs} | {d["to_org_id"] for d in docs})
        found = await discrepancies_of([d["id"] for d in docs], names)
        devices = await _devices_of(ctx, [d["id"] for d in docs if ShipmentType(d["type"]).device])
        out = [_doc_dict(d, lines[d["id"]], names, found) | {"device": devices.get(d["id"])} for d in docs]
        return [d | {"total_qty": 1} if d["device"] else d for d in out]  # the one device, no lines


def _move(doc: dict, line: dict, org_id: int, warehouse_id: int, delta: int, cost: int | None = None) -> stock.Move:
    return stock.Move(org_id, warehouse_id, line["goods"], delta, DOC_TYPE, doc["id"], doc["no"], line["id"], cost)


def _by_order_line(lines: list[dict]) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for line in lines:
        out[line["order_line_id"]] = out.get(line["order_line_id"], Decimal(0)) + Decimal(line["qty"])
    return out


def _line_dict(line: dict, found: list[dict]) -> dict:
    confirmed, received = line["confirmed_at"] is not None, line["received_at"] is not None
    return {
        "id": line["id"],
        "goods_id": line["goods"],
        "goods_code": line["goods_code"],
        "goods_name": line["goods_name"],
        "unit": line["unit"],
        "spec": line["spec"],
        "qty": line["qty"],
        "price": money.fmt(line["price"]),
        "amount": money.fmt(line["price"] * line["qty"]),
        "order_line_id": line["order_line_id"],
        "confirmed": confirmed,
        "confirmed_at": line["confirmed_at"],
        "confirmed_by_name": line["confirmed_by_name"],
        "received": received,
        "received_at": line["received_at"],
        "received_by_name": line["received_by_name"],
        "received_warehouse_id": line["received_warehouse_id"],
        "received_qty": line["received_qty"],
        "held_qty": line["held_qty"],
        "lost_qty": line["lost_qty"],
        "left_qty": left_to_receive(line) if confirmed else 0,
        "in_transit": line["qty"] - line["received_qty"] - line["lost_qty"] if confirmed else 0,
        "discrepancies": found,
    }


def _doc_dict(doc: dict, lines: list[dict], names: dict[int, str], found: dict[int, list[dict]]) -> dict:
    return {
        "id": doc["id"],
        "no": doc["no"],
        "type": doc["type"],
        "type_name": TYPES.get(doc["type"], doc["type"]),
        "status": doc["status"],
        "status_name": ShipmentStatus(doc["status"]).label,
        "org_id": doc["org_id"],
        "org_name": names.get(doc["org_id"], ""),
        "warehouse_id": doc["warehouse"],
        "warehouse_code": doc["warehouse_code"] or "",
        "warehouse_name": doc["warehouse_name"] or "",
        "to_org_id": doc["to_org_id"],
        "to_org_name": names.get(doc["to_org_id"], ""),
        "order_id": doc["order_id"],
        "carrier": doc["carrier"],
        "tracking_no": doc["tracking_no"],
        "remark": doc["remark"],
        "created_by_name": doc["created_by_name"],
        "created_at": doc["created_at"],
        "submitted_at": doc["submitted_at"],
        "completed_at": doc["completed_at"],
        "received_at": doc["received_at"],
        "total_qty": sum(li["qty"] for li in lines),
        "total_amount": money.fmt(sum(li["price"] * li["qty"] for li in lines)),
        "lines": [_line_dict(li, found.get(li["id"], [])) for li in lines],
    }


# --- discrepancies as the shipment shows them (services.discrepancies lists and resolves them) ---

SD = ShipmentDiscrepancy
DISCREPANCY_COLUMNS = (
    *SD.all_columns(),
    SD.shipment.no.as_alias("shipment_no"),
    SD.line.goods.as_alias("goods_id"),
    SD.line.goods.code.as_alias("goods_code"),
    SD.line.goods.name.as_alias("goods_name"),
    SD.line.goods.unit.as_alias("unit"),
)


PHOTO_OWNER = "shipment_discrepancy"  # whose files a discrepancy's photos are (core.uploads)


def discrepancy_dict(row: dict, names: dict[int, str], photos: dict[int, list[dict]]) -> dict:
    resolution = row["resolution"]
    return {
        "id": row["id"],
        "shipment_id": row["shipment"],
        "shipment_no": row["shipment_no"],
        "line_id": row["line"],
        "goods_id": row["goods_id"],
        "goods_code": row["goods_code"],
        "goods_name": row["goods_name"],
        "unit": row["unit"],
        "org_id": row["org_id"],
        "org_name": names.get(row["org_id"], ""),
        "to_org_id": row["to_org_id"],
        "to_org_name": names.get(row["to_org_id"], ""),
        "kind": row["kind"],
        "kind_name": DiscrepancyKind(row["kind"]).label,
        "qty": row["qty"],
        "reason": row["reason"],
        "warehouse_id": row["warehouse_id"],
        "status": row["status"],
        "status_name": DiscrepancyStatus(row["status"]).label,
        "resolution": resolution or None,
        "resolution_name": Resolution(resolution).label if resolution else "",
        "remark": row["remark"],
        "recorded_by_name": row["recorded_by_name"],
        "recorded_at": row["recorded_at"],
        "resolved_by_name": row["resolved_by_name"],
        "resolved_at": row["resolved_at"],
        "photos": photos.get(row["id"], []),
    }


async def discrepancy_dicts(rows: list[dict], names: dict[int, str]) -> list[dict]:
    """Discrepancy rows as the API shows them, with their photos (one statement for all)."""
    photos = await uploads.files_of(rows[0]["tenant_id"], PHOTO_OWNER, [r["id"] for r in rows]) if rows else {}
    return [discrepancy_dict(r, names, photos) for r in rows]


async def discrepancies_of(doc_ids: list[int], names: dict[int, str]) -> dict[int, list[dict]]:
    """The discrepancies of shipments the caller already reads, by line, oldest first."""
    if not doc_ids:
        return {}
    rows = await SD.select(*DISCREPANCY_COLUMNS).where(SD.shipment.is_in(doc_ids)).order_by(SD.id)
    out: dict[int, list[dict]] = {}
    for d in await discrepancy_dicts(rows, names):
        out.setdefault(d["line_id"], []).append(d)
    return out


SHIPMENT = Kind("shipment", "物流单", "WL", P.SHIPMENT, "shipments")
KINDS = {"shipment": SHIPMENT}
STATUSES = SHIPMENT.status_names


# --- reading: the shipper's documents and the receiver's --------------------------------------


def _incoming(ctx: Ctx):
    """Shipments to the caller's subtree that something left of."""
    return scoped(ctx, Shipment, subtree=Shipment.to_org_path) & Shipment.status.is_in(list(INCOMING))


def _readable(ctx: Ctx, side: str = ""):
    outgoing = life.visible(ctx, SHIPMENT)
    if side == "out":
        return outgoing
    if side == "in":
        return _incoming(ctx)
    return outgoing | _incoming(ctx)


def filter_where(ctx: Ctx, filters: ShipmentFilters):
    side = validate.choice(filters.side, "方向", {"": "全部", "out": "发货", "in": "收货"}, "side")
    where = _readable(ctx, side)
    no = validate.text(filters.no, "单号", 24)
    if no:
        where &= contains(Shipment.no, no)
    if filters.status:
        where &= Shipment.status == validate.choice(filters.status, "状态", STATUSES, "status")
    else:
        where &= Shipment.status != S.DELETED
    if filters.type:
        where &= Shipment.type == validate.choice(filters.type, "类型", TYPES, "type")
    if filters.from_org_id:
        where &= Shipment.org_id == validate.ident(filters.from_org_id, "发货机构", "from_org_id")
    if filters.to_org_id:
        where &= Shipment.to_org_id == validate.ident(filters.to_org_id, "收货机构", "to_org_id")
    return where


async def search(
    ctx: Ctx, kind: str = "shipment", filters: ShipmentFilters = ShipmentFilters(), *, params: PageParams = PageParams()
) -> Page:
    return await life.search(ctx, SHIPMENT, filter_where(ctx, filters), params)


async def _row(ctx: Ctx, doc_id: Any) -> dict:
    """A shipment the caller sees as shipper or as receiver."""
    did = validate.ident(doc_id, "物流单", "id")
    found = await Shipment.select(*SHIPMENT.columns).where(_readable(ctx) & (Shipment.id == did)).first()
    if found is None or found["status"] == S.DELETED:
        raise NotFound("物流单")
    return found


async def _present(ctx: Ctx, doc: dict) -> dict:
    return (await SHIPMENT.present(ctx, [doc], await life.lines_of(SHIPMENT, [doc["id"]])))[0]


async def get(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await _present(ctx, await _row(ctx, doc_id))


async def get_draft(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await life.get_draft(ctx, SHIPMENT, doc_id)


async def sender_orgs(ctx: Ctx, type_: str) -> list[dict]:
    """The 【物流收货】 shipping-org filter's choices once a type is chosen: the orgs that sent
    the caller's subtree shipments of that type."""
    kind = validate.choice(type_, "类型", TYPES, "type")
    rows = await Shipment.select(Shipment.org_id).where(_incoming(ctx) & (Shipment.type == kind)).distinct().limit(200)
    names = await orgs.names(ctx, {r["org_id"] for r in rows})
    return sorted(({"id": i, "name": n} for i, n in names.items()), key=lambda o: o["name"])


async def children(ctx: Ctx) -> list[dict]:
    """The orgs a 配送 (or 订单) may go to: the caller's direct children, active and enabled."""
    depth = (await orgs.get(ctx, ctx.org_id))["depth"]
    return [o for o in await orgs.choices(ctx, enabled_only=True) if o["depth"] == depth + 1]


async def startable(ctx: Ctx) -> dict[str, str]:
    """The types the caller's org may ship, for the form: down when it has children (订单 then
    starts from one of their approved orders), up when it has a parent; never a device's (the
    work order ships it)."""
    down = bool(await children(ctx))
    up = _parent_of(ctx.org_path) is not None
    return {
        t.value: t.label for t in ShipmentType if not t.device and ((t.downward and down) or (not t.downward and up))
    }


async def waiting_count(ctx: Ctx) -> int:
    """The menu badge: shipments to the caller's own org with units the receiver can take now (a
    line whose rest is an open short waits for the shipper, not for the receiver)."""
    lt = ShipmentLine
    receivable = lt.select(lt.doc).where(
        lt.confirmed_at.is_not_null()
        & lt.received_at.is_null()
        & WhereRaw(
            '"lg_shipment_line"."qty" - "lg_shipment_line"."received_qty" - "lg_shipment_line"."lost_qty"'
            ' - "lg_shipment_line"."held_qty" > 0'
        )
    )
    device = Shipment.type.is_in([t.value for t in ShipmentType if t.device])  # no lines: taken whole
    return await Shipment.count().where(
        scoped(ctx, Shipment)
        & (Shipment.to_org_id == ctx.org_id)
        & Shipment.status.is_in(list(RECEIVABLE))
        & (Shipment.id.is_in(receivable) | device)
    )


async def receiving_warehouses(ctx: Ctx, doc: dict) -> list[dict]:
    """The receiving warehouse picker: the receiver's warehouses of the types its type allows."""
    return await warehouses.usable_for_org(ctx, doc["to_org_id"], ShipmentType(doc["type"]).into)


# --- the shipper's steps (server.core.documents) ----------------------------------------------


async def create(ctx: Ctx, kind: str, data: dict) -> dict:
    return await life.create(ctx, SHIPMENT, data)


async def update(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    return await life.update(ctx, SHIPMENT, doc_id, data)


async def add_line(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    return await life.add_line(ctx, SHIPMENT, doc_id, data)


async def update_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any, data: dict) -> dict:
    return await life.update_line(ctx, SHIPMENT, doc_id, line_id, data)


async def delete_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any) -> dict:
    return await life.delete_line(ctx, SHIPMENT, doc_id, line_id)


async def delete_lines(ctx: Ctx, kind: str, doc_id: Any, line_ids: Any) -> dict:
    return await life.delete_lines(ctx, SHIPMENT, doc_id, line_ids)


async def submit(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await life.submit(ctx, SHIPMENT, doc_id)


async def delete(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await life.delete(ctx, SHIPMENT, doc_id)


async def confirm(ctx: Ctx, kind: str, doc_id: Any, line_ids: Any = None) -> dict:
    """【确认出库】 of the ticked lines (every one not yet shipped when none are named)."""
    async with atomic():
        doc = await life.confirm(ctx, SHIPMENT, doc_id, line_ids)
        await settle(doc["id"])
        return await get(ctx, kind, doc["id"])


async def settle(doc_id: int) -> None:
    """The state from the lines: 部分出库 while one is not shipped, then by what is received (a
    line whose receipt left a short open is received in part)."""
    lt, stamp = ShipmentLine, now()
    lines = await lt.select(lt.confirmed_at, lt.received_at, lt.received_qty, lt.held_qty).where(lt.doc == doc_id)
    received = sum(1 for li in lines if li["received_at"] is not None)
    touched = any(li["received_qty"] or li["held_qty"] for li in lines)
    if any(li["confirmed_at"] is None for li in lines):
        status = S.PARTIAL
    elif received == len(lines):
        status = S.RECEIVED
    else:
        status = S.PART_RECEIVED if touched else S.SHIPPED
    values: dict = {Shipment.status: status, Shipment.updated_at: stamp}
    values[Shipment.received_at] = stamp if status == S.RECEIVED else None
    await Shipment.update(values).where(Shipment.id == doc_id)


async def recall(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """【撤回】 a confirmed shipment nothing of which is received: its stock goes back to the
    ship-from warehouse (an order's usage back to freeze) and it is 已提交 again."""
    async with atomic():
        doc = await life.row(ctx, SHIPMENT, doc_id)
        if ShipmentType(doc["type"]).device:
            raise Conflict(f"{ShipmentType(doc['type']).label}单不能撤回：请收货方拒收", code="invalid_state")
        if not await life.claim(SHIPMENT, doc, (S.PARTIAL, S.SHIPPED), {Shipment.completed_at: None}):
            raise Conflict("物流单未出库或已收货，不能撤回", code="invalid_state")
        lt = ShipmentLine
        if await lt.exists().where((lt.doc == doc["id"]) & ((lt.received_qty > 0) | (lt.held_qty > 0))):
            raise Conflict("物流单已有明细收货，不能撤回", code="invalid_state")
        shipped = [li for li in (await life.lines_of(SHIPMENT, [doc["id"]]))[doc["id"]] if li["confirmed_at"]]
        await lt.update({lt.confirmed_at: None, lt.confirmed_by: None, lt.confirmed_by_name: ""}).where(
            lt.id.is_in([li["id"] for li in shipped])
        )
        await Shipment.update({Shipment.status: S.SUBMITTED}).where(Shipment.id == doc["id"])
        moves = [_move(doc, li, doc["org_id"], doc["warehouse"], li["qty"]) for li in shipped]
        await stock.post_moves(ctx, moves, doc["org_path"])
        if doc["type"] == ShipmentType.ORDER:
            await orders.record_recalled(ctx, doc["order_id"], _by_order_line(shipped))
        realtime.emit(ctx.tenant_id, doc["to_org_path"], "shipments", "recalled", doc["id"])
        realtime.emit(ctx.tenant_id, doc["to_org_path"], "stock", "in_transit", doc["no"])
        summary = f"撤回{SHIPMENT.label} {doc['no']}（{len(shipped)} 行）"
        await life.transition(
            ctx, SHIPMENT, doc, "recall", "recalled", summary, {"line_ids": [li["id"] for li in shipped]}
        )
        return await get(ctx, kind, doc["id"])


# --- the receiver's step ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reported:
    """What the receiver reports on one line of a receipt: units short, over and damaged."""

    short: int = 0
    over: int = 0
    damaged: int = 0
    reasons: tuple[tuple[str, int, str], ...] = ()  # (kind, qty, reason) as given


def _reported(data: Any, wanted: list[int]) -> dict[int, Reported]:
    """The receipt's `discrepancies`, checked: each on a ticked line, one of each kind a line,
    never short and over together, a quantity and a reason."""
    if data in (None, ""):
        return {}
    if not isinstance(data, list) or len(data) > MAX_LINES * 3:
        raise BusinessError("收货差异格式不正确", code="invalid_field", field="discrepancies")
    found: dict[int, dict[str, tuple[int, str]]] = {}
    for item in data:
        if not isinstance(item, dict):
            raise BusinessError("收货差异格式不正确", code="invalid_field", field="discrepancies")
        line_id = validate.ident(item.get("line_id"), "差异明细", "discrepancies")
        if line_id not in wanted:
            raise BusinessError("收货差异只能登记在勾选收货的明细上", code="invalid_field", field="discrepancies")
        kind = DiscrepancyKind(validate.choice(item.get("kind"), "差异类型", DiscrepancyKind.labels(), "discrepancies"))
        qty = validate.integer(item.get("qty"), f"{kind.label}数量", 1, MAX_QTY, "discrepancies")
        reason = validate.text(item.get("reason"), f"{kind.label}原因", 200, required=True, field="discrepancies")
        kinds = found.setdefault(line_id, {})
        if kind in kinds:
            raise BusinessError(f"同一明细只能登记一次{kind.label}", code="invalid_field", field="discrepancies")
        kinds[kind] = (qty, reason)
        if DiscrepancyKind.SHORT in kinds and DiscrepancyKind.OVER in kinds:
            raise BusinessError("同一明细不能同时登记短少和多发", code="invalid_field", field="discrepancies")
    return {
        line_id: Reported(
            short=kinds.get(DiscrepancyKind.SHORT, (0, ""))[0],
            over=kinds.get(DiscrepancyKind.OVER, (0, ""))[0],
            damaged=kinds.get(DiscrepancyKind.DAMAGED, (0, ""))[0],
            reasons=tuple((k, q, r) for k, (q, r) in kinds.items()),
        )
        for line_id, kinds in found.items()
    }


def left_to_receive(line: dict) -> int:
    """What a line still brings: shipped, not yet received, lost or held as an open short."""
    return line["qty"] - line["received_qty"] - line["lost_qty"] - line["held_qty"]


def tell_both(ctx: Ctx, doc: dict, kind: str) -> None:
    """An event both sides of the shipment hear: the deeper org's path reaches the other too."""
    path = max(doc["org_path"], doc["to_org_path"], key=len)
    realtime.emit(ctx.tenant_id, path, "shipments", kind, doc["id"])


async def receive(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    """【确认收货】 of the ticked lines into a warehouse of the receiving org that the type allows:
    (a device shipment has none: the whole parcel is received, `_device_arrived`)
    each line takes what is left of it (409 `already_received` when nothing is), less what the
    receiver reports short; damaged units go into its 坏品库, an over is only recorded (the extra
    enters no stock until the shipper has dealt with it). Stock in at the line's price; a return
    refunds the child for what arrived; an order's received quantities go up."""
    async with atomic():
        doc = await _row(ctx, doc_id)
        if doc["to_org_id"] != ctx.org_id:
            raise Forbidden("只有收货机构可以确认收货", code="not_receiver")
        if ShipmentType(doc["type"]).device:
            return await _device_arrived(ctx, doc, refused=False)
        wanted = validate.id_list(data.get("line_ids"), "明细", "line_ids", max_items=MAX_LINES)
        if not wanted:
            raise BusinessError("请勾选要收货的明细", code="required", field="line_ids")
        reported = _reported(data.get("discrepancies"), wanted)
        kind_ = ShipmentType(doc["type"])
        wid = validate.ident(data.get("warehouse_id"), "入库仓库", "warehouse_id")
        if not any(w["warehouse_id"] == wid for w in await receiving_warehouses(ctx, doc)):
            allowed = "、".join(WarehouseType(t).label for t in kind_.into)
            raise BusinessError(
                f"{kind_.label}只能收入本机构的{allowed}", code="warehouse_unusable", field="warehouse_id"
            )
        await warehouses.require_usable(ctx, wid, ctx.org_id, kind_.into)
        damaged_into = await _defective_warehouse(ctx) if any(r.damaged for r in reported.values()) else None
        if not await life.claim(SHIPMENT, doc, RECEIVABLE):
            # read again: a concurrent receipt may have just finished it
            if await Shipment.exists().where((Shipment.id == doc["id"]) & (Shipment.status == S.RECEIVED)):
                raise Conflict("物流单已全部收货", code="already_received")
            raise Conflict("物流单尚未出库，不能收货", code="invalid_state")
        lines = await _tick_received(ctx, doc, wanted, wid, reported)
        moves, arrived = [], []
        for li in lines:
            got = reported.get(li["id"], Reported())
            units = li["left"] - got.short
            arrived.append(li | {"qty": units})
            if units - got.damaged:
                moves.append(_move(doc, li, ctx.org_id, wid, units - got.damaged, li["price"]))
            if got.damaged:
                moves.append(_move(doc, li, ctx.org_id, damaged_into, got.damaged, li["price"]))
        await stock.post_moves(ctx, moves, doc["to_org_path"])
        await _record(ctx, doc, lines, reported, damaged_into)
        if kind_.refunds:
            amount = sum(li["price"] * li["qty"] for li in arrived)
            if amount > 0:
                ref = ledger.DocRef(DOC_TYPE, doc["no"], doc["id"])
                await ledger.refund(ctx, doc["org_id"], amount, ref, f"{kind_.label}收货")
        if kind_ == ShipmentType.ORDER:
            await orders.record_received(ctx, doc["order_id"], _by_order_line([li for li in arrived if li["qty"]]))
        await settle(doc["id"])
        tell_both(ctx, doc, "received")
        summary = f"确认收货 {SHIPMENT.label} {doc['no']}（{len(lines)} 行）"
        after = {"line_ids": [li["id"] for li in lines], "warehouse_id": wid}
        if reported:
            found = [(i, k, q, r) for i, got in reported.items() for k, q, r in got.reasons]
            after["discrepancies"] = [{"line_id": i, "kind": k, "qty": q, "reason": r} for i, k, q, r in found]
        await life.transition(ctx, SHIPMENT, doc, "receive", "received", summary, after)
        return await get(ctx, kind, doc["id"])


async def _defective_warehouse(ctx: Ctx) -> int:
    """Where the receiver's damaged units go: its first 坏品库 (by code)."""
    found = await warehouses.usable_for_org(ctx, ctx.org_id, (WarehouseType.DEFECTIVE,))
    if not found:
        raise BusinessError(
            "本机构没有可用的坏品库，不能登记破损：请先在【仓库设置】中分配坏品库",
            code="no_defective_warehouse",
            field="discrepancies",
        )
    return found[0]["warehouse_id"]


async def _tick_received(
    ctx: Ctx, doc: dict, wanted: list[int], warehouse_id: int, reported: dict[int, Reported]
) -> list[dict]:
    """Take what is left of each line, less its short (held in transit for the shipper), each by
    an UPDATE conditional on the quantities read, so that a line's units post once."""
    lines = {li["id"]: li for li in (await life.lines_of(SHIPMENT, [doc["id"]]))[doc["id"]]}
    if any(i not in lines for i in wanted):
        raise NotFound("明细")
    unshipped = [lines[i]["goods_code"] for i in wanted if lines[i]["confirmed_at"] is None]
    if unshipped:
        raise Conflict(f"明细尚未出库，不能收货：{'、'.join(unshipped)}", code="invalid_state")
    lt, stamp, out = ShipmentLine, now(), []
    for i in sorted(set(wanted)):
        li, got = lines[i], reported.get(i, Reported())
        left = left_to_receive(li)
        if left <= 0:
            if li["held_qty"]:
                raise Conflict(f"明细有短少差异待发货方处理，暂不能收货：{li['goods_code']}", code="invalid_state")
            raise Conflict(f"明细已收货，不能重复收货：{li['goods_code']}", code="already_received")
        if got.short + got.damaged > left:
            raise BusinessError(
                f"{li['goods_code']} 短少与破损数量之和不能超过待收数量 {left}",
                code="invalid_field",
                field="discrepancies",
            )
        received, held = li["received_qty"] + left - got.short, li["held_qty"] + got.short
        claimed = (
            await lt.update(
                {
                    lt.received_qty: received,
                    lt.held_qty: held,
                    lt.received_at: stamp if received + li["lost_qty"] == li["qty"] else None,
                    lt.received_by: ctx.user_id,
                    lt.received_by_name: ctx.user_name,
                    lt.received_warehouse_id: warehouse_id,
                }
            )
            .where(
                (lt.id == i)
                & (lt.received_qty == li["received_qty"])
                & (lt.held_qty == li["held_qty"])
                & (lt.lost_qty == li["lost_qty"])
            )
            .returning(lt.id)
        )
        if not claimed:
            raise Conflict(f"明细已收货，不能重复收货：{li['goods_code']}", code="already_received")
        out.append(li | {"left": left})
    return out


async def _record(
    ctx: Ctx, doc: dict, lines: list[dict], reported: dict[int, Reported], damaged_into: int | None
) -> None:
    """The receipt's discrepancies as open rows for the shipper 【收货差异】."""
    stamp = now()
    rows = [
        ShipmentDiscrepancy(
            tenant_id=ctx.tenant_id,
            shipment=doc["id"],
            line=li["id"],
            org_id=doc["org_id"],
            org_path=doc["org_path"],
            to_org_id=doc["to_org_id"],
            to_org_path=doc["to_org_path"],
            kind=k,
            qty=q,
            reason=r,
            warehouse_id=damaged_into if k == DiscrepancyKind.DAMAGED else None,
            status=DiscrepancyStatus.OPEN,
            recorded_by=ctx.user_id,
            recorded_by_name=ctx.user_name,
            recorded_at=stamp,
        )
        for li in lines
        for k, q, r in reported.get(li["id"], Reported()).reasons
    ]
    if rows:
        await ShipmentDiscrepancy.insert(*rows)


# --- device shipments (issue 20) ------------------------------------------------------------------
# A carry-in point's 【送修】 and its centre's 【返还】 (work orders, a domain above) ship one
# customer device: the shipment leaves at once (已出库), carries no stock, and its receiver takes
# it whole (`receive`) or refuses it (`refuse`); either way work orders hear of it through
# `hooks.device_arrived`, in the same transaction, and move the order.

DEVICE_COLUMNS = ("work_order_id", "work_order_no", "serial_no", "goods_name", "accessories")


async def ship_device(ctx: Ctx, type_: str, to_org: dict, data: dict, device: dict) -> dict:
    """A device shipment from the caller's org to `to_org` ({"id", "path"}), in transit already:
    `data` its carrier and tracking number (both required), `device` the work order's
    {work_order_id, work_order_no, serial_no, goods_name, accessories}. Inside the caller's
    transaction (the order's move)."""
    kind = ShipmentType(type_)
    carrier = validate.text(data.get("carrier"), "物流公司", 100, required=True, field="carrier")
    tracking = validate.text(data.get("tracking_no"), "物流单号", 64, required=True, field="tracking_no")
    stamp = now()
    no = await next_number(ctx, SHIPMENT.prefix)
    row = Shipment(
        tenant_id=ctx.tenant_id,
        kind=SHIPMENT.name,
        no=no,
        type=kind.value,
        org_id=ctx.org_id,
        org_path=ctx.org_path,
        warehouse=None,
        to_org_id=to_org["id"],
        to_org_path=to_org["path"],
        carrier=carrier,
        tracking_no=tracking,
        remark=f"工单 {device['work_order_no']}",
        status=S.SHIPPED,
        created_by=ctx.user_id,
        created_by_name=ctx.user_name[:100],
        created_at=stamp,
        submitted_at=stamp,
        completed_at=stamp,
        updated_at=stamp,
    )
    await row.save()
    await ShipmentDevice.insert(
        ShipmentDevice(tenant_id=ctx.tenant_id, shipment=row.id, **{c: device[c] for c in DEVICE_COLUMNS})
    )
    doc = {"id": row.id, "no": no, "org_path": ctx.org_path, "to_org_path": to_org["path"]}
    note = f"新的{kind.label}物流单 {no}（工单 {device['work_order_no']}）待收货"
    realtime.emit(ctx.tenant_id, to_org["path"], "shipments", "incoming", row.id, note=note)
    await life.transition(ctx, SHIPMENT, doc, "create", "created", f"{kind.label}发货 {no}", {"carrier": carrier})
    return {"id": row.id, "no": no}


async def _devices_of(ctx: Ctx, doc_ids: list[int]) -> dict[int, dict]:
    if not doc_ids:
        return {}
    rows = await ShipmentDevice.select().where(scoped(ctx, ShipmentDevice) & ShipmentDevice.shipment.is_in(doc_ids))
    return {r["shipment"]: {c: r[c] for c in DEVICE_COLUMNS} for r in rows}


async def _device_arrived(ctx: Ctx, doc: dict, refused: bool, reason: str = "") -> dict:
    """The receiver takes a device shipment whole, or refuses it; once (the claim on 已出库 lets
    one of two concurrent receipts through, the other is told it is done)."""
    status = S.REFUSED if refused else S.RECEIVED
    if not await life.claim(SHIPMENT, doc, (S.SHIPPED,), {Shipment.status: status, Shipment.received_at: now()}):
        raise Conflict(f"物流单 {doc['no']} 已收货或已拒收", code="already_received")
    device = (await _devices_of(ctx, [doc["id"]]))[doc["id"]]
    await hooks.device_arrived(ctx, doc | device, refused)
    tell_both(ctx, doc, "refused" if refused else "received")
    label = ShipmentType(doc["type"]).label
    summary = f"{'拒收' if refused else '确认收货'} {label} {doc['no']}（工单 {device['work_order_no']}）"
    await life.transition(ctx, SHIPMENT, doc, "refuse" if refused else "receive", status, summary, {"reason": reason})
    return await get(ctx, "shipment", doc["id"])


async def refuse(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    """【拒收】 a device shipment (its receiver, while in transit): the device is the sender's
    again, and nothing is billed."""
    reason = validate.text(data.get("reason"), "拒收原因", 200, required=True, field="reason")
    async with atomic():
        doc = await _row(ctx, doc_id)
        if doc["to_org_id"] != ctx.org_id:
            raise Forbidden("只有收货机构可以拒收", code="not_receiver")
        if not ShipmentType(doc["type"]).device:
            raise Conflict("只有送修和送修返还的物流单可以拒收", code="invalid_state")
        return await _device_arrived(ctx, doc, refused=True, reason=reason)


# --- in transit -----------------------------------------------------------------------------------


def _in_transit_where(ctx: Ctx, filters: InTransitFilters):
    lt, doc = ShipmentLine, ShipmentLine.doc
    seen = scoped(ctx, ShipmentLine, subtree=doc.org_path) | scoped(ctx, ShipmentLine, subtree=doc.to_org_path)
    where = seen & lt.confirmed_at.is_not_null() & lt.received_at.is_null()
    no = validate.text(filters.no, "单号", 24)
    if no:
        where &= contains(doc.no, no)
    if filters.type:
        where &= doc.type == validate.choice(filters.type, "类型", TYPES, "type")
    if filters.from_org_id:
        where &= doc.org_id == validate.ident(filters.from_org_id, "发货机构", "from_org_id")
    if filters.to_org_id:
        where &= doc.to_org_id == validate.ident(filters.to_org_id, "收货机构", "to_org_id")
    text = validate.text(filters.goods, "货品", 60)
    if text:
        where &= contains(lt.goods.code, text) | contains(lt.goods.name, text)
    return where


IN_TRANSIT_COLUMNS = (
    ShipmentLine.id,
    ShipmentLine.qty,
    ShipmentLine.received_qty,
    ShipmentLine.lost_qty,
    ShipmentLine.price,
    ShipmentLine.confirmed_at,
    ShipmentLine.goods.as_alias("goods_id"),
    ShipmentLine.goods.code.as_alias("goods_code"),
    ShipmentLine.goods.name.as_alias("goods_name"),
    ShipmentLine.goods.unit.as_alias("unit"),
    ShipmentLine.doc.as_alias("shipment_id"),
    ShipmentLine.doc.no.as_alias("shipment_no"),
    ShipmentLine.doc.type.as_alias("type"),
    ShipmentLine.doc.org_id.as_alias("from_org_id"),
    ShipmentLine.doc.to_org_id.as_alias("to_org_id"),
)


async def in_transit(
    ctx: Ctx, filters: InTransitFilters = InTransitFilters(), *, params: PageParams = PageParams()
) -> Page:
    """【在途库存】: lines shipped and not received, to or from the caller's subtree, oldest first."""
    where = _in_transit_where(ctx, filters)
    page = await paginate(
        ShipmentLine.select(*IN_TRANSIT_COLUMNS).where(where).order_by(ShipmentLine.confirmed_at),
        ShipmentLine.count().where(where),
        params,
    )
    names = await orgs.names(ctx, {r["from_org_id"] for r in page.items} | {r["to_org_id"] for r in page.items})
    stamp = now()
    return page.with_items([_in_transit_dict(r, names, stamp) for r in page.items])


def _still_in_transit(row: dict) -> int:
    return row["qty"] - row["received_qty"] - row["lost_qty"]


def _in_transit_dict(row: dict, names: dict[int, str], stamp: datetime) -> dict:
    return {
        "line_id": row["id"],
        "shipment_id": row["shipment_id"],
        "shipment_no": row["shipment_no"],
        "type": row["type"],
        "type_name": TYPES.get(row["type"], row["type"]),
        "from_org_id": row["from_org_id"],
        "from_org_name": names.get(row["from_org_id"], ""),
        "to_org_id": row["to_org_id"],
        "to_org_name": names.get(row["to_org_id"], ""),
        "goods_id": row["goods_id"],
        "goods_code": row["goods_code"],
        "goods_name": row["goods_name"],
        "unit": row["unit"],
        "qty": _still_in_transit(row),
        "amount": money.fmt(row["price"] * _still_in_transit(row)),
        "shipped_at": row["confirmed_at"],
        "age_days": (stamp - row["confirmed_at"]).days,
    }


@hooks.provides_in_transit
async def in_transit_qty(ctx: Ctx, org_ids: Any, goods_ids: Any) -> dict[tuple[int, int], int]:
    """In transit to receiving orgs of the caller's subtree, by (org, goods), summed by the
    database (one row per pair, however many lines): the stock query's 在途. `org_ids` and
    `goods_ids` narrow it (ids or a sub-select; None: no narrowing).

    A page's own rows are few and read as they are; a whole scope's sums (every page of the stock
    query reads them) are kept as the list's count is, a few seconds, dropped on writes: the
    caller's whole subtree under its own key (the query is not even built to look them up), a
    narrowed one under its SQL."""
    if (isinstance(org_ids, list | tuple) and not org_ids) or (isinstance(goods_ids, list | tuple) and not goods_ids):
        return {}
    if org_ids is None and goods_ids is None:
        key = ("in_transit", ctx.tenant_id, "" if ctx.sees_everything else ctx.org_path)
        tables = (ShipmentLine._meta.tablename, Shipment._meta.tablename)
        rows = await remembered(key, tables, lambda: _in_transit_sums(ctx, None, None))
    elif isinstance(org_ids, list | tuple) and isinstance(goods_ids, list | tuple):
        rows = await _in_transit_sums(ctx, org_ids, goods_ids)
    else:
        rows = await cached_read(_in_transit_sums(ctx, org_ids, goods_ids))
    return {(r["org_id"], r["goods_id"]): int(r["qty"] or 0) for r in rows}


def _in_transit_sums(ctx: Ctx, org_ids: Any, goods_ids: Any):
    lt = ShipmentLine
    where = scoped(ctx, lt, subtree=lt.doc.to_org_path) & lt.confirmed_at.is_not_null() & lt.received_at.is_null()
    if org_ids is not None:
        where &= lt.doc.to_org_id.is_in(list(org_ids) if isinstance(org_ids, tuple) else org_ids)
    if goods_ids is not None:
        where &= lt.goods.is_in(list(goods_ids) if isinstance(goods_ids, tuple) else goods_ids)
    left = QueryString('"lg_shipment_line"."qty" - "lg_shipment_line"."received_qty" - "lg_shipment_line"."lost_qty"')
    return (
        lt.select(lt.doc.to_org_id.as_alias("org_id"), lt.goods.as_alias("goods_id"), Sum(left, alias="qty"))
        .where(where)
        .group_by(lt.doc.to_org_id, lt.goods)
    )


async def transit_figures(ctx: Ctx) -> dict:
    """【看板】: `lines` in transit to or from the caller's subtree (the 【在途库存】 list's total),
    the `shipments` they belong to, and `to_receive`: shipments to the subtree with something
    left to receive (【物流收货】 in the states 部分出库, 已出库, 部分收货). Counted by the database."""
    where = _in_transit_where(ctx, InTransitFilters())
    lines = await ShipmentLine.count().where(where)
    shipments = await Shipment.count().where(Shipment.id.is_in(ShipmentLine.select(ShipmentLine.doc).where(where)))
    to_receive = await Shipment.count().where(_incoming(ctx) & Shipment.status.is_in(list(RECEIVABLE)))
    return {"lines": lines, "shipments": shipments, "to_receive": to_receive}
