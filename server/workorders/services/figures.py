"""Aggregate figures of work orders for 【看板】 (SPEC 7): counts and sums computed by the
database (COUNT / GROUP BY / SUM over indexed columns), never by reading the orders. Each figure
is what the 【工单处理】 list shows with the filter `list_filters` names, inside the same scope."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count
from piccolo.querystring import QueryString

from server.core.clock import now
from server.core.tenancy import Ctx
from server.workorders.services.orders import LABELS, NAMES, _brief, _reading, _sla_where, _visible
from server.workorders.services.settings import limits_of, settings
from server.workorders.states import Sla, WorkOrderStatus
from server.workorders.tables import WorkOrder

TREND_DAYS = 30
LONGEST = 5  # the longest-waiting overdue orders shown


def day_start(ctx: Ctx, day: date) -> datetime:
    """The instant a tenant-local day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(ctx.tz))


def local_today(ctx: Ctx) -> date:
    return now().astimezone(ZoneInfo(ctx.tz)).date()


async def today_intake(ctx: Ctx) -> int:
    """Orders taken in today (tenant-local day): the list with date_from = date_to = today."""
    start = day_start(ctx, local_today(ctx))
    return await WorkOrder.count().where(_visible(ctx) & (WorkOrder.created_at >= start))


async def by_status(ctx: Ctx) -> list[dict]:
    """Every status with its count (zero included), in the life cycle's order: the list filtered
    by `status`."""
    rows = (
        await WorkOrder.select(WorkOrder.status, Count(WorkOrder.id, alias="n"))
        .where(_visible(ctx))
        .group_by(WorkOrder.status)
    )
    counts = {r["status"]: r["n"] for r in rows}
    return [{"status": s.value, "label": LABELS[s], "count": counts.get(s.value, 0)} for s in WorkOrderStatus]


async def overdue(ctx: Ctx, longest: int = LONGEST) -> dict:
    """SLA red (the list's `sla=red`, the same bounds): how many, and the ones longest in their
    status, as the list shows them with `sort=urgency`."""
    limits = limits_of(await settings(ctx))
    at = now()
    count = await WorkOrder.count().where(_visible(ctx) & _sla_where(Sla.RED, limits, at))
    # the longest: the first few of each timed status in its (tenant, status, status_at) index
    # order, then those few sorted — not every red order read and sorted
    firsts = None
    for status, limit in limits.items():
        if not limit:
            continue
        first = (
            WorkOrder.select(WorkOrder.id)
            .where(_visible(ctx) & _sla_where(Sla.RED, {status: limit}, at))
            .order_by(WorkOrder.status_at, WorkOrder.id)
            .limit(longest)
        )
        firsts = WorkOrder.id.is_in(first) if firsts is None else firsts | WorkOrder.id.is_in(first)
    rows = []
    if firsts is not None:
        query = _reading(brief=True).where(_visible(ctx) & firsts)
        rows = await query.order_by(WorkOrder.status_at, WorkOrder.id).limit(longest)
    items = [o | {"minutes": int((at - o["status_at"]).total_seconds() // 60)} for o in _brief(rows, limits)]
    return {"count": count, "longest": items}


async def completed_by_technician(ctx: Ctx) -> list[dict]:
    """Repairs completed today (维修完毕 since the day began, whatever they are now) per
    technician, most first: the list with `technician_id` and repaired_from = repaired_to = today.
    The technician's name comes with the same statement."""
    start = day_start(ctx, local_today(ctx))
    rows = (
        await WorkOrder.select(WorkOrder.technician_id, NAMES[1], Count(WorkOrder.id, alias="n"))
        .where(_visible(ctx) & (WorkOrder.repaired_at >= start))
        # `+technician_id` first: SQLite would otherwise walk the whole technician index for the
        # grouping's order instead of today's few rows by (tenant, repaired_at)
        .group_by(QueryString('+"wo_order"."technician_id"'), WorkOrder.technician_id)
    )
    out = [
        {"technician_id": r["technician_id"], "technician_name": r["technician_name"] or "未派工", "count": r["n"]}
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["count"], r["technician_name"]))


def _day_of(ctx: Ctx, column: str) -> QueryString:
    """The tenant-local date of a timestamp column, in SQL. SQLite has no time zones: the zone's
    offset now (exact for a zone without daylight saving time, such as China's)."""
    if WorkOrder._meta.db.engine_type == "sqlite":
        offset = int(now().astimezone(ZoneInfo(ctx.tz)).utcoffset().total_seconds() // 60)
        return QueryString(f"""date("wo_order"."{column}", '{offset:+d} minutes')""")
    return QueryString(f'date("wo_order"."{column}" AT TIME ZONE {{}})', ctx.tz)


async def trend(ctx: Ctx, days: int = TREND_DAYS) -> list[dict]:
    """Intake and completions (维修完毕) per tenant-local day for the last `days` days, today
    last: the list with date_from = date_to = that day (intake) or repaired_from = repaired_to
    (completions). One grouped statement for each, over the (tenant, date) index's range."""
    today = local_today(ctx)
    dates = [today - timedelta(days=days - 1 - i) for i in range(days)]
    start = day_start(ctx, dates[0])
    per_day: dict[str, dict[str, int]] = {"created_at": {}, "repaired_at": {}}
    for column, field in (("created_at", WorkOrder.created_at), ("repaired_at", WorkOrder.repaired_at)):
        rows = (
            await WorkOrder.select(_day_of(ctx, column).as_alias("day"), Count(WorkOrder.id, alias="n"))
            .where(_visible(ctx) & (field >= start))
            .group_by(QueryString("1"))  # the day (its expression once: PostgreSQL's parameters differ)
        )
        per_day[column] = {str(r["day"]): r["n"] for r in rows}
    return [
        {
            "day": d.isoformat(),
            "intake": per_day["created_at"].get(d.isoformat(), 0),
            "completed": per_day["repaired_at"].get(d.isoformat(), 0),
        }
        for d in dates
    ]
