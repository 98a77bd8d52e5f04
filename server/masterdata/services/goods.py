"""Goods (SPEC 2.5): code and category fixed at creation, four level price tiers, per-store
overrides, and `price_for`, the one function that decides a price anywhere in the system."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import realtime
from server.core import audit, hooks, money, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic, json_list, json_rows
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.pagination import Page, PageParams, Window, cached_read, paginate
from server.core.search import code_or_name, code_or_name_plain
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.masterdata import permissions as P
from server.masterdata.services import trees
from server.masterdata.services.common import (
    HQ_ONLY,
    STATUSES,
    code_conflict,
    finish,
    insert_coded,
    mark_deleted,
    usable_node,
)
from server.masterdata.states import Status, TreeKind
from server.masterdata.tables import Goods, GoodsPrice, GoodsStorePrice, GoodsType
from server.system.services import orgs as org_service

LEVELS = (1, 2, 3, 4)
CODE_PATTERN = r"[A-Za-z0-9._/-]{1,64}"
EDITABLE = (
    "name",
    "goods_type_id",
    "unit",
    "spec",
    "purchase_cost",
    "is_intake_item",
    "enabled",
    "safety_stock",
    "per_store_pricing",
)

realtime.topic("goods", P.GOODS["view"], tenant_wide=True)


class GoodsFilters(Filters):
    """The goods list, its export and (some of them) the picker."""

    q: str = ""
    category_id: str = ""
    goods_type_id: str = ""
    status: str = ""
    enabled: str = ""
    is_intake_item: str = ""


@dataclass(frozen=True)
class Price:
    order_price: Decimal
    retail_price: Decimal
    orderable: bool
    source: str  # "level" | "store"


COLUMNS = (
    *Goods.all_columns(),
    Goods.category.name.as_alias("category_name"),
    Goods.goods_type.name.as_alias("goods_type_name"),
)


def as_dict(row: dict, prices: list[dict], store_prices: list[dict]) -> dict:
    return {
        "id": row["id"],
        "code": row["code"],
        "name": row["name"],
        "goods_type_id": row["goods_type"],
        "goods_type_name": row.get("goods_type_name") or "",
        "category_id": row["category"],
        "category_name": row.get("category_name") or "",
        "unit": row["unit"],
        "spec": row["spec"],
        "purchase_cost": money.fmt(row["purchase_cost"]),
        "is_intake_item": row["is_intake_item"],
        "enabled": row["enabled"],
        "safety_stock": row["safety_stock"],
        "per_store_pricing": row["per_store_pricing"],
        "status": row["status"],
        "prices": [
            {
                "level": p["level"],
                "order_price": money.fmt(p["order_price"]),
                "retail_price": money.fmt(p["retail_price"]),
                "orderable": p["orderable"],
            }
            for p in prices
        ],
        "store_prices": [
            {
                "org_id": s["org_id"],
                "org_name": s.get("org_name", ""),
                "order_price": money.fmt(s["order_price"]),
                "retail_price": money.fmt(s["retail_price"]),
            }
            for s in store_prices
        ],
    }


@functools.cache
def _with_prices(engine_type: str) -> tuple:
    """`COLUMNS` and the goods' price tiers and store overrides (`json_rows`): a goods with its
    prices in one statement. One tuple per engine, so the select's head is kept."""
    both = {c: f'p."{c}"' for c in ("id", "order_price", "retail_price")}
    tiers = json_rows(
        both | {"level": 'p."level"', "orderable": 'p."orderable"'},
        f'FROM "{GoodsPrice._meta.tablename}" p WHERE p."goods" = "md_goods"."id"',
        "prices",
    )
    stores = json_rows(
        both | {"org_id": 'p."org_id"'},
        f'FROM "{GoodsStorePrice._meta.tablename}" p WHERE p."goods" = "md_goods"."id"',
        "store_prices",
    )
    return (*COLUMNS, tiers, stores)


