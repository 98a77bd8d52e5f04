"""Scope of the queue: another tenant's services, counters, devices, tickets and statistics are
404 for every read, write and action, and nothing changes; a branch sees and works its own queue
and the queues of the orgs below it, never a sibling's or its parent's (404), while the head
office works any branch's; staff without the permission get 403 whatever they ask."""

from __future__ import annotations

import pytest

from tests.api_helpers import call, refused
from tests.conftest import api_login
from tests.queue.helpers import QUEUE_ALL, Q, act, call_next, queue_state, queue_world, take
from tests.system.helpers import make_org, user_with


async def busy_world(client, headers: dict, org_id: int | None = None) -> dict:
    """A queue world with a waiting, a called and a serving ticket (so that every action would be
    legal on some ticket, and a 404 is never a 409 in disguise)."""
    w = await queue_world(client, headers, org_id)
    called = await take(client, w["kiosk_auth"], w["a"]["id"])
    serving = await take(client, w["kiosk_auth"], w["a"]["id"])
    await call_next(client, headers, w["c2"]["id"])
    await call_next(client, headers, w["c2"]["id"])
    await act(client, headers, serving["id"], "start")
    waiting = await take(client, w["kiosk_auth"], w["b"]["id"])
    return w | {"called": called, "serving": serving, "waiting": waiting}


def every_request(w: dict) -> list[tuple[str, str, object]]:
    """Every request that reads, changes or acts on one org's queue, naming it by ids."""
    org = w["a"]["org_id"]
    s, c, d = w["a"]["id"], w["c1"]["id"], w["tv"]["id"]
    called, serving = w["called"]["id"], w["serving"]["id"]
    return [
        ("GET", f"{Q}/services?org_id={org}", None),
        ("POST", f"{Q}/services", {"name": "偷偷", "prefix": "Z", "org_id": org}),
        ("GET", f"{Q}/services/{s}", None),
        ("PATCH", f"{Q}/services/{s}", {"name": "改名"}),
        ("DELETE", f"{Q}/services/{w['b']['id']}", None),
        ("GET", f"{Q}/counters?org_id={org}", None),
        ("POST", f"{Q}/counters", {"number": 9, "org_id": org}),
        ("GET", f"{Q}/counters/{c}", None),
        ("PATCH", f"{Q}/counters/{c}", {"number": 8}),
        ("DELETE", f"{Q}/counters/{c}", None),
        ("POST", f"{Q}/counters/{c}/call-next", None),
        ("GET", f"{Q}/devices?org_id={org}", None),
        ("POST", f"{Q}/devices", {"kind": "tv", "name": "偷看", "org_id": org}),
        ("GET", f"{Q}/devices/{d}", None),
        ("PATCH", f"{Q}/devices/{d}", {"name": "改名"}),
        ("POST", f"{Q}/devices/{d}/revoke", None),
        ("POST", f"{Q}/devices/{d}/regenerate", None),
        ("DELETE", f"{Q}/devices/{d}", None),
        ("GET", f"{Q}/tickets?org_id={org}", None),
        ("POST", f"{Q}/tickets", {"service_id": s}),
        ("POST", f"{Q}/tickets", {"service_id": s, "org_id": org}),
        ("GET", f"{Q}/tickets/{called}", None),
        ("POST", f"{Q}/tickets/{called}/recall", None),
        ("POST", f"{Q}/tickets/{called}/skip", None),
        ("POST", f"{Q}/tickets/{called}/start", None),
        ("POST", f"{Q}/tickets/{serving}/finish", None),
        ("GET", f"{Q}/stats?org_id={org}", None),
        ("GET", f"{Q}/stats/export?org_id={org}", None),
    ]


async def all_not_found(client, headers: dict, w: dict) -> None:
    before = await queue_state()
    for method, url, body in every_request(w):
        await refused(client, method, url, headers, body, 404, "not_found")
    assert await queue_state() == before
    await call(client, "GET", f"{Q}/services", w["tv_auth"])  # the device's token still works


