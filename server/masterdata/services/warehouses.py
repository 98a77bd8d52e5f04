"""Warehouse definitions and their assignment to orgs (SPEC 2.6).

A definition is usable only where assigned. Stock is held per org warehouse (one row per
(warehouse, org) pair); disabling a pair stops that org only, disabling the definition stops all.
"""

from __future__ import annotations

from typing import Any

import realtime
from server.core import audit, hooks, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.hooks import Usage
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.core.xlsx import MAX_EXPORT_ROWS, yes_no
from server.masterdata import permissions as P
from server.masterdata.services.common import (
    CODE_MESSAGE,
    CODE_PATTERN,
    HQ_ONLY,
    STATUSES,
    code_conflict,
    finish,
    insert_coded,
    mark_deleted,
)
from server.masterdata.states import Status, WarehouseType
from server.masterdata.tables import OrgWarehouse, Warehouse
from server.system.services import orgs as org_service
from server.system.tables import Org

TYPES = WarehouseType.labels()
FIELDS = ("id", "code", "name", "type", "enabled", "status")

realtime.topic("warehouses", P.WAREHOUSE["view"], tenant_wide=True)


class WarehouseFilters(Filters):
    """The 【仓库定义】 list and its export."""

    q: str = ""
    type: str = ""
    status: str = ""
    enabled: str = ""


class AssignmentFilters(Filters):
    """The 【仓库设置】 list and its export."""

    org_id: str = ""
    warehouse_id: str = ""
    type: str = ""


def as_dict(row: dict) -> dict:
    return {k: row[k] for k in FIELDS}


async def get(ctx: Ctx, warehouse_id: Any) -> dict:
    wid = validate.ident(warehouse_id, "仓库", "warehouse_id")
    row = await Warehouse.select().where(scoped(ctx, Warehouse) & (Warehouse.id == wid)).first()
    if row is None:
        raise NotFound("仓库")
    return row


async def search(
    ctx: Ctx, filters: WarehouseFilters | None = None, *, params: PageParams = PageParams(), **by_name: Any
) -> Page:
    """The definitions: a `WarehouseFilters`, or its fields by name."""
    f = filters or WarehouseFilters(**by_name)
    where = scoped(ctx, Warehouse)
    q = validate.text(f.q, "关键字", 50)
    if q:
        where &= contains(Warehouse.code, q) | contains(Warehouse.name, q)
    if f.type:
        where &= Warehouse.type == validate.choice(f.type, "仓库类型", TYPES, "type")
    if f.status:
        where &= Warehouse.status == validate.choice(f.status, "状态", STATUSES, "status")
    if f.enabled not in (None, ""):
        where &= Warehouse.enabled == validate.boolean(f.enabled, "是否启用", "enabled")
    return await paginate(
        Warehouse.select().where(where).order_by(Warehouse.code), Warehouse.count().where(where), params
    )


async def create(ctx: Ctx, data: dict) -> dict:
    """Every field is checked before anything is refused: the answer lists all the mistakes."""
    ctx.require_hq(HQ_ONLY)
    v = Fields()
    code = v(
        validate.text,
        data.get("code"),
        "仓库编码",
        32,
        required=True,
        field="code",
        pattern=CODE_PATTERN,
        pattern_msg=CODE_MESSAGE,
    )
    name = v(validate.text, data.get("name"), "仓库名称", 100, required=True, field="name")
    wtype = v(validate.choice, data.get("type"), "仓库类型", TYPES, "type")
    enabled = v(validate.boolean, data.get("enabled", True), "是否启用", "enabled")
    async with atomic():
        finish(v, await code_conflict(ctx, Warehouse, code, "仓库编码"))
        t = now()
        row = Warehouse(
            tenant_id=ctx.tenant_id, code=code, name=name, type=wtype, enabled=enabled, created_at=t, updated_at=t
        )
        await insert_coded(ctx, row, "仓库编码")
        created = await get(ctx, row.id)
        await audit.record(ctx, "create", "warehouse", row.id, f"添加仓库 {code}", after=as_dict(created))
        realtime.emit_tenant(ctx.tenant_id, "warehouses", "created", row.id)
    return created


async def update(ctx: Ctx, warehouse_id: Any, data: dict) -> dict:
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        row = await get(ctx, warehouse_id)
        if row["status"] != Status.ACTIVE:
            raise Conflict("仓库已删除，不能修改", code="deleted")
        v = Fields()
        if data.get("code") not in (None, row["code"]):
            v.errors.append(BusinessError("仓库编码不可修改", code="immutable", field="code"))
        values: dict = {}
        if "name" in data:
            values[Warehouse.name] = v(validate.text, data["name"], "仓库名称", 100, required=True, field="name")
        if "type" in data:
            values[Warehouse.type] = v(validate.choice, data["type"], "仓库类型", TYPES, "type")
        if "enabled" in data:
            values[Warehouse.enabled] = v(validate.boolean, data["enabled"], "是否启用", "enabled")
        finish(v)
        if values:
            await Warehouse.update({**values, Warehouse.updated_at: now()}).where(Warehouse.id == row["id"])
        updated = await get(ctx, row["id"])
        before, after = audit.changes(as_dict(row), as_dict(updated))
        if after:
            await audit.record(ctx, "update", "warehouse", row["id"], f"修改仓库 {row['code']}", before, after)
            realtime.emit_tenant(ctx.tenant_id, "warehouses", "updated", row["id"])
    return updated


