"""Organizations (SPEC 1.1): one head office per tenant, branches below it, soft delete, scope."""

from __future__ import annotations

from typing import Any

from piccolo.columns.combination import WhereRaw

import realtime
from server.core import audit, hooks, validate
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, Forbidden, NotFound
from server.core.hooks import Usage
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.states import OrgKind, RowStatus
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.system import permissions as P
from server.system.tables import ApiToken, Org, Tenant, User

KINDS = OrgKind.labels()
STATUSES = RowStatus.labels()
CODE_PATTERN = r"[A-Za-z0-9_-]{1,32}"
EDITABLE = (
    "name",
    "level",
    "enabled",
    "contact",
    "phone",
    "address",
    "remark",
    "is_carry_in",
    "is_repair_centre",
    "repair_centre_id",
)

realtime.topic("orgs", P.ORG_VIEW)


def child_path(parent_path: str, org_id: int) -> str:
    """Zero-padded ids keep siblings in creation order when rows are sorted by path."""
    return f"{parent_path}{org_id:010d}/"


def as_dict(org: dict) -> dict:
    shown = ("id", "code", "parent", "kind", "depth", "status", *EDITABLE)
    return {k: org[k] for k in shown} | {"parent_id": org["parent"]}


def matching_ids(ctx: Ctx, text: str):
    """The ids of visible orgs whose code or name contains `text`, as a subquery."""
    where = scoped(ctx, Org, subtree=Org.path)
    return Org.select(Org.id).where(where & (contains(Org.code, text) | contains(Org.name, text)))


def descendants_of(ctx: Ctx, org: dict):
    """The ids of `org` (one the caller sees) and everything below it, as a subquery."""
    return Org.select(Org.id).where(scoped(ctx, Org, subtree=Org.path) & Org.path.like(f"{org['path']}%"))


async def names(ctx: Ctx, org_ids: set[int]) -> dict[int, str]:
    """Names of some orgs of the tenant, for lists that show an org column."""
    if not org_ids:
        return {}
    rows = await Org.select(Org.id, Org.name).where(scoped(ctx, Org) & Org.id.is_in(list(org_ids)))
    return {r["id"]: r["name"] for r in rows}


async def get(ctx: Ctx, org_id: Any, *, active_only: bool = False) -> dict:
    oid = validate.ident(org_id, "机构", "org_id")
    row = (
        await Org.select(*Org.all_columns(), Org.parent.name.as_alias("parent_name"))
        .where(scoped(ctx, Org, subtree=Org.path) & (Org.id == oid))
        .first()
    )
    if row is None or (active_only and row["status"] != RowStatus.ACTIVE):
        raise NotFound("机构")
    return row


async def search(
    ctx: Ctx,
    *,
    q: str = "",
    status: str = "",
    enabled: Any = None,
    level: Any = None,
    parent_id: Any = None,
    kind: str = "",
    params: PageParams = PageParams(),
) -> Page:
    where = scoped(ctx, Org, subtree=Org.path)
    q = validate.text(q, "关键字", 100)
    if q:
        where &= contains(Org.code, q) | contains(Org.name, q)
    if status:
        where &= Org.status == validate.choice(status, "状态", STATUSES, "status")
    if enabled not in (None, ""):
        where &= Org.enabled == validate.boolean(enabled, "是否启用", "enabled")
    if level not in (None, ""):
        where &= Org.level == validate.integer(level, "机构级别", 1, 4, "level")
    if kind:
        where &= Org.kind == validate.choice(kind, "机构类型", KINDS, "kind")
    if parent_id not in (None, ""):
        where &= Org.parent == validate.ident(parent_id, "上级机构", "parent_id")
    select = Org.select(*Org.all_columns(), Org.parent.name.as_alias("parent_name")).where(where).order_by(Org.path)
    return await paginate(select, Org.count().where(where), params)


async def tree(ctx: Ctx, include_deleted: bool = False) -> list[dict]:
    """The caller's subtree as nested dicts (`children`), in path order."""
    where = scoped(ctx, Org, subtree=Org.path)
    if not include_deleted:
        where &= Org.status == RowStatus.ACTIVE
    rows = await Org.select().where(where).order_by(Org.path)
    by_id = {r["id"]: r | {"children": []} for r in rows}
    roots = []
    for r in by_id.values():
        parent = by_id.get(r["parent"])
        (parent["children"] if parent else roots).append(r)
    return roots


