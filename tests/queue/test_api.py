"""Every endpoint of the queue API (server/queue/api.py) as an outside client with a bearer token
sees it: status codes, the JSON fields, the error shape `{"detail": Chinese, "code"}` with 400
for bad input, 404 for what is absent and 409 for what the state forbids."""

from __future__ import annotations

import pytest

from tests.api_helpers import call, error_of, refused
from tests.conftest import api_login
from tests.queue.helpers import Q, act, call_next, queue_state, queue_world, take
from tests.system.helpers import make_org

SERVICE_FIELDS = {"id", "org_id", "name", "prefix", "enabled", "sort_order"}
COUNTER_FIELDS = {"id", "org_id", "number", "name", "label", "enabled", "service_ids", "services"}
DEVICE_FIELDS = {
    "id",
    "org_id",
    "org_name",
    "kind",
    "kind_name",
    "name",
    "active",
    "revoked_at",
    "last_seen_at",
    "created_by_name",
    "created_at",
}
TICKET_FIELDS = {
    "id",
    "org_id",
    "no",
    "day",
    "seq",
    "service_id",
    "service_name",
    "status",
    "status_name",
    "phone",
    "counter_id",
    "counter_number",
    "counter_name",
    "ahead",
    "calls",
    "taken_by_name",
    "taken_at",
    "called_at",
    "last_called_at",
    "started_at",
    "finished_at",
    "priority",
    "priority_name",
    "appointment_id",
    "rating",
}
MISSING = 999_999


@pytest.fixture
async def w(client, admin) -> dict:
    return await queue_world(client, admin)


async def bad_inputs(client, headers, method: str, url: str, cases: list[tuple[object, int, str]]) -> None:
    """Each body is refused with its status and code, and the queue tables are left as they were."""
    before = await queue_state()
    for body, status, code in cases:
        await refused(client, method, url, headers, body, status, code)
    assert await queue_state() == before


# --- services ---------------------------------------------------------------------------------


async def test_services(client, admin, tenant, w):
    made = await call(client, "POST", f"{Q}/services", admin, {"name": " 咨询 ", "prefix": " c "}, 201)
    assert set(made) == SERVICE_FIELDS
    assert made == made | {"org_id": tenant.org_id, "name": "咨询", "prefix": "C", "enabled": True, "sort_order": 0}
    assert await call(client, "GET", f"{Q}/services/{made['id']}", admin) == made
    listed = await call(client, "GET", f"{Q}/services", admin)
    assert [s["prefix"] for s in listed["items"]] == ["A", "C", "B"]  # by order, then letter
    assert (listed["total"], listed["page"]) == (3, 1)

    patched = await call(
        client, "PATCH", f"{Q}/services/{made['id']}", admin, {"sort_order": 5, "enabled": False, "prefix": "d"}
    )
    assert (patched["sort_order"], patched["enabled"], patched["prefix"], patched["name"]) == (5, False, "D", "咨询")
    assert (await call(client, "PATCH", f"{Q}/services/{made['id']}", admin, {}))["prefix"] == "D"
    enabled = await call(client, "GET", f"{Q}/services?enabled=true", admin)
    assert [s["prefix"] for s in enabled["items"]] == ["A", "B"]

    url = f"{Q}/services"
    await bad_inputs(
        client,
        admin,
        "POST",
        url,
        [
            ({"name": "x", "prefix": "A"}, 409, "duplicate_prefix"),
            ({"name": "x", "prefix": "a"}, 409, "duplicate_prefix"),
            ({"name": "x", "prefix": "1"}, 400, "invalid_field"),
            ({"name": "x", "prefix": "中"}, 400, "invalid_field"),
            ({"name": "x", "prefix": "AB"}, 400, "too_long"),
            ({"name": "x", "prefix": ""}, 400, "required"),
            ({"name": "x"}, 400, "invalid_request"),
            ({"name": "", "prefix": "E"}, 400, "required"),
            ({"name": "长" * 31, "prefix": "E"}, 400, "too_long"),
            ({"name": "x", "prefix": "E", "sort_order": 1000}, 400, "out_of_range"),
            ({"name": "x", "prefix": "E", "sort_order": -1}, 400, "out_of_range"),
            ({"name": "x", "prefix": "E", "sort_order": "z"}, 400, "invalid_request"),
            ({"name": "x", "prefix": "E", "enabled": "maybe"}, 400, "invalid_request"),
            ({"name": "x", "prefix": "E", "org_id": "abc"}, 400, "invalid_request"),
            ({"name": "x", "prefix": "E", "org_id": 2**40}, 400, "out_of_range"),
            ({"name": "x", "prefix": "E", "org_id": MISSING}, 404, "not_found"),
            ("not json", 400, "invalid_request"),
        ],
    )
    await bad_inputs(
        client,
        admin,
        "PATCH",
        f"{Q}/services/{made['id']}",
        [
            ({"prefix": "B"}, 409, "duplicate_prefix"),
            ({"prefix": "?"}, 400, "invalid_field"),
            ({"name": ""}, 400, "required"),
            ({"sort_order": 1000}, 400, "out_of_range"),
        ],
    )
    for method in ("GET", "PATCH", "DELETE"):
        body = await refused(client, method, f"{Q}/services/{MISSING}", admin, {}, 404, "not_found")
        assert body["detail"] == "业务类型不存在"
    await refused(client, "GET", f"{Q}/services/abc", admin, status=404, code="not_found")
    await refused(client, "GET", f"{Q}/services?org_id=abc", admin, status=400, code="invalid_field")


