"""API shapes of the queue (hand-written msgspec Structs)."""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET, Struct, UnsetType

from server.core.api import Filters

# --- list filters (the API's query, the page's query and the service's argument) ----------------


class ServiceFilters(Filters):
    org_id: str = ""  # default: the caller's org (a device: its own)
    enabled: bool = False  # only the enabled ones (the kiosk's buttons)


class CounterFilters(Filters):
    org_id: str = ""


class DeviceFilters(Filters):
    org_id: str = ""
    kind: str = ""


class TicketFilters(Filters):
    org_id: str = ""
    status: str = ""
    service_id: str = ""
    counter_id: str = ""
    date: str = ""  # one day, YYYY-MM-DD


class AppointmentFilters(Filters):
    org_id: str = ""
    date: str = ""  # one day, YYYY-MM-DD (default today)
    status: str = ""
    service_id: str = ""
    q: str = ""  # a code, part of a phone or a name


class StatsFilters(Filters):
    """`date` is one day, as the ticket list's filter; `date_from`/`date_to` a period (default:
    today)."""

    org_id: str = ""
    date: str = ""
    date_from: str = ""
    date_to: str = ""
    service_id: str = ""
    counter_id: str = ""

    @property
    def period(self) -> tuple[str, str]:
        return self.date_from or self.date, self.date_to or self.date


# --- bodies and answers --------------------------------------------------------------------------


class ServiceIn(Struct):
    name: str
    prefix: str
    org_id: int | None = None  # default: the caller's org
    enabled: bool = True
    sort_order: int = 0


class ServicePatch(Struct):
    name: str | UnsetType = UNSET
    prefix: str | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    sort_order: int | UnsetType = UNSET


class ServiceOut(Struct):
    id: int
    org_id: int
    name: str
    prefix: str
    enabled: bool
    sort_order: int


class CounterServiceOut(Struct):
    id: int
    name: str
    prefix: str
    enabled: bool


class CounterIn(Struct):
    number: int
    name: str = ""
    org_id: int | None = None
    enabled: bool = True
    service_ids: list[int] = []


class CounterPatch(Struct):
    number: int | UnsetType = UNSET
    name: str | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    service_ids: list[int] | UnsetType = UNSET


class CounterOut(Struct):
    id: int
    org_id: int
    number: int
    name: str
    label: str
    enabled: bool
    service_ids: list[int]
    services: list[CounterServiceOut]


class DeviceIn(Struct):
    kind: str  # kiosk | tv
    name: str
    org_id: int | None = None


class DevicePatch(Struct):
    name: str


class DeviceOut(Struct):
    id: int
    org_id: int
    org_name: str
    kind: str
    kind_name: str
    name: str
    active: bool
    revoked_at: datetime | None
    last_seen_at: datetime | None
    created_by_name: str
    created_at: datetime


class DeviceTokenOut(DeviceOut):
    token: str  # shown only in this answer
    url: str


class TicketIn(Struct):
    service_id: int
    phone: str = ""
    org_id: int | None = None
    priority: str = ""  # staff only: elderly | vip (the priority lane)


class PriorityIn(Struct):
    priority: str  # elderly | vip | "" (back to its own lane)


class RatingIn(Struct):
    rating: int  # 1–5


class TicketOut(Struct):
    id: int
    org_id: int
    no: str
    day: str
    seq: int
    service_id: int
    service_name: str
    status: str
    status_name: str
    phone: str
    counter_id: int | None
    counter_number: int | None
    counter_name: str
    ahead: int
    calls: int
    taken_by_name: str
    taken_at: datetime
    called_at: datetime | None
    last_called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    priority: str
    priority_name: str
    appointment_id: int | None
    rating: int | None


class StatsTotalsOut(Struct):
    tickets: int
    served: int
    no_shows: int
    waiting: int
    avg_wait_seconds: int | None
    p90_wait_seconds: int | None
    avg_service_seconds: int | None
    p90_service_seconds: int | None
    ratings: int
    avg_rating: float | None


class StatsRowOut(StatsTotalsOut):
    day: str
    service_id: int
    service_name: str
    counter_id: int | None
    counter_number: int | None
    counter_name: str


class StatsOut(Struct):
    org_id: int
    org_name: str
    date_from: str
    date_to: str
    items: list[StatsRowOut]
    totals: StatsTotalsOut


# --- appointments and online booking -----------------------------------------------------------


class AppointmentOut(Struct):
    id: int
    org_id: int
    service_id: int
    service_name: str
    day: str
    slot: str
    code: str
    name: str
    phone: str
    status: str
    status_name: str
    ticket_id: int | None
    cancel_reason: str
    cancelled_by_name: str
    created_at: datetime
    checked_in_at: datetime | None
    cancelled_at: datetime | None


class CancelIn(Struct):
    reason: str = ""


class CheckInIn(Struct):
    code: str  # the 6-digit appointment code, or the phone number it was booked with
    org_id: int | None = None  # staff: default their own org; a kiosk: its own


class BookingIn(Struct):
    enabled: bool | UnsetType = UNSET
    open_at: str | UnsetType = UNSET
    close_at: str | UnsetType = UNSET
    slot_minutes: int | UnsetType = UNSET
    capacity: int | UnsetType = UNSET
    days_ahead: int | UnsetType = UNSET


class BookingOut(Struct):
    org_id: int
    org_name: str
    enabled: bool
    open_at: str
    close_at: str
    slot_minutes: int
    capacity: int
    days_ahead: int
    url: str  # the public booking page ("" until the settings are first saved)


class PublicOrgOut(Struct):
    id: int
    name: str
    address: str
    phone: str


class PublicServiceOut(Struct):
    id: int
    name: str


class PublicSlotOut(Struct):
    slot: str
    end: str
    remaining: int


class PublicDayOut(Struct):
    day: str
    label: str  # 今天 / 明天 / 后天 / 周一…
    slots: list[PublicSlotOut]


class CalendarOut(Struct):
    org: PublicOrgOut
    services: list[PublicServiceOut]
    days: list[PublicDayOut]


class BookIn(Struct):
    service_id: int
    day: str
    slot: str
    phone: str
    name: str = ""


class BookedOut(Struct):
    """What the customer keeps: the code they type at the kiosk."""

    code: str
    day: str
    slot: str
    end: str
    service_name: str
    org_name: str
    phone: str  # masked
    status: str  # booked | cancelled (the customer's own cancel answers it too)
    status_name: str


class BookingCancelIn(Struct):
    """The customer's own cancel: the code they were given and the booking phone's last 4 digits."""

    code: str
    phone_last4: str
