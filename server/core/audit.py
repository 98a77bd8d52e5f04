"""Audit log: who did what to which row, with before/after, written inside the same transaction."""

from __future__ import annotations

import json
from typing import Any

from server.core import authcache, validate
from server.core.clock import now
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.tables import AuditLog
from server.core.tenancy import Ctx, scoped


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False)) if value is not None else None


async def record(
    ctx: Ctx,
    action: str,
    entity: str,
    entity_id: int | None,
    summary: str,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    await AuditLog.insert(
        AuditLog(
            tenant_id=ctx.tenant_id,
            user_id=ctx.user_id,
            user_name=ctx.user_name[:100],
            org_path=ctx.org_path,
            action=action,
            entity=entity,
            entity_id=entity_id,
            summary=summary[:200],
            before=_jsonable(before),
            after=_jsonable(after),
            created_at=now(),
        )
    )
    if entity in authcache.ENTITIES:  # the change may alter what a caller may do: resolve callers anew
        await authcache.changed(ctx.tenant_id)


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that changed, so the log reads as a diff."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


ACTIONS = {
    "create": "添加",
    "update": "修改",
    "delete": "删除",
    "reset_password": "重置密码",
    "reset_otp": "重置动态密钥",
    "unlock": "解锁登录",
    "enrol_otp": "绑定动态密钥",
    "change_password": "修改密码",
    "take": "取号",
    "call": "叫号",
    "recall": "重呼",
    "skip": "过号",
    "start": "开始办理",
    "finish": "完成",
    "revoke": "停用设备令牌",
    "regenerate": "重新生成设备令牌",
    "submit": "提交",
    "confirm": "确认",
    "restore": "恢复",
}

# What an entry is about, in the log's words; documents add their kinds (core.documents).
ENTITIES = {
    "org": "机构",
    "role": "角色",
    "user": "用户",
    "settings": "系统设置",
    "tenant": "公司",
    "category": "品类",
    "repair_class": "维修分类",
    "fault_class": "故障分类",
    "repair_code": "维修代码",
    "fault_reason": "故障原因",
    "goods": "货品",
    "goods_type": "货品分类",
    "warehouse": "仓库",
    "warehouse_assignment": "仓库设置",
    "supplier": "供应商",
    "dictionary": "数据字典",
    "queue_service": "排队业务",
    "queue_counter": "窗口",
    "queue_device": "排队设备",
    "queue_ticket": "排队号",
    "gsx_settings": "GSX 对接",
    "gsx_link": "GSX 关联",
}

# Field names as people read them; a field not named here shows under its own name.
FIELDS = {
    "code": "编码",
    "name": "名称",
    "account": "账号",
    "status": "状态",
    "enabled": "启用",
    "level": "等级",
    "kind": "类型",
    "type": "类型",
    "parent_id": "上级",
    "org_id": "机构",
    "org_kind": "机构类型",
    "role_ids": "角色",
    "permissions": "权限",
    "contact": "联系人",
    "phone": "电话",
    "address": "地址",
    "remark": "备注",
    "spec": "规格",
    "unit": "单位",
    "category_id": "品类",
    "warehouse_id": "仓库",
    "supplier_id": "供应商",
    "goods_id": "货品",
    "qty": "数量",
    "price": "单价",
    "cost_price": "成本价",
    "sale_price": "销售价",
    "amount": "金额",
    "line_id": "明细",
    "line_ids": "明细",
    "otp_enrolled": "已绑定动态密钥",
    "require_otp": "强制动态密钥",
    "max_org_depth": "最大机构层级",
    "purchase_cost": "采购成本",
}
STATES = {
    "active": "正常",
    "deleted": "已删除",
    "hq": "总部",
    "branch": "网点",
    "draft": "暂存",
    "submitted": "已提交",
    "partial": "部分确认",
    "completed": "已完成",
    "confirmed": "已确认",
}
# Bookkeeping of a row that says nothing to a reader of the log.
HIDDEN = frozenset({"id", "tenant_id", "path", "org_path", "depth", "parent", "created_at", "updated_at"})


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_shown(v) for v in value) or "（空）"
    if isinstance(value, dict):
        return "，".join(f"{FIELDS.get(k, k)} {_shown(v)}" for k, v in value.items())
    return STATES.get(value, str(value)) if isinstance(value, str) else str(value)


def _parsed(value: Any) -> dict:
    """A JSON column as a dict (SQLite hands back its text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def readable(before: Any, after: Any) -> list[tuple[str, str | None, str]]:
    """An entry's change as (field label, before, after) for people: only fields that differ;
    `before` is None where there was nothing (a creation, a line added)."""
    before, after = _parsed(before), _parsed(after)
    rows = []
    for key in after or before:
        if key in HIDDEN:
            continue
        old, new = before.get(key), after.get(key)
        if key in before and old == new:
            continue
        rows.append((FIELDS.get(key, key), _shown(old) if key in before else None, _shown(new)))
    return rows


async def search(ctx: Ctx, *, entity: str = "", action: str = "", q: str = "", params: PageParams) -> Page:
    """The log of the caller's own org subtree, newest first."""
    where = scoped(ctx, AuditLog, subtree=AuditLog.org_path)
    if entity:
        where &= AuditLog.entity == validate.text(entity, "对象", 40)
    if action:
        where &= AuditLog.action == validate.text(action, "操作", 40)
    q = validate.text(q, "关键字", 50)
    if q:
        where &= contains(AuditLog.summary, q) | contains(AuditLog.user_name, q)
    select = AuditLog.select().where(where).order_by(AuditLog.id, ascending=False)
    return await paginate(select, AuditLog.count().where(where), params)
