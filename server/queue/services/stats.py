"""【排队统计】 (SPEC 6): per day, service and counter — tickets, served, no-shows, the average
and 90th percentile of the waiting time (taken → first call) and of the service time (start →
finish), in seconds, and the customers' ratings (how many, their average)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from piccolo.querystring import QueryString

from server.core import validate
from server.core.errors import BusinessError
from server.core.tenancy import Ctx, scoped
from server.queue.schemas import StatsFilters
from server.queue.services import setup
from server.queue.services.tickets import parse_day, today
from server.queue.states import TicketStatus
from server.queue.tables import QueueCounter, QueueService, QueueTicket

MAX_DAYS = 92


def p90(values: list[float]) -> int | None:
    """The nearest-rank 90th percentile: the smallest value at or above 90 % of them."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1])


def _avg(values: list[float]) -> int | None:
    return round(sum(values) / len(values)) if values else None


def _figures(rows: list[dict]) -> dict:
    waits = [(r["called_at"] - r["taken_at"]).total_seconds() for r in rows if r["called_at"]]
    serves = [
        (r["finished_at"] - r["started_at"]).total_seconds()
        for r in rows
        if r["status"] == TicketStatus.DONE and r["started_at"] and r["finished_at"]
    ]
    ratings = [r["rating"] for r in rows if r["rating"] is not None]
    return {
        "tickets": len(rows),
        "served": sum(1 for r in rows if r["status"] == TicketStatus.DONE),
        "no_shows": sum(1 for r in rows if r["status"] == TicketStatus.NO_SHOW),
        "waiting": sum(1 for r in rows if r["status"] == TicketStatus.WAITING),
        "avg_wait_seconds": _avg(waits),
        "p90_wait_seconds": p90(waits),
        "avg_service_seconds": _avg(serves),
        "p90_service_seconds": p90(serves),
        "ratings": len(ratings),
        "avg_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }


def period(ctx: Ctx, date_from: Any, date_to: Any) -> tuple[date, date]:
    """The days asked for (default: today), at most MAX_DAYS of them."""
    end = parse_day(date_to, "结束日期", "date_to") if date_to not in (None, "") else today(ctx)
    start = parse_day(date_from, "开始日期", "date_from") if date_from not in (None, "") else end
    if start > end:
        raise BusinessError("开始日期不能晚于结束日期", code="invalid_period", field="date_from")
    if end - start >= timedelta(days=MAX_DAYS):
        raise BusinessError(f"统计区间最长 {MAX_DAYS} 天", code="invalid_period", field="date_from")
    return start, end


async def compute(ctx: Ctx, filters: StatsFilters) -> dict:
    """Rows by (day, service, counter) in that order, and the totals of the period; tickets never
    called have no counter (counter_id null)."""
    org = await setup.org_of(ctx, filters.org_id or None)
    start, end = period(ctx, *filters.period)
    where = (
        scoped(ctx, QueueTicket)
        & (QueueTicket.org_id == org["id"])
        & (QueueTicket.day >= start)
        & (QueueTicket.day <= end)
    )
    if filters.service_id:
        where &= QueueTicket.service == validate.ident(filters.service_id, "业务类型", "service_id")
    if filters.counter_id:
        where &= QueueTicket.counter == validate.ident(filters.counter_id, "窗口", "counter_id")
    rows = await QueueTicket.select(
        QueueTicket.day,
        QueueTicket.service,
        QueueTicket.counter,
        QueueTicket.status,
        QueueTicket.taken_at,
        QueueTicket.called_at,
        QueueTicket.started_at,
        QueueTicket.finished_at,
        QueueTicket.rating,
    ).where(where)
    services = {
        r["id"]: r
        for r in await QueueService.select(
            QueueService.id, QueueService.name, QueueService.prefix, QueueService.sort_order
        ).where(scoped(ctx, QueueService) & (QueueService.org_id == org["id"]))
    }
    counters = {
        r["id"]: r
        for r in await QueueCounter.select(QueueCounter.id, QueueCounter.number, QueueCounter.name).where(
            scoped(ctx, QueueCounter) & (QueueCounter.org_id == org["id"])
        )
    }
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["day"], r["service"], r["counter"]), []).append(r)

    def order(key: tuple) -> tuple:
        day, sid, cid = key
        s = services[sid]
        return (day, s["sort_order"], s["prefix"], cid is None, counters[cid]["number"] if cid else 0)

    items = []
    for key in sorted(groups, key=order):
        day, sid, cid = key
        items.append(
            {
                "day": day.isoformat(),
                "service_id": sid,
                "service_name": services[sid]["name"],
                "counter_id": cid,
                "counter_number": counters[cid]["number"] if cid else None,
                "counter_name": counters[cid]["name"] if cid else "",
            }
            | _figures(groups[key])
        )
    return {
        "org_id": org["id"],
        "org_name": org["name"],
        "date_from": start.isoformat(),
        "date_to": end.isoformat(),
        "items": items,
        "totals": _figures(rows),
    }


def _seconds_between(later: str, earlier: str) -> str:
    """SQL for the seconds from `earlier` to `later` (timestamp columns), on either engine."""
    if QueueTicket._meta.db.engine_type == "sqlite":
        return f"(julianday({later}) - julianday({earlier})) * 86400.0"
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


async def today_by_org(ctx: Ctx) -> list[dict]:
    """【看板】: per org of the caller's subtree with tickets today, those waiting now and the
    average wait (taken → first call) of today's called tickets in seconds — the `waiting` and
    `avg_wait_seconds` totals of 【排队统计】 for that org and today — in one grouped statement."""
    t = '"q_ticket"'
    wait = _seconds_between(f'{t}."called_at"', f'{t}."taken_at"')
    name = QueryString(f'(SELECT o."name" FROM "org" o WHERE o."id" = {t}."org_id")').as_alias("org_name")
    rows = (
        await QueueTicket.select(
            QueueTicket.org_id,
            name,
            QueryString(f'SUM(CASE WHEN {t}."status" = {{}} THEN 1 ELSE 0 END)', str(TicketStatus.WAITING)).as_alias(
                "waiting"
            ),
            QueryString(f'AVG(CASE WHEN {t}."called_at" IS NOT NULL THEN {wait} END)').as_alias("avg_wait"),
        )
        .where(scoped(ctx, QueueTicket, subtree=QueueTicket.org_id) & (QueueTicket.day == today(ctx)))
        .group_by(QueueTicket.org_id)
    )
    out = [
        {
            "org_id": r["org_id"],
            "org_name": r["org_name"] or "",
            "waiting": int(r["waiting"] or 0),
            "avg_wait_seconds": None if r["avg_wait"] is None else round(float(r["avg_wait"])),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["waiting"], r["org_name"]))
