"""Rules of the queue, through the JSON API: the ticket state machine (waiting → called → serving
→ done, called → no_show, 【重呼】 only while called) with every illegal move refused and
harmless; which ticket 【叫号】 takes (the oldest waiting of the counter's services, today's);
numbers per org, service and tenant-local day; the audit trail of a call."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from server.core import clock
from server.core.tables import AuditLog
from server.queue.services import tickets
from server.queue.tables import QueueTicket
from server.system.tables import Tenant
from tests.api_helpers import call, refused
from tests.queue.helpers import Q, act, call_next, queue_state, queue_world, take
from tests.system.helpers import make_org

ACTIONS = ("recall", "skip", "start", "finish")
ALLOWED = {
    "waiting": set(),
    "called": {"recall", "skip", "start"},
    "serving": {"finish"},
    "done": set(),
    "no_show": set(),
}
STATUS_NAMES = {"waiting": "等候中", "called": "已叫号", "serving": "办理中", "done": "已完成", "no_show": "过号"}
LABELS = {"recall": "重呼", "skip": "过号", "start": "开始办理", "finish": "完成"}


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture
async def w(client, admin) -> dict:
    return await queue_world(client, admin)


async def ticket_in(client, admin, w, status: str) -> dict:
    """A ticket of service A brought to `status` (the only waiting one when counter 2 calls)."""
    ticket = await take(client, w["kiosk_auth"], w["a"]["id"])
    if status == "waiting":
        return ticket
    ticket = await call_next(client, admin, w["c2"]["id"])
    if status == "no_show":
        return await act(client, admin, ticket["id"], "skip")
    if status in ("serving", "done"):
        ticket = await act(client, admin, ticket["id"], "start")
    if status == "done":
        ticket = await act(client, admin, ticket["id"], "finish")
    return ticket


# --- the state machine ------------------------------------------------------------------------


async def test_golden_path_sets_each_time_once(client, admin, w):
    taken = await take(client, w["kiosk_auth"], w["a"]["id"], "138 0000-1111")
    assert taken["status"] == "waiting" and taken["status_name"] == "等候中" and taken["phone"] == "13800001111"
    assert (taken["counter_id"], taken["counter_number"], taken["counter_name"], taken["calls"]) == (None, None, "", 0)
    assert taken["called_at"] is taken["last_called_at"] is taken["started_at"] is taken["finished_at"] is None
    assert taken["taken_by_name"] == "取号机：门口取号机"

    called = await call_next(client, admin, w["c1"]["id"])
    assert called["id"] == taken["id"] and called["status"] == "called" and called["status_name"] == "已叫号"
    assert (called["counter_id"], called["counter_number"], called["calls"]) == (w["c1"]["id"], 1, 1)
    assert called["called_at"] == called["last_called_at"] and ts(called["called_at"]) >= ts(taken["taken_at"])
    # built from the claiming UPDATE's row, not read back: the same as the ticket reads afterwards
    assert called == await call(client, "GET", f"{Q}/tickets/{taken['id']}", admin)

    recalled = await act(client, admin, taken["id"], "recall")
    assert recalled["status"] == "called" and recalled["calls"] == 2
    assert recalled["called_at"] == called["called_at"]  # the wait ended at the first call
    assert ts(recalled["last_called_at"]) > ts(called["last_called_at"])
    again = await act(client, admin, taken["id"], "recall")
    assert again["calls"] == 3

    started = await act(client, admin, taken["id"], "start")
    assert started["status"] == "serving" and started["status_name"] == "办理中"
    assert ts(started["started_at"]) >= ts(again["last_called_at"]) and started["finished_at"] is None
    done = await act(client, admin, taken["id"], "finish")
    assert done["status"] == "done" and done["status_name"] == "已完成"
    assert ts(done["finished_at"]) >= ts(done["started_at"]) and done["calls"] == 3
    assert done["counter_id"] == w["c1"]["id"] and done["called_at"] == called["called_at"]
    assert await call(client, "GET", f"{Q}/tickets/{taken['id']}", admin) == done


async def test_called_ticket_may_be_skipped_as_no_show(client, admin, w):
    ticket = await ticket_in(client, admin, w, "called")
    skipped = await act(client, admin, ticket["id"], "skip")
    assert skipped["status"] == "no_show" and skipped["status_name"] == "过号"
    assert skipped["finished_at"] is not None and skipped["started_at"] is None
    assert skipped["counter_id"] == w["c2"]["id"]


async def test_every_illegal_transition_is_refused_and_changes_nothing(client, admin, w):
    tickets = {s: await ticket_in(client, admin, w, s) for s in ("done", "no_show", "serving", "called", "waiting")}
    before = await queue_state()
    audits = await AuditLog.count()
    for status, ticket in tickets.items():
        for action in ACTIONS:
            if action in ALLOWED[status]:
                continue
            url = f"{Q}/tickets/{ticket['id']}/{action}"
            body = await refused(client, "POST", url, admin, status=409, code="invalid_state")
            assert body["detail"] == f"{ticket['no']} 当前状态为「{STATUS_NAMES[status]}」，不能{LABELS[action]}"
    assert await queue_state() == before
    assert await AuditLog.count() == audits
    # 【叫号】 takes the waiting one and nothing else
    assert (await call_next(client, admin, w["c1"]["id"]))["id"] == tickets["waiting"]["id"]
    await refused(client, "POST", f"{Q}/counters/{w['c1']['id']}/call-next", admin, status=409, code="queue_empty")
    after = await queue_state()
    assert [t for t in after["q_ticket"] if t["id"] != tickets["waiting"]["id"]] == [
        t for t in before["q_ticket"] if t["id"] != tickets["waiting"]["id"]
    ]


async def test_allowed_transitions_from_each_state(client, admin, w):
    for status in ("called", "serving"):
        for action in sorted(ALLOWED[status]):
            ticket = await ticket_in(client, admin, w, status)
            moved = await act(client, admin, ticket["id"], action)
            expected = {"recall": "called", "skip": "no_show", "start": "serving", "finish": "done"}[action]
            assert moved["status"] == expected, action


# --- which ticket 【叫号】 takes -----------------------------------------------------------------


async def test_call_next_takes_the_oldest_waiting_ticket_of_the_counters_services(client, admin, w):
    kiosk, a, b = w["kiosk_auth"], w["a"]["id"], w["b"]["id"]
    b1, a1, b2, a2 = [await take(client, kiosk, s) for s in (b, a, b, a)]
    assert [t["no"] for t in (b1, a1, b2, a2)] == ["B001", "A001", "B002", "A002"]

    # counter 2 serves A only: it passes over the older B tickets
    assert (await call_next(client, admin, w["c2"]["id"]))["no"] == "A001"
    # counter 1 serves A and B: the oldest of both
    assert (await call_next(client, admin, w["c1"]["id"]))["no"] == "B001"
    assert (await call_next(client, admin, w["c1"]["id"]))["no"] == "B002"
    assert (await call_next(client, admin, w["c2"]["id"]))["no"] == "A002"
    body = await refused(client, "POST", f"{Q}/counters/{w['c1']['id']}/call-next", admin, status=409)
    assert body == {"detail": "当前没有等候的顾客", "code": "queue_empty"}

    # with only B waiting, counter 2 has nobody to call while counter 1 does
    b3 = await take(client, kiosk, b)
    await refused(client, "POST", f"{Q}/counters/{w['c2']['id']}/call-next", admin, status=409, code="queue_empty")
    called = await call_next(client, admin, w["c1"]["id"])
    assert (called["id"], called["counter_number"]) == (b3["id"], 1)
    rows = await QueueTicket.select(QueueTicket.no, QueueTicket.counter).order_by(QueueTicket.id)
    assert [(r["no"], r["counter"]) for r in rows] == [
        ("B001", w["c1"]["id"]),
        ("A001", w["c2"]["id"]),
        ("B002", w["c1"]["id"]),
        ("A002", w["c2"]["id"]),
        ("B003", w["c1"]["id"]),
    ]


async def test_call_next_follows_the_counters_current_services(client, admin, w):
    """Changing which services a counter serves changes what it calls next."""
    b1 = await take(client, w["kiosk_auth"], w["b"]["id"])
    await refused(client, "POST", f"{Q}/counters/{w['c2']['id']}/call-next", admin, status=409, code="queue_empty")
    await call(client, "PATCH", f"{Q}/counters/{w['c2']['id']}", admin, {"service_ids": [w["b"]["id"]]})
    assert (await call_next(client, admin, w["c2"]["id"]))["id"] == b1["id"]


# --- numbering --------------------------------------------------------------------------------


async def test_numbers_run_per_service_and_restart_for_another_org(client, admin, tenant, w):
    kiosk, a, b = w["kiosk_auth"], w["a"]["id"], w["b"]["id"]
    taken = [await take(client, kiosk, s) for s in (a, a, b, a, b)]
    assert [(t["no"], t["seq"], t["ahead"]) for t in taken] == [
        ("A001", 1, 0),
        ("A002", 2, 1),
        ("B001", 1, 0),
        ("A003", 3, 2),
        ("B002", 2, 1),
    ]
    assert {t["day"] for t in taken} == {clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()}
    # people ahead counts only those still waiting for the same service
    await call_next(client, admin, w["c2"]["id"])  # A001
    assert (await take(client, kiosk, a))["ahead"] == 2  # A002, A003

    branch = await make_org(client, admin, "B1", tenant.org_id)
    bw = await queue_world(client, admin, branch["id"])
    first = await take(client, bw["kiosk_auth"], bw["a"]["id"])
    assert (first["no"], first["seq"], first["ahead"], first["org_id"]) == ("A001", 1, 0, branch["id"])
    assert (await take(client, bw["kiosk_auth"], bw["b"]["id"]))["no"] == "B001"
    # and the head office carries on where it was
    assert (await take(client, kiosk, a))["no"] == "A005"


async def test_number_width_grows_past_999(client, admin, w):
    """Three digits are a minimum, not a limit: the thousandth ticket of a day is A1000."""
    from server.core.tables import DocSequence

    await take(client, w["kiosk_auth"], w["a"]["id"])
    name = tickets.sequence_name(w["a"]["org_id"], "A")
    await DocSequence.update({DocSequence.last_no: 998}).where(DocSequence.doc_type == name)
    assert (await take(client, w["kiosk_auth"], w["a"]["id"]))["no"] == "A999"
    assert (await take(client, w["kiosk_auth"], w["a"]["id"]))["no"] == "A1000"


async def test_a_letter_made_again_the_same_day_goes_on_numbering(client, admin, w):
    """Numbers run per org and letter: a service deleted and made again never repeats A001."""
    first = await take(client, w["kiosk_auth"], w["a"]["id"])
    await call_next(client, admin, w["c2"]["id"])
    for action in ("start", "finish"):
        await act(client, admin, first["id"], action)
    await call(client, "DELETE", f"{Q}/services/{w['a']['id']}", admin)
    again = await call(client, "POST", f"{Q}/services", admin, {"name": "维修", "prefix": "A"}, 201)
    assert (await take(client, w["kiosk_auth"], again["id"]))["no"] == "A002"


def at(monkeypatch, instant: datetime) -> None:
    """Stop the clock the tickets read (tickets.today and the times they record) at `instant`."""
    monkeypatch.setattr(clock, "now", lambda: instant)


async def test_numbers_restart_at_local_midnight_and_call_next_takes_todays_only(client, admin, w, monkeypatch):
    kiosk, a = w["kiosk_auth"], w["a"]["id"]
    at(monkeypatch, datetime(2025, 3, 1, 15, 59, 59, tzinfo=UTC))  # 23:59:59 in Shanghai
    late = [await take(client, kiosk, a) for _ in range(2)]
    assert [(t["no"], t["day"]) for t in late] == [("A001", "2025-03-01"), ("A002", "2025-03-01")]

    at(monkeypatch, datetime(2025, 3, 1, 16, 0, 1, tzinfo=UTC))  # 00:00:01 the next day
    early = await take(client, kiosk, a)
    assert (early["no"], early["day"], early["seq"], early["ahead"]) == ("A001", "2025-03-02", 1, 0)
    assert early["taken_at"] == "2025-03-01T16:00:01Z"

    # yesterday's tickets still waiting are not called today
    called = await call_next(client, admin, w["c2"]["id"])
    assert called["id"] == early["id"] and called["called_at"] == "2025-03-01T16:00:01Z"
    await refused(client, "POST", f"{Q}/counters/{w['c2']['id']}/call-next", admin, status=409, code="queue_empty")
    assert {t["status"] for t in await tickets_of(client, admin, "2025-03-01")} == {"waiting"}

    # a day filter lists one day's tickets only
    assert [t["no"] for t in await tickets_of(client, admin, "2025-03-02")] == ["A001"]
    assert [t["no"] for t in await tickets_of(client, admin, "2025-03-01")] == ["A001", "A002"]


async def test_tickets_left_waiting_yesterday_do_not_block_deleting_the_service(client, admin, w, monkeypatch):
    at(monkeypatch, datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    await take(client, w["kiosk_auth"], w["b"]["id"])
    at(monkeypatch, datetime(2025, 3, 2, 9, 0, tzinfo=UTC))
    await refused(client, "POST", f"{Q}/counters/{w['c1']['id']}/call-next", admin, status=409, code="queue_empty")
    await call(client, "DELETE", f"{Q}/services/{w['b']['id']}", admin)


async def tickets_of(client, headers, day: str) -> list[dict]:
    return (await call(client, "GET", f"{Q}/tickets?date={day}", headers))["items"]


async def test_the_tenants_time_zone_decides_the_day(client, admin, tenant, w, monkeypatch):
    kiosk, a = w["kiosk_auth"], w["a"]["id"]
    instant = datetime(2025, 3, 1, 16, 0, 1, tzinfo=UTC)  # 2 March in Shanghai, 1 March 08:00 in Los Angeles
    at(monkeypatch, instant)
    assert (await take(client, kiosk, a))["day"] == "2025-03-02"

    await Tenant.update({Tenant.tz: "America/Los_Angeles"}).where(Tenant.id == tenant.tenant_id)
    west = await take(client, kiosk, a)
    assert (west["no"], west["day"]) == ("A001", "2025-03-01")
    at(monkeypatch, datetime(2025, 3, 2, 7, 59, 59, tzinfo=UTC))  # still 1 March in Los Angeles
    assert [(t["no"], t["day"]) for t in [await take(client, kiosk, a)]] == [("A002", "2025-03-01")]
    at(monkeypatch, datetime(2025, 3, 2, 8, 0, 1, tzinfo=UTC))  # and now 2 March there: the Shanghai day goes on
    assert [(t["no"], t["day"]) for t in [await take(client, kiosk, a)]] == [("A002", "2025-03-02")]
    # staff see the same day: counter 2 calls the Los Angeles "today"
    assert (await call_next(client, admin, w["c2"]["id"]))["day"] == "2025-03-02"
    assert date.fromisoformat((await call(client, "GET", f"{Q}/stats", admin))["date_to"]) == date(2025, 3, 2)


# --- audit ------------------------------------------------------------------------------------


async def test_each_ticket_move_is_audited_naming_the_ticket(client, admin, tenant, w):
    taken = await take(client, w["kiosk_auth"], w["a"]["id"], "13800001111")
    called = await call_next(client, admin, w["c2"]["id"])
    await act(client, admin, called["id"], "recall")
    await act(client, admin, called["id"], "start")
    await act(client, admin, called["id"], "finish")
    rows = (
        await AuditLog.select()
        .where((AuditLog.entity == "queue_ticket") & (AuditLog.entity_id == taken["id"]))
        .order_by(AuditLog.id)
    )
    assert [(r["action"], r["summary"]) for r in rows] == [
        ("take", "艾克米维修总部 A001"),
        ("call", "A001 → 2 号窗口"),
        ("recall", "A001 重呼"),
        ("start", "A001 开始办理"),
        ("finish", "A001 完成"),
    ]
    assert rows[0]["user_id"] is None and rows[0]["user_name"] == "取号机：门口取号机"
    after = rows[0]["after"]
    assert (json.loads(after) if isinstance(after, str) else after) == {"no": "A001", "phone": "13800001111", "lane": 2}
    assert all(r["user_name"] == "管理员" and r["user_id"] is not None for r in rows[1:])
    assert {r["tenant_id"] for r in rows} == {tenant.tenant_id}
