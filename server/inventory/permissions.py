"""Permission codes of inventory (module `inventory`, registered by server.system.permissions)."""

import sys

from server.core.permissions import page, publish
from server.system import permissions as _menu_modules  # noqa: F401  (registers the module `inventory`)

DOC_ACTIONS = {"view": "查看", "create": "新增/修改", "confirm": "确认", "delete": "删除", "export": "导出"}

page("inventory", "inbound", "入库管理", "/inventory/inbounds", DOC_ACTIONS | {"confirm": "确认入库"})
page("inventory", "outbound", "出库管理", "/inventory/outbounds", DOC_ACTIONS | {"confirm": "确认出库"})
page("inventory", "stock", "库存查询", "/inventory/stock", {"view": "查看", "export": "导出"})

INBOUND = {a: f"inventory.inbound.{a}" for a in DOC_ACTIONS}
OUTBOUND = {a: f"inventory.outbound.{a}" for a in DOC_ACTIONS}
STOCK = {a: f"inventory.stock.{a}" for a in ("view", "export")}

publish("inventory", sys.modules[__name__])
