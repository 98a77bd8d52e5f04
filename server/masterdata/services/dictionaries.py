"""Tenant-editable dictionaries (SPEC 2.7), seeded with sensible defaults for every new tenant.

Documents store an item's `code`, so renaming an item never rewrites history.
"""

from __future__ import annotations

from typing import Any

import realtime
from server.core import audit, hooks, validate
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.pagination import remembered
from server.core.tenancy import Ctx, scoped
from server.masterdata import permissions as P
from server.masterdata.services.common import CODE_MESSAGE, CODE_PATTERN, HQ_ONLY
from server.masterdata.tables import DictItem

KINDS = {
    "service_type": "服务类型",
    "customer_type": "客户类型",
    "test_result": "检测结果",
    "payment_method": "支付方式",
    "closing_method": "结单方式",
    "inbound_type": "入库类型",
    "outbound_type": "出库类型",
    "repair_result": "维修结果",
}

DEFAULTS: dict[str, list[tuple[str, str]]] = {
    "service_type": [
        ("in_warranty", "保内维修"),
        ("out_of_warranty", "保外维修"),
        ("inspection", "检测"),
        ("replacement", "换机"),
    ],
    "customer_type": [("personal", "个人"), ("company", "企业"), ("dealer", "经销商")],
    "test_result": [
        ("fault_confirmed", "故障确认"),
        ("no_fault_found", "未发现故障"),
        ("damage", "人为损坏"),
        ("liquid", "进液"),
    ],
    "payment_method": [
        ("cash", "现金"),
        ("wechat", "微信"),
        ("alipay", "支付宝"),
        ("card", "银行卡"),
        ("transfer", "转账"),
    ],
    "closing_method": [("onsite", "现场"), ("mail", "邮寄")],
    "inbound_type": [("purchase", "采购入库"), ("claim", "索赔入库"), ("other", "其他入库")],
    "outbound_type": [("scrap", "报废出库"), ("return_supplier", "退供应商出库"), ("other", "其他出库")],
    "repair_result": [("repaired", "已修复"), ("unrepairable", "无法修复"), ("abandoned", "客户放弃")],
}

realtime.topic("dictionaries", P.DICTIONARY_VIEW, tenant_wide=True)


def as_dict(item: dict) -> dict:
    return {k: item[k] for k in ("id", "kind", "code", "name", "sort", "enabled")}


def _kind(kind: Any) -> str:
    return validate.choice(kind, "字典类型", KINDS, "kind")


@hooks.on_tenant_created
async def seed(ctx: Ctx) -> None:
    """Give a new tenant every default item it does not have yet (idempotent)."""
    have = {
        (r["kind"], r["code"]) for r in await DictItem.select(DictItem.kind, DictItem.code).where(scoped(ctx, DictItem))
    }
    rows = [
        DictItem(tenant_id=ctx.tenant_id, kind=kind, code=code, name=name, sort=i * 10)
        for kind, items in DEFAULTS.items()
        for i, (code, name) in enumerate(items)
        if (kind, code) not in have
    ]
    if rows:
        await DictItem.insert(*rows)


async def items(ctx: Ctx, kind: str, *, enabled_only: bool = False) -> list[dict]:
    return (await by_kind(ctx, (kind,), enabled_only=enabled_only))[_kind(kind)]


async def by_kind(ctx: Ctx, kinds, *, enabled_only: bool = False, kept: bool = False) -> dict[str, list[dict]]:
    """The items of several kinds in one query: a page that names six kinds reads them once.
    `kept`: remembered as a list's count is (maybe seconds behind another process's write), for
    the work order pages, which show them on every view; the dictionary's own pages read fresh.
    The answer is then shared: not to be changed."""
    wanted = tuple(_kind(k) for k in kinds)
    if kept:
        key = ("dictionaries.by_kind", ctx.tenant_id, wanted, enabled_only)
        return await remembered(
            key, (DictItem._meta.tablename,), lambda: by_kind(ctx, wanted, enabled_only=enabled_only)
        )
    out: dict[str, list[dict]] = {k: [] for k in wanted}
    where = scoped(ctx, DictItem) & DictItem.kind.is_in(list(out))
    if enabled_only:
        where &= DictItem.enabled == True
    for row in await DictItem.select().where(where).order_by(DictItem.sort).order_by(DictItem.id):
        out[row["kind"]].append(row)
    return out