async def test_deleting_a_service(client, admin, w):
    a, b = w["a"]["id"], w["b"]["id"]
    ticket = await take(client, admin, a)
    for _ in ("waiting", "called", "serving"):
        body = await refused(client, "DELETE", f"{Q}/services/{a}", admin, status=409, code="service_in_use")
        assert body["detail"] == "该业务还有 1 位顾客在排队或办理中，不能删除"
        if _ == "waiting":
            await call_next(client, admin, w["c2"]["id"])
        elif _ == "called":
            await act(client, admin, ticket["id"], "start")
    await act(client, admin, ticket["id"], "finish")

    gone = await call(client, "DELETE", f"{Q}/services/{a}", admin)
    assert gone == w["a"]
    await refused(client, "GET", f"{Q}/services/{a}", admin, status=404, code="not_found")
    await refused(client, "DELETE", f"{Q}/services/{a}", admin, status=404, code="not_found")
    await refused(client, "POST", f"{Q}/tickets", admin, {"service_id": a}, 404, "not_found")
    assert [s["id"] for s in (await call(client, "GET", f"{Q}/services", admin))["items"]] == [b]
    # counters no longer show it; counter 2 (A only) has nothing left to call
    c2 = await call(client, "GET", f"{Q}/counters/{w['c2']['id']}", admin)
    assert (c2["service_ids"], c2["services"]) == ([], [])
    body = await refused(client, "POST", f"{Q}/counters/{w['c2']['id']}/call-next", admin, status=409)
    assert body == {"detail": "2 号窗口未设置办理的业务类型", "code": "no_services"}
    await refused(client, "PATCH", f"{Q}/counters/{w['c2']['id']}", admin, {"service_ids": [a]}, 400, "invalid_service")
    # its letter is free again; its done ticket still reads
    again = await call(client, "POST", f"{Q}/services", admin, {"name": "维修", "prefix": "A"}, 201)
    assert again["id"] != a
    assert (await call(client, "GET", f"{Q}/tickets/{ticket['id']}", admin))["service_name"] == "维修"


# --- counters ---------------------------------------------------------------------------------


