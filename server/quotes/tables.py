"""Tables of quotes: one row per quote of a work order, its lines a snapshot (what the customer
was shown and signed stays as it was, whatever the repair lines become)."""

from piccolo.columns import JSON, BigInt, Date, Integer, Timestamptz, Varchar
from piccolo.table import Table


class Quote(Table, tablename="qt_quote"):
    """`lines`: [{repair_code, goods_name, qty, labor_fee, price, amount}] with money as 4-decimal
    text; `labor`/`parts`/`total` in ten-thousandths. `signature_id` is the core upload holding
    the customer's signature (PNG or SVG); `decided_by_name` the staff who presented the iPad."""

    tenant_id = Integer(index=True)
    work_order_id = Integer(index=True)
    status = Varchar(length=12, default="pending")  # QuoteStatus (never "expired")
    valid_until = Date()
    labor = BigInt(default=0)
    parts = BigInt(default=0)
    total = BigInt(default=0)
    lines = JSON(default="[]")
    created_by = Integer(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    decided_by = Integer(null=True, default=None)
    decided_by_name = Varchar(length=100, default="")
    decided_at = Timestamptz(null=True, default=None)
    decline_reason = Varchar(length=200, default="")
    signature_id = Integer(null=True, default=None)
    superseded_at = Timestamptz(null=True, default=None)
