"""API shapes of logistics (hand-written msgspec Structs). Money is a string with 4 decimals."""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET, Struct, UnsetType


class OrderLineIn(Struct):
    goods_id: int
    qty: int


class OrderLinePatch(Struct):
    goods_id: int | UnsetType = UNSET
    qty: int | UnsetType = UNSET


class OrderIn(Struct):
    remark: str = ""
    lines: list[OrderLineIn] = []


class OrderPatch(Struct):
    remark: str | UnsetType = UNSET


class RejectIn(Struct):
    reason: str


class CreditOut(Struct):
    """The applicant's credit beside an order under review."""

    limit: str
    used: str
    balance: str
    frozen: str
    available: str


class OrderLineOut(Struct):
    id: int
    goods_id: int
    goods_code: str
    goods_name: str
    unit: str
    spec: str
    qty: int
    unit_price: str
    amount: str
    shipped_qty: int
    received_qty: int
    open_qty: int


class OrderOut(Struct):
    id: int
    no: str
    status: str
    status_name: str
    org_id: int
    org_name: str
    parent_org_id: int
    parent_org_name: str
    remark: str
    reason: str
    total_qty: int
    total_amount: str
    shipped_amount: str
    frozen: bool
    created_by: int | None
    created_by_name: str
    created_at: datetime
    submitted_by_name: str
    submitted_at: datetime | None
    reviewed_by_name: str
    reviewed_at: datetime | None
    closed_by_name: str
    closed_at: datetime | None
    credit: CreditOut | None
    lines: list[OrderLineOut]