async def choices(
    ctx: Ctx, *, kind: str = "", q: str = "", enabled_only: bool = False, below: bool = False
) -> list[dict]:
    """Active orgs of the caller's subtree for pickers, indented by depth; `q` matches code or name;
    `below` leaves out the caller's own org and the head office (those a credit line may name)."""
    where = scoped(ctx, Org, subtree=Org.path) & (Org.status == RowStatus.ACTIVE)
    if below:
        where &= (Org.id != ctx.org_id) & (Org.kind != OrgKind.HQ)
    if kind:
        where &= Org.kind == kind
    q = validate.text(q, "关键字", 50)
    if q:
        where &= contains(Org.code, q) | contains(Org.name, q)
    if enabled_only:
        where &= Org.enabled == True
    return (
        await Org.select(Org.id, Org.code, Org.name, Org.depth, Org.kind, Org.enabled, Org.level)
        .where(where)
        .order_by(Org.path)
    )


async def repair_centres(ctx: Ctx) -> list[dict]:
    """The tenant's active orgs marked 维修中心, for a carry-in point's picker (tenant-wide: a
    branch's centre is often its parent, above the caller)."""
    where = scoped(ctx, Org) & (Org.status == RowStatus.ACTIVE) & (Org.is_repair_centre == True)  # noqa: E712
    return await Org.select(Org.id, Org.code, Org.name).where(where).order_by(Org.path)


async def _tenant(ctx: Ctx) -> dict:
    return await Tenant.select().where(Tenant.id == ctx.tenant_id).first()


def _clean(data: dict, v: Fields) -> dict:
    """The editable fields present in `data`, each checked; errors go to `v`."""
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = v(validate.text, data["name"], "机构名称", 100, required=True, field="name")
    if "level" in data:
        out["level"] = v(validate.integer, data["level"], "机构级别", 1, 4, "level")
    if "enabled" in data:
        out["enabled"] = v(validate.boolean, data["enabled"], "是否启用", "enabled")
    if "is_carry_in" in data:
        out["is_carry_in"] = v(validate.boolean, data["is_carry_in"], "接机点", "is_carry_in")
    if "is_repair_centre" in data:
        out["is_repair_centre"] = v(validate.boolean, data["is_repair_centre"], "维修中心", "is_repair_centre")
    if "repair_centre_id" in data:
        out["repair_centre_id"] = v(validate.optional_ident, data["repair_centre_id"], "维修中心", "repair_centre_id")
    for key, label, size in (
        ("contact", "联系人", 50),
        ("phone", "电话", 30),
        ("address", "地址", 200),
        ("remark", "备注", 500),
    ):
        if key in data:
            out[key] = v(validate.text, data[key], label, size, field=key)
    return out


def _refuse(detail: str, field: str, code: str) -> None:
    raise BusinessError(detail, code=code, field=field)


async def repair_centre_of(ctx: Ctx, org_id: int) -> dict | None:
    """The repair centre a carry-in point sends devices to (issue 20): an active org of the
    tenant marked 维修中心, or None when `org_id` is not a carry-in point with one."""
    org = await Org.select(Org.is_carry_in, Org.repair_centre_id).where(scoped(ctx, Org) & (Org.id == org_id)).first()
    if not org or not org["is_carry_in"] or org["repair_centre_id"] is None:
        return None
    return (
        await Org.select(Org.id, Org.code, Org.name, Org.path)
        .where(
            scoped(ctx, Org)
            & (Org.id == org["repair_centre_id"])
            & (Org.status == RowStatus.ACTIVE)
            & (Org.is_repair_centre == True)  # noqa: E712
        )
        .first()
    )


