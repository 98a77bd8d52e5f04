"""Queue requests truly at once (tests.api_helpers.concurrently), on SQLite and on PostgreSQL:
tickets taken together get consecutive numbers with no gap or duplicate; counters calling
together never get the same ticket, and when fewer are waiting than calling the rest hear
"queue empty"; a ticket acted on twice at once moves once."""

from __future__ import annotations

import pytest

from server.queue.services import tickets
from server.queue.tables import QueueTicket
from tests.api_helpers import InFlight, call, concurrently, error_of
from tests.queue.helpers import Q, act, call_next, queue_world, take


@pytest.fixture
async def w(client, admin) -> dict:
    return await queue_world(client, admin)


async def counters(client, admin, service_ids: list[int], n: int) -> list[int]:
    """`n` more counters (numbers 11…) serving `service_ids`."""
    made = []
    for i in range(n):
        body = {"number": 11 + i, "service_ids": service_ids}
        made.append((await call(client, "POST", f"{Q}/counters", admin, body, 201))["id"])
    return made


def statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)


async def test_thirty_tickets_at_once_are_numbered_without_gaps_or_duplicates(client, admin, w, monkeypatch):
    taking = InFlight(monkeypatch, tickets, "take")
    body = {"service_id": w["a"]["id"]}
    responses = await concurrently(client, [("POST", f"{Q}/tickets", w["kiosk_auth"], body)] * 30)
    assert taking.most > 1
    assert statuses(responses) == [201] * 30, [r.text for r in responses if r.status_code != 201]
    taken = sorted((r.json() for r in responses), key=lambda t: t["seq"])
    assert [t["no"] for t in taken] == [f"A{i:03d}" for i in range(1, 31)]
    # each saw everyone before it waiting: ahead follows the number
    assert [t["ahead"] for t in taken] == list(range(30))
    assert [t["id"] for t in taken] == sorted(t["id"] for t in taken)
    rows = await QueueTicket.select(QueueTicket.no).order_by(QueueTicket.id)
    assert [r["no"] for r in rows] == [t["no"] for t in taken]
    # staff now: the kiosk has had its minute's worth of tickets (tickets.KIOSK_LIMIT)
    assert (await take(client, admin, w["a"]["id"]))["no"] == "A031"


async def test_two_services_at_once_keep_their_own_sequences(client, admin, w):
    a, b = w["a"]["id"], w["b"]["id"]
    requests = [
        ("POST", f"{Q}/tickets", w["kiosk_auth"] if i % 2 else admin, {"service_id": b if i % 3 == 0 else a})
        for i in range(30)
    ]
    responses = await concurrently(client, requests)
    assert statuses(responses) == [201] * 30
    by_service: dict[int, list[dict]] = {a: [], b: []}
    for r in responses:
        by_service[r.json()["service_id"]].append(r.json())
    for sid, prefix, count in ((a, "A", 20), (b, "B", 10)):
        got = sorted(by_service[sid], key=lambda t: t["seq"])
        assert [t["no"] for t in got] == [f"{prefix}{i:03d}" for i in range(1, count + 1)]
        assert [t["ahead"] for t in got] == list(range(count))


async def test_two_counters_calling_at_once_never_share_a_ticket(client, admin, w, monkeypatch):
    calling = InFlight(monkeypatch, tickets, "call_next")
    urls = [f"{Q}/counters/{w['c1']['id']}/call-next", f"{Q}/counters/{w['c2']['id']}/call-next"]
    for _ in range(5):  # one waiting, two calling: one gets it
        ticket = await take(client, w["kiosk_auth"], w["a"]["id"])
        responses = await concurrently(client, [("POST", url, admin, None) for url in urls])
        assert statuses(responses) == [200, 409]
        won = next(r.json() for r in responses if r.status_code == 200)
        assert won["id"] == ticket["id"]
        error_of(next(r for r in responses if r.status_code == 409), 409, "queue_empty")
        await act(client, admin, ticket["id"], "skip")
    for _ in range(5):  # two waiting, two calling: one each
        pair = [await take(client, w["kiosk_auth"], w["a"]["id"]) for _ in range(2)]
        responses = await concurrently(client, [("POST", url, admin, None) for url in urls])
        assert statuses(responses) == [200, 200]
        got = [r.json() for r in responses]
        assert sorted(t["id"] for t in got) == sorted(t["id"] for t in pair)
        assert sorted(t["counter_id"] for t in got) == sorted([w["c1"]["id"], w["c2"]["id"]])
        for t in got:
            await act(client, admin, t["id"], "skip")
    assert calling.most > 1


