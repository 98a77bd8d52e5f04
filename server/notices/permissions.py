"""Permission codes of customer notices (SPEC 11): 【通知记录】 under 工单管理 (with 重发), and the
gateway settings and notice texts under 系统管理 (the settings are the head office's alone)."""

import sys

from server.core.permissions import page, publish
from server.system import permissions as _menu_modules  # noqa: F401  (the modules come first)
from server.workorders import permissions as _workorders  # noqa: F401  (its pages come first)

page("workorders", "notice", "通知记录", "/workorders/notices", {"view": "查看", "resend": "重发"})
page("system", "notice", "客户通知设置", "/system/notices", {"view": "查看", "manage": "配置"})

VIEW, RESEND = "workorders.notice.view", "workorders.notice.resend"
SETTINGS_VIEW, SETTINGS_MANAGE = "system.notice.view", "system.notice.manage"

publish("notices", sys.modules[__name__])
