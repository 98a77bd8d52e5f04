"""Named states of work orders, with their labels."""

from __future__ import annotations

from server.core.states import Labelled


class WorkOrderStatus(Labelled):
    """受理 → 维修中 → 维修完毕 → 已结单; 已取消 only before the repair completes. A carry-in
    point's order travels: 受理 → 送修在途 → 受理 at its repair centre … 维修完毕 → 返还在途 →
    维修完毕 back at the carry-in point (issue 20)."""

    ACCEPTED = "accepted", "受理"
    SENDING = "sending", "送修在途"
    REPAIRING = "repairing", "维修中"
    REPAIRED = "repaired", "维修完毕"
    RETURNING = "returning", "返还在途"
    CLOSED = "closed", "已结单"
    CANCELLED = "cancelled", "已取消"


OPEN = (WorkOrderStatus.ACCEPTED, WorkOrderStatus.REPAIRING)  # nothing posted yet: editable, cancellable
ENDED = (WorkOrderStatus.CLOSED, WorkOrderStatus.CANCELLED)  # nothing more to do: no forms
IN_TRANSIT = (WorkOrderStatus.SENDING, WorkOrderStatus.RETURNING)  # a device shipment carries it: no org acts


class LineKind(Labelled):
    REPAIR = "repair", "维修用料"
    ISSUED = "issued", "受理领用"


class Sla(Labelled):
    """How long an order has been in its current status against the tenant's limits."""

    GREEN = "green", "正常"
    YELLOW = "yellow", "预警"
    RED = "red", "超时"
