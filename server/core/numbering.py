"""Document numbers per tenant, type and day (`RK20261124-0001`), without gaps or duplicates.

One UPSERT … RETURNING bumps the day's counter atomically on both engines; it runs inside the
caller's transaction, so a rolled-back document gives its number back.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from server.core.clock import now as utc_now
from server.core.db import in_transaction
from server.core.tables import DocSequence
from server.core.tenancy import Ctx


def local_day(ctx: Ctx, now: datetime | None = None) -> str:
    return (now or utc_now()).astimezone(ZoneInfo(ctx.tz)).strftime("%Y%m%d")


async def next_seq(ctx: Ctx, doc_type: str, day: str) -> int:
    if not in_transaction():
        raise RuntimeError("numbering must run inside atomic()")
    rows = await DocSequence.raw(
        "INSERT INTO doc_sequence (tenant_id, doc_type, day, last_no) VALUES ({}, {}, {}, 1) "
        "ON CONFLICT (tenant_id, doc_type, day) DO UPDATE SET last_no = doc_sequence.last_no + 1 "
        "RETURNING last_no",
        ctx.tenant_id,
        doc_type,
        day,
    )
    return int(rows[0]["last_no"])


async def next_number(ctx: Ctx, prefix: str, width: int = 4) -> str:
    day = local_day(ctx)
    return f"{prefix}{day}-{await next_seq(ctx, prefix, day):0{width}d}"