async def delete(ctx: Ctx, warehouse_id: Any) -> dict:
    """Soft delete, refused while stock or open documents use the warehouse (`impact`)."""
    ctx.require_hq(HQ_ONLY)
    wid = validate.ident(warehouse_id, "仓库", "warehouse_id")
    async with atomic():
        await hooks.lock_for_delete(Warehouse, [wid])
        row = await get(ctx, wid)
        if row["status"] == Status.DELETED:
            raise Conflict("仓库已经删除", code="already_deleted")
        found = await impact(ctx, row["id"])
        if found["refusal"]:
            raise Conflict(found["refusal"], code="in_use")
        await mark_deleted(ctx, Warehouse, row["id"], "warehouse", f"删除仓库 {row['code']}", "warehouses")
        return await get(ctx, row["id"])


async def impact(ctx: Ctx, warehouse_id: Any) -> dict:
    """What deleting a warehouse takes out of use: the orgs it is assigned to, and what upper
    domains count on it (stock on hand, open documents: `core.hooks.usage`). `refusal` is the
    reason the delete is refused ("" when it may go ahead)."""
    ctx.require_hq(HQ_ONLY)
    row = await get(ctx, warehouse_id)
    assigned = await OrgWarehouse.count().where(scoped(ctx, OrgWarehouse) & (OrgWarehouse.warehouse == row["id"]))
    counts = [Usage("orgs", "已套用的机构", assigned), *await hooks.usage(ctx, "warehouse", [row["id"]])]
    reasons = [u.reason for u in counts if u.blocking and u.count > 0]
    refusal = f"仓库【{row['name']}】{'、'.join(reasons)}，不能删除" if reasons else ""
    return {"warehouse": row, "counts": counts, "refusal": refusal}


async def restore(ctx: Ctx, warehouse_id: Any) -> dict:
    """Undo a delete: the warehouse is usable again wherever it stayed assigned (its code was never
    reused: codes are unique among deleted rows too)."""
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        row = await get(ctx, warehouse_id)
        if row["status"] == Status.ACTIVE:
            raise Conflict(f"仓库【{row['name']}】未删除，无需恢复", code="not_deleted")
        await Warehouse.update({Warehouse.status: Status.ACTIVE, Warehouse.updated_at: now()}).where(
            Warehouse.id == row["id"]
        )
        summary = f"恢复仓库 {row['code']}"
        await audit.record(
            ctx, "restore", "warehouse", row["id"], summary, {"status": Status.DELETED}, {"status": Status.ACTIVE}
        )
        realtime.emit_tenant(ctx.tenant_id, "warehouses", "restored", row["id"])
        return await get(ctx, row["id"])


# --- assignment (仓库设置) ----------------------------------------------------------------------

ASSIGNMENT_COLUMNS = (
    OrgWarehouse.id,
    OrgWarehouse.org_id,
    OrgWarehouse.enabled,
    OrgWarehouse.warehouse,
    OrgWarehouse.warehouse.code.as_alias("warehouse_code"),
    OrgWarehouse.warehouse.name.as_alias("warehouse_name"),
    OrgWarehouse.warehouse.type.as_alias("warehouse_type"),
    OrgWarehouse.warehouse.enabled.as_alias("warehouse_enabled"),
    OrgWarehouse.warehouse.status.as_alias("warehouse_status"),
)


def assignment_dict(row: dict, org: dict | None = None) -> dict:
    usable = row["enabled"] and row["warehouse_enabled"] and row["warehouse_status"] == Status.ACTIVE
    return {
        "id": row["id"],
        "warehouse_id": row["warehouse"],
        "org_id": row["org_id"],
        "enabled": row["enabled"],
        "warehouse_code": row["warehouse_code"],
        "warehouse_name": row["warehouse_name"],
        "warehouse_type": row["warehouse_type"],
        "usable": usable,
        "org_name": org["name"] if org else "",
        "org_code": org["code"] if org else "",
    }


async def _assignable_orgs(ctx: Ctx) -> dict[int, dict]:
    """The orgs a warehouse may be assigned to, by id: the active orgs of the caller's subtree
    (the domain rule of 仓库设置, with their names and codes for the rows)."""
    return {o["id"]: o for o in await org_service.choices(ctx)}


