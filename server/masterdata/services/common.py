"""Rules shared by every master data resource."""

from __future__ import annotations

from typing import Any

import realtime
from server.core import audit
from server.core.clock import now
from server.core.tenancy import Ctx
from server.masterdata.states import Status

STATUSES = Status.labels()
CODE_PATTERN = r"[A-Za-z0-9._-]{1,32}"
CODE_MESSAGE = "编码只能包含字母、数字、点、下划线和短横线（最多 32 位）"
HQ_ONLY = "基础数据只能由总部维护"  # master data is maintained at head office; branches only read it


async def mark_deleted(ctx: Ctx, table: Any, row_id: int, entity: str, summary: str, topic: str) -> None:
    """The soft delete of one row (inside the caller's transaction): its status, the audit row
    and the live event."""
    await table.update({table.status: Status.DELETED, table.updated_at: now()}).where(table.id == row_id)
    await audit.record(ctx, "delete", entity, row_id, summary, {"status": Status.ACTIVE}, {"status": Status.DELETED})
    realtime.emit_tenant(ctx.tenant_id, topic, "deleted", row_id)