async def _centre(ctx: Ctx, v: Fields, org_id: int | None, is_carry_in: bool, centre_id: int | None) -> int | None:
    """The repair centre a carry-in point names, its refusals noted in `v` on `repair_centre_id`:
    any active org of the tenant (not only of the caller's subtree: a branch's centre is often
    its parent) marked 维修中心, other than the org itself. An org that is no carry-in point has
    none (what the form sends for it is dropped)."""
    if not is_carry_in:
        return None
    if centre_id is None:
        v(_refuse, "接机点须选择维修中心", "repair_centre_id", "required")
        return None
    if centre_id == org_id:
        v(_refuse, "维修中心不能是机构自己", "repair_centre_id", "self")
        return None
    centre = (
        await Org.select(Org.id, Org.status, Org.is_repair_centre)
        .where(scoped(ctx, Org) & (Org.id == centre_id))
        .first()
    )
    if centre is None:
        raise NotFound("维修中心")
    if centre["status"] != RowStatus.ACTIVE:
        v(_refuse, "所选维修中心已删除", "repair_centre_id", "deleted")
    elif not centre["is_repair_centre"]:
        v(_refuse, "所选机构不是维修中心，请先在该机构上勾选【维修中心】", "repair_centre_id", "not_repair_centre")
    else:
        return centre["id"]
    return None


async def _carry_in_points_of(org_id: int) -> int:
    """How many active carry-in points name `org_id` as their repair centre."""
    return await Org.count().where(
        (Org.repair_centre_id == org_id) & (Org.status == RowStatus.ACTIVE) & (Org.is_carry_in == True)  # noqa: E712
    )


async def _parent(ctx: Ctx, v: Fields, parent_id: Any) -> dict | None:
    """The parent chosen for a new org, its refusals noted in `v` on `parent_id`."""
    pid = v(validate.ident, parent_id, "上级机构", "parent_id")
    if pid is None:
        return None
    await hooks.hold(Org, [pid])  # the parent's delete under way ends first, or waits for this
    parent = await get(ctx, pid)
    if parent["status"] != RowStatus.ACTIVE:
        v(_refuse, "上级机构已删除，不能在其下添加机构", "parent_id", "parent_deleted")
        return None
    tenant = await _tenant(ctx)
    if parent["depth"] + 1 > tenant["max_org_depth"]:
        v(_refuse, f"机构层级不能超过 {tenant['max_org_depth']} 级", "parent_id", "too_deep")
        return None
    return parent


def child_level(parent: dict) -> int:
    """A new org's price tier unless one is given: one below its parent's (at most 4)."""
    return min(parent["level"] + 1, 4)


def _code_is(code: str) -> WhereRaw:
    """Org.code equals `code` ignoring case (codes are ASCII, where lower() agrees everywhere)."""
    return WhereRaw('lower("org"."code") = {}', code.lower())


def _taken(code: str, existing: str) -> Conflict:
    why = "" if existing == code else "（代码不区分大小写）"
    return Conflict(f"机构代码 {existing} 已存在{why}", code="duplicate_code", field="code")


async def create(ctx: Ctx, data: dict) -> dict:
    """Every field is checked before anything is refused: the answer lists all the mistakes."""
    v = Fields()
    code = v(
        validate.text,
        data.get("code"),
        "机构代码",
        32,
        required=True,
        field="code",
        pattern=CODE_PATTERN,
        pattern_msg="机构代码只能包含字母、数字、下划线和短横线（最多 32 位）",
    )
    fields = _clean({"name": None, "enabled": True} | {k: data[k] for k in EDITABLE if k in data}, v)
    async with atomic():
        parent = await _parent(ctx, v, data.get("parent_id"))
        # codes are unique ignoring case (`sz01` beside `SZ01` was refused by nobody), stored as
        # typed; the unique index on (tenant_id, lower(code)) decides between concurrent saves
        same = code and await Org.select(Org.code).where(scoped(ctx, Org) & _code_is(code)).first()
        v.done(_taken(code, same["code"]) if same else None)
        fields["is_carry_in"] = bool(fields.get("is_carry_in"))
        fields["is_repair_centre"] = bool(fields.get("is_repair_centre"))
        fields["repair_centre_id"] = await _centre(ctx, v, None, fields["is_carry_in"], fields.get("repair_centre_id"))
        v.done()
        if fields.get("level") is None:
            fields["level"] = child_level(parent)
        t = now()
        row = Org(
            tenant_id=ctx.tenant_id,
            code=code,
            parent=parent["id"],
            kind=OrgKind.BRANCH,
            depth=parent["depth"] + 1,
            path="",
            created_at=t,
            updated_at=t,
            **fields,
        )
        inserted = await Org.insert(row).on_conflict(action="DO NOTHING").returning(Org.id)
        if not inserted:
            raise _taken(code, code)
        row.id = inserted[0]["id"]
        row.path = child_path(parent["path"], row.id)
        await row.save([Org.path])
        created = await get(ctx, row.id)
        await audit.record(ctx, "create", "org", row.id, f"添加机构 {code} {fields['name']}", after=as_dict(created))
        realtime.emit(ctx.tenant_id, created["path"], "orgs", "created", row.id)
    return created


