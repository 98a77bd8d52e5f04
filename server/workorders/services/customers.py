"""Customers of a tenant (SPEC 5 intake): found again by phone, so the front desk types the
phone first and the rest fills itself."""

from __future__ import annotations

from typing import Any

from server.core import audit, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains, starts_with
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.masterdata.services import dictionaries
from server.workorders.tables import Customer

PHONE = r"[0-9+\-() ]{3,20}"
EMAIL = r"[^@\s]{1,64}@[^@\s]{1,34}"


class CustomerFilters(Filters):
    q: str = ""  # name or phone
    phone: str = ""  # the phone exactly (the intake form's lookup)


def as_dict(row: dict) -> dict:
    return {k: row[k] for k in ("id", "name", "phone", "email", "address", "customer_type", "no_notify", "updated_at")}


async def get(ctx: Ctx, customer_id: Any) -> dict:
    cid = validate.ident(customer_id, "客户", "customer_id")
    row = await Customer.select().where(scoped(ctx, Customer) & (Customer.id == cid)).first()
    if row is None:
        raise NotFound("客户")
    return as_dict(row)


async def by_phone(ctx: Ctx, phone: Any) -> dict | None:
    """The customer with this phone (the oldest, should two share it), or None."""
    value = validate.text(phone, "手机号", 20, field="phone")
    if not value:
        return None
    row = await Customer.select().where(scoped(ctx, Customer) & (Customer.phone == value)).order_by(Customer.id).first()
    return as_dict(row) if row else None


async def search(ctx: Ctx, filters: CustomerFilters = CustomerFilters(), *, params: PageParams = PageParams()) -> Page:
    where = scoped(ctx, Customer)
    if filters.phone:
        where &= Customer.phone == validate.text(filters.phone, "手机号", 20, field="phone")
    if filters.q:
        q = validate.text(filters.q, "关键字", 50, field="q")
        where &= starts_with(Customer.phone, q) | contains(Customer.name, q)
    page = await paginate(
        Customer.select().where(where).order_by(Customer.id, ascending=False), Customer.count().where(where), params
    )
    return page.with_items([as_dict(r) for r in page.items])


async def clean(ctx: Ctx, data: Any, v: Fields, *, partial: bool = False, prefix: str = "") -> dict:
    """A customer's fields; with `partial` only those given."""
    if not isinstance(data, dict):
        raise BusinessError("客户信息格式不正确", code="invalid_field", field=f"{prefix}customer")
    out: dict = {}
    if not partial or "name" in data:
        out["name"] = v(validate.text, data.get("name"), "客户姓名", 50, True, field=f"{prefix}name")
    if not partial or "phone" in data:
        out["phone"] = v(
            validate.text, data.get("phone"), "手机号", 20, True, f"{prefix}phone", PHONE, "手机号只能包含数字和 +-()"
        )
    if "email" in data:
        out["email"] = v(validate.text, data["email"], "邮箱", 100, False, f"{prefix}email", EMAIL, "邮箱格式不正确")
    if not partial or "address" in data:
        out["address"] = v(validate.text, data.get("address"), "地址", 200, field=f"{prefix}address")
    if data.get("customer_type"):
        out["customer_type"] = await v.awaiting(
            dictionaries.require_code(ctx, "customer_type", data["customer_type"], f"{prefix}customer_type")
        )
    elif not partial or "customer_type" in data:
        out["customer_type"] = ""
    if "no_notify" in data:
        out["no_notify"] = v(validate.boolean, data["no_notify"], "不接收通知", field=f"{prefix}no_notify")
    return out


async def find_or_create(ctx: Ctx, data: dict) -> dict:
    """Intake's customer: the tenant's customer with this phone, its name, address and type
    brought up to date; a new one otherwise. Inside the caller's transaction."""
    existing = await by_phone(ctx, data["phone"])
    stamp = now()
    if existing is None:
        row = Customer(tenant_id=ctx.tenant_id, created_at=stamp, updated_at=stamp, **data)
        await row.save()
        await audit.record(ctx, "create", "customer", row.id, f"新客户 {data['name']} {data['phone']}", None, data)
        return await get(ctx, row.id)
    changes = {k: v for k, v in data.items() if v != "" and existing.get(k) != v}
    if changes:
        await Customer.update({**changes, Customer.updated_at: stamp}).where(
            scoped(ctx, Customer) & (Customer.id == existing["id"])
        )
        before, after = audit.changes(existing, existing | changes)
        await audit.record(ctx, "update", "customer", existing["id"], f"客户 {data['phone']}", before, after)
    return existing | changes


async def update(ctx: Ctx, customer_id: Any, data: dict) -> dict:
    v = Fields()
    customer = await get(ctx, customer_id)
    values = await clean(ctx, data, v, partial=True)
    v.done()
    async with atomic():
        if values:
            await Customer.update({**values, Customer.updated_at: now()}).where(
                scoped(ctx, Customer) & (Customer.id == customer["id"])
            )
            before, after = audit.changes(customer, customer | values)
            await audit.record(ctx, "update", "customer", customer["id"], f"客户 {customer['phone']}", before, after)
    return await get(ctx, customer["id"])
