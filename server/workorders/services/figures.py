"""Aggregate figures of work orders for 【看板】 (SPEC 7): counts and sums computed by the
database (COUNT / GROUP BY / SUM over indexed columns), never by reading the orders. Each figure
is what the 【工单处理】 list shows with the filter `list_filters` names, inside the same scope."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from piccolo.columns.combination import Combinable, WhereRaw
from piccolo.query.functions.aggregate import Count, Sum
from piccolo.querystring import QueryString

from server.core import db
from server.core.clock import now
from server.core.tenancy import Ctx, scoped
from server.system.tables import Org
from server.workorders.services.orders import LABELS, NAMES, _brief, _reading, _sla_where, away
from server.workorders.services.orders import _visible as _orders_of
from server.workorders.services.settings import limits_of, settings
from server.workorders.states import IN_TRANSIT, Sla, WorkOrderStatus
from server.workorders.tables import WorkOrder, WorkOrderStatusCount

TREND_DAYS = 30
LONGEST = 5  # the longest-waiting overdue orders shown


class Scope(NamedTuple):
    orders: Combinable  # the caller's work orders, as the list scopes them (org_path LIKE)
    by_org: Combinable  # the same orders through `org_id IN (the subtree's org ids)`
    counts: Combinable  # their rows of the per-(org, status) counts


async def _visible(ctx: Ctx) -> Scope:
    """The caller's orders, two ways. A date range (today, the trend) reads the list's
    `org_path LIKE` beside the (tenant, created_at / repaired_at) index. A status range (the red
    orders) reads `org_id IN (the subtree's org ids, read first)`: each org's orders are then a
    range of the (tenant, org_id, status, status_at) index, where the LIKE (case-blind on SQLite,
    so no index) would read every order in the status, and an `IN (subquery)` lets SQLite's
    planner pick the status index instead. Same rows: an order's org_path is its org's path."""
    orders, counts = _orders_of(ctx), scoped(ctx, WorkOrderStatusCount)
    if ctx.sees_everything:
        return Scope(orders, orders, counts)
    ids = await Org.select(Org.id).where(scoped(ctx, Org, subtree=Org.path)).output(as_list=True)
    ids = ids or [0]
    by_org = scoped(ctx, WorkOrder) & WorkOrder.org_id.is_in(ids)
    return Scope(orders, by_org, counts & WorkOrderStatusCount.org_id.is_in(ids))


async def _status_counts(scope: Scope) -> dict[str, int]:
    """How many of the scope's orders are in each status, from the counts the triggers keep (a
    row per org and status: at most orgs × statuses rows summed, whatever the number of orders)."""
    rows = (
        await WorkOrderStatusCount.select(WorkOrderStatusCount.status, Sum(WorkOrderStatusCount.n, alias="n"))
        .where(scope.counts)
        .group_by(WorkOrderStatusCount.status)
    )
    return {r["status"]: int(r["n"] or 0) for r in rows}


async def board(ctx: Ctx) -> dict:
    """The work-order figures of 【看板】, the caller's scope read once for all of them."""
    scope = await _visible(ctx)
    return {
        "today_intake": await today_intake(ctx, scope),
        "by_status": await by_status(ctx, scope),
        "overdue": await overdue(ctx, scope=scope),
        "completed_by_technician": await completed_by_technician(ctx, scope),
        "trend": await trend(ctx, scope=scope),
        "out_for_repair": await out_for_repair(ctx),
    }


