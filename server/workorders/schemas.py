"""API shapes of work orders (hand-written msgspec Structs)."""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET, Struct, UnsetType

from server.core.api import Filters


class WorkOrderFilters(Filters):
    """The 【工单处理】 list: `q` is a customer's name or phone; `mine` the caller's own
    assignments; `sla` a colour; `sort` newest (default) or urgency; `repaired_from`/`repaired_to`
    the days of 维修完毕 (【看板】's completions link here)."""

    no: str = ""
    q: str = ""
    phone: str = ""
    serial_no: str = ""
    status: str = ""
    repair_result: str = ""
    technician_id: str = ""
    service_type: str = ""
    org_id: str = ""
    intake_org_id: str = ""
    repair_org_id: str = ""
    date_from: str = ""
    date_to: str = ""
    repaired_from: str = ""
    repaired_to: str = ""
    sla: str = ""
    mine: bool = False
    away: bool = False  # devices sent to a repair centre and not back yet (【看板】's 送修在外)
    sort: str = ""


# --- customers -------------------------------------------------------------------------------------


class CustomerIn(Struct):
    name: str
    phone: str
    email: str = ""
    address: str = ""
    customer_type: str = ""
    no_notify: bool | UnsetType = UNSET


class CustomerPatch(Struct):
    name: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    address: str | UnsetType = UNSET
    customer_type: str | UnsetType = UNSET
    no_notify: bool | UnsetType = UNSET


class CustomerOut(Struct):
    id: int
    name: str
    phone: str
    email: str
    address: str
    customer_type: str
    no_notify: bool
    updated_at: datetime


# --- work orders -----------------------------------------------------------------------------------


class IssuedLineIn(Struct):
    warehouse_id: int
    goods_id: int
    qty: int = 1


class WorkOrderIn(Struct, kw_only=True):
    """Intake: the customer by id, or its fields (found again by phone); the product as an
    intake goods or a category."""

    customer_id: int | None = None
    customer: CustomerIn | None = None
    goods_id: int | None = None
    category_id: int | None = None
    serial_no: str = ""
    barcode: str = ""
    service_type: str = ""
    customer_type: str = ""
    test_result: str = ""
    fault_description: str = ""
    appearance: str = ""
    accessories: str = ""
    promised_at: datetime | None = None
    technician_id: int | None = None
    remark: str = ""  # internal, never shown to the customer
    issued_lines: list[IssuedLineIn] = []
    queue_ticket_id: int | None = None


class WorkOrderPatch(Struct, kw_only=True):
    """Intake data until repaired; the product until repair starts."""

    customer: CustomerIn | UnsetType = UNSET
    goods_id: int | None | UnsetType = UNSET
    category_id: int | None | UnsetType = UNSET
    serial_no: str | UnsetType = UNSET
    barcode: str | UnsetType = UNSET
    service_type: str | UnsetType = UNSET
    customer_type: str | UnsetType = UNSET
    test_result: str | UnsetType = UNSET
    fault_description: str | UnsetType = UNSET
    appearance: str | UnsetType = UNSET
    accessories: str | UnsetType = UNSET
    promised_at: datetime | None | UnsetType = UNSET
    technician_id: int | None | UnsetType = UNSET
    remark: str | UnsetType = UNSET
    issued_lines: list[IssuedLineIn] | UnsetType = UNSET  # replaces the issued goods as a set


class AssignIn(Struct):
    technician_id: int | None = None  # null: 取消派工


class StartRepairIn(Struct):
    final_service_type: str
    fault_reason_ids: list[int] = []
    defective_warehouse_id: int | None = None


class LineIn(Struct):
    repair_code_id: int
    warehouse_id: int | None = None
    goods_id: int | None = None
    qty: int = 1


class LinePatch(Struct):
    qty: int


class CompleteIn(Struct):
    repair_result: str


class CloseIn(Struct):
    closing_method: str
    carrier: str = ""
    tracking_no: str = ""
    amount_received: str = "0"
    payment_method: str = ""
    remark: str = ""


class CancelIn(Struct):
    reason: str


class ShipDeviceIn(Struct):
    """【送修】 / 【返还】: the device shipment's carrier and tracking number (both required)."""

    carrier: str
    tracking_no: str


class ChargesOut(Struct):
    labor: str
    parts: str
    total: str


class LineOut(Struct):
    id: int
    kind: str  # repair | issued
    repair_code_id: int | None
    repair_code: str
    warehouse_id: int | None
    warehouse_name: str
    goods_id: int | None
    goods_name: str
    qty: int
    labor_fee: str
    price: str


class WorkOrderOut(Struct):
    id: int
    no: str
    org_id: int
    intake_org_id: int
    intake_org_name: str
    repair_org_id: int
    repair_org_name: str
    status: str
    status_label: str
    status_at: datetime
    status_url: str  # the customer's status page (absolute; the QR code on the receipts)
    sla: str
    customer_id: int
    customer: CustomerOut
    goods_id: int | None
    goods_name: str
    category_id: int
    serial_no: str
    barcode: str
    service_type: str
    customer_type: str
    test_result: str
    fault_description: str
    appearance: str
    accessories: str
    promised_at: datetime | None
    technician_id: int | None
    technician_name: str
    remark: str
    queue_ticket_id: int | None
    final_service_type: str
    fault_reason_ids: list[int]
    defective_warehouse_id: int | None
    repair_result: str
    charges: ChargesOut
    closing_method: str
    carrier: str
    tracking_no: str
    amount_received: str
    payment_method: str
    closing_remark: str
    cancel_reason: str
    created_by_name: str
    created_at: datetime
    repaired_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime
    sent_at: datetime | None  # when it left the carry-in point for its repair centre
    carry_charge: str  # what the centre billed the carry-in point's credit (on the return's receipt)
    rating: int | None  # the customer's 1–5 once closed (status page)
    rated_at: datetime | None
    can_act: bool  # the caller's org holds the device (a sent order is read-only elsewhere)
    lines: list[LineOut]


class StatusChangeOut(Struct):
    from_status: str
    to_status: str
    to_label: str
    user_id: int | None
    user_name: str
    at: datetime
    minutes: int | None  # how long the order stayed in `to_status` (still running: until now)
    kind: str = "status"  # status | gsx (another domain's event: to_status empty, `note` says it)
    note: str = ""


class DeviceOut(Struct):
    serial_no: str
    repeat_days: int
    last_closed_at: datetime | None
    repeat_repair: bool
    items: list[WorkOrderOut]


class SlaLimit(Struct):
    green: int
    yellow: int


class SettingsOut(Struct):
    repeat_days: int
    sla: dict[str, SlaLimit]


class SettingsPatch(Struct):
    repeat_days: int | UnsetType = UNSET
    sla: dict[str, SlaLimit] | UnsetType = UNSET
