"""Permission codes of logistics (module `logistics`, 【物流管理】)."""

import sys

from server.core.permissions import module, page, publish
from server.system import permissions as _menu_modules  # noqa: F401  (the product's modules come first)

# after 库存管理 (order 4, registered earlier, so it sorts first) and before 工单管理 (5)
module("logistics", "物流管理", 4)

ORDER_ACTIONS = {
    "view": "查看",
    "create": "新增/修改",
    "submit": "提交",
    "withdraw": "撤回",
    "delete": "删除",
    "export": "导出",
}
REVIEW_ACTIONS = {"view": "查看", "approve": "审核通过", "reject": "驳回", "close": "关闭订单", "export": "导出"}

page("logistics", "order", "订货申请", "/logistics/orders", ORDER_ACTIONS)
page("logistics", "review", "订单审核", "/logistics/order-reviews", REVIEW_ACTIONS)

ORDER = {a: f"logistics.order.{a}" for a in ORDER_ACTIONS}
REVIEW = {a: f"logistics.review.{a}" for a in REVIEW_ACTIONS}
# an order is read by the branch that placed it and by the parent reviewing it
ORDER_READ = (ORDER["view"], REVIEW["view"])

# --- shipments ---------------------------------------------------------------------------------
page(
    "logistics",
    "shipment",
    "物流发货",
    "/logistics/shipments",
    {
        "view": "查看",
        "create": "新增/修改",
        "confirm": "确认出库",
        "recall": "撤回",
        "delete": "删除",
        "export": "导出",
    },
)
page(
    "logistics",
    "receiving",
    "物流收货",
    "/logistics/receiving",
    {"view": "查看", "receive": "确认收货", "export": "导出"},
    badge=("/logistics/receiving/badge", "shipments"),
)
page("logistics", "in_transit", "在途库存", "/logistics/in-transit", {"view": "查看", "export": "导出"})
page(
    "logistics",
    "discrepancy",
    "收货差异",
    "/logistics/discrepancies",
    {"view": "查看", "resolve": "处理", "export": "导出"},
    badge=("/logistics/discrepancies/badge", "shipments"),
)

SHIPMENT = {a: f"logistics.shipment.{a}" for a in ("view", "create", "confirm", "recall", "delete", "export")}
RECEIVING = {a: f"logistics.receiving.{a}" for a in ("view", "receive", "export")}
IN_TRANSIT = {a: f"logistics.in_transit.{a}" for a in ("view", "export")}
DISCREPANCY = {a: f"logistics.discrepancy.{a}" for a in ("view", "resolve", "export")}

publish("logistics", sys.modules[__name__])
