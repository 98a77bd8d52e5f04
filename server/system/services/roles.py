"""Roles (SPEC 1.2): a named set of permission codes for head-office or branch users.

A user may only grant what they hold: a role's permissions must be a subset of the editor's,
so nobody can raise their own rights by editing or assigning a role.
"""

from __future__ import annotations

import json
from typing import Any

import realtime
from server.core import audit, permissions, validate
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, Forbidden, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.states import OrgKind, RowStatus
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.system import permissions as P
from server.system.tables import Role, UserRole

SUPER_ADMIN = "超级管理员"
ORG_KINDS = OrgKind.labels()
STATUSES = RowStatus.labels()
ONLY_HQ = "角色由总部统一维护，网点不能添加、修改或删除角色"

realtime.topic("roles", P.ROLE_VIEW, tenant_wide=True)


def stored_codes(role: dict) -> list[str]:
    """The role's saved codes (JSON text on SQLite, already decoded on PostgreSQL)."""
    codes = role["permissions"]
    return json.loads(codes) if isinstance(codes, str) else list(codes or [])


def granted(role: dict) -> frozenset[str]:
    """What a role grants: everything for the built-in super admin, nothing once deleted."""
    if role["status"] != RowStatus.ACTIVE:
        return frozenset()
    if role["builtin"]:
        return permissions.all_codes()
    return frozenset(permissions.normalise(stored_codes(role)))


def is_super_admin(role: dict) -> bool:
    return role["status"] == RowStatus.ACTIVE and bool(role["builtin"])


async def holdings(user_ids: list[int]) -> dict[int, tuple[frozenset[str], bool]]:
    """What each user holds through their roles: (permission codes, super admin), in one query."""
    result: dict[int, tuple[frozenset[str], bool]] = {uid: (frozenset(), False) for uid in user_ids}
    if not user_ids:
        return result
    rows = await UserRole.select(
        UserRole.user,
        UserRole.role.status.as_alias("status"),
        UserRole.role.builtin.as_alias("builtin"),
        UserRole.role.permissions.as_alias("permissions"),
    ).where(UserRole.user.is_in(user_ids))
    for r in rows:
        codes, sa = result[r["user"]]
        result[r["user"]] = (codes | granted(r), sa or is_super_admin(r))
    return result


def as_dict(role: dict) -> dict:
    codes = sorted(permissions.all_codes()) if role["builtin"] else stored_codes(role)
    return {
        "id": role["id"],
        "name": role["name"],
        "org_kind": role["org_kind"],
        "status": role["status"],
        "builtin": role["builtin"],
        "remark": role["remark"],
        "permissions": codes,
    }


async def get(ctx: Ctx, role_id: Any) -> dict:
    rid = validate.ident(role_id, "角色", "role_id")
    row = await Role.select().where(scoped(ctx, Role) & (Role.id == rid)).first()
    if row is None:
        raise NotFound("角色")
    return row


async def search(
    ctx: Ctx, *, q: str = "", org_kind: str = "", status: str = "", params: PageParams = PageParams()
) -> Page:
    where = scoped(ctx, Role)
    q = validate.text(q, "关键字", 50)
    if q:
        where &= contains(Role.name, q)
    if org_kind:
        where &= Role.org_kind == validate.choice(org_kind, "机构类型", ORG_KINDS, "org_kind")
    if status:
        where &= Role.status == validate.choice(status, "状态", STATUSES, "status")
    return await paginate(Role.select().where(where).order_by(Role.id), Role.count().where(where), params)


async def choices(ctx: Ctx, org_kind: str) -> list[dict]:
    """Active roles assignable to a user of an org of `org_kind`."""
    return (
        await Role.select()
        .where(scoped(ctx, Role) & (Role.org_kind == org_kind) & (Role.status == RowStatus.ACTIVE))
        .order_by(Role.id)
    )


def _permissions(ctx: Ctx, codes: Any) -> list[str]:
    if codes is None:
        codes = []
    if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
        raise BusinessError("权限必须是权限代码的列表", code="invalid_field", field="permissions")
    unknown = [c for c in codes if not permissions.exists(c)]
    if unknown:
        raise BusinessError(
            f"未知的权限代码：{', '.join(unknown[:5])[:200]}", code="unknown_permission", field="permissions"
        )
    result = permissions.normalise(codes)
    beyond = [c for c in result if c not in ctx.permissions]
    if beyond:
        raise Forbidden(f"不能授予自己没有的权限：{', '.join(beyond[:5])}", code="permission_escalation")
    return result


def _require_within(ctx: Ctx, role: dict) -> None:
    """Editing or deleting a role changes its holders' rights: only within the editor's own."""
    if not granted(role) <= ctx.permissions:
        raise Forbidden(f"角色【{role['name']}】拥有超出你权限的权限，不能修改或删除", code="permission_escalation")


def _taken(name: str) -> Conflict:
    return Conflict(f"角色 {name} 已存在", code="duplicate_name", field="name")


