"""API shapes of quotes. Money is text with 4 decimals; `valid_until` a date (YYYY-MM-DD)."""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET, Struct, UnsetType


class QuoteIn(Struct):
    """`valid_until` absent: 7 days from today. `replace_approved`: supersede an approved quote
    (without it, a new quote over an approved one is refused with 409 `quote_approved`)."""

    valid_until: str | None | UnsetType = UNSET
    replace_approved: bool = False


class ApproveIn(Struct):
    """`signature`: `data:image/png;base64,…` (a PNG of at most 512 KB) or an SVG text of strokes."""

    signature: str


class DeclineIn(Struct):
    reason: str = ""


class QuoteLineOut(Struct):
    repair_code: str
    goods_name: str
    qty: int
    labor_fee: str
    price: str
    amount: str  # labour fee + price × qty


class QuoteOut(Struct):
    id: int
    work_order_id: int
    work_order_no: str
    status: str  # pending | approved | declined | expired | superseded
    status_label: str
    valid_until: str
    labor: str
    parts: str
    total: str
    lines: list[QuoteLineOut]
    created_by_name: str
    created_at: datetime
    decided_by_name: str  # the staff who presented the iPad
    decided_at: datetime | None
    decline_reason: str
    signature_url: str | None  # GET it (same tenant, may read the order) for the image
    signature_type: str | None  # image/png | image/svg+xml