async def _end_member_sessions(tenant_id: int, org_id: int) -> None:
    """As when each member is disabled: their sessions and tokens end for good, so enabling the
    org again later does not bring old sessions back; their live sockets are closed."""
    await ApiToken.delete().where(ApiToken.user.is_in(User.select(User.id).where(User.org == org_id)))
    await User.update({User.auth_epoch: User.auth_epoch + 1}).where(User.org == org_id)
    realtime.kick_org(tenant_id, org_id)


async def update(ctx: Ctx, org_id: Any, data: dict) -> dict:
    async with atomic():
        org = await get(ctx, org_id)
        if org["status"] != RowStatus.ACTIVE:
            raise Conflict("机构已删除，不能修改", code="deleted")
        v = Fields()
        if "code" in data and data["code"] is not None and data["code"] != org["code"]:
            v(_refuse, "机构代码不可修改", "code", "immutable")
        if "parent_id" in data and data["parent_id"] not in (None, "") and str(data["parent_id"]) != str(org["parent"]):
            v(_refuse, "上级机构不可修改", "parent_id", "immutable")
        cleaned = _clean({k: data[k] for k in EDITABLE if k in data}, v)
        fields = {k: x for k, x in cleaned.items() if x is not None and k != "repair_centre_id"}
        carry_in = fields.get("is_carry_in", org["is_carry_in"])
        if carry_in or org["repair_centre_id"] is not None:
            given = cleaned["repair_centre_id"] if "repair_centre_id" in data else org["repair_centre_id"]
            centre = await _centre(ctx, v, org["id"], carry_in, given)
            if v.ok and centre != org["repair_centre_id"]:
                fields["repair_centre_id"] = centre
        if fields.get("is_repair_centre") is False and org["is_repair_centre"]:
            points = await _carry_in_points_of(org["id"])
            if points:
                v(
                    _refuse,
                    f"还有 {points} 个接机点以该机构为维修中心，请先另选",
                    "is_repair_centre",
                    "in_use",
                )
        if org["id"] == ctx.org_id and fields.get("level", org["level"]) != org["level"]:
            # the level picks the org's price tier: only an ancestor sets it
            raise Forbidden("机构级别只能由上级机构设置，不能修改自己所属机构的级别", code="own_org")
        if fields.get("enabled") is False and org["enabled"]:
            if org["kind"] == OrgKind.HQ:
                v(_refuse, "总部不能停用", "enabled", "hq_protected")
            if org["id"] == ctx.org_id:
                v(_refuse, "不能停用自己所属的机构", "enabled", "own_org")
        v.done()
        if fields:
            await Org.update({**{getattr(Org, k): x for k, x in fields.items()}, Org.updated_at: now()}).where(
                Org.id == org["id"]
            )
        updated = await get(ctx, org["id"])
        before, after = audit.changes(as_dict(org), as_dict(updated))
        if after:
            await audit.record(ctx, "update", "org", org["id"], f"修改机构 {org['code']}", before, after)
            realtime.emit(ctx.tenant_id, org["path"], "orgs", "updated", org["id"])
        if org["enabled"] and not updated["enabled"]:
            await _end_member_sessions(ctx.tenant_id, org["id"])
    return updated