async def test_counters(client, admin, tenant, w):
    a, b = w["a"]["id"], w["b"]["id"]
    made = await call(
        client, "POST", f"{Q}/counters", admin, {"number": 3, "name": "贵宾", "service_ids": [b, a, b]}, 201
    )
    assert set(made) == COUNTER_FIELDS
    assert (made["org_id"], made["number"], made["name"], made["label"], made["enabled"]) == (
        tenant.org_id,
        3,
        "贵宾",
        "3 号窗口（贵宾）",
        True,
    )
    assert made["service_ids"] == [a, b]
    assert made["services"] == [
        {"id": a, "name": "维修", "prefix": "A", "enabled": True},
        {"id": b, "name": "取机", "prefix": "B", "enabled": True},
    ]
    assert await call(client, "GET", f"{Q}/counters/{made['id']}", admin) == made
    listed = await call(client, "GET", f"{Q}/counters", admin)
    assert [c["label"] for c in listed["items"]] == ["1 号窗口", "2 号窗口", "3 号窗口（贵宾）"]
    assert listed["total"] == 3

    patched = await call(client, "PATCH", f"{Q}/counters/{made['id']}", admin, {"number": 9, "name": ""})
    assert (patched["number"], patched["label"], patched["service_ids"]) == (9, "9 号窗口", [a, b])
    patched = await call(client, "PATCH", f"{Q}/counters/{made['id']}", admin, {"service_ids": [b]})
    assert patched["service_ids"] == [b]

    branch = await make_org(client, admin, "B1", tenant.org_id)
    elsewhere = await call(
        client, "POST", f"{Q}/services", admin, {"name": "x", "prefix": "A", "org_id": branch["id"]}, 201
    )
    await bad_inputs(
        client,
        admin,
        "POST",
        f"{Q}/counters",
        [
            ({"number": 1}, 409, "duplicate_number"),
            ({"number": 0}, 400, "out_of_range"),
            ({"number": 1000}, 400, "out_of_range"),
            ({"number": "x"}, 400, "invalid_request"),
            ({}, 400, "invalid_request"),
            ({"number": 4, "name": "长" * 31}, 400, "too_long"),
            ({"number": 4, "service_ids": ["a"]}, 400, "invalid_request"),
            ({"number": 4, "service_ids": [MISSING]}, 400, "invalid_service"),
            ({"number": 4, "service_ids": [elsewhere["id"]]}, 400, "invalid_service"),
            ({"number": 4, "service_ids": [0]}, 400, "out_of_range"),
            ({"number": 4, "service_ids": list(range(1, 28))}, 400, "too_many"),
            ({"number": 4, "org_id": MISSING}, 404, "not_found"),
        ],
    )
    await bad_inputs(
        client,
        admin,
        "PATCH",
        f"{Q}/counters/{made['id']}",
        [
            ({"number": 2}, 409, "duplicate_number"),
            ({"number": -1}, 400, "out_of_range"),
            ({"enabled": "x"}, 400, "invalid_request"),
            ({"service_ids": [elsewhere["id"]]}, 400, "invalid_service"),
        ],
    )
    # the same number in another org is fine
    there = await call(client, "POST", f"{Q}/counters", admin, {"number": 1, "org_id": branch["id"]}, 201)
    assert there["org_id"] == branch["id"]
    for method in ("GET", "PATCH", "DELETE"):
        body = await refused(client, method, f"{Q}/counters/{MISSING}", admin, {}, 404, "not_found")
        assert body["detail"] == "窗口不存在"
    await refused(client, "POST", f"{Q}/counters/{MISSING}/call-next", admin, status=404, code="not_found")
    await refused(client, "POST", f"{Q}/counters/x/call-next", admin, status=404, code="not_found")


async def test_counter_states_refuse_calls_and_deletion(client, admin, w):
    c1 = w["c1"]["id"]
    await take(client, admin, w["a"]["id"])
    await call(client, "PATCH", f"{Q}/counters/{c1}", admin, {"enabled": False})
    body = await refused(client, "POST", f"{Q}/counters/{c1}/call-next", admin, status=409)
    assert body == {"detail": "1 号窗口已停用", "code": "counter_disabled"}
    await call(client, "PATCH", f"{Q}/counters/{c1}", admin, {"enabled": True})
    ticket = await call_next(client, admin, c1)

    for step in ("called", "serving"):
        body = await refused(client, "DELETE", f"{Q}/counters/{c1}", admin, status=409, code="counter_in_use")
        assert body["detail"] == "该窗口还有 1 位顾客在叫号或办理中，不能删除"
        await act(client, admin, ticket["id"], "start" if step == "called" else "finish")
    gone = await call(client, "DELETE", f"{Q}/counters/{c1}", admin)
    assert gone["id"] == c1 and gone["label"] == "1 号窗口"
    for method, url in (("GET", f"{Q}/counters/{c1}"), ("POST", f"{Q}/counters/{c1}/call-next")):
        await refused(client, method, url, admin, status=404, code="not_found")
    assert [c["number"] for c in (await call(client, "GET", f"{Q}/counters", admin))["items"]] == [2]
    # its number is free again; the served ticket still names it
    await call(client, "POST", f"{Q}/counters", admin, {"number": 1}, 201)
    assert (await call(client, "GET", f"{Q}/tickets/{ticket['id']}", admin))["counter_number"] == 1


# --- devices ----------------------------------------------------------------------------------