async def test_another_tenants_queue_is_not_found_and_unchanged(client, admin, other_tenant):
    acme = await busy_world(client, admin)
    other = await api_login(client, "admin@OTHER")
    await all_not_found(client, other, acme)
    # OTHER's own lists hold nothing of ACME's, and its counters cannot serve ACME's services
    for what in ("services", "counters", "devices", "tickets"):
        assert (await call(client, "GET", f"{Q}/{what}", other))["total"] == 0
    assert (await call(client, "GET", f"{Q}/stats", other))["totals"]["tickets"] == 0
    body = {"number": 1, "service_ids": [acme["a"]["id"]]}
    await refused(client, "POST", f"{Q}/counters", other, body, 400, "invalid_service")
    # and the other way round
    theirs = await busy_world(client, other)
    await all_not_found(client, admin, theirs)


@pytest.fixture
async def tree(client, admin, tenant) -> dict:
    """Head office ← B1 ← B1A and B2 beside B1, each with a busy queue; a B1 user with every
    queue permission."""
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    b2 = await make_org(client, admin, "B2", tenant.org_id)
    b1a = await make_org(client, admin, "B1A", b1["id"])
    _, b1_staff = await user_with(client, admin, "lin", b1["id"], "branch", QUEUE_ALL)
    return {
        "hq": await busy_world(client, admin),
        "b1": await busy_world(client, admin, b1["id"]),
        "b2": await busy_world(client, admin, b2["id"]),
        "b1a": await busy_world(client, admin, b1a["id"]),
        "b1_staff": b1_staff,
    }


async def test_a_branch_never_sees_a_sibling_or_its_parent(client, tree):
    staff = tree["b1_staff"]
    await all_not_found(client, staff, tree["b2"])
    await all_not_found(client, staff, tree["hq"])
    # its own lists are its own queue
    tickets = await call(client, "GET", f"{Q}/tickets", staff)
    b1 = tree["b1"]
    assert [t["id"] for t in tickets["items"]] == [b1["called"]["id"], b1["serving"]["id"], b1["waiting"]["id"]]
    services = await call(client, "GET", f"{Q}/services", staff)
    assert [s["id"] for s in services["items"]] == [b1["a"]["id"], b1["b"]["id"]]
    stats = await call(client, "GET", f"{Q}/stats", staff)
    assert (stats["org_id"], stats["totals"]["tickets"]) == (b1["a"]["org_id"], 3)


async def test_a_branch_works_its_own_queue_and_the_one_below(client, admin, tree):
    staff = tree["b1_staff"]
    for w in (tree["b1"], tree["b1a"]):
        org = w["a"]["org_id"]
        assert (await call(client, "GET", f"{Q}/tickets?org_id={org}", staff))["total"] == 3
        assert (await call(client, "GET", f"{Q}/devices?org_id={org}", staff))["total"] == 2
        assert (await call(client, "GET", f"{Q}/counters/{w['c1']['id']}", staff))["org_id"] == org
        await call(client, "GET", f"{Q}/stats?org_id={org}", staff)
        ticket = await take(client, staff, w["a"]["id"])
        assert ticket["org_id"] == org and ticket["taken_by_name"] == "用户lin"
        # call-next stays inside the counter's own org
        assert (await call_next(client, staff, w["c1"]["id"]))["id"] == w["waiting"]["id"]
        assert (await call_next(client, staff, w["c1"]["id"]))["id"] == ticket["id"]
        await refused(client, "POST", f"{Q}/counters/{w['c1']['id']}/call-next", staff, status=409, code="queue_empty")
        await act(client, staff, w["called"]["id"], "recall")
        await call(client, "PATCH", f"{Q}/services/{w['b']['id']}", staff, {"name": "取机（改）"})
    # the sibling's and the head office's waiting tickets were left alone
    for name in ("b2", "hq"):
        assert (await call(client, "GET", f"{Q}/tickets/{tree[name]['waiting']['id']}", admin))["status"] == "waiting"


