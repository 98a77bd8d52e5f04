"""Permission codes of printing: 【打印模板】 in 系统管理, beside 【系统设置】. Printing a document
needs only the right to read it (its own domain's view code, checked by its service's scoping)."""

import sys

from server.core.permissions import page, publish
from server.system import permissions as _menu_modules  # noqa: F401  (the product's modules come first)

TEMPLATE_ACTIONS = {"view": "查看", "create": "新增/修改", "delete": "删除", "import": "导入/导出"}
page("system", "print_template", "打印模板", "/system/print-templates", TEMPLATE_ACTIONS)

TEMPLATE = {a: f"system.print_template.{a}" for a in TEMPLATE_ACTIONS}

publish("printing", sys.modules[__name__])
