"""Permission codes of credit (module `credit`, registered by server.system.permissions)."""

import sys

from server.core.permissions import page, publish
from server.system import permissions as _menu_modules  # noqa: F401  (registers the module `credit`)

DOC_ACTIONS = {"view": "查看", "create": "新增/修改", "submit": "提交", "confirm": "确认", "delete": "删除"}

page("credit", "recharge", "额度充值", "/credit/recharges", DOC_ACTIONS | {"confirm": "确认充值"})
page("credit", "adjustment", "额度调整", "/credit/adjustments", DOC_ACTIONS | {"confirm": "确认调整"})
page("credit", "account", "额度查询", "/credit/accounts", {"view": "查看", "export": "导出"})

RECHARGE = {a: f"credit.recharge.{a}" for a in DOC_ACTIONS}
ADJUSTMENT = {a: f"credit.adjustment.{a}" for a in DOC_ACTIONS}
ACCOUNT = {a: f"credit.account.{a}" for a in ("view", "export")}

publish("credit", sys.modules[__name__])