def _priced(row: dict, org_names: dict[int, str] | None = None) -> dict:
    """`as_dict` of a `_with_prices` row: tiers by level, overrides in entry order."""
    tiers = [p | {"orderable": bool(p["orderable"])} for p in json_list(row["prices"], "level", "id")]
    stores = json_list(row["store_prices"], "id")
    if org_names is not None:
        stores = [p | {"org_name": org_names.get(p["org_id"], "")} for p in stores]
    return as_dict(row, tiers, stores)


async def _row(ctx: Ctx, goods_id: Any, columns: tuple = COLUMNS) -> dict:
    gid = validate.ident(goods_id, "货品", "goods_id")
    row = await Goods.select(*columns).where(scoped(ctx, Goods) & (Goods.id == gid)).first()
    if row is None:
        raise NotFound("货品")
    return row


async def get(ctx: Ctx, goods_id: Any) -> dict:
    row = await _row(ctx, goods_id, _with_prices(Goods._meta.db.engine_type))
    return _priced(row, {o["id"]: o["name"] for o in await org_service.choices(ctx)})


async def search(
    ctx: Ctx,
    filters: GoodsFilters | None = None,
    *,
    params: PageParams = PageParams(),
    usable_only: bool = False,
    with_prices: bool = True,
    **by_name: Any,
) -> Page:
    """The goods list: a `GoodsFilters`, or its fields by name. `with_prices=False`: the rows'
    `prices` and `store_prices` left empty, for a page that shows none (no price read)."""
    f = filters or GoodsFilters(**by_name)
    rest = await filter_where(ctx, f, usable_only=usable_only, text=False)
    q = _keyword(f)
    where = rest & code_or_name(q, Goods.id, Goods.code, Goods.name) if q else rest
    columns = _with_prices(Goods._meta.db.engine_type) if with_prices else COLUMNS
    select = Goods.select(*columns).where(where).order_by(Goods.code)
    window = None
    if q:
        plain = Goods.select(*columns).where(rest & code_or_name_plain(q, Goods.code, Goods.name))
        window = Window(plain.order_by(Goods.code), scoped(ctx, Goods))
    page = await paginate(select, Goods.count().where(where), params, seek=Goods.code, window=window)
    if not with_prices:
        return page.with_items([as_dict(g, [], []) for g in page.items])
    return page.with_items([_priced(g) for g in page.items])


def _keyword(filters: GoodsFilters) -> str:
    return validate.text(filters.q, "关键字", 64)


async def filter_where(ctx: Ctx, filters: GoodsFilters, *, usable_only: bool = False, text: bool = True):
    """The condition of the goods list's filters (shared by the list, its export and the picker;
    `text=False`: all but the keyword)."""
    f = filters
    where = scoped(ctx, Goods)
    q = _keyword(f) if text else ""
    if q:
        where &= code_or_name(q, Goods.id, Goods.code, Goods.name)
    if f.category_id not in (None, ""):
        where &= Goods.category.is_in(await trees.subtree_ids(ctx, TreeKind.CATEGORY, f.category_id))
    if f.goods_type_id not in (None, ""):
        where &= Goods.goods_type == validate.ident(f.goods_type_id, "货品分类", "goods_type_id")
    if f.status:
        where &= Goods.status == validate.choice(f.status, "状态", STATUSES, "status")
    if f.enabled not in (None, ""):
        where &= Goods.enabled == validate.boolean(f.enabled, "是否启用", "enabled")
    if f.is_intake_item not in (None, ""):
        where &= Goods.is_intake_item == validate.boolean(f.is_intake_item, "是否用于实物受理", "is_intake_item")
    if usable_only:
        where &= (Goods.status == Status.ACTIVE) & (Goods.enabled == True) & (Goods.category.status == Status.ACTIVE)
    return where


def ids_where(ctx: Ctx, where) -> Any:
    """A one-column sub-select of the ids of the tenant's goods matching `where` (built on
    `Goods` by `stock_filter`): for a list of another domain that filters goods it has no row of."""
    return Goods.select(Goods.id).where(scoped(ctx, Goods) & where)


