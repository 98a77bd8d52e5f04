"""Suppliers (SPEC 2.7), used by inbound and outbound documents."""

from __future__ import annotations

from typing import Any

import realtime
from server.core import audit, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.core.xlsx import MAX_EXPORT_ROWS
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
from server.masterdata.states import Status
from server.masterdata.tables import Supplier

FIELDS = ("id", "code", "name", "contact", "phone", "enabled", "status")

realtime.topic("suppliers", P.SUPPLIER["view"], tenant_wide=True)


class SupplierFilters(Filters):
    """The supplier list and its export."""

    q: str = ""
    status: str = ""
    enabled: str = ""


def as_dict(row: dict) -> dict:
    return {k: row[k] for k in FIELDS}


async def get(ctx: Ctx, supplier_id: Any) -> dict:
    sid = validate.ident(supplier_id, "供应商", "supplier_id")
    row = await Supplier.select().where(scoped(ctx, Supplier) & (Supplier.id == sid)).first()
    if row is None:
        raise NotFound("供应商")
    return row


async def usable(ctx: Ctx, supplier_id: Any, field: str = "supplier_id") -> dict:
    try:
        row = await get(ctx, supplier_id)
    except NotFound:
        raise BusinessError("所选供应商不存在", code="unknown_supplier", field=field) from None
    if row["status"] != Status.ACTIVE or not row["enabled"]:
        raise BusinessError(f"供应商 {row['name']} 已停用或已删除", code="supplier_disabled", field=field)
    return row


async def search(
    ctx: Ctx, filters: SupplierFilters | None = None, *, params: PageParams = PageParams(), **by_name: Any
) -> Page:
    """The suppliers: a `SupplierFilters`, or its fields by name."""
    f = filters or SupplierFilters(**by_name)
    where = scoped(ctx, Supplier)
    q = validate.text(f.q, "关键字", 50)
    if q:
        where &= contains(Supplier.code, q) | contains(Supplier.name, q) | contains(Supplier.contact, q)
    if f.status:
        where &= Supplier.status == validate.choice(f.status, "状态", STATUSES, "status")
    if f.enabled not in (None, ""):
        where &= Supplier.enabled == validate.boolean(f.enabled, "是否启用", "enabled")
    return await paginate(Supplier.select().where(where).order_by(Supplier.code), Supplier.count().where(where), params)


EXPORT_HEADERS = ("供应商编码", "供应商名称", "联系人", "电话", "是否启用", "状态")


async def export_rows(ctx: Ctx, filters: SupplierFilters) -> list[list]:
    """The rows of the list as filtered, for its Excel export."""
    page = await search(ctx, filters, params=PageParams(1, MAX_EXPORT_ROWS))
    return [
        [s["code"], s["name"], s["contact"], s["phone"], "是" if s["enabled"] else "否", STATUSES[s["status"]]]
        for s in page.items
    ]


def _clean(data: dict, v: Fields) -> dict:
    """The fields present in `data`, each checked; a refused one is noted in `v`."""
    out: dict = {}
    if "name" in data:
        out["name"] = v(validate.text, data["name"], "供应商名称", 100, required=True, field="name")
    if "contact" in data:
        out["contact"] = v(validate.text, data["contact"], "联系人", 50, field="contact")
    if "phone" in data:
        out["phone"] = v(validate.text, data["phone"], "电话", 30, field="phone")
    if "enabled" in data:
        out["enabled"] = v(validate.boolean, data["enabled"], "是否启用", "enabled")
    return out


async def create(ctx: Ctx, data: dict) -> dict:
    """Every field is checked before anything is refused: the answer lists all the mistakes."""
    ctx.require_hq(HQ_ONLY)
    v = Fields()
    code = v(
        validate.text,
        data.get("code"),
        "供应商编码",
        32,
        required=True,
        field="code",
        pattern=CODE_PATTERN,
        pattern_msg=CODE_MESSAGE,
    )
    editable = {k: data[k] for k in ("name", "contact", "phone", "enabled") if k in data}
    fields = _clean({"name": None, "enabled": True} | editable, v)
    async with atomic():
        finish(v, await code_conflict(ctx, Supplier, code, "供应商编码"))
        t = now()
        row = Supplier(tenant_id=ctx.tenant_id, code=code, created_at=t, updated_at=t, **fields)
        await insert_coded(ctx, row, "供应商编码")
        created = await get(ctx, row.id)
        await audit.record(ctx, "create", "supplier", row.id, f"添加供应商 {code}", after=as_dict(created))
        realtime.emit_tenant(ctx.tenant_id, "suppliers", "created", row.id)
    return created


async def update(ctx: Ctx, supplier_id: Any, data: dict) -> dict:
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        row = await get(ctx, supplier_id)
        if row["status"] != Status.ACTIVE:
            raise Conflict("供应商已删除，不能修改", code="deleted")
        v = Fields()
        if data.get("code") not in (None, row["code"]):
            v.errors.append(BusinessError("供应商编码不可修改", code="immutable", field="code"))
        fields = _clean({k: data[k] for k in ("name", "contact", "phone", "enabled") if k in data}, v)
        finish(v)
        if fields:
            await Supplier.update(
                {**{getattr(Supplier, k): value for k, value in fields.items()}, Supplier.updated_at: now()}
            ).where(Supplier.id == row["id"])
        updated = await get(ctx, row["id"])
        before, after = audit.changes(as_dict(row), as_dict(updated))
        if after:
            await audit.record(ctx, "update", "supplier", row["id"], f"修改供应商 {row['code']}", before, after)
            realtime.emit_tenant(ctx.tenant_id, "suppliers", "updated", row["id"])
    return updated


async def delete(ctx: Ctx, supplier_id: Any) -> dict:
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        row = await get(ctx, supplier_id)
        if row["status"] == Status.DELETED:
            raise Conflict("供应商已经删除", code="already_deleted")
        await mark_deleted(ctx, Supplier, row["id"], "supplier", f"删除供应商 {row['code']}", "suppliers")
        return await get(ctx, row["id"])
