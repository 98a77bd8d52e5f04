"""Tables of logistics: orders (lg_order*) and shipments (lg_shipment*). Quantities are whole
units; money is integer ten-thousandths (server.core.money)."""

from piccolo.columns import BigInt, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from server.masterdata.tables import Goods, Warehouse

# --- orders 【订货申请】/【订单审核】 ----------------------------------------------------------------


class Order(Table, tablename="lg_order"):
    """An order a branch (`org_id`) places with its parent (`parent_org_id`) 【订货申请】; the
    parent reviews it 【订单审核】 and ships it. Submitting freezes `total` on the branch's credit
    (`freeze_id`); shipping turns the shipped value into usage, closing releases the rest."""

    tenant_id = Integer(index=True)
    kind = Varchar(length=16, default="order")  # the shared document life cycle's kind
    no = Varchar(length=24)
    org_id = Integer()
    org_path = Varchar(length=400)  # the applying org: it and its ancestors see the order
    parent_org_id = Integer()
    status = Varchar(length=20, default="draft")  # server.logistics.states.OrderStatus
    remark = Varchar(length=500, default="")
    total = BigInt(default=0)  # fixed at submit
    freeze_id = BigInt(null=True, default=None)
    reason = Varchar(length=200, default="")  # why it was rejected
    created_by = Integer(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    submitted_by = Integer(null=True, default=None)
    submitted_by_name = Varchar(length=100, default="")
    submitted_at = Timestamptz(null=True, default=None)
    reviewed_by = Integer(null=True, default=None)
    reviewed_by_name = Varchar(length=100, default="")
    reviewed_at = Timestamptz(null=True, default=None)
    closed_by = Integer(null=True, default=None)
    closed_by_name = Varchar(length=100, default="")
    closed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class OrderLine(Table, tablename="lg_order_line"):
    """A line of an order: `price` is the branch's order price (fixed at submit); shipments move
    `shipped_qty` (≤ qty) and `received_qty` (≤ shipped_qty), each by conditional UPDATE."""

    tenant_id = Integer()
    doc = ForeignKey(Order, on_delete=OnDelete.restrict, index=True)
    goods = ForeignKey(Goods, on_delete=OnDelete.restrict)
    qty = Integer()
    price = BigInt(default=0)
    shipped_qty = Integer(default=0)
    received_qty = Integer(default=0)
    created_at = Timestamptz()


# --- shipments 【物流发货】/【物流收货】 -------------------------------------------------------------


class Shipment(Table, tablename="lg_shipment"):
    """A shipment between an org and its parent or child, on the shared document life cycle,
    then received by `to_org`. Readers see it from the shipper's subtree (`org_path`) and, once
    something left, from the receiver's (`to_org_path`). `order_id` names an order of the
    orders tables (a plain integer: the two halves of logistics are migrated apart)."""

    tenant_id = Integer(index=True)
    kind = Varchar(length=16, default="shipment")
    no = Varchar(length=24)
    type = Varchar(length=20)  # ShipmentType
    org_id = Integer()
    org_path = Varchar(length=400)
    warehouse = ForeignKey(Warehouse, on_delete=OnDelete.restrict)
    to_org_id = Integer(index=True)
    to_org_path = Varchar(length=400)
    order_id = Integer(null=True, default=None, index=True)
    carrier = Varchar(length=100, default="")
    tracking_no = Varchar(length=64, default="")
    remark = Varchar(length=500, default="")
    status = Varchar(length=16, default="draft")  # ShipmentStatus
    created_by = Integer(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)  # every line shipped
    received_at = Timestamptz(null=True, default=None)  # every line received
    updated_at = Timestamptz()


class ShipmentLine(Table, tablename="lg_shipment_line"):
    """A line: confirmed out once (`confirmed_at`: it is in transit), then received, possibly in
    steps: `received_qty` units entered the receiver's stock, `lost_qty` were written off as lost,
    `held_qty` are an open short (still in transit, waiting for the shipper). In transit is
    `qty − received_qty − lost_qty`; `received_at` is set once nothing is left in transit.
    `price` is the child's order price (the value of a return's refund; the cost the units
    enter the receiver's stock at)."""

    tenant_id = Integer()
    doc = ForeignKey(Shipment, on_delete=OnDelete.restrict, index=True)
    goods = ForeignKey(Goods, on_delete=OnDelete.restrict)
    qty = Integer()
    price = BigInt(default=0)
    order_line_id = Integer(null=True, default=None, index=True)
    confirmed_at = Timestamptz(null=True, default=None)
    confirmed_by = Integer(null=True, default=None)
    confirmed_by_name = Varchar(length=100, default="")
    received_at = Timestamptz(null=True, default=None)
    received_by = Integer(null=True, default=None)
    received_by_name = Varchar(length=100, default="")
    received_warehouse_id = Integer(null=True, default=None)
    received_qty = Integer(default=0)
    held_qty = Integer(default=0)
    lost_qty = Integer(default=0)
    created_at = Timestamptz()


class ShipmentDiscrepancy(Table, tablename="lg_shipment_discrepancy"):
    """A receipt's discrepancy on a line 【收货差异】 (`kind`: short, over, damaged), recorded by
    the receiver and resolved by the shipper. The shipment's org paths are copied so that both
    sides' subtrees read it. A short resolved `lost` is the loss record (who approved it: the
    resolver); a damaged one names the 坏品库 its units went into (`warehouse_id`)."""

    tenant_id = Integer(index=True)
    shipment = ForeignKey(Shipment, on_delete=OnDelete.restrict, index=True)
    line = ForeignKey(ShipmentLine, on_delete=OnDelete.restrict, index=True)
    org_id = Integer()
    org_path = Varchar(length=400)
    to_org_id = Integer()
    to_org_path = Varchar(length=400)
    kind = Varchar(length=16)  # DiscrepancyKind
    qty = Integer()
    reason = Varchar(length=200, default="")
    warehouse_id = Integer(null=True, default=None)
    status = Varchar(length=16, default="open")  # DiscrepancyStatus
    resolution = Varchar(length=16, default="")  # Resolution
    remark = Varchar(length=200, default="")
    recorded_by = Integer(null=True, default=None)
    recorded_by_name = Varchar(length=100, default="")
    recorded_at = Timestamptz()
    resolved_by = Integer(null=True, default=None)
    resolved_by_name = Varchar(length=100, default="")
    resolved_at = Timestamptz(null=True, default=None)


class ShipmentDevice(Table, tablename="lg_shipment_device"):
    """The one customer device a 送修 / 送修返还 shipment carries (issue 20): the work order it
    belongs to (a plain integer: work orders sit above logistics) and what the parcel holds.
    One row per shipment (unique), so a device shipment carries exactly one order."""

    tenant_id = Integer()
    shipment = ForeignKey(Shipment, on_delete=OnDelete.restrict, unique=True)
    work_order_id = Integer(index=True)
    work_order_no = Varchar(length=24)
    serial_no = Varchar(length=64, default="")
    goods_name = Varchar(length=200, default="")
    accessories = Varchar(length=500, default="")
