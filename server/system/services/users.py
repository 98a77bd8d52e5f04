"""Users (SPEC 1.3): accounts of an org, with roles, password and OTP; soft delete."""

from __future__ import annotations

import re
from typing import Any

import realtime
from server.core import audit, hooks, validate
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, Forbidden, NotFound
from server.core.pagination import Page, PageParams
from server.core.search import contains
from server.core.states import RowStatus
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.system import permissions as P
from server.system.services import auth, passwords
from server.system.services import orgs as org_service
from server.system.services import roles as role_service
from server.system.tables import ApiToken, Org, Role, User, UserRole

ACCOUNT_PATTERN = r"[A-Za-z0-9._-]{3,50}"
STATUSES = RowStatus.labels()
COLUMNS = (
    User.id,
    User.org,
    User.account,
    User.name,
    User.phone,
    User.email,
    User.enabled,
    User.status,
    User.otp_secret,
    User.last_login_at,
    User.created_at,
    User.org.name.as_alias("org_name"),
    User.org.code.as_alias("org_code"),
    User.org.kind.as_alias("org_kind"),
    User.org.path.as_alias("org_path"),
)

realtime.topic("users", P.USER_VIEW)


def as_dict(user: dict, role_rows: list[dict]) -> dict:
    return {
        "id": user["id"],
        "org_id": user["org"],
        "org_name": user["org_name"],
        "account": user["account"],
        "name": user["name"],
        "phone": user["phone"],
        "email": user["email"],
        "enabled": user["enabled"],
        "status": user["status"],
        "otp_enrolled": bool(user["otp_secret"]),
        "role_ids": [r["id"] for r in role_rows],
        "role_names": [r["name"] for r in role_rows],
        "last_login_at": user["last_login_at"],
        "created_at": user["created_at"],
    }


