"""Permission codes of logistics (module `logistics`, the menu's 【物流管理】)."""

import sys

from server.core.permissions import module, page, publish

module("logistics", "物流管理", 7)

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

SHIPMENT = {a: f"logistics.shipment.{a}" for a in ("view", "create", "confirm", "recall", "delete", "export")}
RECEIVING = {a: f"logistics.receiving.{a}" for a in ("view", "receive", "export")}
IN_TRANSIT = {a: f"logistics.in_transit.{a}" for a in ("view", "export")}

publish("logistics", sys.modules[__name__])
