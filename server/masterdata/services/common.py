"""Rules shared by every master data resource."""

from __future__ import annotations

from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.table import Table

import realtime
from server.core import audit, validate
from server.core.clock import now
from server.core.errors import Conflict
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
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


# --- codes: unique per tenant ignoring case, stored as typed ------------------------------------
# The database holds the rule: a unique index on (tenant_id, lower(code)) of every row, deleted
# ones included (see the 2026-12-01 migration). Codes are ASCII (the patterns), where lower()
# means the same in SQLite, PostgreSQL and Python.


def code_is(table: type[Table], code: str) -> WhereRaw:
    """`table.code` equals `code` ignoring case (served by the unique index)."""
    return WhereRaw(f'lower("{table._meta.tablename}"."code") = {{}}', code.lower())


def codes_in(table: type[Table], codes: list[str]) -> WhereRaw:
    """`table.code` is one of `codes` ignoring case (a non-empty list)."""
    marks = ", ".join(["{}"] * len(codes))
    return WhereRaw(f'lower("{table._meta.tablename}"."code") IN ({marks})', *[c.lower() for c in codes])


def taken(label: str, code: str, existing: str | None = None) -> Conflict:
    """409 on the code field: the code the tenant already has, and why when it differs in case."""
    existing = existing or code
    why = "" if existing == code else "（编码不区分大小写）"
    return Conflict(f"{label} {existing} 已存在{why}", code="duplicate_code", field="code")


async def code_conflict(ctx: Ctx, table: type[Table], code: str | None, label: str) -> Conflict | None:
    """The conflict when the tenant already has `code` (any case, deleted rows included)."""
    if not code:
        return None
    row = await table.select(table.code).where(scoped(ctx, table) & code_is(table, code)).first()
    return taken(label, code, row["code"]) if row else None


def finish(v: Fields, conflict: Conflict | None = None) -> None:
    """Refuse with every field error at once; a taken code is one more of them (`Fields.done`)."""
    v.done(conflict)


async def insert_coded(ctx: Ctx, row: Table, label: str) -> int:
    """Insert a row with a unique code; its id. A concurrent save of the same code (any case)
    that committed first makes this a 409, decided by the unique index, not a 500."""
    table = type(row)
    inserted = await table.insert(row).on_conflict(action="DO NOTHING").returning(table.id)
    if not inserted:
        raise taken(label, row.code)
    row.id = inserted[0]["id"]
    return row.id


async def usable_node(v: Fields, ctx: Ctx, kind: str, node_id: Any, label: str, field: str) -> dict | None:
    """A tree node chosen on a form (`trees.usable`), its refusal noted in `v` on `field`."""
    from server.masterdata.services import trees  # trees uses this module

    if v(validate.ident, node_id, label, field) is None:
        return None
    return await v.awaiting(trees.usable(ctx, kind, node_id, label, field))