async def stock_filter(ctx: Ctx, *, goods_id: Any = "", category_id: Any = "", q: str = ""):
    """The condition of the stock query's goods filters on the goods themselves (None: no filter):
    one goods, a category and its subtree, code or name."""
    parts = []
    if goods_id not in (None, ""):
        parts.append(Goods.id == validate.ident(goods_id, "货品", "goods_id"))
    if category_id not in (None, ""):
        parts.append(Goods.category.is_in(await trees.subtree_ids(ctx, TreeKind.CATEGORY, category_id)))
    text = validate.text(q, "关键字", 64)
    if text:
        parts.append(code_or_name(text, Goods.id, Goods.code, Goods.name))
    if not parts:
        return None
    where = parts[0]
    for part in parts[1:]:
        where &= part
    return ids_where(ctx, where)


async def brief(ctx: Ctx, goods_ids: list[int]) -> dict[int, dict]:
    """Code, name, unit, category and safety stock of some goods, by id, in one statement."""
    if not goods_ids:
        return {}
    columns = (Goods.id, Goods.code, Goods.name, Goods.unit, Goods.category, Goods.safety_stock)
    return {g["id"]: g for g in await Goods.select(*columns).where(scoped(ctx, Goods) & Goods.id.is_in(goods_ids))}


async def usable(ctx: Ctx, goods_id: Any, field: str = "goods_id") -> dict:
    """Goods a document may use: enabled, not deleted, category usable."""
    try:
        row = await _row(ctx, goods_id)
    except NotFound:
        raise BusinessError("所选货品不存在", code="unknown_goods", field=field) from None
    if row["status"] != Status.ACTIVE or not row["enabled"]:
        raise BusinessError(f"货品 {row['code']} 已停用或已删除", code="goods_disabled", field=field)
    await trees.usable(ctx, TreeKind.CATEGORY, row["category"], field=field)
    return row


def orderable_by(org: dict):
    """Goods the org may order (as `price_for` decides): a tier of its level that allows it, or a
    store price of its own (per-store pricing) where no tier of its level forbids it."""
    level = GoodsPrice.level == org["level"]
    allowed = GoodsPrice.select(GoodsPrice.goods).where(level & (GoodsPrice.orderable == True))
    forbidden = GoodsPrice.select(GoodsPrice.goods).where(level & (GoodsPrice.orderable == False))
    stores = GoodsStorePrice.select(GoodsStorePrice.goods).where(GoodsStorePrice.org_id == org["id"])
    return Goods.id.is_in(allowed) | (
        (Goods.per_store_pricing == True) & Goods.id.is_in(stores) & Goods.id.not_in(forbidden)
    )


async def pick(
    ctx: Ctx,
    *,
    q: str = "",
    category_id: Any = None,
    is_intake_item: Any = None,
    orderable_for: dict | None = None,
    limit: int = 20,
) -> tuple[list[dict], bool]:
    """The goods picker: the first `limit` usable goods by code prefix or name within a category
    subtree (and orderable by the org `orderable_for`), and whether more matched. No count and no
    prices, so it stays fast on a big catalogue."""
    filters = GoodsFilters(q=q, category_id=category_id, is_intake_item=is_intake_item)
    where = await filter_where(ctx, filters, usable_only=True)
    if orderable_for is not None:
        where &= orderable_by(orderable_for)
    rows = (
        await Goods.select(
            Goods.id, Goods.code, Goods.name, Goods.spec, Goods.unit, Goods.category.name.as_alias("category_name")
        )
        .where(where)
        .order_by(Goods.code)
        .limit(limit + 1)
    )
    return rows[:limit], len(rows) > limit