def day_start(ctx: Ctx, day: date) -> datetime:
    """The instant a tenant-local day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(ctx.tz))


def local_today(ctx: Ctx) -> date:
    return now().astimezone(ZoneInfo(ctx.tz)).date()


async def today_intake(ctx: Ctx, scope: Scope | None = None) -> int:
    """Orders taken in today (tenant-local day): the list with date_from = date_to = today."""
    start = day_start(ctx, local_today(ctx))
    return await WorkOrder.count().where(
        (await _visible(ctx) if scope is None else scope).orders & (WorkOrder.created_at >= start)
    )


async def out_for_repair(ctx: Ctx, longest: int = LONGEST) -> dict:
    """Devices away from where they were taken in (the list's `away`), among the orders the caller
    reads: how many, the oldest's age in whole days since it was sent, and the longest out
    (oldest first). Few rows: the sent orders' own index."""
    where = _orders_of(ctx) & away()
    count = await WorkOrder.count().where(where)
    rows = (
        await WorkOrder.select(WorkOrder.id, WorkOrder.no, WorkOrder.status, WorkOrder.sent_at, WorkOrder.repair_org_id)
        .where(where)
        .order_by(WorkOrder.sent_at)
        .limit(longest)
    )
    at = now()
    oldest = [
        {
            "id": r["id"],
            "no": r["no"],
            "status": r["status"],
            "status_label": LABELS[r["status"]],
            "sent_at": r["sent_at"],
            "days": (at - r["sent_at"]).days,
        }
        for r in rows
    ]
    return {"count": count, "oldest_days": oldest[0]["days"] if oldest else None, "longest": oldest}


async def by_status(ctx: Ctx, scope: Scope | None = None) -> list[dict]:
    """Every status with its count (zero included), in the life cycle's order: the list filtered
    by `status`. The carry-in statuses (送修在途, 返还在途) only where some order is in them: most
    tenants never send a device, and the wall board has room for the five others."""
    counts = await _status_counts(await _visible(ctx) if scope is None else scope)
    return [
        {"status": s.value, "label": LABELS[s], "count": counts.get(s.value, 0)}
        for s in WorkOrderStatus
        if s not in IN_TRANSIT or counts.get(s.value)
    ]


async def overdue(ctx: Ctx, longest: int = LONGEST, scope: Scope | None = None) -> dict:
    """SLA red (the list's `sla=red`, the same bounds): how many, and the ones longest in their
    status, as the list shows them with `sort=urgency`."""
    limits = limits_of(await settings(ctx))
    at = now()
    scope = await _visible(ctx) if scope is None else scope
    visible = scope.by_org
    # red = in a timed status since before its yellow bound: the status's count less those
    # that entered it since (a short range of the (…, status, status_at) index), not every
    # open order counted
    timed = {s: limit for s, limit in limits.items() if limit}
    count = 0
    if timed:
        in_status = await _status_counts(scope)
        recent = None
        for s, limit in timed.items():
            since = (WorkOrder.status == s) & (WorkOrder.status_at >= at - timedelta(minutes=limit["yellow"]))
            recent = since if recent is None else recent | since
        count = sum(in_status.get(s, 0) for s in timed) - await WorkOrder.count().where(visible & recent)
    # the longest: the first few of each timed status in its (tenant, status, status_at) index
    # order, then those few sorted — not every red order read and sorted. One `IN (… UNION ALL
    # …)`: an OR of one `IN` per status made PostgreSQL scan every order against hashed subplans
    firsts = [
        WorkOrder.select(WorkOrder.id)
        .where(visible & _sla_where(Sla.RED, {status: limit}, at))
        .order_by(WorkOrder.status_at, WorkOrder.id)
        .limit(longest)
        .querystrings[0]
        for status, limit in limits.items()
        if limit
    ]
    rows = []
    if firsts:
        # each member wrapped: SQLite refuses a parenthesised SELECT with LIMIT in a compound
        members = [f'SELECT "id" FROM ({{}}) AS "first{i}"' for i in range(len(firsts))]
        union = QueryString(" UNION ALL ".join(members), *firsts)
        query = _reading(brief=True).where(visible & WhereRaw('"wo_order"."id" IN ({})', union))
        rows = await query.order_by(WorkOrder.status_at, WorkOrder.id).limit(longest)
    items = [o | {"minutes": int((at - o["status_at"]).total_seconds() // 60)} for o in _brief(rows, limits)]
    return {"count": count, "longest": items}


async def completed_by_technician(ctx: Ctx, scope: Scope | None = None) -> list[dict]:
    """Repairs completed today (维修完毕 since the day began, whatever they are now) per
    technician, most first: the list with `technician_id` and repaired_from = repaired_to = today.
    The technician's name comes with the same statement."""
    start = day_start(ctx, local_today(ctx))
    rows = (
        await WorkOrder.select(WorkOrder.technician_id, NAMES[1], Count(WorkOrder.id, alias="n"))
        .where((await _visible(ctx) if scope is None else scope).orders & (WorkOrder.repaired_at >= start))
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


# the trend's past days, per process: (tenant, scope, zone, first day, today) -> (counts, when,
# the databases configured so far: another database, as each test has, is not this one)
_past: dict[tuple, tuple[dict[str, dict[str, int]], float, int]] = {}
PAST_TTL = 300.0  # seconds the past days' counts are reused
PAST_MAX = 1_000  # scopes kept at most


async def _per_day(ctx: Ctx, visible: Combinable, start: datetime, end: datetime | None) -> dict[str, dict[str, int]]:
    """Intake and completions per tenant-local day from `start` (to `end`): one grouped statement
    for each, over the (tenant, date) index's range."""
    per_day: dict[str, dict[str, int]] = {}
    for column, field in (("created_at", WorkOrder.created_at), ("repaired_at", WorkOrder.repaired_at)):
        where = visible & (field >= start) if end is None else visible & (field >= start) & (field < end)
        rows = (
            await WorkOrder.select(_day_of(ctx, column).as_alias("day"), Count(WorkOrder.id, alias="n"))
            .where(where)
            .group_by(QueryString("1"))  # the day (its expression once: PostgreSQL's parameters differ)
        )
        per_day[column] = {str(r["day"]): r["n"] for r in rows}
    return per_day


async def trend(ctx: Ctx, days: int = TREND_DAYS, scope: Scope | None = None) -> list[dict]:
    """Intake and completions (维修完毕) per tenant-local day for the last `days` days, today
    last: the list with date_from = date_to = that day (intake) or repaired_from = repaired_to
    (completions). Today is counted on every call; the days before it, which only an order's move
    to another org changes (a carry-in), are reused for PAST_TTL: at a million orders they are
    tens of thousands of rows to count, where today is a few hundred."""
    today = local_today(ctx)
    dates = [today - timedelta(days=days - 1 - i) for i in range(days)]
    start, today_start = day_start(ctx, dates[0]), day_start(ctx, today)
    visible = (await _visible(ctx) if scope is None else scope).orders
    key = (ctx.tenant_id, "" if ctx.sees_everything else ctx.org_path, ctx.tz, dates[0], today)
    kept = _past.get(key)
    fresh = kept is not None and time.monotonic() - kept[1] <= PAST_TTL and kept[2] == db.writes(())
    if not fresh or db.in_transaction():
        kept = (await _per_day(ctx, visible, start, today_start), time.monotonic(), db.writes(()))
        if not db.in_transaction():  # a change of its own, not yet committed, may be counted
            if len(_past) >= PAST_MAX:
                _past.clear()
            _past[key] = kept
    per_day = {c: kept[0][c] | counts for c, counts in (await _per_day(ctx, visible, today_start, None)).items()}
    return [
        {
            "day": d.isoformat(),
            "intake": per_day["created_at"].get(d.isoformat(), 0),
            "completed": per_day["repaired_at"].get(d.isoformat(), 0),
        }
        for d in dates
    ]
