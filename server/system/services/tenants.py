"""Tenants (SPEC 0): created by the platform operator; each has settings of its own."""

from __future__ import annotations

from typing import Any

from piccolo.table import sort_table_classes

from server.core import audit, db, hooks, permissions, validate
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.states import OrgKind
from server.core.tenancy import Ctx, in_tenant, scoped
from server.system.services import passwords
from server.system.services.orgs import child_path
from server.system.services.roles import SUPER_ADMIN
from server.system.tables import Org, Role, Tenant, User, UserRole

CODE_PATTERN = r"[A-Z0-9]{2,16}"
ADMIN_ACCOUNT = "admin"


async def purge(code: str) -> bool:
    """Remove tenant `code` with every row of its data, in one transaction (the demo's `--reset`).
    Children before parents; a tree's own parent links are cut first."""
    tenant = await Tenant.select(Tenant.id).where(Tenant.code == code.upper()).first()
    if tenant is None:
        return False
    tables = [
        t for t in sort_table_classes(db.all_tables()) if any(c._meta.name == "tenant_id" for c in t._meta.columns)
    ]
    async with atomic():
        for table in tables:
            for fk in table._meta.foreign_key_columns:
                if fk._foreign_key_meta.resolved_references is table:
                    await table.update({fk: None}).where(in_tenant(table, tenant["id"]))
        for table in reversed(tables):
            await table.delete().where(in_tenant(table, tenant["id"]))
        await Tenant.delete().where(Tenant.id == tenant["id"])
    return True


async def platform_ctx(code: str) -> Ctx:
    """A Ctx acting as the platform inside tenant `code` (CLI, demo loader): every permission."""
    tenant = await Tenant.select().where(Tenant.code == code.upper()).first()
    if tenant is None:
        raise NotFound("公司")
    root = await Org.select().where(in_tenant(Org, tenant["id"]) & Org.parent.is_null()).first()
    return Ctx(
        tenant_id=tenant["id"],
        tenant_code=tenant["code"],
        tenant_name=tenant["name"],
        org_id=root["id"],
        org_path=root["path"],
        org_kind=OrgKind.HQ,
        org_name=root["name"],
        tz=tenant["tz"],
        permissions=permissions.all_codes(),
    )


async def create(code: Any, name: Any, admin_password: Any) -> Ctx:
    """Tenant + head office + built-in 超级管理员 role + `admin@CODE`; returns the platform Ctx."""
    code = validate.text(code, "公司简码", 16, required=True, field="code").upper()
    validate.text(
        code, "公司简码", 16, field="code", pattern=CODE_PATTERN, pattern_msg="公司简码为 2–16 位大写字母或数字"
    )
    name = validate.text(name, "公司名称", 100, required=True, field="name")
    password = passwords.check_strength(admin_password, "admin_password")
    async with atomic():
        if await Tenant.exists().where(Tenant.code == code):
            raise Conflict(f"公司简码 {code} 已存在", code="duplicate_code")
        t = now()
        tenant = Tenant(code=code, name=name, created_at=t)
        await tenant.save()
        hq = Org(
            tenant_id=tenant.id,
            code="HQ",
            name=f"{name}总部",
            kind=OrgKind.HQ,
            level=1,
            depth=1,
            path="",
            created_at=t,
            updated_at=t,
        )
        await hq.save()
        hq.path = child_path("/", hq.id)
        await hq.save([Org.path])
        role = Role(
            tenant_id=tenant.id,
            name=SUPER_ADMIN,
            org_kind=OrgKind.HQ,
            builtin=True,
            permissions=[],
            remark="拥有全部权限",
            created_at=t,
            updated_at=t,
        )
        await role.save()
        admin = User(
            tenant_id=tenant.id,
            org=hq.id,
            account=ADMIN_ACCOUNT,
            account_key=ADMIN_ACCOUNT,
            name="管理员",
            password_hash=await passwords.hash_password(password),
            created_at=t,
            updated_at=t,
        )
        await admin.save()
        await UserRole.insert(UserRole(tenant_id=tenant.id, user=admin.id, role=role.id))
        ctx = await platform_ctx(code)
        await hooks.tenant_created(ctx)
        await audit.record(
            ctx, "create", "tenant", tenant.id, f"创建公司 {code} {name}", after={"code": code, "name": name}
        )
    return ctx


SETTINGS = ("max_org_depth", "require_otp", "credit_four_eyes")


async def get_settings(ctx: Ctx) -> dict:
    row = await Tenant.select().where(Tenant.id == ctx.tenant_id).first()
    return {"code": row["code"], "name": row["name"], "tz": row["tz"]} | {k: row[k] for k in SETTINGS}


async def update_settings(ctx: Ctx, data: dict) -> dict:
    ctx.require_hq("系统设置只能由总部修改")
    values: dict = {}
    if "max_org_depth" in data:
        values["max_org_depth"] = validate.integer(data["max_org_depth"], "最大机构层级", 2, 10, "max_org_depth")
    for key, label in (("require_otp", "强制动态密钥"), ("credit_four_eyes", "额度双人复核")):
        if key in data:
            values[key] = validate.boolean(data[key], label, key)
    async with atomic():
        before = await get_settings(ctx)
        if "max_org_depth" in values:
            deepest = await Org.select(Org.depth).where(scoped(ctx, Org)).order_by(Org.depth, ascending=False).first()
            if deepest and deepest["depth"] > values["max_org_depth"]:
                raise BusinessError(
                    f"已有 {deepest['depth']} 级机构，最大层级不能小于 {deepest['depth']}",
                    code="depth_in_use",
                    field="max_org_depth",
                )
        if values:
            await Tenant.update({getattr(Tenant, k): v for k, v in values.items()}).where(Tenant.id == ctx.tenant_id)
        after = await get_settings(ctx)
        b, a = audit.changes(before, after)
        if a:
            await audit.record(ctx, "update", "settings", ctx.tenant_id, "修改系统设置", b, a)
    return after
