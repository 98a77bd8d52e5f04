"""API shapes of 【看板】 (hand-written msgspec Structs). A section the caller may not see is null."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct


class StatusCount(Struct):
    status: str
    label: str
    count: int


class OverdueOrder(Struct):
    id: int
    no: str
    org_id: int
    status: str
    status_label: str
    status_at: datetime
    minutes: int
    technician_name: str
    goods_name: str


class Overdue(Struct):
    count: int
    longest: list[OverdueOrder]


class TechnicianCount(Struct):
    technician_id: int | None
    technician_name: str
    count: int


class TrendDay(Struct):
    day: str
    intake: int
    completed: int


class QueueOrg(Struct):
    org_id: int
    org_name: str
    waiting: int
    avg_wait_seconds: int | None


class QueueFigures(Struct):
    waiting: int
    orgs: list[QueueOrg]


class BelowRow(Struct):
    stock_id: int
    org_id: int
    org_name: str
    warehouse_id: int
    warehouse_name: str
    goods_id: int
    goods_code: str
    goods_name: str
    qty: int
    safety_stock: int
    short: int


class BelowSafety(Struct):
    count: int
    worst: list[BelowRow]


class CreditAccount(Struct):
    org_id: int
    org_name: str
    limit: str
    available: str
    low: bool


class CreditFigures(Struct):
    low: int
    accounts: list[CreditAccount]


class InTransit(Struct):
    lines: int
    shipments: int
    to_receive: int


class AwayOrder(Struct):
    id: int
    no: str
    status: str
    status_label: str
    sent_at: datetime
    days: int  # whole days since it left the carry-in point


class OutForRepair(Struct):
    """Devices sent to a repair centre and not back yet (issue 20)."""

    count: int
    oldest_days: int | None
    longest: list[AwayOrder]  # oldest first


class BoardOut(Struct):
    """Every figure of the board for `org_id` and its subtree; `today` the tenant-local date."""

    org_id: int
    org_name: str
    generated_at: datetime
    today: str
    today_intake: int | None
    by_status: list[StatusCount] | None
    overdue: Overdue | None
    completed_by_technician: list[TechnicianCount] | None
    trend: list[TrendDay] | None
    out_for_repair: OutForRepair | None
    queue: QueueFigures | None
    below_safety: BelowSafety | None
    credit: CreditFigures | None
    in_transit: InTransit | None
