"""Queue extras (issue 21): online booking with a capacity per slot, check-in at the kiosk into
the appointment lane, the priority lane, and the customer's rating after 【完成】."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.core import clock
from server.queue.services import appointments, setup
from server.queue.tables import QueueAppointment, QueueSlot, QueueTicket
from tests.api_helpers import call, concurrently, error_of
from tests.conftest import api_login
from tests.queue.helpers import Q, act, call_next, queue_world, take
from tests.system.helpers import service_org

PUBLIC = "/api/v1/public/booking"
OPEN_ALL_DAY = {"enabled": True, "open_at": "00:00", "close_at": "23:30", "slot_minutes": 30, "capacity": 3}


@pytest.fixture
async def w(client, admin) -> dict:
    world = await queue_world(client, admin)
    world["booking"] = await call(client, "PUT", f"{Q}/booking", admin, OPEN_ALL_DAY)
    world["token"] = world["booking"]["url"].rsplit("/", 1)[1]
    return world


def tomorrow() -> str:
    return (clock.now() + timedelta(days=1)).astimezone(setup.ZoneInfo("Asia/Shanghai")).date().isoformat()


async def book(client, w, phone: str, slot: str = "10:00", status: int = 201, **extra) -> dict:
    body = {"service_id": w["a"]["id"], "day": tomorrow(), "slot": slot, "phone": phone, "name": "王先生"} | extra
    return await call(client, "POST", f"{PUBLIC}/{w['token']}", {}, body, status)


async def due_today(code: str) -> None:
    """Move a booked appointment to today's first slot: it may check in now."""
    today = clock.now().astimezone(setup.ZoneInfo("Asia/Shanghai")).date()
    await QueueAppointment.update({QueueAppointment.day: today, QueueAppointment.slot: "00:00"}).where(
        QueueAppointment.code == code
    )


async def test_the_booking_page_offers_the_orgs_services_and_slots_and_books_a_code(client, admin, w):
    cal = await call(client, "GET", f"{PUBLIC}/{w['token']}", {})
    assert [s["name"] for s in cal["services"]] == ["维修", "取机"]
    day = next(d for d in cal["days"] if d["day"] == tomorrow())
    assert day["slots"][0] == {"slot": "00:00", "end": "00:30", "remaining": 3}
    assert len(day["slots"]) == 47
    assert set(cal["org"]) == {"id", "name", "address", "phone"}
    booked = await book(client, w, "13800001111")
    assert booked["code"].isdigit() and len(booked["code"]) == 6
    assert booked | {"code": ""} == {
        "code": "",
        "day": tomorrow(),
        "slot": "10:00",
        "end": "10:30",
        "service_name": "维修",
        "org_name": booked["org_name"],
        "phone": "138****1111",
        "status": "booked",
        "status_name": "已预约",
    }
    cal = await call(client, "GET", f"{PUBLIC}/{w['token']}", {})
    day = next(d for d in cal["days"] if d["day"] == tomorrow())
    assert next(s for s in day["slots"] if s["slot"] == "10:00")["remaining"] == 2
    # staff see it in 【预约管理】
    page = await call(client, "GET", f"{Q}/appointments?date={tomorrow()}", admin)
    assert [(a["code"], a["phone"], a["status"], a["status_name"]) for a in page["items"]] == [
        (booked["code"], "13800001111", "booked", "已预约")
    ]


async def test_bad_bookings_are_refused_in_chinese_and_change_nothing(client, w):
    cases = [
        ({"phone": ""}, 400, "required"),
        ({"phone": "12345"}, 400, "invalid_phone"),
        ({"slot": "10:15"}, 400, "invalid_slot"),
        ({"slot": "23:30"}, 400, "invalid_slot"),
        ({"day": "2020-01-01"}, 400, "invalid_day"),
        ({"day": "明天"}, 400, "invalid_date"),
        ({"service_id": 999999}, 404, "not_found"),
    ]
    for extra, status, code in cases:
        body = {"service_id": w["a"]["id"], "day": tomorrow(), "slot": "10:00", "phone": "13800001111"} | extra
        response = await client.post(f"{PUBLIC}/{w['token']}", json=body)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert await QueueAppointment.count() == 0
    assert await QueueSlot.select(QueueSlot.booked) in ([], [{"booked": 0}])
    error_of(await client.get(f"{PUBLIC}/not-a-real-token-xyz"), 404, "not_found")
    # one booking per phone and day
    await book(client, w, "13800001111")
    refused = await book(client, w, "13800001111", slot="11:00", status=409)
    assert refused["code"] == "already_booked"