async def price_for(ctx: Ctx, goods_id: Any, org_id: Any) -> Price:
    """The override when per-store pricing is on and the org has one, else the org level's tier."""
    goods = await _row(ctx, goods_id)
    org = await org_service.get(ctx, org_id)
    if goods["per_store_pricing"]:
        store = (
            await GoodsStorePrice.select()
            .where((GoodsStorePrice.goods == goods["id"]) & (GoodsStorePrice.org_id == org["id"]))
            .first()
        )
        if store:
            tier = (
                await GoodsPrice.select(GoodsPrice.orderable)
                .where((GoodsPrice.goods == goods["id"]) & (GoodsPrice.level == org["level"]))
                .first()
            )
            return Price(
                money.from_units(store["order_price"]),
                money.from_units(store["retail_price"]),
                bool(tier["orderable"]) if tier else True,
                "store",
            )
    tier = (
        await GoodsPrice.select().where((GoodsPrice.goods == goods["id"]) & (GoodsPrice.level == org["level"])).first()
    )
    if tier is None:
        return Price(Decimal("0.0000"), Decimal("0.0000"), False, "level")
    return Price(
        money.from_units(tier["order_price"]), money.from_units(tier["retail_price"]), tier["orderable"], "level"
    )


def _amount(value: Any, label: str, field: str) -> int:
    try:
        amount = money.parse(value, label)
    except BusinessError as e:
        raise BusinessError(e.detail, code=e.code, field=field) from None
    if amount < 0:
        raise BusinessError(f"{label}不能为负数", code="negative_money", field=field)
    return money.to_units(amount)


def _clean_prices(values: Any, v: Fields | None = None) -> list[dict]:
    """The price tiers; each refused cell is named `prices[i].<key>` (the form marks that input).
    Errors go to `v`, or without one are raised together."""
    if v is None:
        v = Fields()
        prices = _clean_prices(values, v)
        v.done()
        return prices
    if not isinstance(values, list):
        v(_refuse, "价格设置格式不正确", "prices")
        return []
    seen: dict[int, dict] = {}
    for i, item in enumerate(values):
        if not isinstance(item, dict):
            v(_refuse, "价格设置格式不正确", "prices")
            continue
        at = f"prices[{i}]"
        level = v(validate.integer, item.get("level"), "机构级别", 1, 4, f"{at}.level")
        if level in seen:
            v(_refuse, f"{level} 级价格重复", f"{at}.level", "duplicate_level")
        name = f"{level} 级" if level else f"第 {i + 1} 行"
        tier = {
            "level": level,
            "order_price": v(_amount, item.get("order_price", "0"), f"{name}订单价格", f"{at}.order_price"),
            "retail_price": v(_amount, item.get("retail_price", "0"), f"{name}零售价", f"{at}.retail_price"),
            "orderable": v(validate.boolean, item.get("orderable", True), "是否允许订购", f"{at}.orderable"),
        }
        if level and level not in seen:
            seen[level] = tier
    return [seen[lv] for lv in sorted(seen)]


def _refuse(detail: str, field: str, code: str = "invalid_field") -> None:
    raise BusinessError(detail, code=code, field=field)


async def _clean_store_prices(ctx: Ctx, v: Fields, values: Any) -> list[dict]:
    if not isinstance(values, list):
        v(_refuse, "按店铺单独定价格式不正确", "store_prices")
        return []
    visible = {o["id"]: o for o in await org_service.choices(ctx)}
    out: dict[int, dict] = {}
    for item in values:
        if not isinstance(item, dict):
            v(_refuse, "按店铺单独定价格式不正确", "store_prices")
            continue
        org_id = v(validate.ident, item.get("org_id"), "店铺", "store_prices")
        if org_id is None:
            continue
        if org_id not in visible:
            v(_refuse, "所选店铺不存在或已删除", "store_prices", "unknown_org")
            continue
        name = visible[org_id]["name"]
        if org_id in out:
            v(_refuse, f"店铺 {name} 重复", "store_prices", "duplicate_org")
            continue
        out[org_id] = {
            "org_id": org_id,
            "order_price": v(_amount, item.get("order_price", "0"), f"{name} 订单价格", "store_prices"),
            "retail_price": v(_amount, item.get("retail_price", "0"), f"{name} 零售价", "store_prices"),
        }
    return list(out.values())