async def roles_of(user_ids: list[int]) -> dict[int, list[dict]]:
    """Roles of several users in one query (no N+1 on lists)."""
    result: dict[int, list[dict]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return result
    rows = (
        await UserRole.select(
            UserRole.user,
            UserRole.role.id.as_alias("id"),
            UserRole.role.name.as_alias("name"),
            UserRole.role.status.as_alias("status"),
        )
        .where(UserRole.user.is_in(user_ids))
        .order_by(UserRole.role.id)
    )
    for r in rows:
        result[r["user"]].append(r)
    return result


async def get(ctx: Ctx, user_id: Any) -> dict:
    """A visible user as its API dict, with roles."""
    uid = validate.ident(user_id, "用户", "user_id")
    row = await User.select(*COLUMNS).where(scoped(ctx, User, subtree=User.org) & (User.id == uid)).first()
    if row is None:
        raise NotFound("用户")
    return as_dict(row, (await roles_of([uid]))[uid]) | {"org_path": row["org_path"], "org_kind": row["org_kind"]}


async def active_of_org(ctx: Ctx, org_id: int, limit: int = 500) -> list[dict]:
    """The enabled, active users of one org (of the caller's subtree), by name: `id`, `name`."""
    return (
        await User.select(User.id, User.name)
        .where(
            scoped(ctx, User, subtree=User.org)
            & (User.org == org_id)
            & (User.enabled == True)  # noqa: E712
            & (User.status == RowStatus.ACTIVE)
        )
        .order_by(User.name)
        .limit(limit)
    )


async def search(
    ctx: Ctx,
    *,
    q: str = "",
    org_id: Any = None,
    org_q: str = "",
    status: str = "",
    enabled: Any = None,
    role_id: Any = None,
    params: PageParams = PageParams(),
) -> Page:
    """`org_q` matches the code or name of the user's org (a search box, where a picker of
    thousands of orgs would not do)."""
    where = scoped(ctx, User, subtree=User.org)
    q = validate.text(q, "关键字", 50)
    if q:
        # Each LIKE '%…%' is a pass over every row: a column is searched only when `q` could occur
        # in it (accounts and phones hold only their pattern's characters), so a Chinese name
        # costs one LIKE, not three.
        text = contains(User.name, q)
        if re.fullmatch(r"[A-Za-z0-9._-]+", q):
            text |= contains(User.account, q)
        if re.fullmatch(r"[0-9+\- ]+", q):
            text |= contains(User.phone, q)
        where &= text
    if org_id not in (None, ""):
        where &= User.org == validate.ident(org_id, "机构", "org_id")
    org_q = validate.text(org_q, "所属机构", 100)
    if org_q:
        where &= User.org.is_in(org_service.matching_ids(ctx, org_q))
    if status:
        where &= User.status == validate.choice(status, "状态", STATUSES, "status")
    if enabled not in (None, ""):
        where &= User.enabled == validate.boolean(enabled, "是否启用", "enabled")
    if role_id not in (None, ""):
        rid = validate.ident(role_id, "角色", "role_id")
        where &= User.id.is_in(UserRole.select(UserRole.user).where(UserRole.role == rid))
    # The page's ids are picked from this table alone (an index walk, even at a deep offset) and
    # only those rows are joined to their orgs.
    newest_first = User.select(User.id).where(where).order_by(User.id, ascending=False)
    page_ids = newest_first.limit(params.page_size).offset(params.offset)
    rows = await User.select(*COLUMNS).where(User.id.is_in(page_ids)).order_by(User.id, ascending=False)
    if 0 < len(rows) < params.page_size or (not rows and params.page == 1):
        total = params.offset + len(rows)  # the last page: no second pass over the rows to count them
    else:
        total = await User.count().where(where)
    role_map = await roles_of([u["id"] for u in rows])
    return Page([as_dict(u, role_map[u["id"]]) for u in rows], total, params.page, params.page_size)


async def _assignable_roles(ctx: Ctx, v: Fields, org_kind: str, role_ids: Any) -> list[dict]:
    """The roles chosen for a user of an org of `org_kind`; refusals on the field go to `v`, a
    grant beyond the caller's rights is refused at once (403)."""
    ids = v(validate.id_list, role_ids, "角色", "role_ids", max_items=50)
    if ids is None:
        return []
    if not ids:
        v(_refuse, "请至少选择一个角色", "role_ids", "required")
        return []
    rows = await Role.select().where(scoped(ctx, Role) & Role.id.is_in(ids))
    if len(rows) != len(ids):
        v(_refuse, "所选角色不存在", "role_ids", "unknown_role")
        return []
    for role in rows:
        if role["status"] != RowStatus.ACTIVE:
            v(_refuse, f"角色 {role['name']} 已删除，不能分配", "role_ids", "role_deleted")
        elif role["org_kind"] != org_kind:
            kind = role_service.ORG_KINDS[role["org_kind"]]
            v(_refuse, f"角色 {role['name']} 只能分配给{kind}用户", "role_ids", "role_kind_mismatch")
        elif role_service.is_super_admin(role) and not ctx.super_admin:
            raise Forbidden(f"只有超级管理员能分配角色 {role['name']}", code="permission_escalation")
        elif not role_service.granted(role) <= ctx.permissions:
            raise Forbidden(f"不能分配超出自己权限的角色 {role['name']}", code="permission_escalation")
    return rows


def _refuse(detail: str, field: str, code: str) -> None:
    raise BusinessError(detail, code=code, field=field)


def _clean(data: dict, v: Fields) -> dict:
    """The editable fields present in `data`, each checked; errors go to `v`."""
    out: dict = {}
    if "name" in data:
        out["name"] = v(validate.text, data["name"], "姓名", 50, required=True, field="name")
    if "phone" in data:
        out["phone"] = v(
            validate.text,
            data["phone"],
            "电话",
            30,
            field="phone",
            pattern=r"[0-9+\- ]{3,30}",
            pattern_msg="电话只能包含数字、空格、+ 和 -",
        )
    if "email" in data:
        out["email"] = v(
            validate.text,
            data["email"],
            "邮箱",
            100,
            field="email",
            pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+",
            pattern_msg="邮箱格式不正确",
        )
    if "enabled" in data:
        out["enabled"] = v(validate.boolean, data["enabled"], "是否启用", "enabled")
    return out


async def _set_roles(ctx: Ctx, user_id: int, roles: list[dict]) -> None:
    await UserRole.delete().where(UserRole.user == user_id)
    await UserRole.insert(*[UserRole(tenant_id=ctx.tenant_id, user=user_id, role=r["id"]) for r in roles])


async def create(ctx: Ctx, data: dict) -> dict:
    """Every field is checked before anything is refused: the answer lists all the mistakes."""
    v = Fields()
    account = v(
        validate.text,
        data.get("account"),
        "账号",
        50,
        required=True,
        field="account",
        pattern=ACCOUNT_PATTERN,
        pattern_msg="账号至少 3 位，只能包含字母、数字、点、下划线和短横线",
    )
    fields = _clean(
        {"name": None, "enabled": True, "phone": "", "email": ""}
        | {k: data[k] for k in ("name", "phone", "email", "enabled") if k in data},
        v,
    )
    password = v(passwords.check_strength, data.get("password"))
    async with atomic():
        org = None
        oid = v(validate.ident, data.get("org_id"), "所属机构", "org_id")
        if oid is not None:
            await hooks.hold(Org, [oid])  # the org's delete under way ends first, or waits for this
            org = await org_service.get(ctx, oid)
            if org["status"] != RowStatus.ACTIVE:
                org = v(_refuse, "所属机构已删除", "org_id", "org_deleted")
        roles = await _assignable_roles(ctx, v, org["kind"], data.get("role_ids")) if org else []
        taken = account and await User.exists().where(scoped(ctx, User) & (User.account_key == account.lower()))
        v.done(
            Conflict(f"账号 {account}@{ctx.tenant_code} 已存在", code="duplicate_account", field="account")
            if taken
            else None
        )
        t = now()
        row = User(
            tenant_id=ctx.tenant_id,
            org=org["id"],
            account=account,
            account_key=account.lower(),
            password_hash=await passwords.hash_password(password),
            created_at=t,
            updated_at=t,
            **fields,
        )
        await row.save()
        await _set_roles(ctx, row.id, roles)
        created = await get(ctx, row.id)
        await audit.record(ctx, "create", "user", row.id, f"添加用户 {account}", after=_public(created))
        realtime.emit(ctx.tenant_id, org["path"], "users", "created", row.id)
    return created


def _public(user: dict) -> dict:
    return {k: v for k, v in user.items() if k not in ("org_path", "org_kind", "last_login_at", "created_at")}


def _refusal(ctx: Ctx, user_id: int, account: str, holding: tuple[frozenset[str], bool]) -> str | None:
    held, super_admin = holding
    if user_id == ctx.user_id:
        return "不能在用户管理中操作自己的账号；修改自己的密码请用【修改密码】"
    if super_admin and not ctx.super_admin:
        return f"用户 {account} 是超级管理员，只有超级管理员能操作"
    if not held <= ctx.permissions:
        return f"用户 {account} 拥有超出你权限的权限，不能操作该用户"
    return None


async def for_action(ctx: Ctx, user_id: Any) -> dict:
    """A user the caller may act on (edit, enable/disable, delete, reset password or OTP, change
    roles). Each of these hands the actor the user's rights (a reset password logs in as them),
    so the target may hold nothing beyond the actor's own permissions; a super admin is acted on
    only by a super admin, and nobody acts on themselves here (【修改密码】 asks the old password)."""
    user = await get(ctx, user_id)
    refusal = _refusal(ctx, user["id"], user["account"], (await role_service.holdings([user["id"]]))[user["id"]])
    if refusal:
        raise Forbidden(refusal, code="permission_escalation")
    return user


async def actionable(ctx: Ctx, users: list[dict]) -> set[int]:
    """Which of these listed users the caller may act on (the list shows actions only for them)."""
    holdings = await role_service.holdings([u["id"] for u in users])
    return {u["id"] for u in users if _refusal(ctx, u["id"], u["account"], holdings[u["id"]]) is None}


async def _editable(ctx: Ctx, user_id: Any) -> dict:
    user = await for_action(ctx, user_id)
    if user["status"] != RowStatus.ACTIVE:
        raise Conflict("用户已删除，不能修改", code="deleted")
    return user


async def update(ctx: Ctx, user_id: Any, data: dict) -> dict:
    async with atomic():
        user = await _editable(ctx, user_id)
        v = Fields()
        if (
            "account" in data
            and data["account"] is not None
            and str(data["account"]).lower() != user["account"].lower()
        ):
            v(_refuse, "账号不可修改", "account", "immutable")
        if "org_id" in data and data["org_id"] not in (None, "") and str(data["org_id"]) != str(user["org_id"]):
            v(_refuse, "所属机构不可修改", "org_id", "immutable")
        fields = _clean({k: data[k] for k in ("name", "phone", "email", "enabled") if k in data}, v)
        roles = await _assignable_roles(ctx, v, user["org_kind"], data["role_ids"]) if "role_ids" in data else None
        v.done()
        if roles is not None and [r["id"] for r in roles] != user["role_ids"]:
            await _set_roles(ctx, user["id"], roles)
            realtime.resubscribe_users(ctx.tenant_id, [user["id"]])
        if fields:
            await User.update({**{getattr(User, k): x for k, x in fields.items()}, User.updated_at: now()}).where(
                User.id == user["id"]
            )
        updated = await get(ctx, user["id"])
        before, after = audit.changes(_public(user), _public(updated))
        if after:
            await audit.record(ctx, "update", "user", user["id"], f"修改用户 {user['account']}", before, after)
            realtime.emit(ctx.tenant_id, user["org_path"], "users", "updated", user["id"])
        if user["enabled"] and not updated["enabled"]:
            await _end_sessions(ctx, user["id"])
    return updated


async def _end_sessions(ctx: Ctx, user_id: int) -> None:
    """Sessions carry the user's epoch: bumping it logs every session out; tokens are revoked."""
    await User.update({User.auth_epoch: User.auth_epoch + 1}).where(User.id == user_id)
    await ApiToken.delete().where(ApiToken.user == user_id)
    realtime.kick_user(ctx.tenant_id, user_id)


async def delete(ctx: Ctx, user_id: Any) -> dict:
    async with atomic():
        user = await for_action(ctx, user_id)
        if user["status"] == RowStatus.DELETED:
            raise Conflict("用户已经删除", code="already_deleted")
        await User.update({User.status: RowStatus.DELETED, User.updated_at: now()}).where(User.id == user["id"])
        await _end_sessions(ctx, user["id"])
        await audit.record(
            ctx,
            "delete",
            "user",
            user["id"],
            f"删除用户 {user['account']}",
            {"status": RowStatus.ACTIVE},
            {"status": RowStatus.DELETED},
        )
        realtime.emit(ctx.tenant_id, user["org_path"], "users", "deleted", user["id"])
        return await get(ctx, user["id"])


async def reset_password(ctx: Ctx, user_id: Any, new_password: Any) -> dict:
    password = passwords.check_strength(new_password)
    async with atomic():
        user = await _editable(ctx, user_id)
        await User.update({User.password_hash: await passwords.hash_password(password), User.updated_at: now()}).where(
            User.id == user["id"]
        )
        await _end_sessions(ctx, user["id"])
        await audit.record(ctx, "reset_password", "user", user["id"], f"重置用户 {user['account']} 的密码")
    return user


async def reset_otp(ctx: Ctx, user_id: Any) -> dict:
    """Forget the user's OTP secret; they enrol again (forced when the tenant requires OTP)."""
    async with atomic():
        user = await _editable(ctx, user_id)
        await User.update({User.otp_secret: None, User.otp_last_step: 0, User.updated_at: now()}).where(
            User.id == user["id"]
        )
        await audit.record(
            ctx,
            "reset_otp",
            "user",
            user["id"],
            f"重置用户 {user['account']} 的动态密钥",
            {"otp_enrolled": user["otp_enrolled"]},
            {"otp_enrolled": False},
        )
        realtime.emit(ctx.tenant_id, user["org_path"], "users", "updated", user["id"])
        return await get(ctx, user["id"])


async def unlock(ctx: Ctx, user_id: Any) -> dict:
    """【解锁】: clear the login waits on the user's name from every address (a user locked out by
    someone guessing their password), audited."""
    user = await _editable(ctx, user_id)
    await auth.unlock(f"{user['account'].lower()}@{ctx.tenant_code.upper()}")
    await audit.record(ctx, "unlock", "user", user["id"], f"解锁用户 {user['account']} 的登录")
    return user


async def change_own_password(ctx: Ctx, old_password: Any, new_password: Any, confirm: Any = None) -> int:
    """Returns the new auth epoch so the caller's own session can stay valid."""
    if not isinstance(old_password, str) or not old_password:
        raise BusinessError("请填写原密码", code="required", field="old_password")
    password = passwords.check_strength(new_password, "new_password")
    if confirm is not None and confirm != password:
        raise BusinessError("两次输入的新密码不一致", code="mismatch", field="confirm")
    async with atomic():
        row = await User.select(User.password_hash, User.auth_epoch).where(User.id == ctx.user_id).first()
        if row is None or not await passwords.verify(row["password_hash"], old_password):
            raise BusinessError("原密码不正确", code="wrong_password", field="old_password")
        if old_password == password:
            raise BusinessError("新密码不能与原密码相同", code="same_password", field="new_password")
        epoch = row["auth_epoch"] + 1
        await User.update(
            {
                User.password_hash: await passwords.hash_password(password),
                User.auth_epoch: epoch,
                User.updated_at: now(),
            }
        ).where(User.id == ctx.user_id)
        await ApiToken.delete().where(ApiToken.user == ctx.user_id)
        await audit.record(ctx, "change_password", "user", ctx.user_id, "修改自己的密码")
    return epoch