def names(kinds: dict[str, list[dict]]) -> dict[str, dict[str, str]]:
    """{kind: {code: name}} of `by_kind`'s answer, for showing stored codes by name."""
    return {kind: {i["code"]: i["name"] for i in rows} for kind, rows in kinds.items()}


EXPORT_HEADERS = ("字典类型", "编码", "名称", "排序", "是否启用")


async def export_rows(ctx: Ctx, kind: str) -> list[list]:
    """One kind's items as the page shows them, for the Excel export."""
    return [
        [KINDS[kind], i["code"], i["name"], i["sort"], "是" if i["enabled"] else "否"] for i in await items(ctx, kind)
    ]


async def name_of(ctx: Ctx, kind: str, code: str) -> str:
    row = (
        await DictItem.select(DictItem.name)
        .where(scoped(ctx, DictItem) & (DictItem.kind == kind) & (DictItem.code == code))
        .first()
    )
    return row["name"] if row else code


async def require_code(ctx: Ctx, kind: str, code: Any, field: str) -> str:
    """A document's `type` field: the code of an enabled item of the dictionary."""
    if not isinstance(code, str) or not code:
        raise BusinessError(f"请选择{KINDS[kind]}", code="required", field=field)
    row = (
        await DictItem.select(DictItem.enabled)
        .where(scoped(ctx, DictItem) & (DictItem.kind == kind) & (DictItem.code == code[:32]))
        .first()
    )
    if row is None or not row["enabled"]:
        raise BusinessError(f"{KINDS[kind]}【{code[:32]}】不存在或已停用", code="unknown_dict_item", field=field)
    return code


async def _get(ctx: Ctx, kind: str, item_id: Any) -> dict:
    iid = validate.ident(item_id, "字典项", "id")
    row = await DictItem.select().where(scoped(ctx, DictItem) & (DictItem.kind == kind) & (DictItem.id == iid)).first()
    if row is None:
        raise NotFound("字典项")
    return row


async def create(ctx: Ctx, kind: str, data: dict) -> dict:
    ctx.require_hq(HQ_ONLY)
    kind = _kind(kind)
    code = validate.text(
        data.get("code"), "编码", 32, required=True, field="code", pattern=CODE_PATTERN, pattern_msg=CODE_MESSAGE
    )
    name = validate.text(data.get("name"), "名称", 50, required=True, field="name")
    sort = validate.integer(data.get("sort") or 0, "排序", 0, 1_000_000, "sort")
    enabled = validate.boolean(data.get("enabled", True), "是否启用", "enabled")
    async with atomic():
        if await DictItem.exists().where(scoped(ctx, DictItem) & (DictItem.kind == kind) & (DictItem.code == code)):
            raise Conflict(f"{KINDS[kind]}编码 {code} 已存在", code="duplicate_code")
        row = DictItem(tenant_id=ctx.tenant_id, kind=kind, code=code, name=name, sort=sort, enabled=enabled)
        await row.save()
        created = await _get(ctx, kind, row.id)
        await audit.record(ctx, "create", "dictionary", row.id, f"添加{KINDS[kind]} {name}", after=as_dict(created))
        realtime.emit_tenant(ctx.tenant_id, "dictionaries", "created", row.id)
    return created


async def update(ctx: Ctx, kind: str, item_id: Any, data: dict) -> dict:
    """Rename, re-sort, enable or disable an item; its code is what documents store, so it is fixed."""
    ctx.require_hq(HQ_ONLY)
    kind = _kind(kind)
    async with atomic():
        item = await _get(ctx, kind, item_id)
        if data.get("code") not in (None, item["code"]):
            raise BusinessError("编码不可修改", code="immutable", field="code")
        values: dict = {}
        if "name" in data:
            values[DictItem.name] = validate.text(data["name"], "名称", 50, required=True, field="name")
        if "sort" in data:
            values[DictItem.sort] = validate.integer(data["sort"] or 0, "排序", 0, 1_000_000, "sort")
        if "enabled" in data:
            values[DictItem.enabled] = validate.boolean(data["enabled"], "是否启用", "enabled")
        if values:
            await DictItem.update(values).where(DictItem.id == item["id"])
        updated = await _get(ctx, kind, item["id"])
        before, after = audit.changes(as_dict(item), as_dict(updated))
        if after:
            await audit.record(
                ctx, "update", "dictionary", item["id"], f"修改{KINDS[kind]} {item['name']}", before, after
            )
            realtime.emit_tenant(ctx.tenant_id, "dictionaries", "updated", item["id"])
    return updated