async def test_twenty_bookings_at_once_fill_a_slot_to_its_capacity_and_no_more(client, w):
    body = {"service_id": w["a"]["id"], "day": tomorrow(), "slot": "10:00"}
    requests = [("POST", f"{PUBLIC}/{w['token']}", {}, body | {"phone": f"1380000{i:04d}"}) for i in range(20)]
    responses = await concurrently(client, requests)
    assert sorted(r.status_code for r in responses) == [201] * 3 + [409] * 17
    for r in responses:
        if r.status_code == 409:
            assert error_of(r, 409, "slot_full")["detail"] == "该时段已约满，请选择其他时段"
    assert await QueueAppointment.count() == 3
    assert await QueueSlot.select(QueueSlot.booked) == [{"booked": 3}]
    codes = [r.json()["code"] for r in responses if r.status_code == 201]
    assert len(set(codes)) == 3


async def test_bookings_from_one_address_are_throttled(client, w, monkeypatch):
    monkeypatch.setattr(appointments, "BOOKINGS_PER_HOUR", 2)
    await book(client, w, "13900000001")
    await book(client, w, "13900000002")
    response = await client.post(
        f"{PUBLIC}/{w['token']}",
        json={"service_id": w["a"]["id"], "day": tomorrow(), "slot": "10:00", "phone": "13900000003"},
    )
    assert error_of(response, 429, "throttled")["detail"] == "预约过于频繁，请稍后再试"
    assert await QueueAppointment.count() == 2


async def test_a_checked_in_appointment_is_called_before_walk_ins_and_checks_in_once(client, admin, w):
    walk_in = await take(client, w["kiosk_auth"], w["a"]["id"])
    booked = await book(client, w, "13900002222")
    early = await call(
        client, "POST", f"{Q}/appointments/check-in", w["kiosk_auth"], {"code": booked["code"]}, 404
    )  # tomorrow's: not today's
    assert early["detail"] == "没有找到今天的预约，请核对预约码或手机号"
    await due_today(booked["code"])
    ticket = await call(client, "POST", f"{Q}/appointments/check-in", w["kiosk_auth"], {"code": booked["code"]}, 201)
    assert ticket["appointment_id"] and ticket["ahead"] == 0 and ticket["phone"] == "13900002222"
    again = await call(client, "POST", f"{Q}/appointments/check-in", w["kiosk_auth"], {"code": "139 0000 2222"}, 409)
    assert again["code"] == "already_checked_in"
    assert (await call_next(client, admin, w["c1"]["id"]))["id"] == ticket["id"]
    assert (await call_next(client, admin, w["c1"]["id"]))["id"] == walk_in["id"]
    rows = await QueueAppointment.select(QueueAppointment.status, QueueAppointment.ticket_id)
    assert rows == [{"status": "checked_in", "ticket_id": ticket["id"]}]


