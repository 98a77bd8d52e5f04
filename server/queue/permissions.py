"""Permission codes of the queue (module `queue`, registered by server.system.permissions)."""

import sys

from server.core.permissions import page, publish
from server.system import permissions as _menu_modules  # noqa: F401  (registers the module `queue`)

page("queue", "counter", "叫号", "/queue/counter", {"view": "查看", "call": "叫号/办理", "take": "代客取号"})
page("queue", "appointments", "预约管理", "/queue/appointments", {"view": "查看", "cancel": "取消预约"})
page("queue", "stats", "排队统计", "/queue/stats", {"view": "查看", "export": "导出"})
page(
    "queue",
    "settings",
    "排队设置",
    "/queue/settings",
    {"view": "查看", "update": "修改业务与窗口", "device": "管理设备"},
)

COUNTER_VIEW, CALL, TAKE = "queue.counter.view", "queue.counter.call", "queue.counter.take"
APPOINTMENTS_VIEW, APPOINTMENTS_CANCEL = "queue.appointments.view", "queue.appointments.cancel"
STATS_VIEW, STATS_EXPORT = "queue.stats.view", "queue.stats.export"
SETTINGS_VIEW, SETTINGS_UPDATE, DEVICE = "queue.settings.view", "queue.settings.update", "queue.settings.device"

publish("queue", sys.modules[__name__])