def clean_code(value: Any) -> str:
    return validate.text(
        value,
        "货品编码",
        64,
        required=True,
        field="code",
        pattern=CODE_PATTERN,
        pattern_msg="货品编码只能包含字母、数字和 . _ / -（最多 64 位）",
    )


async def _clean(ctx: Ctx, data: dict, v: Fields | None = None) -> dict:
    """The editable fields present in `data`, each checked: errors go to `v`, or without one are
    raised together."""
    if v is None:
        v = Fields()
        out = await _clean(ctx, data, v)
        v.done()
        return out
    out: dict = {}
    if "name" in data:
        out["name"] = v(validate.text, data["name"], "货品名称", 200, required=True, field="name")
    if "goods_type_id" in data:
        if data["goods_type_id"] in (None, ""):
            out["goods_type"] = None
        else:
            out["goods_type"] = ((await v.awaiting(usable_goods_type(ctx, data["goods_type_id"]))) or {}).get("id")
    if "unit" in data:
        out["unit"] = (v(validate.text, data["unit"], "单位", 16, field="unit")) or "个"
    if "spec" in data:
        out["spec"] = v(validate.text, data["spec"], "规格型号", 200, field="spec")
    if "purchase_cost" in data:
        out["purchase_cost"] = v(_amount, data["purchase_cost"], "采购成本", "purchase_cost")
    for key, label in (
        ("is_intake_item", "是否用于实物受理"),
        ("enabled", "是否启用"),
        ("per_store_pricing", "按店铺单独定价"),
    ):
        if key in data:
            out[key] = v(validate.boolean, data[key], label, key)
    if "safety_stock" in data:
        out["safety_stock"] = v(validate.integer, data["safety_stock"] or 0, "安全库存", 0, 10_000_000, "safety_stock")
    return out


async def _save_prices(ctx: Ctx, goods_id: int, prices: list[dict] | None, store_prices: list[dict] | None) -> None:
    if prices is not None:
        await GoodsPrice.delete().where(GoodsPrice.goods == goods_id)
        if prices:
            await GoodsPrice.insert(*[GoodsPrice(tenant_id=ctx.tenant_id, goods=goods_id, **p) for p in prices])
    if store_prices is not None:
        await GoodsStorePrice.delete().where(GoodsStorePrice.goods == goods_id)
        if store_prices:
            await GoodsStorePrice.insert(
                *[GoodsStorePrice(tenant_id=ctx.tenant_id, goods=goods_id, **s) for s in store_prices]
            )


async def create(ctx: Ctx, data: dict) -> dict:
    """Every field is checked before anything is refused: the answer lists all the mistakes."""
    ctx.require_hq(HQ_ONLY)
    v = Fields()
    code = v(clean_code, data.get("code"))
    prices = _clean_prices(data.get("prices") or [], v)
    async with atomic():
        fields = await _clean(ctx, {"name": None} | {k: data[k] for k in EDITABLE if k in data}, v)
        category = await usable_node(v, ctx, TreeKind.CATEGORY, data.get("category_id"), "品类", "category_id")
        store_prices = await _clean_store_prices(ctx, v, data.get("store_prices") or [])
        finish(v, await code_conflict(ctx, Goods, code, "货品编码"))
        t = now()
        row = Goods(tenant_id=ctx.tenant_id, code=code, category=category["id"], created_at=t, updated_at=t, **fields)
        await insert_coded(ctx, row, "货品编码")
        await _save_prices(ctx, row.id, prices, store_prices)
        created = await get(ctx, row.id)
        await audit.record(ctx, "create", "goods", row.id, f"添加货品 {code}", after=created)
        realtime.emit_tenant(ctx.tenant_id, "goods", "created", row.id)
    return created