async def assignments(
    ctx: Ctx, filters: AssignmentFilters | None = None, *, params: PageParams = PageParams(), **by_name: Any
) -> Page:
    """Org warehouses of the caller's subtree: an `AssignmentFilters`, or its fields by name."""
    f = filters or AssignmentFilters(**by_name)
    org_map = await _assignable_orgs(ctx)
    where = scoped(ctx, OrgWarehouse) & OrgWarehouse.org_id.is_in(list(org_map) or [0])
    if f.org_id not in (None, ""):
        where &= OrgWarehouse.org_id == validate.ident(f.org_id, "机构", "org_id")
    if f.warehouse_id not in (None, ""):
        where &= OrgWarehouse.warehouse == validate.ident(f.warehouse_id, "仓库", "warehouse_id")
    if f.type:
        where &= OrgWarehouse.warehouse.type == validate.choice(f.type, "仓库类型", TYPES, "type")
    page = await paginate(
        OrgWarehouse.select(*ASSIGNMENT_COLUMNS)
        .where(where)
        .order_by(OrgWarehouse.org_id)
        .order_by(OrgWarehouse.warehouse.code),
        OrgWarehouse.count().where(where),
        params,
    )
    return page.with_items([assignment_dict(r, org_map.get(r["org_id"])) for r in page.items])


async def assign(ctx: Ctx, warehouse_ids: Any, org_ids: Any) -> list[dict]:
    """【仓库套用机构】: every checked warehouse to every checked org, in one save; idempotent.
    Answers every checked pair, each marked `created` when this save added it."""
    ctx.require_hq(HQ_ONLY)
    wids = validate.id_list(warehouse_ids, "仓库", "warehouse_ids", max_items=200)
    oids = validate.id_list(org_ids, "机构", "org_ids", max_items=5000)
    if not wids:
        raise BusinessError("请至少勾选一个仓库", code="required", field="warehouse_ids")
    if not oids:
        raise BusinessError("请至少勾选一个机构", code="required", field="org_ids")
    async with atomic():
        whs = await Warehouse.select().where(scoped(ctx, Warehouse) & Warehouse.id.is_in(wids))
        if len(whs) != len(wids):
            raise BusinessError("所选仓库不存在", code="unknown_warehouse", field="warehouse_ids")
        for w in whs:
            if w["status"] != Status.ACTIVE or not w["enabled"]:
                raise BusinessError(
                    f"仓库 {w['name']} 已停用或已删除，不能套用", code="warehouse_disabled", field="warehouse_ids"
                )
        org_map = await _assignable_orgs(ctx)
        missing = [o for o in oids if o not in org_map]
        if missing:
            raise BusinessError("所选机构不存在或已删除", code="unknown_org", field="org_ids")
        existing = {
            (r["warehouse"], r["org_id"])
            for r in await OrgWarehouse.select(OrgWarehouse.warehouse, OrgWarehouse.org_id).where(
                scoped(ctx, OrgWarehouse) & OrgWarehouse.warehouse.is_in(wids) & OrgWarehouse.org_id.is_in(oids)
            )
        }
        t = now()
        new = [
            OrgWarehouse(tenant_id=ctx.tenant_id, warehouse=w, org_id=o, created_at=t)
            for w in wids
            for o in oids
            if (w, o) not in existing
        ]
        if new:
            await OrgWarehouse.insert(*new)
            await audit.record(
                ctx,
                "assign",
                "warehouse_assignment",
                None,
                f"仓库套用机构：{len(wids)} 个仓库 × {len(oids)} 个机构，新增 {len(new)} 条",
                after={"warehouse_ids": wids, "org_ids": oids},
            )
            realtime.emit_tenant(ctx.tenant_id, "warehouses", "assigned", "")
        rows = await OrgWarehouse.select(*ASSIGNMENT_COLUMNS).where(
            scoped(ctx, OrgWarehouse) & OrgWarehouse.warehouse.is_in(wids) & OrgWarehouse.org_id.is_in(oids)
        )
    # `created` tells the page which pairs this save added (its toast counts them)
    return [
        assignment_dict(r, org_map.get(r["org_id"])) | {"created": (r["warehouse"], r["org_id"]) not in existing}
        for r in rows
    ]


async def get_assignment(ctx: Ctx, assignment_id: Any) -> dict:
    aid = validate.ident(assignment_id, "仓库设置", "id")
    org_map = await _assignable_orgs(ctx)
    row = (
        await OrgWarehouse.select(*ASSIGNMENT_COLUMNS)
        .where(scoped(ctx, OrgWarehouse) & (OrgWarehouse.id == aid))
        .first()
    )
    if row is None or row["org_id"] not in org_map:
        raise NotFound("仓库设置")
    return assignment_dict(row, org_map[row["org_id"]])


