"""Tables of inventory (SPEC 4). Quantities are whole units; money is integer ten-thousandths.

Goods and warehouses are referenced by foreign key to master data so that stock lists join
their names and category in one query; inventory never writes those tables. A stock row carries a
copy of its goods' safety stock (`Stock.safety_stock`) that the database's triggers keep (migration
2026-12-12T09:00:01): the rows below it are found by an index of the row alone, with no join.
"""

from piccolo.columns import BigInt, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from server.masterdata.tables import Goods, Supplier, Warehouse


class Stock(Table, tablename="inv_stock"):
    """On-hand quantity of one goods in one org warehouse; changed only by `stock.post_moves`."""

    tenant_id = Integer(index=True)
    org_id = Integer()
    warehouse = ForeignKey(Warehouse, on_delete=OnDelete.restrict)
    goods = ForeignKey(Goods, on_delete=OnDelete.restrict, index=True)
    qty = Integer(default=0)
    # the goods' safety stock, copied by the database on insert and on every change of the goods'
    # value (whatever is written here is replaced): never written by the app
    safety_stock = Integer(default=0)
    updated_at = Timestamptz()


class StockMove(Table, tablename="inv_stock_move"):
    """One change of one stock row: the ledger whose sum is the on-hand quantity."""

    tenant_id = Integer()
    stock = ForeignKey(Stock, on_delete=OnDelete.restrict)
    org_id = Integer()
    warehouse_id = Integer()
    goods_id = Integer()
    delta = Integer()
    qty_after = Integer()
    doc_type = Varchar(length=20)
    doc_id = BigInt()
    doc_no = Varchar(length=24)
    line_id = BigInt(null=True, default=None)
    user_id = Integer(null=True, default=None)
    user_name = Varchar(length=100, default="")
    created_at = Timestamptz()


class GoodsCost(Table, tablename="inv_goods_cost"):
    """Stock value and moving average cost of a goods in an org, with the org-wide quantity.
    `value` (ten-thousandths) is exact, the sum of what moves added and took; `avg_cost` is
    value / qty rounded ROUND_HALF_UP to 0.0001, kept for display (see stock._average)."""

    tenant_id = Integer()
    org_id = Integer()
    goods_id = Integer()
    qty = Integer(default=0)
    value = BigInt(default=0)
    avg_cost = BigInt(default=0)
    updated_at = Timestamptz()


class StockDoc(Table, tablename="inv_doc"):
    """A stock document (inbound, outbound; later the logistics ones) and its life cycle."""

    tenant_id = Integer(index=True)
    kind = Varchar(length=16)  # inbound | outbound
    no = Varchar(length=24)
    type = Varchar(length=32)  # dictionary code (inbound_type / outbound_type)
    org_id = Integer()
    org_path = Varchar(length=400)  # the document's org: readers see their own subtree
    warehouse = ForeignKey(Warehouse, on_delete=OnDelete.restrict)
    supplier = ForeignKey(Supplier, null=True, on_delete=OnDelete.restrict)
    remark = Varchar(length=500, default="")
    status = Varchar(length=12, default="draft")  # draft submitted partial completed deleted
    created_by = Integer(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class StockDocLine(Table, tablename="inv_doc_line"):
    """A line of a stock document; `confirmed_at` is set once, by the confirmation that posts it."""

    tenant_id = Integer()
    doc = ForeignKey(StockDoc, on_delete=OnDelete.restrict, index=True)
    goods = ForeignKey(Goods, on_delete=OnDelete.restrict)
    qty = Integer()
    price = BigInt(default=0)  # inbound: cost price; outbound: unit price
    confirmed_at = Timestamptz(null=True, default=None)
    confirmed_by = Integer(null=True, default=None)
    confirmed_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
