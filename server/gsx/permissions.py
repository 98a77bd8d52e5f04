"""Permission codes of the GSX integration (SPEC 8). The settings and the call log sit under
【系统设置】 (reached from its page, no menu link); the work-order actions under 工单管理. Linking
one's own Apple account needs no code: any signed-in user may link theirs."""

import sys

from server.core.permissions import page, publish
from server.system import permissions as _menu_modules  # noqa: F401  (the modules come first)

page("system", "gsx", "GSX 对接", None, {"manage": "配置与调用记录"})
page(
    "workorders",
    "gsx",
    "GSX 维修",
    None,
    {"coverage": "查询保修", "repair": "创建 GSX 维修", "news": "GSX 公告"},
)

MANAGE = "system.gsx.manage"
COVERAGE, REPAIR, NEWS = "workorders.gsx.coverage", "workorders.gsx.repair", "workorders.gsx.news"

publish("gsx", sys.modules[__name__])