async def test_ten_counters_on_ten_waiting_tickets_each_get_a_different_one(client, admin, w):
    ids = await counters(client, admin, [w["a"]["id"]], 10)
    waiting = [await take(client, w["kiosk_auth"], w["a"]["id"]) for _ in range(14)]
    responses = await concurrently(client, [("POST", f"{Q}/counters/{c}/call-next", admin, None) for c in ids])
    assert statuses(responses) == [200] * 10, [r.text for r in responses]
    got = [r.json() for r in responses]
    # the ten oldest, each to the counter that asked
    assert sorted(t["id"] for t in got) == [t["id"] for t in waiting[:10]]
    assert [t["counter_id"] for t in got] == ids
    rows = await QueueTicket.select(QueueTicket.id, QueueTicket.status, QueueTicket.counter).order_by(QueueTicket.id)
    assert [r["status"] for r in rows] == ["called"] * 10 + ["waiting"] * 4
    assert {r["id"]: r["counter"] for r in rows[:10]} == {t["id"]: t["counter_id"] for t in got}


async def test_more_callers_than_waiting_call_each_ticket_once(client, admin, w):
    ids = await counters(client, admin, [w["a"]["id"], w["b"]["id"]], 12)
    waiting = [await take(client, w["kiosk_auth"], s) for s in [w["a"]["id"], w["b"]["id"]] * 3]
    responses = await concurrently(client, [("POST", f"{Q}/counters/{c}/call-next", admin, None) for c in ids])
    assert statuses(responses) == [200] * 6 + [409] * 6
    for r in responses:
        if r.status_code == 409:
            assert error_of(r, 409, "queue_empty")["detail"] == "当前没有等候的顾客"
    got = [r.json() for r in responses if r.status_code == 200]
    assert sorted(t["id"] for t in got) == [t["id"] for t in waiting]
    assert len({t["counter_id"] for t in got}) == 6
    assert await QueueTicket.count().where(QueueTicket.status == "called") == 6


async def test_the_same_ticket_acted_on_at_once_moves_once(client, admin, w):
    await take(client, w["kiosk_auth"], w["a"]["id"])
    ticket = await call_next(client, admin, w["c2"]["id"])
    url = f"{Q}/tickets/{ticket['id']}"

    # skip and start race: exactly one wins, and the ticket is in the winner's state
    responses = await concurrently(client, [("POST", f"{url}/{a}", admin, None) for a in ["skip", "start"] * 5])
    assert statuses(responses) == [200] + [409] * 9
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert all(error_of(r, 409, "invalid_state") for r in responses if r.status_code == 409)
    assert (await call(client, "GET", url, admin))["status"] == winner["status"]

    if winner["status"] == "no_show":  # bring another ticket to serving for the finish race
        await take(client, w["kiosk_auth"], w["a"]["id"])
        ticket = await call_next(client, admin, w["c2"]["id"])
        url = f"{Q}/tickets/{ticket['id']}"
        await act(client, admin, ticket["id"], "start")
    responses = await concurrently(client, [("POST", f"{url}/finish", admin, None)] * 10)
    assert statuses(responses) == [200] + [409] * 9
    assert (await call(client, "GET", url, admin))["status"] == "done"


async def test_recalls_at_once_are_all_counted(client, admin, w):
    """【重呼】 leaves the ticket called: every one of them succeeds, and none is lost."""
    await take(client, w["kiosk_auth"], w["a"]["id"])
    ticket = await call_next(client, admin, w["c2"]["id"])
    responses = await concurrently(client, [("POST", f"{Q}/tickets/{ticket['id']}/recall", admin, None)] * 10)
    assert statuses(responses) == [200] * 10
    assert sorted(r.json()["calls"] for r in responses) == list(range(2, 12))
    assert (await call(client, "GET", f"{Q}/tickets/{ticket['id']}", admin))["calls"] == 11


async def test_taking_and_calling_at_once(client, admin, w):
    """Kiosk and counters busy together: every ticket is called at most once, by one counter."""
    ids = await counters(client, admin, [w["a"]["id"]], 8)
    for _ in range(4):
        await take(client, w["kiosk_auth"], w["a"]["id"])
    requests = [("POST", f"{Q}/tickets", w["kiosk_auth"], {"service_id": w["a"]["id"]})] * 8 + [
        ("POST", f"{Q}/counters/{c}/call-next", admin, None) for c in ids
    ]
    responses = await concurrently(client, requests)
    assert statuses(responses[:8]) == [201] * 8
    calls = [r for r in responses[8:] if r.status_code == 200]
    assert all(error_of(r, 409, "queue_empty") for r in responses[8:] if r.status_code != 200)
    assert len(calls) >= 4  # four were waiting before any call
    called = [r.json()["id"] for r in calls]
    assert len(set(called)) == len(called)
    rows = await QueueTicket.select(QueueTicket.no, QueueTicket.status).order_by(QueueTicket.seq)
    assert [r["no"] for r in rows] == [f"A{i:03d}" for i in range(1, 13)]
    assert sum(r["status"] == "called" for r in rows) == len(calls)
