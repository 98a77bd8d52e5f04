"""Permission codes of work orders (module `workorders`, registered by server.system.permissions)."""

import sys

from server.core.permissions import page, publish
from server.system import permissions as _menu_modules  # noqa: F401  (registers the module `workorders`)

page("workorders", "intake", "工单受理", "/workorders/intake", {"view": "查看", "create": "受理"})
page(
    "workorders",
    "order",
    "工单处理",
    "/workorders",
    {
        "view": "查看",
        "update": "修改受理信息",
        "assign": "派工",
        "repair": "维修",
        "close": "结单",
        "cancel": "取消",
        "send": "送修/返还",
        "export": "导出",
        "settings": "工单设置",
    },
)

page("workorders", "mine", "我的维修", "/workorders/mine", {"view": "查看"})

INTAKE_VIEW, INTAKE = "workorders.intake.view", "workorders.intake.create"
VIEW, UPDATE, ASSIGN = "workorders.order.view", "workorders.order.update", "workorders.order.assign"
REPAIR, CLOSE, CANCEL = "workorders.order.repair", "workorders.order.close", "workorders.order.cancel"
SETTINGS, EXPORT = "workorders.order.settings", "workorders.order.export"
SEND = "workorders.order.send"  # a carry-in point's 【送修】, its centre's 【返还】 (issue 20)
MINE = "workorders.mine.view"

publish("workorders", sys.modules[__name__])