async def test_two_check_ins_at_once_make_one_ticket(client, w):
    booked = await book(client, w, "13900003333")
    await due_today(booked["code"])
    body = {"code": booked["code"]}
    responses = await concurrently(
        client, [("POST", f"{Q}/appointments/check-in", w["kiosk_auth"], body) for _ in range(5)]
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 4
    assert await QueueTicket.count() == 1


async def test_check_in_refuses_a_bad_code_and_a_cancelled_appointment(client, admin, w):
    error_of(await client.post(f"{Q}/appointments/check-in", json={"code": "12ab"}, headers=w["kiosk_auth"]), 400)
    booked = await book(client, w, "13900004444")
    appointment = (await call(client, "GET", f"{Q}/appointments?date={tomorrow()}", admin))["items"][0]
    cancelled = await call(client, "POST", f"{Q}/appointments/{appointment['id']}/cancel", admin, {"reason": "改期"})
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_by_name"]
    assert await QueueSlot.select(QueueSlot.booked) == [{"booked": 0}]  # its place is free again
    error_of(await client.post(f"{Q}/appointments/{appointment['id']}/cancel", json={}, headers=admin), 409)
    await due_today(booked["code"])
    refused = await call(client, "POST", f"{Q}/appointments/check-in", w["kiosk_auth"], {"code": booked["code"]}, 409)
    assert refused["detail"] == "该预约已取消，请重新取号"


async def test_the_priority_lane_is_called_first(client, admin, w):
    first = await take(client, w["kiosk_auth"], w["a"]["id"])
    second = await take(client, w["kiosk_auth"], w["a"]["id"])
    # a kiosk cannot claim the lane; staff can, when taking or on a waiting ticket
    kiosk_vip = await call(
        client, "POST", f"{Q}/tickets", w["kiosk_auth"], {"service_id": w["a"]["id"], "priority": "vip"}, 201
    )
    assert kiosk_vip["priority"] == ""
    elderly = await call(
        client, "POST", f"{Q}/tickets", admin, {"service_id": w["a"]["id"], "priority": "elderly"}, 201
    )
    assert elderly["ahead"] == 0 and elderly["priority_name"] == "长者优先"
    marked = await call(client, "POST", f"{Q}/tickets/{second['id']}/priority", admin, {"priority": "vip"})
    assert marked["priority_name"] == "VIP"
    bad = await call(client, "POST", f"{Q}/tickets/{first['id']}/priority", admin, {"priority": "king"}, 400)
    assert bad["code"] == "invalid_field"
    order = [(await call_next(client, admin, w["c2"]["id"]))["id"] for _ in range(4)]
    assert order == [second["id"], elderly["id"], first["id"], kiosk_vip["id"]]
    # only a waiting ticket moves lanes
    error_of(await client.post(f"{Q}/tickets/{first['id']}/priority", json={"priority": ""}, headers=admin), 409)


async def test_a_finished_ticket_is_rated_once_and_shows_in_the_stats(client, admin, w):
    ticket = await take(client, w["kiosk_auth"], w["a"]["id"])
    early = await call(client, "POST", f"{Q}/tickets/{ticket['id']}/rating", w["kiosk_auth"], {"rating": 5}, 409)
    assert early["detail"].endswith("尚未办理完成，完成后再评价")
    await call_next(client, admin, w["c1"]["id"])
    await act(client, admin, ticket["id"], "start")
    await act(client, admin, ticket["id"], "finish")
    error_of(await client.post(f"{Q}/tickets/{ticket['id']}/rating", json={"rating": 6}, headers=w["kiosk_auth"]), 400)
    rated = await call(client, "POST", f"{Q}/tickets/{ticket['id']}/rating", w["kiosk_auth"], {"rating": 4})
    assert rated["rating"] == 4
    twice = await call(client, "POST", f"{Q}/tickets/{ticket['id']}/rating", w["kiosk_auth"], {"rating": 1}, 409)
    assert twice["code"] == "already_rated"
    stats = await call(client, "GET", f"{Q}/stats", admin)
    assert (stats["totals"]["ratings"], stats["totals"]["avg_rating"]) == (1, 4.0)


async def test_booking_settings_are_checked_and_the_link_can_be_replaced(client, admin, w):
    bad = await call(client, "PUT", f"{Q}/booking", admin, {"open_at": "25:00", "capacity": 0}, 400)
    assert {e["field"] for e in bad["errors"]} == {"open_at", "capacity"}
    narrow = await call(client, "PUT", f"{Q}/booking", admin, {"open_at": "10:00", "close_at": "10:10"}, 400)
    assert narrow["code"] == "invalid_hours"
    new = await call(client, "POST", f"{Q}/booking/regenerate", admin)
    assert new["url"] != w["booking"]["url"]
    error_of(await client.get(f"{PUBLIC}/{w['token']}"), 404)
    await call(client, "PUT", f"{Q}/booking", admin, {"enabled": False})
    error_of(await client.get(f"{PUBLIC}/{new['url'].rsplit('/', 1)[1]}"), 404)


async def test_another_tenant_sees_none_of_it(client, admin, w, other_tenant):
    other = await api_login(client, "admin@OTHER")
    booked = await book(client, w, "13900005555")
    appointment = (await call(client, "GET", f"{Q}/appointments?date={tomorrow()}", admin))["items"][0]
    assert (await call(client, "GET", f"{Q}/appointments?date={tomorrow()}", other))["items"] == []
    error_of(await client.get(f"{Q}/appointments/{appointment['id']}", headers=other), 404)
    error_of(await client.post(f"{Q}/appointments/{appointment['id']}/cancel", json={}, headers=other), 404)
    await due_today(booked["code"])
    error_of(await client.post(f"{Q}/appointments/check-in", json={"code": booked["code"]}, headers=other), 404)
    ticket = await take(client, w["kiosk_auth"], w["a"]["id"])
    error_of(await client.post(f"{Q}/tickets/{ticket['id']}/priority", json={"priority": "vip"}, headers=other), 404)
    error_of(await client.post(f"{Q}/tickets/{ticket['id']}/rating", json={"rating": 5}, headers=other), 404)
    assert (await call(client, "GET", f"{Q}/booking", other))["url"] == ""
    assert (await QueueAppointment.select(QueueAppointment.status))[0]["status"] == "booked"


# --- the customer's own cancel ----------------------------------------------------------------------

NOT_FOUND = "没有找到该预约，请核对预约码和预约手机号后四位"


async def cancel_own(client, w, code: str, last4: str, status: int = 200, token: str | None = None) -> dict:
    body = {"code": code, "phone_last4": last4}
    return await call(client, "POST", f"{PUBLIC}/{token or w['token']}/cancel", {}, body, status)


async def test_the_customer_cancels_their_booking_and_its_place_is_free_again(client, admin, w):
    first = await book(client, w, "13800001111")
    for phone in ("13800002222", "13800003333"):
        await book(client, w, phone)
    assert (await book(client, w, "13800004444", status=409))["code"] == "slot_full"
    cancelled = await cancel_own(client, w, first["code"], "1111")
    assert cancelled == first | {"status": "cancelled", "status_name": "已取消"}
    assert await QueueSlot.select(QueueSlot.booked) == [{"booked": 2}]
    cal = await call(client, "GET", f"{PUBLIC}/{w['token']}", {})
    day = next(d for d in cal["days"] if d["day"] == tomorrow())
    assert next(s for s in day["slots"] if s["slot"] == "10:00")["remaining"] == 1
    await book(client, w, "13800004444")  # the freed place is taken
    listed = await call(client, "GET", f"{Q}/appointments?date={tomorrow()}&status=cancelled", admin)
    [row] = listed["items"]
    assert (row["code"], row["status_name"], row["cancelled_by_name"]) == (first["code"], "已取消", "客户（网上预约）")
    # once cancelled it stays so: a second cancel and a check-in are refused
    again = await cancel_own(client, w, first["code"], "1111", 409)
    assert (again["code"], again["detail"]) == ("invalid_state", "该预约已取消，不能取消")
    await due_today(first["code"])
    refused = await call(client, "POST", f"{Q}/appointments/check-in", w["kiosk_auth"], {"code": first["code"]}, 409)
    assert refused["detail"] == "该预约已取消，请重新取号"


async def test_a_wrong_code_or_phone_says_the_same_and_changes_nothing(client, w):
    mine = await book(client, w, "13800001111")
    theirs = await book(client, w, "13800002222", slot="11:00")
    unused = next(c for c in (f"{n:06d}" for n in range(1000)) if c not in (mine["code"], theirs["code"]))
    answers = [
        await cancel_own(client, w, theirs["code"], "1111", 404),  # a code that exists, another phone's
        await cancel_own(client, w, unused, "1111", 404),  # no such code
        await cancel_own(client, w, mine["code"], "2222", 404),  # my code, the other's digits
    ]
    assert {(a["code"], a["detail"]) for a in answers} == {("not_found", NOT_FOUND)}
    bad = await call(client, "POST", f"{PUBLIC}/{w['token']}/cancel", {}, {"code": "12ab", "phone_last4": "1"}, 400)
    assert {(e["field"], e["detail"]) for e in bad["errors"]} == {
        ("code", "预约码是 6 位数字"),
        ("phone_last4", "请输入预约手机号的后四位数字"),
    }
    error_of(await client.post(f"{PUBLIC}/{w['token']}/cancel", json={"code": mine["code"]}), 400)
    rows = await QueueAppointment.select(QueueAppointment.status)
    assert [r["status"] for r in rows] == ["booked", "booked"]
    assert sorted(r["booked"] for r in await QueueSlot.select(QueueSlot.booked)) == [1, 1]


async def test_only_a_booked_appointment_whose_slot_has_not_ended_is_cancelled(client, w):
    checked_in = await book(client, w, "13900001111")
    await due_today(checked_in["code"])
    await call(client, "POST", f"{Q}/appointments/check-in", w["kiosk_auth"], {"code": checked_in["code"]}, 201)
    refused = await cancel_own(client, w, checked_in["code"], "1111", 409)
    assert (refused["code"], refused["detail"]) == ("invalid_state", "该预约已签到，不能取消")
    past = await book(client, w, "13900002222")
    yesterday = clock.now().astimezone(setup.ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)
    await QueueAppointment.update({QueueAppointment.day: yesterday}).where(QueueAppointment.code == past["code"])
    over = await cancel_own(client, w, past["code"], "2222", 409)
    assert (over["code"], over["detail"]) == ("invalid_state", "该预约的时段已过，不能取消")
    statuses = {
        r["code"]: r["status"] for r in await QueueAppointment.select(QueueAppointment.code, QueueAppointment.status)
    }
    assert statuses == {checked_in["code"]: "checked_in", past["code"]: "booked"}


async def test_cancel_tries_are_counted_per_address_and_right_ones_given_back(client, w, monkeypatch):
    monkeypatch.setattr(appointments, "CANCEL_TRIES", 3)
    mine = await book(client, w, "13800001111")
    other = await book(client, w, "13800002222", slot="11:00")
    for n in range(4):  # right pairs do not use up the tries
        await cancel_own(client, w, mine["code"], "1111", 409 if n else 200)
    for _ in range(3):
        await cancel_own(client, w, other["code"], "0000", 404)
    throttled = await cancel_own(client, w, other["code"], "2222", 429)  # now even the right pair waits
    assert (throttled["code"], throttled["detail"]) == ("throttled", "取消预约尝试次数过多，请稍后再试")
    assert (await QueueAppointment.select(QueueAppointment.status).where(QueueAppointment.code == other["code"]))[0][
        "status"
    ] == "booked"


async def test_concurrent_wrong_tries_are_counted_one_by_one(client, w, monkeypatch):
    monkeypatch.setattr(appointments, "CANCEL_TRIES", 4)
    await book(client, w, "13800001111")
    body = {"code": "000000", "phone_last4": "0000"}
    answers = await concurrently(client, [("POST", f"{PUBLIC}/{w['token']}/cancel", {}, body)] * 10)
    assert sorted(r.status_code for r in answers) == [404] * 4 + [429] * 6


async def test_cancels_at_once_free_one_place(client, w):
    mine = await book(client, w, "13800001111")
    body = {"code": mine["code"], "phone_last4": "1111"}
    answers = await concurrently(client, [("POST", f"{PUBLIC}/{w['token']}/cancel", {}, body)] * 5)
    assert sorted(r.status_code for r in answers) == [200] + [409] * 4
    assert await QueueSlot.select(QueueSlot.booked) == [{"booked": 0}]


async def test_another_orgs_or_tenants_link_cancels_nothing(client, admin, w, tenant, other_tenant):
    mine = await book(client, w, "13800001111")
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    await queue_world(client, admin, branch["id"])
    theirs = await call(client, "PUT", f"{Q}/booking?org_id={branch['id']}", admin, OPEN_ALL_DAY)
    other = await api_login(client, "admin@OTHER")
    await queue_world(client, other)
    foreign = await call(client, "PUT", f"{Q}/booking", other, OPEN_ALL_DAY)
    for link in (theirs, foreign):
        refused = await cancel_own(client, w, mine["code"], "1111", 404, token=link["url"].rsplit("/", 1)[1])
        assert refused["detail"] == NOT_FOUND
    error_of(
        await client.post(f"{PUBLIC}/no-such-link-at-all/cancel", json={"code": mine["code"], "phone_last4": "1111"}),
        404,
    )
    assert (await QueueAppointment.select(QueueAppointment.status)) == [{"status": "booked"}]
    assert (await cancel_own(client, w, mine["code"], "1111"))["status"] == "cancelled"