async def test_devices(client, admin, tenant, w):
    assert set(w["kiosk"]) == DEVICE_FIELDS | {"token", "url"}
    made = await call(client, "POST", f"{Q}/devices", admin, {"kind": "tv", "name": " 二楼电视 "}, 201)
    assert made == made | {
        "org_id": tenant.org_id,
        "org_name": "艾克米维修总部",
        "kind": "tv",
        "kind_name": "叫号屏",
        "name": "二楼电视",
        "active": True,
        "revoked_at": None,
        "last_seen_at": None,
        "created_by_name": "管理员",
    }
    assert made["url"] == f"http://testserver.local/queue/tv/{made['token']}"
    read = await call(client, "GET", f"{Q}/devices/{made['id']}", admin)
    assert set(read) == DEVICE_FIELDS and read == {k: made[k] for k in DEVICE_FIELDS}

    listed = await call(client, "GET", f"{Q}/devices", admin)
    assert [d["name"] for d in listed["items"]] == ["门口取号机", "大厅电视", "二楼电视"]
    assert all("token" not in d for d in listed["items"])
    tvs = await call(client, "GET", f"{Q}/devices?kind=tv&page_size=1&page=2", admin)
    assert (tvs["total"], [d["name"] for d in tvs["items"]], tvs["page"]) == (2, ["二楼电视"], 2)

    renamed = await call(client, "PATCH", f"{Q}/devices/{made['id']}", admin, {"name": "二楼大屏"})
    assert renamed["name"] == "二楼大屏" and renamed["active"] is True

    await bad_inputs(
        client,
        admin,
        "POST",
        f"{Q}/devices",
        [
            ({"kind": "phone", "name": "x"}, 400, "invalid_field"),
            ({"kind": "tv", "name": ""}, 400, "required"),
            ({"kind": "tv", "name": "长" * 31}, 400, "too_long"),
            ({"name": "x"}, 400, "invalid_request"),
            ({"kind": "tv", "name": "x", "org_id": MISSING}, 404, "not_found"),
        ],
    )
    await bad_inputs(client, admin, "PATCH", f"{Q}/devices/{made['id']}", [({"name": " "}, 400, "required")])
    for query, code in (
        ("kind=phone", "invalid_field"),
        ("page=0", "invalid_request"),
        ("page_size=201", "invalid_request"),
    ):
        await refused(client, "GET", f"{Q}/devices?{query}", admin, status=400, code=code)
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/revoke"), ("POST", "/regenerate")):
        body = await refused(client, method, f"{Q}/devices/{MISSING}{suffix}", admin, {"name": "x"}, 404, "not_found")
        assert body["detail"] == "设备不存在"


# --- tickets ----------------------------------------------------------------------------------


async def test_a_ticket_takes_only_a_mainland_mobile_number(client, admin, w):
    """Issue 15: `139` got a ticket. A phone is 11 digits 1[3-9]…, or none; anything else is a 400
    naming the field, and no ticket is made."""
    before = await queue_state()
    cases = ["139", "12", "12345678901", "23800001111", "1380000111", "138000011112", "1380000111a", "abc"]
    cases += ["abcdefghijk", "+85213800001111", "+8612345678901", "1" * 21, "+" + "1" * 20]
    for phone in cases:
        answer = await client.post(f"{Q}/tickets", json={"service_id": w["a"]["id"], "phone": phone}, headers=admin)
        body = error_of(answer, 400, "invalid_phone", extra=("errors",))
        assert body["detail"] == "请输入 11 位手机号码"
        assert body["errors"] == [{"field": "phone", "detail": "请输入 11 位手机号码"}]
    too_long = await client.post(f"{Q}/tickets", json={"service_id": w["a"]["id"], "phone": "1" * 31}, headers=admin)
    assert error_of(too_long, 400, "too_long", extra=("errors",))["errors"][0]["field"] == "phone"
    assert await queue_state() == before
    for typed, kept in (
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("+86 139-1234-5678", "13912345678"),
        ("", ""),
    ):
        assert (await take(client, admin, w["a"]["id"], typed))["phone"] == kept


