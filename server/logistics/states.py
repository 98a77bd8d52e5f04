"""Named states of logistics orders, with their labels and list colours."""

from server.core.states import Labelled


class OrderStatus(Labelled):
    DRAFT = "draft", "暂存"
    SUBMITTED = "submitted", "已提交"
    APPROVED = "approved", "已审核"
    REJECTED = "rejected", "已驳回"
    PARTIALLY_SHIPPED = "partially_shipped", "部分发货"
    SHIPPED = "shipped", "已发货"
    CLOSED = "closed", "已关闭"
    WITHDRAWN = "withdrawn", "已撤回"
    DELETED = "deleted", "已删除"


# what the parent may still ship (and close short)
SHIPPABLE = (OrderStatus.APPROVED, OrderStatus.PARTIALLY_SHIPPED)
# how the lists colour a state
BADGES = {
    OrderStatus.DRAFT: "grey",
    OrderStatus.SUBMITTED: "blue",
    OrderStatus.APPROVED: "green",
    OrderStatus.REJECTED: "red",
    OrderStatus.PARTIALLY_SHIPPED: "amber",
    OrderStatus.SHIPPED: "green",
    OrderStatus.CLOSED: "grey",
    OrderStatus.WITHDRAWN: "grey",
    OrderStatus.DELETED: "grey",
}


class DiscrepancyKind(Labelled):
    """What a receiver found on a line 【收货差异】."""

    SHORT = "short", "短少"
    OVER = "over", "多发"
    DAMAGED = "damaged", "破损"


class DiscrepancyStatus(Labelled):
    OPEN = "open", "待处理"
    RESOLVED = "resolved", "已处理"


class Resolution(Labelled):
    """The shipper's answer: a short is 找到补发 (still in transit, received later) or 确认丢失
    (written off as a loss); an over or a damage is 已确认 (taken note of)."""

    FOUND_RESENT = "found_resent", "找到补发"
    LOST = "lost", "确认丢失"
    ACKNOWLEDGED = "acknowledged", "已确认"


# the resolutions each kind allows
RESOLUTIONS = {
    DiscrepancyKind.SHORT: (Resolution.FOUND_RESENT, Resolution.LOST),
    DiscrepancyKind.OVER: (Resolution.ACKNOWLEDGED,),
    DiscrepancyKind.DAMAGED: (Resolution.ACKNOWLEDGED,),
}
