"""Permission codes of quotes, under 工单管理 beside 【工单处理】 (no menu link: a quote is made
and signed from its order's page). Reading a quote needs only the right to read its order."""

import sys

from server.core.permissions import page, publish
from server.system import permissions as _menu_modules  # noqa: F401  (the modules come first)

page("workorders", "quote", "报价", None, {"create": "报价", "present": "客户签字确认"})

CREATE, PRESENT = "workorders.quote.create", "workorders.quote.present"

publish("quotes", sys.modules[__name__])
