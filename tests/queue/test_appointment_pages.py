"""The pages of the queue extras (issue 21): 【排队设置】's 网上预约 section and its dialog, the
public booking page, 【预约管理】 with its cancel, the kiosk's 预约签到 and 服务评价, the counter's
priority buttons, and the rating in 【排队统计】."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from server.queue.tables import QueueAppointment
from tests.api_helpers import call
from tests.api_helpers import htmx_refusal as refused
from tests.conftest import csrf, page_login
from tests.queue.helpers import Q, act, call_next, queue_world, take
from tests.queue.test_appointments import OPEN_ALL_DAY, due_today, tomorrow

HX = {"hx-request": "true"}


@pytest.fixture
async def w(client, admin) -> dict:
    return await queue_world(client, admin)


async def test_booking_is_set_up_in_the_settings_and_used_on_its_public_page(client, admin, w):
    await page_login(client, "admin@ACME")
    page = await client.get("/queue/settings")
    assert 'id="q-booking"' in page.text and "保存一次设置后生成预约链接和二维码" in page.text
    form = await client.get("/queue/settings/booking/edit", headers=HX)
    assert 'name="capacity"' in form.text and 'name="open_at"' in form.text
    bad = await client.post(
        "/queue/settings/booking",
        data={"org_id": w["a"]["org_id"], "open_at": "9点", "capacity": "0"},
        headers=csrf(client),
    )
    assert bad.status_code == 400 and "开始时间格式应为 HH:MM" in bad.text
    body = {k: str(v) for k, v in OPEN_ALL_DAY.items()} | {"enabled": "1", "org_id": str(w["a"]["org_id"])}
    saved = await client.post("/queue/settings/booking", data=body, headers=csrf(client))
    assert saved.status_code == 200, saved.text
    section = await client.get("/queue/settings", headers=HX | {"hx-target": "q-set-booking"})
    url = re.search(r'id="q-booking-url" class="mono" readonly value="([^"]+)"', section.text).group(1)
    assert "<svg" in section.text and "开放预约" in section.text
    path = url.split("testserver.local", 1)[-1]

    # the customer, with no session
    client.cookies.clear()
    booking = await client.get(path)
    assert booking.status_code == 200 and "网上预约" in booking.text and 'class="sidebar"' not in booking.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', booking.text).group(1)
    form = {"_csrf_token": token, "service_id": str(w["a"]["id"]), "slot": f"{tomorrow()} 10:00", "name": "李女士"}
    missing = await client.post(path, data=form | {"phone": ""})
    assert missing.status_code == 400 and "请填写手机号" in missing.text and "李女士" in missing.text
    done = await client.post(path, data=form | {"phone": "13600001234"})
    assert done.status_code == 200 and "预约成功" in done.text and "136****1234" in done.text
    code = re.search(r'class="bk-code" aria-label="预约码">(\d{6})<', done.text).group(1)
    assert await QueueAppointment.count().where(QueueAppointment.code == code) == 1
    gone = await client.get("/book/no-such-link-at-all")
    assert gone.status_code == 404 and "预约页面不可用" in gone.text

    # the customer cancels it: from the confirmation's link, the code filled in
    link = re.search(r'id="bk-cancel-link" href="([^"]+)"', done.text).group(1)
    assert link == f"{path}/cancel?code={code}"
    form = await client.get(link)
    assert (
        form.status_code == 200
        and f'name="code" inputmode="numeric" pattern="[0-9]{{6}}" maxlength="6" value="{code}"' in form.text
    )
    wrong = await client.post(f"{path}/cancel", data={"_csrf_token": token, "code": code, "phone_last4": "0000"})
    assert wrong.status_code == 404 and "没有找到该预约，请核对预约码和预约手机号后四位" in wrong.text
    assert 'id="bk-cancel"' in wrong.text and code in wrong.text
    cancelled = await client.post(f"{path}/cancel", data={"_csrf_token": token, "code": code, "phone_last4": "1234"})
    assert cancelled.status_code == 200 and "预约已取消" in cancelled.text and "136****1234" in cancelled.text
    assert (await QueueAppointment.select(QueueAppointment.status))[0]["status"] == "cancelled"
    again = await client.post(f"{path}/cancel", data={"_csrf_token": token, "code": code, "phone_last4": "1234"})
    assert again.status_code == 409 and "该预约已取消，不能取消" in again.text
    assert (await client.get(f"{path}")).text.count(f'href="{path}/cancel"') == 1  # the page's own entry
    assert (await client.get("/book/no-such-link-at-all/cancel")).status_code == 404


async def test_the_appointment_list_shows_the_day_and_cancels(client, admin, w):
    await call(client, "PUT", f"{Q}/booking", admin, OPEN_ALL_DAY)
    token = (await call(client, "GET", f"{Q}/booking", admin))["url"].rsplit("/", 1)[1]
    body = {"service_id": w["a"]["id"], "day": tomorrow(), "slot": "09:30", "phone": "13700001111", "name": "赵"}
    booked = await call(client, "POST", f"/api/v1/public/booking/{token}", {}, body, 201)
    await page_login(client, "admin@ACME")
    page = await client.get(f"/queue/appointments?date={tomorrow()}")
    assert page.status_code == 200 and f'data-code="{booked["code"]}"' in page.text and "已预约" in page.text
    appointment = (await QueueAppointment.select(QueueAppointment.id))[0]["id"]
    cancel = await client.post(
        f"/queue/appointments/{appointment}/cancel",
        headers=csrf(client) | {"hx-prompt": quote("顾客改约"), "hx-prompt-uri-autoencoded": "true"},
    )
    assert cancel.status_code == 200 and "已取消" in json.loads(cancel.headers["hx-trigger"])["weifu:saved"]["message"]
    rows = await client.get(f"/queue/appointments?date={tomorrow()}", headers=HX | {"hx-target": "rows"})
    assert "已取消" in rows.text and "顾客改约" in rows.text and "<html" not in rows.text
    again = await client.post(f"/queue/appointments/{appointment}/cancel", headers=csrf(client))
    assert again.status_code == 409


async def test_the_kiosk_checks_in_an_appointment_and_takes_a_rating(client, admin, w):
    await call(client, "PUT", f"{Q}/booking", admin, OPEN_ALL_DAY)
    token = (await call(client, "GET", f"{Q}/booking", admin))["url"].rsplit("/", 1)[1]
    body = {"service_id": w["a"]["id"], "day": tomorrow(), "slot": "09:30", "phone": "13700002222"}
    booked = await call(client, "POST", f"/api/v1/public/booking/{token}", {}, body, 201)
    kiosk = f"/queue/kiosk/{w['kiosk']['token']}"
    home = await client.get(kiosk)
    assert "预约签到" in home.text and "服务评价" in home.text and 'id="kiosk-checkin"' in home.text
    refused(
        await client.post(f"{kiosk}/check-in", data={"code": "12"}, headers=HX), 400, "请输入 6 位预约码或 11 位手机号"
    )
    refused(
        await client.post(f"{kiosk}/check-in", data={"code": booked["code"]}, headers=HX), 404, "没有找到今天的预约"
    )
    await due_today(booked["code"])
    ticket = await client.post(f"{kiosk}/check-in", data={"code": "137 0000 2222"}, headers=HX)
    assert ticket.status_code == 201 and "预约优先" in ticket.text and 'class="q-kiosk-ticket-no">A001<' in ticket.text
    refused(await client.post(f"{kiosk}/check-in", data={"code": booked["code"]}, headers=HX), 409, "该预约已签到")

    ticket_id = (await call(client, "GET", f"{Q}/tickets", admin))["items"][0]["id"]
    empty = await client.get(f"{kiosk}/rate", headers=HX)
    assert "暂时没有可评价的服务" in empty.text
    await call_next(client, admin, w["c1"]["id"])
    await act(client, admin, ticket_id, "start")
    await act(client, admin, ticket_id, "finish")
    offer = await client.get(f"{kiosk}/rate", headers=HX)
    assert f'data-rate-ticket="{ticket_id}"' in offer.text and "非常满意" in offer.text
    thanks = await client.post(f"{kiosk}/tickets/{ticket_id}/rating", data={"rating": "5"}, headers=HX)
    assert thanks.status_code == 200 and "感谢您的评价" in thanks.text
    refused(await client.post(f"{kiosk}/tickets/{ticket_id}/rating", data={"rating": "3"}, headers=HX), 409, "已评价过")
    await page_login(client, "admin@ACME")
    stats = await client.get("/queue/stats")
    assert "5.0 分 / 1 人" in stats.text


async def test_the_counter_moves_a_waiting_ticket_into_the_priority_lane(client, admin, w):
    first = await take(client, w["kiosk_auth"], w["a"]["id"])
    second = await take(client, w["kiosk_auth"], w["a"]["id"])
    await page_login(client, "admin@ACME")
    cid = w["c2"]["id"]
    desk = await client.get(f"/queue/counter?counter_id={cid}")
    assert f'hx-post="/queue/counter/{cid}/priority/{second["id"]}"' in desk.text and "长者优先" in desk.text
    moved = await client.post(
        f"/queue/counter/{cid}/priority/{second['id']}", data={"priority": "elderly"}, headers=csrf(client)
    )
    assert (
        moved.status_code == 200
        and json.loads(moved.headers["hx-trigger"])["weifu:saved"]["message"] == "A002 已设为长者优先"
    )
    order = re.findall(r'class="q-desk-row" data-ticket="(A\d+)"', moved.text)
    assert order == ["A002", "A001"] and "取消优先" in moved.text
    refused(
        await client.post(
            f"/queue/counter/{cid}/priority/{first['id']}", data={"priority": "king"}, headers=csrf(client)
        ),
        400,
        "优先通道无效",
    )
    assert (await call_next(client, admin, cid))["id"] == second["id"]
