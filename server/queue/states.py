"""Named states of the queue, with the Chinese label each shows as. A StrEnum equals its value, so
the JSON answers, the table's column and the templates read the same strings as before."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from server.core.states import Labelled


class TicketStatus(StrEnum):
    """waiting → called → serving → done, and called → no_show (【过号】)."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return TICKET_LABELS[self]


TICKET_LABELS = {
    TicketStatus.WAITING: "等候中",
    TicketStatus.CALLED: "已叫号",
    TicketStatus.SERVING: "办理中",
    TicketStatus.DONE: "已完成",
    TicketStatus.NO_SHOW: "过号",
}
# at a counter: called to it or being served there (a counter with one cannot be deleted)
AT_COUNTER = (TicketStatus.CALLED, TicketStatus.SERVING)
# still in the queue today: a service with one cannot be deleted
QUEUED = (TicketStatus.WAITING, *AT_COUNTER)


class DeviceKind(StrEnum):
    """A device of an org: the kiosk customers take tickets at, the TV that shows and says the
    calls, and the wall board showing the org's 【看板】 (server.dashboard)."""

    KIOSK = "kiosk"
    TV = "tv"
    BOARD = "board"

    @property
    def label(self) -> str:
        return DEVICE_LABELS[self]


DEVICE_LABELS = {DeviceKind.KIOSK: "取号机", DeviceKind.TV: "叫号屏", DeviceKind.BOARD: "看板屏"}


class Priority(Labelled):
    """Why a ticket is in the priority lane (staff mark it): call-next serves these first."""

    NONE = "", "普通"
    ELDERLY = "elderly", "长者优先"
    VIP = "vip", "VIP"


class Lane(IntEnum):
    """The order call-next serves the waiting tickets of a service in: the priority lane, then
    customers who booked (an appointment checked in), then walk-ins; by ticket within a lane."""

    PRIORITY = 0
    APPOINTMENT = 1
    WALK_IN = 2


class AppointmentStatus(Labelled):
    """booked → checked_in (at the kiosk: a ticket in the appointment lane) or cancelled. A booked
    appointment whose day has passed reads as 未到."""

    BOOKED = "booked", "已预约"
    CHECKED_IN = "checked_in", "已签到"
    CANCELLED = "cancelled", "已取消"


MISSED_LABEL = "未到"