async def _set_status(ctx: Ctx, org: dict, status: RowStatus, action: str, summary: str) -> None:
    await Org.update({Org.status: status, Org.updated_at: now()}).where(Org.id == org["id"])
    await audit.record(ctx, action, "org", org["id"], summary, {"status": org["status"]}, {"status": status})


async def restore(ctx: Ctx, org_id: Any) -> dict:
    """【恢复】 a deleted org (its users may log in again), under a parent that is not deleted."""
    async with atomic():
        org = await get(ctx, org_id)
        if org["status"] != RowStatus.DELETED:
            raise Conflict("机构未删除，无需恢复", code="not_deleted")
        parent = await Org.select(Org.status).where(Org.id == org["parent"]).first()
        if parent is None or parent["status"] != RowStatus.ACTIVE:
            raise Conflict("上级机构已删除，请先恢复上级机构", code="parent_deleted")
        await _set_status(ctx, org, RowStatus.ACTIVE, "restore", f"恢复机构 {org['code']}")
        realtime.emit(ctx.tenant_id, org["path"], "orgs", "updated", org["id"])
        return await get(ctx, org["id"])


async def delete(ctx: Ctx, org_id: Any) -> dict:
    """Soft delete: the org leaves every picker and its users can no longer log in. Refused while
    sub-orgs, stock or open documents use it (`impact`)."""
    oid = validate.ident(org_id, "机构", "org_id")
    async with atomic():
        await hooks.lock_for_delete(Org, [oid])
        org = await get(ctx, oid)
        if org["status"] == RowStatus.DELETED:
            raise Conflict("机构已经删除", code="already_deleted")
        if org["kind"] == OrgKind.HQ:
            raise Conflict("总部不能删除", code="hq_protected")
        if org["id"] == ctx.org_id:
            raise Conflict("不能删除自己所属的机构", code="own_org")
        if await Org.exists().where((Org.parent == org["id"]) & (Org.status == RowStatus.ACTIVE)):
            raise Conflict("该机构下还有未删除的下级机构，不能删除", code="has_children")
        found = await impact(ctx, org["id"])
        if found["refusal"]:
            raise Conflict(found["refusal"], code="in_use")
        await _set_status(ctx, org, RowStatus.DELETED, "delete", f"删除机构 {org['code']}")
        realtime.emit(ctx.tenant_id, org["path"], "orgs", "deleted", org["id"])
        await _end_member_sessions(ctx.tenant_id, org["id"])
        return await get(ctx, org["id"])


# the dialog's rows: what hangs under the org, then what its stock and money hang on
IMPACT_ORDER = ("children", "users", "warehouses", "stock_qty", "open_docs", "credit_account", "open_credit_docs")


async def impact(ctx: Ctx, org_id: Any) -> dict:
    """What deleting an org takes out of use: its sub-orgs and users, and what upper domains count
    on it (warehouses assigned, stock on hand, open documents, its credit line:
    `core.hooks.usage`). `refusal` is the reason the delete is refused ("" when it may go ahead)."""
    org = await get(ctx, org_id)
    children = await Org.count().where((Org.parent == org["id"]) & (Org.status == RowStatus.ACTIVE))
    members = await User.count().where((User.org == org["id"]) & (User.status == RowStatus.ACTIVE))
    counts = [
        Usage("children", "下级机构", children, blocking=True, reason=f"还有 {children} 个未删除的下级机构"),
        Usage("users", "用户（删除后不能登录）", members),
        *await hooks.usage(ctx, "org", [org["id"]]),
    ]
    points = await _carry_in_points_of(org["id"])
    if points:
        counts.append(
            Usage(
                "carry_in_points",
                "以其为维修中心的接机点",
                points,
                blocking=True,
                reason=f"还是 {points} 个接机点的维修中心",
            )
        )
    counts.sort(key=lambda u: IMPACT_ORDER.index(u.key) if u.key in IMPACT_ORDER else len(IMPACT_ORDER))
    reasons = [u.reason for u in counts if u.blocking and u.count > 0]
    refusal = f"机构【{org['name']}】{'、'.join(reasons)}，不能删除" if reasons else ""
    return {"org": org, "counts": counts, "refusal": refusal}
