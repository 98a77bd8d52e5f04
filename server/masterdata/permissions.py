"""Permission codes of master data (module `masterdata`, registered by server.system.permissions)."""

import sys

from server.core.permissions import page, publish
from server.masterdata.states import TreeKind
from server.system import permissions as _menu_modules  # noqa: F401  (registers the module `masterdata`)

# `delete` also guards 恢复 (restore) of a deleted row and its pre-delete check: undoing a delete
# is the same trust as making it, and roles need no new code to grant
CRUD = {"view": "查看", "create": "添加", "update": "修改", "delete": "删除", "export": "导出"}

page("masterdata", "category", "品类管理", "/masterdata/categories", CRUD)
page("masterdata", "repair_class", "维修分类", "/masterdata/repair-classes", CRUD)
page("masterdata", "fault_class", "故障分类", "/masterdata/fault-classes", CRUD)
page("masterdata", "repair_code", "维修代码", "/masterdata/repair-codes", CRUD)
page("masterdata", "fault_reason", "故障原因", "/masterdata/fault-reasons", CRUD)
page("masterdata", "goods", "货品管理", "/masterdata/goods", CRUD | {"import": "导入"})
page("masterdata", "goods_type", "货品分类", None, {"manage": "自定义货品分类"})
page("masterdata", "warehouse", "仓库定义", "/masterdata/warehouses", CRUD)
page(
    "masterdata",
    "warehouse_assignment",
    "仓库设置",
    "/masterdata/warehouse-assignments",
    {"view": "查看", "assign": "仓库套用机构", "update": "启用/停用", "export": "导出"},
)
page("masterdata", "supplier", "供应商", "/masterdata/suppliers", CRUD)
page(
    "masterdata",
    "dictionary",
    "数据字典",
    "/masterdata/dictionaries",
    {"view": "查看", "update": "维护", "export": "导出"},
)

TREE = {kind: {a: f"masterdata.{kind}.{a}" for a in CRUD} for kind in TreeKind}
REPAIR_CODE = {a: f"masterdata.repair_code.{a}" for a in CRUD}
FAULT_REASON = {a: f"masterdata.fault_reason.{a}" for a in CRUD}
GOODS = {a: f"masterdata.goods.{a}" for a in (*CRUD, "import")}
GOODS_TYPE_MANAGE = "masterdata.goods_type.manage"
WAREHOUSE = {a: f"masterdata.warehouse.{a}" for a in CRUD}
ASSIGNMENT = {a: f"masterdata.warehouse_assignment.{a}" for a in ("view", "assign", "update", "export")}
SUPPLIER = {a: f"masterdata.supplier.{a}" for a in CRUD}
DICTIONARY_VIEW, DICTIONARY_UPDATE = "masterdata.dictionary.view", "masterdata.dictionary.update"
DICTIONARY_EXPORT = "masterdata.dictionary.export"

publish("masterdata", sys.modules[__name__])