async def update(ctx: Ctx, goods_id: Any, data: dict) -> dict:
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        current = await get(ctx, goods_id)
        if current["status"] != Status.ACTIVE:
            raise Conflict("货品已删除，不能修改", code="deleted")
        v = Fields()
        if data.get("code") not in (None, current["code"]):
            v(_refuse, "货品编码不可修改", "code", "immutable")
        if data.get("category_id") not in (None, "") and str(data["category_id"]) != str(current["category_id"]):
            v(_refuse, "品类不可修改", "category_id", "immutable")
        fields = await _clean(ctx, {k: data[k] for k in EDITABLE if k in data}, v)
        prices = _clean_prices(data["prices"], v) if "prices" in data else None
        store_prices = await _clean_store_prices(ctx, v, data["store_prices"]) if "store_prices" in data else None
        finish(v)
        if fields:
            values = {getattr(Goods, k): value for k, value in fields.items()}
            await Goods.update({**values, Goods.updated_at: now()}).where(Goods.id == current["id"])
        await _save_prices(ctx, current["id"], prices, store_prices)
        updated = await get(ctx, current["id"])
        before, after = audit.changes(current, updated)
        if after:
            await audit.record(ctx, "update", "goods", current["id"], f"修改货品 {current['code']}", before, after)
            realtime.emit_tenant(ctx.tenant_id, "goods", "updated", current["id"])
    return updated


async def delete(ctx: Ctx, goods_id: Any) -> dict:
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        row = await _row(ctx, goods_id)
        if row["status"] == Status.DELETED:
            raise Conflict("货品已经删除", code="already_deleted")
        await mark_deleted(ctx, Goods, row["id"], "goods", f"删除货品 {row['code']}", "goods")
        return await get(ctx, row["id"])


# --- goods types (货品分类, the 【自定义】 list) ----------------------------------------------------

DEFAULT_GOODS_TYPES = ("整机", "配件", "耗材")


@hooks.on_tenant_created
async def seed_goods_types(ctx: Ctx) -> None:
    have = {r["name"] for r in await GoodsType.select(GoodsType.name).where(scoped(ctx, GoodsType))}
    rows = [GoodsType(tenant_id=ctx.tenant_id, name=n) for n in DEFAULT_GOODS_TYPES if n not in have]
    if rows:
        await GoodsType.insert(*rows)


async def goods_types(ctx: Ctx, *, kept: bool = False) -> list[dict]:
    """The tenant's goods types. `kept`: read as a list's count is (`cached_read`, maybe seconds
    behind another process's write), for the goods list's filter, which asks on every page view
    for what changes a few times a year; forms and the API read them fresh."""
    query = GoodsType.select().where(scoped(ctx, GoodsType) & (GoodsType.status == Status.ACTIVE))
    query = query.order_by(GoodsType.id)
    return await cached_read(query) if kept else await query


async def usable_goods_type(ctx: Ctx, type_id: Any) -> dict:
    tid = validate.ident(type_id, "货品分类", "goods_type_id")
    row = await GoodsType.select().where(scoped(ctx, GoodsType) & (GoodsType.id == tid)).first()
    if row is None or row["status"] != Status.ACTIVE:
        raise BusinessError("所选货品分类不存在", code="unknown_goods_type", field="goods_type_id")
    return row


async def create_goods_type(ctx: Ctx, name: Any) -> dict:
    """【自定义】 on the goods form (the route asks for `masterdata.goods_type.manage`)."""
    ctx.require_hq(HQ_ONLY)
    name = validate.text(name, "货品分类名称", 50, required=True, field="name")
    async with atomic():
        if await GoodsType.exists().where(
            scoped(ctx, GoodsType) & (GoodsType.name == name) & (GoodsType.status == Status.ACTIVE)
        ):
            raise Conflict(f"货品分类 {name} 已存在", code="duplicate_name")
        row = GoodsType(tenant_id=ctx.tenant_id, name=name)
        await row.save()
        await audit.record(ctx, "create", "goods_type", row.id, f"添加货品分类 {name}", after={"name": name})
        realtime.emit_tenant(ctx.tenant_id, "goods", "goods_type_created", row.id)
    return {"id": row.id, "name": name, "status": Status.ACTIVE}