async def test_the_head_office_works_any_branchs_queue(client, admin, tree):
    for name in ("b1", "b2", "b1a"):
        w = tree[name]
        org = w["a"]["org_id"]
        assert (await call(client, "GET", f"{Q}/tickets?org_id={org}", admin))["total"] == 3
        assert (await call(client, "GET", f"{Q}/stats?org_id={org}", admin))["totals"]["tickets"] == 3
        assert (await call(client, "GET", f"{Q}/services/{w['a']['id']}", admin))["org_id"] == org
        assert (await call(client, "GET", f"{Q}/devices/{w['kiosk']['id']}", admin))[
            "org_name"
        ] == f"{name.upper()}网点"
        assert (await call_next(client, admin, w["c1"]["id"]))["id"] == w["waiting"]["id"]
        await act(client, admin, w["serving"]["id"], "finish")
    # its own lists, without org_id, stay its own
    own = await call(client, "GET", f"{Q}/tickets", admin)
    assert {t["org_id"] for t in own["items"]} == {tree["hq"]["a"]["org_id"]}
    # and its counters never call a branch's ticket
    hq = tree["hq"]
    assert (await call_next(client, admin, hq["c1"]["id"]))["id"] == hq["waiting"]["id"]
    await refused(client, "POST", f"{Q}/counters/{hq['c1']['id']}/call-next", admin, status=409, code="queue_empty")


# --- permissions ------------------------------------------------------------------------------

COUNTER_VIEW, CALL, TAKE = "queue.counter.view", "queue.counter.call", "queue.counter.take"
STATS_VIEW, STATS_EXPORT = "queue.stats.view", "queue.stats.export"
SETTINGS_VIEW, SETTINGS_UPDATE, DEVICE = "queue.settings.view", "queue.settings.update", "queue.settings.device"


def guarded(w: dict) -> list[tuple[str, str, object, set[str]]]:
    """Each request of the head office's queue with the codes that allow it (any one of them)."""
    grants = {
        "services": {SETTINGS_VIEW, COUNTER_VIEW, STATS_VIEW},  # the stats page filters by them
        "counters": {SETTINGS_VIEW, COUNTER_VIEW, STATS_VIEW},
        "devices": {DEVICE},
        "tickets": {COUNTER_VIEW},
        "stats": {STATS_VIEW},
    }
    out = []
    for method, url, body in every_request(w):
        kind = url.removeprefix(f"{Q}/").split("/")[0].split("?")[0]
        codes = grants[kind]
        if method != "GET" and kind in ("services", "counters"):
            codes = {CALL} if url.endswith("call-next") else {SETTINGS_UPDATE}
        if kind == "tickets" and method == "POST":
            codes = {TAKE} if url == f"{Q}/tickets" else {CALL}
        if url.startswith(f"{Q}/stats/export"):
            codes = {STATS_EXPORT}
        out.append((method, url, body, codes))
    return out


ROLES = {
    "none": ["system.org.view"],
    "view": [COUNTER_VIEW],
    "work": [COUNTER_VIEW, CALL, TAKE],
    "stats": [STATS_VIEW],
    "setup": [SETTINGS_VIEW, SETTINGS_UPDATE],
    "device": [DEVICE],
}


async def test_staff_without_the_permission_get_403(client, admin, tenant):
    w = await busy_world(client, admin)
    before = await queue_state()
    for name, permissions in ROLES.items():
        _, staff = await user_with(client, admin, f"staff-{name}", tenant.org_id, "hq", permissions)
        allowed_reads = 0
        for method, url, body, codes in guarded(w):
            if codes & set(permissions):
                if method == "GET":
                    response = await client.get(url, headers=staff)
                    assert response.status_code == 200, (name, url, response.text)
                    allowed_reads += 1
                continue
            refusal = await refused(client, method, url, staff, body, 403, "forbidden")
            assert refusal["detail"] == "没有权限执行此操作"
        assert allowed_reads or name == "none", name
    assert await queue_state() == before
