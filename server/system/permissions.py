"""Permission codes of system management, and the menu's modules."""

import sys

from server.core.permissions import module, page, publish

# The six menu modules of the product; each domain adds its own pages under its module.
module("system", "系统管理", 1)
module("masterdata", "基础数据", 2)
module("credit", "额度管理", 3)
module("inventory", "库存管理", 4)
module("workorders", "工单管理", 5)
module("queue", "排队叫号", 6)

page(
    "system",
    "org",
    "管理机构",
    "/system/orgs",
    {
        "view": "查看",
        "create": "添加",
        "update": "修改",
        "delete": "删除",
        "export": "导出",
    },
)
page(
    "system",
    "role",
    "角色管理",
    "/system/roles",
    {
        "view": "查看",
        "create": "添加",
        "update": "修改",
        "delete": "删除",
    },
)
page(
    "system",
    "user",
    "用户管理",
    "/system/users",
    {
        "view": "查看",
        "create": "添加",
        "update": "修改",
        "delete": "删除",
        "export": "导出",
        "reset_password": "重置密码",
        "reset_otp": "重置动态密钥",
        "unlock": "解锁登录",
    },
)
page("system", "settings", "系统设置", "/system/settings", {"view": "查看", "update": "修改"})
page("system", "audit", "操作日志", "/system/audit-log", {"view": "查看"})

ORG_VIEW, ORG_CREATE, ORG_UPDATE, ORG_DELETE, ORG_EXPORT = (
    "system.org.view",
    "system.org.create",
    "system.org.update",
    "system.org.delete",
    "system.org.export",
)
ROLE_VIEW, ROLE_CREATE, ROLE_UPDATE, ROLE_DELETE = (
    "system.role.view",
    "system.role.create",
    "system.role.update",
    "system.role.delete",
)
USER_VIEW, USER_CREATE, USER_UPDATE, USER_DELETE, USER_EXPORT = (
    "system.user.view",
    "system.user.create",
    "system.user.update",
    "system.user.delete",
    "system.user.export",
)
USER_RESET_PASSWORD, USER_RESET_OTP = "system.user.reset_password", "system.user.reset_otp"
USER_UNLOCK = "system.user.unlock"
SETTINGS_VIEW, SETTINGS_UPDATE = "system.settings.view", "system.settings.update"
AUDIT_VIEW = "system.audit.view"

publish("system", sys.modules[__name__])
