"""Repair codes (SPEC 2.3) and fault reasons (SPEC 2.4): coded items filed under a category
and a class of one of the trees. One implementation serves both; `KINDS` says how they differ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.table import Table

import realtime
from server.core import audit, money, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.core.xlsx import MAX_EXPORT_ROWS, yes_no
from server.masterdata import permissions as P
from server.masterdata.services import trees
from server.masterdata.services.common import (
    CODE_MESSAGE,
    CODE_PATTERN,
    HQ_ONLY,
    STATUSES,
    code_conflict,
    finish,
    insert_coded,
    mark_deleted,
    usable_node,
)
from server.masterdata.states import Status, TreeKind
from server.masterdata.tables import FaultReason, RepairCode


@dataclass(frozen=True)
class Kind:
    table: type[Table]
    label: str
    class_kind: str  # tree of the class column
    class_field: str  # column / API field without _id
    perms: dict[str, str]


KINDS = {
    "repair_code": Kind(RepairCode, "维修代码", TreeKind.REPAIR_CLASS, "repair_class", P.REPAIR_CODE),
    "fault_reason": Kind(FaultReason, "故障原因", TreeKind.FAULT_CLASS, "fault_class", P.FAULT_REASON),
}


class CodeFilters(Filters):
    """The list of either kind and its export. The class is `class_id`, or named after its own
    tree (`repair_class_id` / `fault_class_id`)."""

    q: str = ""
    category_id: str = ""
    class_id: str = ""
    repair_class_id: str = ""
    fault_class_id: str = ""
    status: str = ""
    enabled: str = ""

    def class_of(self, kind: str) -> str:
        return self.class_id or getattr(self, f"{KINDS[kind].class_field}_id")


for _name, _kind in KINDS.items():
    realtime.topic(f"{_name}s", _kind.perms["view"], tenant_wide=True)


def as_dict(kind: str, row: dict) -> dict:
    k = KINDS[kind]
    out = {
        "id": row["id"],
        "code": row["code"],
        "name": row["name"],
        "enabled": row["enabled"],
        "status": row["status"],
        "category_id": row["category"],
        "category_name": row.get("category_name", ""),
        f"{k.class_field}_id": row[k.class_field],
        f"{k.class_field}_name": row.get("class_name", ""),
    }
    if kind == "repair_code":
        out |= {"labor_fee": money.fmt(row["labor_fee"]), "uses_material": row["uses_material"]}
    return out


def _columns(kind: str) -> list:
    k = KINDS[kind]
    t = k.table
    return [
        *t.all_columns(),
        t.category.name.as_alias("category_name"),
        getattr(t, k.class_field).name.as_alias("class_name"),
    ]


async def get(ctx: Ctx, kind: str, item_id: Any) -> dict:
    k = KINDS[kind]
    iid = validate.ident(item_id, k.label, "id")
    row = await k.table.select(*_columns(kind)).where(scoped(ctx, k.table) & (k.table.id == iid)).first()
    if row is None:
        raise NotFound(k.label)
    return row


async def by_ids(ctx: Ctx, kind: str, item_ids: set[int]) -> dict[int, dict]:
    """Some items of a kind (deleted ones too) by id, with `code`, `name` and, for repair codes,
    `labor_fee`: what a document shows and charges for them, in one query."""
    if not item_ids:
        return {}
    t = KINDS[kind].table
    columns = [t.id, t.code, t.name] + ([t.labor_fee] if hasattr(t, "labor_fee") else [])
    return {r["id"]: r for r in await t.select(*columns).where(scoped(ctx, t) & t.id.is_in(list(item_ids)))}


async def search(
    ctx: Ctx,
    kind: str,
    filters: CodeFilters | None = None,
    *,
    usable_only: bool = False,
    categories: list[int] | None = None,
    params: PageParams = PageParams(),
    **by_name: Any,
) -> Page:
    """Filters by category (its whole subtree) and class; `usable_only` for pickers; `categories`
    the items filed in exactly these (a product's category and its ancestors). The filters are a
    `CodeFilters`, or its fields by name."""
    f = filters or CodeFilters(**by_name)
    k = KINDS[kind]
    t = k.table
    where = scoped(ctx, t)
    q = validate.text(f.q, "关键字", 50)
    if q:
        where &= contains(t.code, q) | contains(t.name, q)
    if f.category_id not in (None, ""):
        where &= t.category.is_in(await trees.subtree_ids(ctx, TreeKind.CATEGORY, f.category_id))
    if f.class_of(kind) not in (None, ""):
        where &= getattr(t, k.class_field).is_in(await trees.subtree_ids(ctx, k.class_kind, f.class_of(kind)))
    if f.status:
        where &= t.status == validate.choice(f.status, "状态", STATUSES, "status")
    if f.enabled not in (None, ""):
        where &= t.enabled == validate.boolean(f.enabled, "是否启用", "enabled")
    if categories is not None:
        where &= t.category.is_in(categories or [0])
    if usable_only:
        where &= (
            (t.status == Status.ACTIVE)
            & (t.enabled == True)
            & (t.category.status == Status.ACTIVE)
            & (getattr(t, k.class_field).status == Status.ACTIVE)
        )
    page = await paginate(t.select(*_columns(kind)).where(where).order_by(t.code), t.count().where(where), params)
    return page.with_items([as_dict(kind, r) for r in page.items])


async def usable(ctx: Ctx, kind: str, item_id: Any, field: str) -> dict:
    """An item a document may use: enabled, not deleted, and its category and class usable."""
    k = KINDS[kind]
    try:
        row = await get(ctx, kind, item_id)
    except NotFound:
        raise BusinessError(f"所选{k.label}不存在", code="unknown_code", field=field) from None
    if row["status"] != Status.ACTIVE or not row["enabled"]:
        raise BusinessError(f"{k.label} {row['code']} 已停用或已删除", code="code_disabled", field=field)
    await trees.usable(ctx, TreeKind.CATEGORY, row["category"], field=field)
    await trees.usable(ctx, k.class_kind, row[k.class_field], field=field)
    return row


def _labor_fee(value: Any) -> int:
    try:
        fee = money.parse(value, "维修劳务费")
    except BusinessError as e:
        raise BusinessError(e.detail, code=e.code, field="labor_fee") from None
    if fee < 0:
        raise BusinessError("维修劳务费不能为负数", code="negative_money", field="labor_fee")
    return money.to_units(fee)


async def _clean(ctx: Ctx, kind: str, data: dict, v: Fields) -> dict:
    """The fields present in `data`, each checked; a refused one is noted in `v`."""
    k = KINDS[kind]
    out: dict = {}
    if "name" in data:
        out["name"] = v(validate.text, data["name"], "名称", 100, required=True, field="name")
    if "enabled" in data:
        out["enabled"] = v(validate.boolean, data["enabled"], "是否启用", "enabled")
    if "category_id" in data:
        node = await usable_node(v, ctx, TreeKind.CATEGORY, data["category_id"], "品类", "category_id")
        out["category"] = node and node["id"]
    class_key = f"{k.class_field}_id"
    if class_key in data:
        label = trees.KINDS[k.class_kind]
        node = await usable_node(v, ctx, k.class_kind, data[class_key], label, class_key)
        out[k.class_field] = node and node["id"]
    if kind == "repair_code":
        if "labor_fee" in data:
            out["labor_fee"] = v(_labor_fee, data["labor_fee"])
        if "uses_material" in data:
            out["uses_material"] = v(validate.boolean, data["uses_material"], "是否用料", "uses_material")
    return out


async def create(ctx: Ctx, kind: str, data: dict) -> dict:
    """Every field is checked before anything is refused: the answer lists all the mistakes."""
    k = KINDS[kind]
    ctx.require_hq(HQ_ONLY)
    v = Fields()
    code = v(
        validate.text,
        data.get("code"),
        "编码",
        32,
        required=True,
        field="code",
        pattern=CODE_PATTERN,
        pattern_msg=CODE_MESSAGE,
    )
    async with atomic():
        # name, category and class are required: absent, they are checked as empty
        required = {"name": None, "category_id": None, f"{k.class_field}_id": None}
        fields = await _clean(ctx, kind, required | data, v)
        finish(v, await code_conflict(ctx, k.table, code, f"{k.label}编码"))
        t = now()
        row = k.table(tenant_id=ctx.tenant_id, code=code, created_at=t, updated_at=t, **fields)
        await insert_coded(ctx, row, f"{k.label}编码")
        created = as_dict(kind, await get(ctx, kind, row.id))
        await audit.record(ctx, "create", kind, row.id, f"添加{k.label} {code}", after=created)
        realtime.emit_tenant(ctx.tenant_id, f"{kind}s", "created", row.id)
    return created


async def update(ctx: Ctx, kind: str, item_id: Any, data: dict) -> dict:
    k = KINDS[kind]
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        row = await get(ctx, kind, item_id)
        if row["status"] != Status.ACTIVE:
            raise Conflict(f"{k.label}已删除，不能修改", code="deleted")
        v = Fields()
        if data.get("code") not in (None, row["code"]):
            v.errors.append(BusinessError("编码不可修改", code="immutable", field="code"))
        fields = await _clean(ctx, kind, data, v)
        finish(v)
        if fields:
            await k.table.update(
                {**{getattr(k.table, f): value for f, value in fields.items()}, k.table.updated_at: now()}
            ).where(k.table.id == row["id"])
        updated = as_dict(kind, await get(ctx, kind, row["id"]))
        before, after = audit.changes(as_dict(kind, row), updated)
        if after:
            await audit.record(ctx, "update", kind, row["id"], f"修改{k.label} {row['code']}", before, after)
            realtime.emit_tenant(ctx.tenant_id, f"{kind}s", "updated", row["id"])
    return updated


async def delete(ctx: Ctx, kind: str, item_id: Any) -> dict:
    k = KINDS[kind]
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        row = await get(ctx, kind, item_id)
        if row["status"] == Status.DELETED:
            raise Conflict(f"{k.label}已经删除", code="already_deleted")
        await mark_deleted(ctx, k.table, row["id"], kind, f"删除{k.label} {row['code']}", f"{kind}s")
        return as_dict(kind, await get(ctx, kind, row["id"]))


async def with_paths(ctx: Ctx, kind: str, items: list[dict]) -> list[dict]:
    """Items of `search` with `category_path` and `class_path` for lists and exports."""
    class_key = f"{KINDS[kind].class_field}_id"
    paths = await trees.paths_of(ctx, {i["category_id"] for i in items} | {i[class_key] for i in items})
    return [
        i | {"category_path": paths.get(i["category_id"], ""), "class_path": paths.get(i[class_key], "")} for i in items
    ]


async def export_rows(ctx: Ctx, kind: str, filters: CodeFilters) -> tuple[list[str], list[list]]:
    """The list's current filter as (headers, rows), money as 4-decimal text."""
    k = KINDS[kind]
    page = await search(ctx, kind, filters, params=PageParams(1, MAX_EXPORT_ROWS))
    fee = kind == "repair_code"
    headers = [
        f"{k.label}编码",
        f"{k.label}名称",
        *(["维修劳务费", "是否用料"] if fee else []),
        "品类",
        trees.KINDS[k.class_kind],
        "是否启用",
        "状态",
    ]
    rows = [
        [
            i["code"],
            i["name"],
            *([i["labor_fee"], yes_no(i["uses_material"])] if fee else []),
            i["category_path"],
            i["class_path"],
            yes_no(i["enabled"]),
            STATUSES[i["status"]],
        ]
        for i in await with_paths(ctx, kind, page.items)
    ]
    return headers, rows
