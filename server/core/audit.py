"""Audit log: who did what to which row, with before/after, written inside the same transaction."""

from __future__ import annotations

import json
from typing import Any

from server.core import validate
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
}


async def search(ctx: Ctx, *, entity: str = "", action: str = "", q: str = "", params: PageParams) -> Page:
    """The log of the caller's own org subtree, newest first."""
    where = scoped(ctx, AuditLog) & AuditLog.org_path.like(f"{ctx.org_path}%")
    if entity:
        where &= AuditLog.entity == validate.text(entity, "对象", 40)
    if action:
        where &= AuditLog.action == validate.text(action, "操作", 40)
    q = validate.text(q, "关键字", 50)
    if q:
        where &= contains(AuditLog.summary, q) | contains(AuditLog.user_name, q)
    select = AuditLog.select().where(where).order_by(AuditLog.id, ascending=False)
    return await paginate(select, AuditLog.count().where(where), params)
