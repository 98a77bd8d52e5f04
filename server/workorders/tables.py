"""Tables of work orders (SPEC 5). Amounts are integer ten-thousandths (server.core.money);
dictionary fields hold the item's `code`."""

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, OnDelete, SmallInt, Timestamptz, Varchar
from piccolo.table import Table

from server.workorders.states import LineKind, WorkOrderStatus


class Customer(Table, tablename="wo_customer"):
    """A customer of the tenant, found again by phone at the next intake."""

    tenant_id = Integer()
    name = Varchar(length=50)
    phone = Varchar(length=20)
    address = Varchar(length=200, default="")
    customer_type = Varchar(length=32, default="")
    email = Varchar(length=100, default="")  # for email notices (server.notices)
    no_notify = Boolean(default=False)  # 不接收通知: no SMS or email about their orders
    created_at = Timestamptz()
    updated_at = Timestamptz()


class WorkOrder(Table, tablename="wo_order"):
    """One device brought in for repair. `status_at` is when the current status began (SLA);
    status changes only by conditional UPDATE on the status it leaves."""

    tenant_id = Integer()
    org_id = Integer()
    org_path = Varchar(length=400)
    intake_org_id = Integer(default=0)  # where the customer handed the device in (issue 20)
    repair_org_id = Integer(default=0)  # where it is repaired: the intake org, or its repair centre
    # a sent order: the path of the org of the two (carry-in point, centre) not holding the device;
    # it reads the order too, read-only ('' for an order never sent)
    peer_org_path = Varchar(length=400, default="")
    sent_at = Timestamptz(null=True, default=None)  # when it left for the centre (【看板】's age)
    carry_charge = BigInt(default=0)  # what the centre billed the carry-in point's credit
    no = Varchar(length=24)
    # the customer's status page is /s/{status_token}: random, unique, never the id (issue 21)
    status_token = Varchar(length=32, null=True, default=None)
    status = Varchar(length=12, default=WorkOrderStatus.ACCEPTED)
    status_at = Timestamptz()
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict)
    goods_id = Integer(null=True, default=None)
    category_id = Integer()
    serial_no = Varchar(length=64, default="")
    barcode = Varchar(length=64, default="")
    service_type = Varchar(length=32, default="")
    customer_type = Varchar(length=32, default="")
    test_result = Varchar(length=32, default="")
    fault_description = Varchar(length=1000, default="")
    appearance = Varchar(length=500, default="")
    accessories = Varchar(length=500, default="")
    promised_at = Timestamptz(null=True, default=None)
    technician_id = Integer(null=True, default=None)
    remark = Varchar(length=500, default="")
    queue_ticket_id = Integer(null=True, default=None)
    final_service_type = Varchar(length=32, default="")
    defective_warehouse_id = Integer(null=True, default=None)
    repair_result = Varchar(length=32, default="")
    labor = BigInt(default=0)
    parts = BigInt(default=0)
    total = BigInt(default=0)
    closing_method = Varchar(length=32, default="")
    carrier = Varchar(length=50, default="")
    tracking_no = Varchar(length=64, default="")
    amount_received = BigInt(default=0)
    payment_method = Varchar(length=32, default="")
    closing_remark = Varchar(length=500, default="")
    cancel_reason = Varchar(length=200, default="")
    created_by = Integer(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    repair_started_at = Timestamptz(null=True, default=None)
    repaired_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()
    rating = SmallInt(null=True, default=None)  # the customer's 1–5 once closed, from the status page
    rated_at = Timestamptz(null=True, default=None)


class WorkOrderFaultReason(Table, tablename="wo_order_fault_reason"):
    tenant_id = Integer()
    work_order = ForeignKey(WorkOrder, on_delete=OnDelete.cascade, index=True)
    fault_reason_id = Integer()


class WorkOrderLine(Table, tablename="wo_line"):
    """A repair line (repair code, and the part taken from a warehouse when the code uses
    material) or a goods issued at intake; both leave stock when the repair completes.
    `labor_fee` and `price` are fixed at completion."""

    tenant_id = Integer()
    work_order = ForeignKey(WorkOrder, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=8, default=LineKind.REPAIR)
    repair_code_id = Integer(null=True, default=None)
    warehouse_id = Integer(null=True, default=None)
    goods_id = Integer(null=True, default=None)
    qty = Integer(default=1)
    labor_fee = BigInt(default=0)
    price = BigInt(default=0)
    created_at = Timestamptz()


class WorkOrderStatusLog(Table, tablename="wo_status_log"):
    """The timeline: each status change, who made it and when."""

    tenant_id = Integer()
    work_order = ForeignKey(WorkOrder, on_delete=OnDelete.cascade, index=True)
    from_status = Varchar(length=12, default="")
    to_status = Varchar(length=12)
    user_id = Integer(null=True, default=None)
    user_name = Varchar(length=100, default="")
    at = Timestamptz()


class WorkOrderSettings(Table, tablename="wo_settings"):
    """Per tenant: the repeat-repair window and the SLA limits (minutes per status); absent
    means the defaults."""

    tenant_id = Integer(unique=True)
    repeat_days = Integer(default=30)
    sla = JSON(default="{}")  # {"accepted": {"green": 60, "yellow": 240}, …}
    updated_at = Timestamptz()


class WorkOrderStatusCount(Table, tablename="wo_status_count"):
    """How many orders each org of a tenant has in each status (【看板】's counts without reading
    the orders). Kept by the database's own triggers on `wo_order` (migration 2026-12-07T06:10),
    in the statement that inserts, deletes or changes the status or org of an order, so in its
    transaction: no service writes it, a bulk load keeps it too, and two concurrent transitions
    each add their ±1 to the row (an UPSERT / an UPDATE of n = n ± 1, never a read-then-write)."""

    tenant_id = Integer()
    org_id = Integer()
    status = Varchar(length=12)
    n = Integer(default=0)