async def test_taking_tickets(client, admin, tenant, w):
    ticket = await call(
        client, "POST", f"{Q}/tickets", admin, {"service_id": w["a"]["id"], "phone": " +86 138-0000-1111 "}, 201
    )
    assert set(ticket) == TICKET_FIELDS
    assert ticket == ticket | {
        "org_id": tenant.org_id,
        "no": "A001",
        "seq": 1,
        "service_id": w["a"]["id"],
        "service_name": "维修",
        "status": "waiting",
        "status_name": "等候中",
        "phone": "13800001111",  # stored as its 11 digits
        "ahead": 0,
        "calls": 0,
        "taken_by_name": "管理员",
    }
    assert (await take(client, admin, w["a"]["id"], "19912345678"))["phone"] == "19912345678"

    await bad_inputs(
        client,
        admin,
        "POST",
        f"{Q}/tickets",
        [
            ({"service_id": w["a"]["id"], "phone": 138}, 400, "invalid_request"),
            ({"service_id": "abc"}, 400, "invalid_request"),
            ({"service_id": 0}, 400, "out_of_range"),
            ({"service_id": 2**40}, 400, "out_of_range"),
            ({}, 400, "invalid_request"),
            ({"service_id": MISSING}, 404, "not_found"),
            ({"service_id": w["a"]["id"], "org_id": MISSING}, 404, "not_found"),
        ],
    )


async def test_listing_and_reading_tickets(client, admin, w):
    a, b = w["a"]["id"], w["b"]["id"]
    taken = [await take(client, admin, s) for s in (a, b, a, b, a)]  # A001 B001 A002 B002 A003
    first = await call_next(client, admin, w["c1"]["id"])  # A001
    second = await call_next(client, admin, w["c2"]["id"])  # A002
    await act(client, admin, second["id"], "start")
    day = first["day"]

    def nos(page: dict) -> list[str]:
        return [t["no"] for t in page["items"]]

    everything = await call(client, "GET", f"{Q}/tickets", admin)
    assert nos(everything) == ["A001", "B001", "A002", "B002", "A003"] and everything["total"] == 5
    assert all(set(t) == TICKET_FIELDS for t in everything["items"])
    for query, expected in (
        ("status=waiting", ["B001", "B002", "A003"]),
        ("status=called", ["A001"]),
        ("status=serving", ["A002"]),
        ("status=done", []),
        (f"service_id={b}", ["B001", "B002"]),
        (f"counter_id={w['c2']['id']}", ["A002"]),
        (f"service_id={a}&status=waiting", ["A003"]),
        (f"date={day}", ["A001", "B001", "A002", "B002", "A003"]),
        ("date=2020-01-01", []),
        (f"service_id={MISSING}", []),
    ):
        assert nos(await call(client, "GET", f"{Q}/tickets?{query}", admin)) == expected, query
    paged = await call(client, "GET", f"{Q}/tickets?page=2&page_size=2", admin)
    assert (nos(paged), paged["total"], paged["page"], paged["page_size"]) == (["A002", "B002"], 5, 2, 2)
    for query, code in (
        ("status=lost", "invalid_field"),
        ("service_id=abc", "invalid_field"),
        ("counter_id=-3", "out_of_range"),
        ("date=2025-02-30", "invalid_date"),
        ("date=today", "invalid_date"),
        ("org_id=abc", "invalid_field"),
        ("page=0", "invalid_request"),
        ("page_size=500", "invalid_request"),
    ):
        await refused(client, "GET", f"{Q}/tickets?{query}", admin, status=400, code=code)
    await refused(client, "GET", f"{Q}/tickets?org_id={MISSING}", admin, status=404, code="not_found")

    assert await call(client, "GET", f"{Q}/tickets/{taken[0]['id']}", admin) == first
    body = await refused(client, "GET", f"{Q}/tickets/{MISSING}", admin, status=404, code="not_found")
    assert body["detail"] == "排队号不存在"
    await refused(client, "GET", f"{Q}/tickets/{2**40}", admin, status=400, code="out_of_range")
    for action in ("recall", "skip", "start", "finish"):
        await refused(client, "POST", f"{Q}/tickets/{MISSING}/{action}", admin, status=404, code="not_found")
        await refused(client, "POST", f"{Q}/tickets/abc/{action}", admin, status=404, code="not_found")


async def test_the_api_wants_a_caller(client, w, tenant):
    for method, url in (
        ("GET", f"{Q}/services"),
        ("POST", f"{Q}/tickets"),
        ("GET", f"{Q}/tickets"),
        ("POST", f"{Q}/counters/{w['c1']['id']}/call-next"),
        ("GET", f"{Q}/stats"),
        ("GET", f"{Q}/devices"),
    ):
        for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Bearer dev_nonsense"}):
            body = await refused(client, method, url, headers, {"service_id": w["a"]["id"]}, 401, "unauthorized")
            assert body["detail"] == "请先登录"
    # a staff member's token works alongside
    await call(client, "GET", f"{Q}/services", await api_login(client, "admin@ACME"))