async def set_assignment_enabled(ctx: Ctx, assignment_id: Any, enabled: Any) -> dict:
    """Disable or enable one org's use of a warehouse; other orgs are untouched."""
    ctx.require_hq(HQ_ONLY)
    flag = validate.boolean(enabled, "是否启用", "enabled")
    async with atomic():
        row = await get_assignment(ctx, assignment_id)
        if row["enabled"] != flag:
            await OrgWarehouse.update({OrgWarehouse.enabled: flag}).where(OrgWarehouse.id == row["id"])
            await audit.record(
                ctx,
                "update",
                "warehouse_assignment",
                row["id"],
                f"{'启用' if flag else '停用'} {row['org_name']} 的仓库 {row['warehouse_code']}",
                {"enabled": row["enabled"]},
                {"enabled": flag},
            )
            realtime.emit_tenant(ctx.tenant_id, "warehouses", "updated", row["id"])
        return await get_assignment(ctx, row["id"])


async def usable_for_org(ctx: Ctx, org_id: int, types: tuple[str, ...] = ()) -> list[dict]:
    """The warehouse picker: an org's enabled warehouses, optionally of given types."""
    where = (
        scoped(ctx, OrgWarehouse)
        & (OrgWarehouse.org_id == org_id)
        & (OrgWarehouse.enabled == True)
        & (OrgWarehouse.warehouse.enabled == True)
        & (OrgWarehouse.warehouse.status == Status.ACTIVE)
    )
    if types:
        where &= OrgWarehouse.warehouse.type.is_in(list(types))
    rows = await OrgWarehouse.select(*ASSIGNMENT_COLUMNS).where(where).order_by(OrgWarehouse.warehouse.code)
    return [assignment_dict(r) for r in rows]


async def require_usable(
    ctx: Ctx, warehouse_id: Any, org_id: int, types: tuple[str, ...] = (), field: str = "warehouse_id"
) -> dict:
    """A document's warehouse: the definition must be an enabled assignment of the org (and of a type)."""
    wid = validate.ident(warehouse_id, "仓库", field)
    await hooks.hold(Warehouse, [wid])  # a delete of the warehouse or the org waits, or is seen
    if await hooks.hold(Org, [org_id]):
        raise BusinessError("机构已删除，不能再使用它的仓库", code="org_deleted", field=field)
    for row in await usable_for_org(ctx, org_id, types):
        if row["warehouse_id"] == wid:
            return row
    raise BusinessError("所选仓库未分配给该机构、已停用或类型不符", code="warehouse_unusable", field=field)


@hooks.counts_usage("org")
async def org_usage(ctx: Ctx, org_ids: Any) -> list[Usage]:
    """Before an org is deleted: the warehouses assigned to it (they stay, unusable by it)."""
    assigned = await OrgWarehouse.count().where(scoped(ctx, OrgWarehouse) & OrgWarehouse.org_id.is_in(org_ids))
    return [Usage("warehouses", "已套用的仓库", assigned)]


# --- the 【仓库套用机构】 dialog and the exports ----------------------------------------------------


async def assign_choices(ctx: Ctx) -> dict:
    """The dialog's two checkbox lists: the warehouses that can be assigned (enabled, not deleted;
    as many as one save takes) and the active orgs of the caller's subtree in tree order."""
    ctx.require_hq(HQ_ONLY)
    usable = await search(ctx, status=Status.ACTIVE, enabled=True, params=PageParams(1, 200))
    return {"warehouses": usable.items, "orgs": await org_service.choices(ctx)}


EXPORT_ALL = PageParams(1, MAX_EXPORT_ROWS)
EXPORT_HEADERS = ("仓库编码", "仓库名称", "仓库类型", "是否启用", "状态")
ASSIGNMENT_EXPORT_HEADERS = ("机构代码", "机构名称", "仓库编码", "仓库名称", "仓库类型", "是否启用", "可以使用")


async def export_rows(ctx: Ctx, filters: WarehouseFilters) -> list[list]:
    """The 【仓库定义】 list's current filter as rows of EXPORT_HEADERS."""
    page = await search(ctx, filters, params=EXPORT_ALL)
    return [[w["code"], w["name"], TYPES[w["type"]], yes_no(w["enabled"]), STATUSES[w["status"]]] for w in page.items]


async def assignment_export_rows(ctx: Ctx, filters: AssignmentFilters) -> list[list]:
    """The 【仓库设置】 list's current filter as rows of ASSIGNMENT_EXPORT_HEADERS."""
    page = await assignments(ctx, filters, params=EXPORT_ALL)
    return [
        [
            a["org_code"],
            a["org_name"],
            a["warehouse_code"],
            a["warehouse_name"],
            TYPES[a["warehouse_type"]],
            yes_no(a["enabled"]),
            yes_no(a["usable"]),
        ]
        for a in page.items
    ]
