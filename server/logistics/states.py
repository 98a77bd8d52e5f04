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
