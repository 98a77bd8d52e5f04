"""【排队统计】 on a constructed pair of days: tickets are made and moved over the API (so their
service, counter and status are real), then their taken / called / started / finished times are
set exactly on the rows, and every figure is checked: counts, average and nearest-rank p90 of
the waiting time (taken → first call) and of the service time (start → finish), per (day,
service, counter), the never-called group, the totals, the filters and the period limits."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from server.queue.services.stats import p90
from server.queue.tables import QueueTicket
from tests.api_helpers import call, refused
from tests.queue.helpers import Q, act, call_next, queue_world, take
from tests.system.helpers import make_org


def moment(day: date, minutes: float) -> datetime:
    """`minutes` after 09:00 Shanghai time (01:00 UTC) on `day`."""
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC) + timedelta(minutes=minutes)


async def set_times(ticket_id: int, day: date, taken, called=None, started=None, finished=None, on=None) -> None:
    values = {
        QueueTicket.taken_at: moment(day, taken),
        QueueTicket.called_at: None if called is None else moment(day, called),
        QueueTicket.last_called_at: None if called is None else moment(day, called),
        QueueTicket.started_at: None if started is None else moment(day, started),
        QueueTicket.finished_at: None if finished is None else moment(day, finished),
    }
    if on is not None:
        values[QueueTicket.day] = on
    await QueueTicket.update(values).where(QueueTicket.id == ticket_id)


@pytest.fixture
async def world(client, admin, tenant) -> dict:
    """Today: A001–A004 and B001–B002 called at counters 1 and 2 and left in every state, one A
    and one B still waiting. Yesterday: twelve A tickets served at counter 2 with waits of
    10…120 s and service times of 6…72 s. And a branch with one ticket of its own."""
    w = await queue_world(client, admin)
    kiosk, a, b, c1, c2 = w["kiosk_auth"], w["a"]["id"], w["b"]["id"], w["c1"]["id"], w["c2"]["id"]
    t = {}
    for no, service in (("A001", a), ("A002", a), ("A003", a), ("A004", a), ("B001", b), ("B002", b)):
        t[no] = await take(client, kiosk, service)
        assert t[no]["no"] == no
    today = date.fromisoformat(t["A001"]["day"])
    assert (await call_next(client, admin, c1))["id"] == t["A001"]["id"]
    await act(client, admin, t["A001"]["id"], "start")
    await act(client, admin, t["A001"]["id"], "finish")
    assert (await call_next(client, admin, c2))["id"] == t["A002"]["id"]
    await act(client, admin, t["A002"]["id"], "start")
    await act(client, admin, t["A002"]["id"], "finish")
    assert (await call_next(client, admin, c2))["id"] == t["A003"]["id"]
    await act(client, admin, t["A003"]["id"], "skip")
    assert (await call_next(client, admin, c1))["id"] == t["A004"]["id"]
    await act(client, admin, t["A004"]["id"], "start")
    assert (await call_next(client, admin, c1))["id"] == t["B001"]["id"]
    await act(client, admin, t["B001"]["id"], "start")
    await act(client, admin, t["B001"]["id"], "finish")
    assert (await call_next(client, admin, c1))["id"] == t["B002"]["id"]

    await set_times(t["A001"]["id"], today, 0, 1, 2, 7)  # wait 60, service 300
    await set_times(t["A002"]["id"], today, 0.5, 3.5, 4, 6)  # wait 180, service 120
    await set_times(t["A003"]["id"], today, 1, 10, None, 12)  # wait 540, no-show
    await set_times(t["A004"]["id"], today, 2, 12, 13)  # wait 600, still serving
    await set_times(t["B001"]["id"], today, 5, 8, 8.5, 10.5)  # wait 180, service 120
    await set_times(t["B002"]["id"], today, 6, 20)  # wait 840, called

    yesterday = today - timedelta(days=1)
    for k in range(1, 13):
        ticket = await take(client, kiosk, a)
        assert (await call_next(client, admin, c2))["id"] == ticket["id"]
        await act(client, admin, ticket["id"], "start")
        await act(client, admin, ticket["id"], "finish")
        called = k + k / 6  # taken at k minutes, called 10·k seconds later
        await set_times(ticket["id"], yesterday, k, called, called, called + k / 10, on=yesterday)

    for no, service, taken in (("A-waiting", a, 30), ("B-waiting", b, 31)):
        t[no] = await take(client, kiosk, service)
        await set_times(t[no]["id"], today, taken)

    # another org's tickets that day never count for the head office
    branch = await make_org(client, admin, "B1", tenant.org_id)
    bw = await queue_world(client, admin, branch["id"])
    await take(client, bw["kiosk_auth"], bw["a"]["id"])
    return w | {"today": today, "yesterday": yesterday, "branch": branch}


def row(day: date, service: dict, counter: dict | None, **figures) -> dict:
    return {
        "day": day.isoformat(),
        "service_id": service["id"],
        "service_name": service["name"],
        "counter_id": counter["id"] if counter else None,
        "counter_number": counter["number"] if counter else None,
        "counter_name": counter["name"] if counter else "",
        "ratings": 0,  # nobody rated (tests/queue/test_appointments.py rates)
        "avg_rating": None,
    } | figures


def timed(wait: int | None, wait90: int | None, serve: int | None, serve90: int | None) -> dict:
    return {
        "avg_wait_seconds": wait,
        "p90_wait_seconds": wait90,
        "avg_service_seconds": serve,
        "p90_service_seconds": serve90,
    }


NEVER = timed(None, None, None, None)


def today_rows(world: dict) -> list[dict]:
    d, a, b, c1, c2 = world["today"], world["a"], world["b"], world["c1"], world["c2"]
    return [
        row(d, a, c1, tickets=2, served=1, no_shows=0, waiting=0, **timed(330, 600, 300, 300)),
        row(d, a, c2, tickets=2, served=1, no_shows=1, waiting=0, **timed(360, 540, 120, 120)),
        row(d, a, None, tickets=1, served=0, no_shows=0, waiting=1, **NEVER),
        row(d, b, c1, tickets=2, served=1, no_shows=0, waiting=0, **timed(510, 840, 120, 120)),
        row(d, b, None, tickets=1, served=0, no_shows=0, waiting=1, **NEVER),
    ]


def yesterday_row(world: dict) -> dict:
    return row(
        world["yesterday"],
        world["a"],
        world["c2"],
        tickets=12,
        served=12,
        no_shows=0,
        waiting=0,
        avg_wait_seconds=65,  # mean of 10…120
        p90_wait_seconds=110,  # the 11th of 12 (interpolating would say 109)
        avg_service_seconds=39,  # mean of 6…72
        p90_service_seconds=66,
    )


async def a_day_by_service_and_counter(client, admin, world):
    stats = await call(client, "GET", f"{Q}/stats", admin)
    assert (stats["org_id"], stats["org_name"]) == (world["a"]["org_id"], "艾克米维修总部")
    assert stats["date_from"] == stats["date_to"] == world["today"].isoformat()
    assert stats["items"] == today_rows(world)
    assert stats["totals"] == {
        "tickets": 8,
        "served": 3,
        "no_shows": 1,
        "waiting": 2,
        "avg_wait_seconds": 400,  # (60 + 180 + 540 + 600 + 180 + 840) / 6
        "p90_wait_seconds": 840,  # the 6th of 6
        "avg_service_seconds": 180,  # (300 + 120 + 120) / 3
        "p90_service_seconds": 300,
        "ratings": 0,
        "avg_rating": None,
    }


async def a_period_of_two_days(client, admin, world):
    d0, d1 = world["yesterday"].isoformat(), world["today"].isoformat()
    stats = await call(client, "GET", f"{Q}/stats?date_from={d0}&date_to={d1}", admin)
    assert (stats["date_from"], stats["date_to"]) == (d0, d1)
    assert stats["items"] == [yesterday_row(world), *today_rows(world)]
    assert stats["totals"] == {
        "tickets": 20,
        "served": 15,
        "no_shows": 1,
        "waiting": 2,
        "avg_wait_seconds": 177,  # (780 + 2400) / 18
        "p90_wait_seconds": 600,  # the 17th of 18
        "avg_service_seconds": 67,  # (468 + 540) / 15
        "p90_service_seconds": 120,  # the 14th of 15
        "ratings": 0,
        "avg_rating": None,
    }
    only_yesterday = await call(client, "GET", f"{Q}/stats?date_from={d0}&date_to={d0}", admin)
    assert only_yesterday["items"] == [yesterday_row(world)]
    assert only_yesterday["totals"] == {k: v for k, v in yesterday_row(world).items() if k in stats["totals"]}
    # date_to alone: that one day
    assert (await call(client, "GET", f"{Q}/stats?date_to={d0}", admin))["items"] == [yesterday_row(world)]
    # `date`: one day, as the ticket list's filter
    assert (await call(client, "GET", f"{Q}/stats?date={d0}", admin))["items"] == [yesterday_row(world)]


async def filters_by_service_and_counter(client, admin, world):
    d0, d1 = world["yesterday"].isoformat(), world["today"].isoformat()
    rows = today_rows(world)
    by_b = await call(client, "GET", f"{Q}/stats?service_id={world['b']['id']}", admin)
    assert by_b["items"] == rows[3:]
    assert (by_b["totals"]["tickets"], by_b["totals"]["avg_wait_seconds"]) == (3, 510)
    at_c2 = await call(client, "GET", f"{Q}/stats?counter_id={world['c2']['id']}&date_from={d0}&date_to={d1}", admin)
    assert at_c2["items"] == [yesterday_row(world), rows[1]]
    assert at_c2["totals"]["tickets"] == 14 and at_c2["totals"]["no_shows"] == 1
    both = await call(client, "GET", f"{Q}/stats?service_id={world['a']['id']}&counter_id={world['c1']['id']}", admin)
    assert both["items"] == rows[:1]


async def empty_days_and_another_orgs_stats(client, admin, world):
    long_ago = (world["today"] - timedelta(days=30)).isoformat()
    empty = await call(client, "GET", f"{Q}/stats?date_from={long_ago}&date_to={long_ago}", admin)
    assert empty["items"] == []
    assert (
        empty["totals"]
        == {"tickets": 0, "served": 0, "no_shows": 0, "waiting": 0, "ratings": 0, "avg_rating": None} | NEVER
    )
    branch = await call(client, "GET", f"{Q}/stats?org_id={world['branch']['id']}", admin)
    assert branch["org_id"] == world["branch"]["id"] and branch["org_name"] == "B1网点"
    assert [(r["tickets"], r["waiting"], r["counter_id"]) for r in branch["items"]] == [(1, 1, None)]


async def test_statistics_of_the_constructed_days(client, admin, world):
    """One world (it takes some seventy requests to build), every view of it."""
    await a_day_by_service_and_counter(client, admin, world)
    await a_period_of_two_days(client, admin, world)
    await filters_by_service_and_counter(client, admin, world)
    await empty_days_and_another_orgs_stats(client, admin, world)
    await export_has_the_same_figures(client, admin, world)


async def test_period_limits(client, admin):
    end = date.fromisoformat((await call(client, "GET", f"{Q}/stats", admin))["date_to"])
    longest = (end - timedelta(days=91)).isoformat()
    assert (await call(client, "GET", f"{Q}/stats?date_from={longest}&date_to={end}", admin))["items"] == []
    too_long = (end - timedelta(days=92)).isoformat()
    body = await refused(client, "GET", f"{Q}/stats?date_from={too_long}&date_to={end}", admin, status=400)
    assert body == {"detail": "统计区间最长 92 天", "code": "invalid_period"}
    body = await refused(client, "GET", f"{Q}/stats?date_from={end}&date_to={longest}", admin, status=400)
    assert body == {"detail": "开始日期不能晚于结束日期", "code": "invalid_period"}
    for query, code in (
        ("date_from=2025-02-30", "invalid_date"),
        ("date_to=20250301", "invalid_date"),
        ("date_from=yesterday", "invalid_date"),
        ("service_id=abc", "invalid_field"),
        ("counter_id=0", "out_of_range"),
        ("org_id=x", "invalid_field"),
    ):
        await refused(client, "GET", f"{Q}/stats?{query}", admin, status=400, code=code)
    await refused(client, "GET", f"{Q}/stats?org_id=999999", admin, status=404, code="not_found")


async def export_has_the_same_figures(client, admin, world):
    d0, d1 = world["yesterday"].isoformat(), world["today"].isoformat()
    response = await client.get(f"{Q}/stats/export?date_from={d0}&date_to={d1}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = values[0]
    assert header[:4] == ["日期", "业务类型", "窗口", "取号数"]
    body = values[1:]
    assert [r[:3] for r in body] == [
        [d0, "维修", "2 号窗口"],
        [d1, "维修", "1 号窗口"],
        [d1, "维修", "2 号窗口"],
        [d1, "维修", "未叫号"],
        [d1, "取机", "1 号窗口"],
        [d1, "取机", "未叫号"],
        ["合计", None, None],
    ]
    assert body[0][3:] == [12, 12, 0, 0, 65, 110, 39, 66, 0, None]
    assert body[-1][3:] == [20, 15, 1, 2, 177, 600, 67, 120, 0, None]
    await refused(client, "GET", f"{Q}/stats/export?date_from=bad", admin, status=400, code="invalid_date")


def test_nearest_rank_p90():
    assert p90([]) is None
    assert p90([7]) == 7
    assert p90([1, 2]) == 2
    assert p90(list(range(1, 11))) == 9  # the 9th of 10
    assert p90(list(range(1, 12))) == 10  # the 10th of 11 (ceil 9.9)
    assert p90([3.4, 1.0, 2.0]) == 3