def _refuse(detail: str, field: str, code: str) -> None:
    raise BusinessError(detail, code=code, field=field)


async def _name_taken(ctx: Ctx, name: str, exclude_id: int | None = None) -> bool:
    where = scoped(ctx, Role) & (Role.name == name) & (Role.status == RowStatus.ACTIVE)
    if exclude_id:
        where &= Role.id != exclude_id
    return await Role.exists().where(where)


async def create(ctx: Ctx, data: dict) -> dict:
    """Every field is checked before anything is refused: the answer lists all the mistakes."""
    ctx.require_hq(ONLY_HQ)
    v = Fields()
    name = v(validate.text, data.get("name"), "角色名称", 50, required=True, field="name")
    org_kind = v(validate.choice, data.get("org_kind"), "机构类型", ORG_KINDS, "org_kind")
    codes = v(_permissions, ctx, data.get("permissions"))
    remark = v(validate.text, data.get("remark"), "备注", 200, field="remark")
    async with atomic():
        v.done(_taken(name) if name and await _name_taken(ctx, name) else None)
        t = now()
        row = Role(
            tenant_id=ctx.tenant_id,
            name=name,
            org_kind=org_kind,
            permissions=codes,
            remark=remark,
            created_at=t,
            updated_at=t,
        )
        await row.save()
        created = await get(ctx, row.id)
        await audit.record(ctx, "create", "role", row.id, f"添加角色 {name}", after=as_dict(created))
        realtime.emit_tenant(ctx.tenant_id, "roles", "created", row.id)
    return created


async def update(ctx: Ctx, role_id: Any, data: dict) -> dict:
    ctx.require_hq(ONLY_HQ)
    async with atomic():
        role = await get(ctx, role_id)
        if role["status"] != RowStatus.ACTIVE:
            raise Conflict("角色已删除，不能修改", code="deleted")
        if role["builtin"]:
            raise Conflict("内置角色不能修改", code="builtin")
        _require_within(ctx, role)
        v = Fields()
        if "org_kind" in data and data["org_kind"] not in (None, role["org_kind"]):
            v(_refuse, "机构类型不可修改", "org_kind", "immutable")
        values: dict = {}
        if "name" in data:
            values[Role.name] = v(validate.text, data["name"], "角色名称", 50, required=True, field="name")
        if "permissions" in data:
            values[Role.permissions] = v(_permissions, ctx, data["permissions"])
        if "remark" in data:
            values[Role.remark] = v(validate.text, data["remark"], "备注", 200, field="remark")
        name = values.get(Role.name)
        v.done(_taken(name) if name and await _name_taken(ctx, name, role["id"]) else None)
        if values:
            values[Role.updated_at] = now()
            await Role.update(values).where(Role.id == role["id"])
        updated = await get(ctx, role["id"])
        before, after = audit.changes(as_dict(role), as_dict(updated))
        if after:
            await audit.record(ctx, "update", "role", role["id"], f"修改角色 {role['name']}", before, after)
            realtime.emit_tenant(ctx.tenant_id, "roles", "updated", role["id"])
            if "permissions" in after:
                realtime.resubscribe_users(ctx.tenant_id, await _holder_ids(role["id"]))
    return updated


async def _holder_ids(role_id: int) -> list[int]:
    return [r["user"] for r in await UserRole.select(UserRole.user).where(UserRole.role == role_id)]


async def delete(ctx: Ctx, role_id: Any) -> dict:
    """Soft delete: the role can no longer be assigned and grants nothing to its holders."""
    ctx.require_hq(ONLY_HQ)
    async with atomic():
        role = await get(ctx, role_id)
        if role["status"] == RowStatus.DELETED:
            raise Conflict("角色已经删除", code="already_deleted")
        if role["builtin"]:
            raise Conflict("内置角色不能删除", code="builtin")
        _require_within(ctx, role)
        await Role.update({Role.status: RowStatus.DELETED, Role.updated_at: now()}).where(Role.id == role["id"])
        await audit.record(
            ctx,
            "delete",
            "role",
            role["id"],
            f"删除角色 {role['name']}",
            {"status": RowStatus.ACTIVE},
            {"status": RowStatus.DELETED},
        )
        realtime.emit_tenant(ctx.tenant_id, "roles", "deleted", role["id"])
        realtime.resubscribe_users(ctx.tenant_id, await _holder_ids(role["id"]))
        return await get(ctx, role["id"])


async def holders(ctx: Ctx, role_ids: list[int]) -> dict[int, int]:
    """How many users hold each role (one query)."""
    if not role_ids:
        return {}
    rows = await UserRole.select(UserRole.role, UserRole.id).where(
        scoped(ctx, UserRole) & UserRole.role.is_in(role_ids)
    )
    counts: dict[int, int] = {}
    for r in rows:
        counts[r["role"]] = counts.get(r["role"], 0) + 1
    return counts
