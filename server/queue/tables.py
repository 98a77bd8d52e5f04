"""Tables of the queue (SPEC 6): per org, services and counters; devices; tickets."""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, OnDelete, SmallInt, Timestamptz, Varchar
from piccolo.table import Table

from server.queue.states import AppointmentStatus, Lane, Priority, TicketStatus


class QueueService(Table, tablename="q_service"):
    """A 业务类型 of one org, with the letter its tickets start with (A 维修, B 取机…)."""

    tenant_id = Integer()
    org_id = Integer()
    name = Varchar(length=30)
    prefix = Varchar(length=1)
    enabled = Boolean(default=True)
    sort_order = SmallInt(default=0)
    deleted = Boolean(default=False)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class QueueCounter(Table, tablename="q_counter"):
    """A 窗口: its number is what the TV announces ("请 A012 号到 3 号窗口")."""

    tenant_id = Integer()
    org_id = Integer()
    number = SmallInt()
    name = Varchar(length=30, default="")
    enabled = Boolean(default=True)
    deleted = Boolean(default=False)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class QueueCounterService(Table, tablename="q_counter_service"):
    """Which services a counter calls."""

    tenant_id = Integer()
    counter = ForeignKey(QueueCounter, on_delete=OnDelete.cascade, index=True)
    service = ForeignKey(QueueService, on_delete=OnDelete.restrict)


class QueueDevice(Table, tablename="q_device"):
    """A kiosk (取号机) or TV (叫号屏) of one org; it acts with a token instead of a staff login.
    Only the token's hash is kept: the URL is shown once, and a new token replaces the old."""

    tenant_id = Integer()
    org_id = Integer()
    kind = Varchar(length=8)  # a DeviceKind
    name = Varchar(length=30)
    token_hash = Varchar(length=64, null=True, default=None, unique=True)
    revoked_at = Timestamptz(null=True, default=None)
    deleted = Boolean(default=False)
    last_seen_at = Timestamptz(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class QueueTicket(Table, tablename="q_ticket"):
    """A customer's place in the queue: waiting → called → serving → done, or called → no_show.
    `day` is the tenant-local date the number belongs to (numbers restart each day)."""

    tenant_id = Integer()
    org_id = Integer()
    service = ForeignKey(QueueService, on_delete=OnDelete.restrict)
    day = Date()
    seq = Integer()
    no = Varchar(length=8)
    phone = Varchar(length=20, default="")
    status = Varchar(length=8, default=TicketStatus.WAITING)
    counter = ForeignKey(QueueCounter, null=True, default=None, on_delete=OnDelete.restrict)
    ahead = Integer(default=0)  # people waiting before it when it was taken
    calls = SmallInt(default=0)  # 1 after the first call, +1 per 【重呼】
    device_id = Integer(null=True, default=None)
    taken_by_name = Varchar(length=100, default="")
    taken_at = Timestamptz()
    called_at = Timestamptz(null=True, default=None)  # the first call: the wait ends here
    last_called_at = Timestamptz(null=True, default=None)  # the latest call or 【重呼】: the TV's order
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    lane = SmallInt(default=Lane.WALK_IN)  # call-next's order within the service (a Lane)
    priority = Varchar(length=8, default=Priority.NONE)  # why it is in the priority lane
    appointment_id = Integer(null=True, default=None)  # the appointment it was checked in for
    rating = SmallInt(null=True, default=None)  # the customer's 1–5 after 【完成】, once
    rated_at = Timestamptz(null=True, default=None)


class QueueBooking(Table, tablename="q_booking"):
    """An org's online booking (网上预约): its public page's token (the link staff share), its
    hours cut into slots, and how many customers a slot takes (all services together)."""

    tenant_id = Integer()
    org_id = Integer(unique=True)
    enabled = Boolean(default=False)
    token = Varchar(length=32, unique=True)
    open_at = Varchar(length=5, default="09:00")
    close_at = Varchar(length=5, default="18:00")
    slot_minutes = SmallInt(default=30)
    capacity = SmallInt(default=3)
    days_ahead = SmallInt(default=7)
    updated_at = Timestamptz()


class QueueSlot(Table, tablename="q_slot"):
    """How many appointments a slot of a day holds: raised by one conditional UPDATE per booking
    (`booked < capacity`), so concurrent bookings never overfill it; lowered by a cancel."""

    tenant_id = Integer()
    org_id = Integer()
    day = Date()
    slot = Varchar(length=5)
    booked = Integer(default=0)


class QueueAppointment(Table, tablename="q_appointment"):
    """A customer's booking of a service at a slot of a day; `code` (6 digits, unique per org and
    day) is what they type at the kiosk to check in."""

    tenant_id = Integer()
    org_id = Integer()
    service = ForeignKey(QueueService, on_delete=OnDelete.restrict)
    day = Date()
    slot = Varchar(length=5)
    code = Varchar(length=6)
    name = Varchar(length=30, default="")
    phone = Varchar(length=20)
    status = Varchar(length=10, default=AppointmentStatus.BOOKED)
    ticket_id = Integer(null=True, default=None)
    cancel_reason = Varchar(length=100, default="")
    cancelled_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    checked_in_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
