"""Rules shared by every master data resource."""

from __future__ import annotations

from server.core.tenancy import Ctx

STATUSES = {"active": "正常", "deleted": "已删除"}
CODE_PATTERN = r"[A-Za-z0-9._-]{1,32}"
CODE_MESSAGE = "编码只能包含字母、数字、点、下划线和短横线（最多 32 位）"


def require_hq(ctx: Ctx, code: str) -> None:
    """Master data is maintained at head office; branches only read it."""
    ctx.require_hq(code, "基础数据只能由总部维护")
