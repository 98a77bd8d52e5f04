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
    where = _visible(ctx) & _sla_where(Sla.RED, limits)
    count = await WorkOrder.count().where(where)
    rows = await _reading(brief=True).where(where).order_by(WorkOrder.status_at, WorkOrder.id).limit(longest)
    at = now()
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
        .group_by(WorkOrder.technician_id)
    )
    out = [
        {"technician_id": r["technician_id"], "technician_name": r["technician_name"] or "未派工", "count": r["n"]}
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["count"], r["technician_name"]))


def _buckets(column: str, starts: list[datetime]) -> list:
    """One SUM per day: orders whose `column` falls in that day (one statement for the period)."""
    out = []
    for i, start in enumerate(starts[:-1]):
        out.append(
            QueryString(
                f'SUM(CASE WHEN "wo_order"."{column}" >= {{}} AND "wo_order"."{column}" < {{}} THEN 1 ELSE 0 END)',
                start,
                starts[i + 1],
            ).as_alias(f"d{i}")
        )
    return out


async def trend(ctx: Ctx, days: int = TREND_DAYS) -> list[dict]:
    """Intake and completions (维修完毕) per tenant-local day for the last `days` days, today
    last: the list with date_from = date_to = that day (intake) or repaired_from = repaired_to
    (completions)."""
    today = local_today(ctx)
    dates = [today - timedelta(days=days - 1 - i) for i in range(days)]
    starts = [day_start(ctx, d) for d in [*dates, today + timedelta(days=1)]]
    out = {"created_at": [0] * days, "repaired_at": [0] * days}
    for column, field in (("created_at", WorkOrder.created_at), ("repaired_at", WorkOrder.repaired_at)):
        row = await WorkOrder.select(*_buckets(column, starts)).where(_visible(ctx) & (field >= starts[0])).first()
        out[column] = [int((row or {}).get(f"d{i}") or 0) for i in range(days)]
    return [
        {"day": d.isoformat(), "intake": out["created_at"][i], "completed": out["repaired_at"][i]}
        for i, d in enumerate(dates)
    ]
