"""API shapes of logistics (hand-written msgspec Structs). Money is a string with 4 decimals."""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET, Struct, UnsetType

# --- orders ------------------------------------------------------------------------------------


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


# --- shipments ---------------------------------------------------------------------------------


class ShipmentLineIn(Struct):
    goods_id: int | UnsetType = UNSET  # an order line's goods when it names one
    qty: int | UnsetType = UNSET
    order_line_id: int | None | UnsetType = UNSET


class ShipmentLinePatch(Struct):
    goods_id: int | UnsetType = UNSET
    qty: int | UnsetType = UNSET


class ShipmentIn(Struct):
    type: str  # order distribution write_off defective_return good_return
    warehouse_id: int
    to_org_id: int | None = None  # a child for order/distribution; the parent (or none) otherwise
    order_id: int | None = None
    carrier: str = ""
    tracking_no: str = ""
    remark: str = ""
    lines: list[ShipmentLineIn] = []


class ShipmentPatch(Struct):
    warehouse_id: int | UnsetType = UNSET
    carrier: str | UnsetType = UNSET
    tracking_no: str | UnsetType = UNSET
    remark: str | UnsetType = UNSET


class ConfirmIn(Struct):
    line_ids: list[int] | UnsetType = UNSET  # none named: every line not yet shipped


class DiscrepancyIn(Struct):
    line_id: int
    kind: str  # short (fewer arrived) over (more arrived) damaged (arrived damaged: into the 坏品库)
    qty: int
    reason: str = ""


class ReceiveIn(Struct):
    """A device shipment (送修, 送修返还) is received whole: neither warehouse nor lines."""

    warehouse_id: int | None = None
    line_ids: list[int] = []
    discrepancies: list[DiscrepancyIn] | UnsetType = UNSET


class PhotoOut(Struct):
    id: int
    url: str  # GET it (same tenant, whoever reads the discrepancy): the image, its type sniffed
    filename: str
    content_type: str  # image/jpeg image/png image/gif image/webp, from the bytes
    size: int
    sha256: str
    width: int
    height: int
    created_by_name: str
    created_at: datetime


class DiscrepancyOut(Struct):
    id: int
    shipment_id: int
    shipment_no: str
    line_id: int
    goods_id: int
    goods_code: str
    goods_name: str
    unit: str
    org_id: int  # the shipper, who resolves it
    org_name: str
    to_org_id: int  # the receiver, who recorded it
    to_org_name: str
    kind: str
    kind_name: str
    qty: int
    reason: str
    warehouse_id: int | None  # the 坏品库 damaged units went into
    status: str  # open resolved
    status_name: str
    resolution: str | None  # found_resent lost (a short), acknowledged (an over or a damage)
    resolution_name: str
    remark: str
    recorded_by_name: str
    recorded_at: datetime
    resolved_by_name: str
    resolved_at: datetime | None
    photos: list[PhotoOut]  # the receiver's, oldest first


class ResolveIn(Struct):
    resolution: str  # found_resent lost acknowledged
    remark: str = ""


class ShipmentLineOut(Struct):
    id: int
    goods_id: int
    goods_code: str
    goods_name: str
    unit: str
    spec: str
    qty: int
    price: str
    amount: str
    order_line_id: int | None
    confirmed: bool
    confirmed_at: datetime | None
    confirmed_by_name: str
    received: bool
    received_at: datetime | None
    received_by_name: str
    received_warehouse_id: int | None
    received_qty: int
    held_qty: int  # an open short: in transit until the shipper resolves it
    lost_qty: int
    left_qty: int  # what a receipt of the line would take now
    in_transit: int  # qty − received_qty − lost_qty once confirmed
    discrepancies: list[DiscrepancyOut]


class ShipmentDeviceOut(Struct):
    work_order_id: int
    work_order_no: str
    serial_no: str
    goods_name: str
    accessories: str


class ShipmentOut(Struct):
    id: int
    no: str
    type: str
    type_name: str
    status: str
    status_name: str
    org_id: int
    org_name: str
    warehouse_id: int | None  # none on a device shipment
    warehouse_code: str
    warehouse_name: str
    to_org_id: int
    to_org_name: str
    order_id: int | None
    carrier: str
    tracking_no: str
    remark: str
    created_by_name: str
    created_at: datetime
    submitted_at: datetime | None
    completed_at: datetime | None
    received_at: datetime | None
    total_qty: int
    total_amount: str
    lines: list[ShipmentLineOut]
    device: ShipmentDeviceOut | None = None  # the work order's device a 送修 / 送修返还 carries


class RefuseIn(Struct):
    reason: str


class InTransitOut(Struct):
    line_id: int
    shipment_id: int
    shipment_no: str
    type: str
    type_name: str
    from_org_id: int
    from_org_name: str
    to_org_id: int
    to_org_name: str
    goods_id: int
    goods_code: str
    goods_name: str
    unit: str
    qty: int
    amount: str
    shipped_at: datetime
    age_days: int
