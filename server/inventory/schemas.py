"""API shapes of inventory (hand-written msgspec Structs). Money is a string with 4 decimals;
an inbound line's price is its `cost_price`, an outbound line's its `unit_price`."""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET, Struct, UnsetType


class InboundLineIn(Struct):
    goods_id: int
    qty: int
    cost_price: str | UnsetType = UNSET


class OutboundLineIn(Struct):
    goods_id: int
    qty: int
    unit_price: str | UnsetType = UNSET  # empty: the org's price (price_for)


class InboundLinePatch(Struct):
    goods_id: int | UnsetType = UNSET
    qty: int | UnsetType = UNSET
    cost_price: str | UnsetType = UNSET


class OutboundLinePatch(Struct):
    goods_id: int | UnsetType = UNSET
    qty: int | UnsetType = UNSET
    unit_price: str | UnsetType = UNSET


class InboundIn(Struct):
    type: str
    warehouse_id: int
    supplier_id: int | None = None
    remark: str = ""
    lines: list[InboundLineIn] = []


class OutboundIn(Struct):
    type: str
    warehouse_id: int
    supplier_id: int | None = None
    remark: str = ""
    lines: list[OutboundLineIn] = []


class DocPatch(Struct):
    type: str | UnsetType = UNSET
    warehouse_id: int | UnsetType = UNSET
    supplier_id: int | None | UnsetType = UNSET
    remark: str | UnsetType = UNSET


class ConfirmIn(Struct):
    line_ids: list[int] | UnsetType = UNSET  # none named: every line not yet confirmed


class _LineOut(Struct):
    id: int
    goods_id: int
    goods_code: str
    goods_name: str
    unit: str
    spec: str
    qty: int
    price: str
    amount: str
    confirmed: bool
    confirmed_at: datetime | None
    confirmed_by_name: str


class InboundLineOut(_LineOut):
    cost_price: str


class OutboundLineOut(_LineOut):
    unit_price: str


class _DocOut(Struct):
    id: int
    kind: str
    no: str
    type: str
    type_name: str
    status: str
    status_name: str
    org_id: int
    org_name: str
    warehouse_id: int
    warehouse_code: str
    warehouse_name: str
    supplier_id: int | None
    supplier_name: str
    remark: str
    created_by: int | None
    created_by_name: str
    created_at: datetime
    submitted_at: datetime | None
    completed_at: datetime | None
    total_qty: int
    total_amount: str


class InboundOut(_DocOut):
    lines: list[InboundLineOut]


class OutboundOut(_DocOut):
    lines: list[OutboundLineOut]


class StockOut(Struct):
    id: int | None  # None: goods on their way to an org that holds none of them yet (qty 0, in_transit > 0)
    org_id: int
    org_name: str
    warehouse_id: int | None  # None with id
    warehouse_code: str
    warehouse_name: str
    goods_id: int
    goods_code: str
    goods_name: str
    unit: str
    category_id: int
    category_path: str
    qty: int
    in_transit: int  # on its way to the org (shipped, not received), for the org and goods
    safety_stock: int
    below_safety: bool
    avg_cost: str
    value: str
    updated_at: datetime | None  # None with id


class StockMoveOut(Struct):
    id: int
    stock_id: int
    org_id: int
    warehouse_id: int
    goods_id: int
    delta: int
    qty_after: int
    doc_type: str
    doc_id: int
    doc_no: str
    line_id: int | None
    user_id: int | None
    user_name: str
    created_at: datetime
