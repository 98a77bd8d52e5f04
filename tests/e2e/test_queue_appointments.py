"""Queue extras in real browsers (issue 21): a customer books today's next slot on their phone
(390×844), 【预约管理】 shows it live; another books and cancels it on their phone (wrong digits
first), 【预约管理】 shows it cancelled live and the place is free again; the kiosk (iPad) checks
the first in with the code typed on its keypad and their ticket is called before an earlier
walk-in; after 【完成】 they rate the service on the kiosk and 【排队统计】 shows it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, IPAD, PHONE, login, new_page, screenshot, until

Q = "/api/v1/queue"
LIVE = 10_000
# ten-minute slots all day: today's next slot starts within ten minutes, so it may check in now
# (from 30 minutes before its start)
BOOKING = {"enabled": True, "open_at": "00:00", "close_at": "23:50", "slot_minutes": 10, "capacity": 2, "days_ahead": 1}


def test_book_on_a_phone_check_in_on_the_kiosk_and_rate(browser, live_server, admin_api):
    service = admin_api.call("POST", f"{Q}/services", 201, json={"name": "维修", "prefix": "A"})
    counter = admin_api.call("POST", f"{Q}/counters", 201, json={"number": 1, "service_ids": [service["id"]]})
    kiosk_device = admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "kiosk", "name": "门口取号机"})
    booking = admin_api.call("PUT", f"{Q}/booking", json=BOOKING)
    path = re.sub(r"^https?://[^/]+", "", booking["url"])
    calendar = admin_api.call("GET", f"/api/v1/public/booking/{booking['url'].rsplit('/', 1)[1]}")
    today = calendar["days"][0]
    if today["label"] != "今天":
        pytest.skip("the last ten minutes of the tenant's day: no slot left today to check in for")

    staff = new_page(browser, live_server, DESKTOP)
    login(staff, "admin@ACME")
    staff.goto("/queue/appointments")
    expect(staff.locator("#q-appt-table")).to_contain_text("没有预约")
    until(staff, "document.querySelector('#live-dot.online')")

    # --- the customer books on their phone ----------------------------------------------------------
    phone = new_page(browser, live_server, PHONE)
    phone.goto(path)
    expect(phone.get_by_role("heading", name=re.compile("网上预约"))).to_be_visible()
    expect(phone.locator(".bk-day:visible")).to_have_count(1)  # booking.js: the chosen day's slots only
    phone.get_by_role("button", name="提交预约").click()
    expect(phone.locator("#bk-error")).to_contain_text("请填写手机号")
    first_slot = phone.locator(".bk-day:visible .bk-choice input:not([disabled])").first
    first_slot.check(force=True)
    slot_value = first_slot.get_attribute("value")
    phone.fill("#bk-phone", "13700009999")
    phone.fill("#bk-name", "陈女士")
    screenshot(phone, "queue-booking-form", full_page=True)
    phone.get_by_role("button", name="提交预约").click()
    expect(phone.locator("#bk-done")).to_contain_text("预约成功")
    code = phone.locator(".bk-code").inner_text()
    assert re.fullmatch(r"\d{6}", code)
    expect(phone.locator("#bk-done")).to_contain_text("137****9999")
    screenshot(phone, "queue-booking-done")

    # --- staff see it arrive without a reload ------------------------------------------------------
    expect(staff.locator(f'tr[data-code="{code}"]')).to_contain_text("陈女士", timeout=LIVE)
    expect(staff.locator(f'tr[data-code="{code}"]')).to_contain_text("已预约")
    screenshot(staff, "queue-appointments")
    phone_staff = new_page(browser, live_server, PHONE)  # the list on a phone: its filters fold away
    login(phone_staff, "admin@ACME")
    phone_staff.goto("/queue/appointments")
    expect(phone_staff.locator(f'tr[data-code="{code}"]')).to_be_visible()
    screenshot(phone_staff, "queue-appointments-phone")

    # --- another customer books the same slot, then cancels it on their phone ------------------------
    other = new_page(browser, live_server, PHONE)
    other.goto(path)
    other.locator(f'input[name=slot][value="{slot_value}"]').check(force=True)
    other.fill("#bk-phone", "13600002468")
    other.get_by_role("button", name="提交预约").click()
    expect(other.locator("#bk-done")).to_contain_text("预约成功")
    second = other.locator(".bk-code").inner_text()
    expect(staff.locator(f'tr[data-code="{second}"]')).to_contain_text("已预约", timeout=LIVE)
    other.get_by_role("link", name=re.compile("取消预约")).click()
    expect(other.locator("#bk-code")).to_have_value(second)
    other.fill("#bk-last4", "1357")
    other.get_by_role("button", name="取消预约").click()
    expect(other.locator("#bk-error")).to_have_text("没有找到该预约，请核对预约码和预约手机号后四位")
    other.fill("#bk-last4", "2468")
    screenshot(other, "queue-booking-cancel-form")
    other.get_by_role("button", name="取消预约").click()
    expect(other.locator("#bk-done")).to_contain_text("预约已取消")
    expect(other.locator("#bk-done")).to_contain_text("136****2468")
    assert other.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(other, "queue-booking-cancelled")
    expect(staff.locator(f'tr[data-code="{second}"]')).to_contain_text("已取消", timeout=LIVE)
    screenshot(staff, "queue-appointments-cancelled")
    other.get_by_role("link", name="重新预约").click()  # the place is free again: one of the two is left
    expect(other.locator(f'input[name=slot][value="{slot_value}"] + span')).to_contain_text("余 1")

    # --- a walk-in takes A001 first, then the customer checks in on the kiosk -----------------------
    kiosk = new_page(browser, live_server, IPAD)
    kiosk.goto(f"/queue/kiosk/{kiosk_device['token']}")
    until(kiosk, "window.queueScreen && window.queueScreen.socket !== null")
    kiosk.locator(".q-kiosk-service", has_text="维修").click()
    kiosk.get_by_role("button", name="不留手机号，直接取号").click()
    expect(kiosk.locator(".q-kiosk-ticket-no")).to_have_text("A001")
    kiosk.get_by_role("button", name="完成").click()
    screenshot(kiosk, "queue-kiosk-home")
    kiosk.get_by_role("button", name=re.compile("预约签到")).click()
    checkin = kiosk.locator("#kiosk-checkin")
    checkin.get_by_role("button", name="签到取号").click()
    expect(checkin.locator("[data-keypad-error]")).to_have_text("请输入 6 位预约码或 11 位手机号")
    for digit in "000000":
        checkin.locator(f'[data-key="{digit}"]').click()
    checkin.get_by_role("button", name="签到取号").click()
    if code != "000000":
        expect(checkin.locator("[data-keypad-error]")).to_contain_text("没有找到今天的预约")
    checkin.locator('[data-key="clear"]').click()
    for digit in code:
        checkin.locator(f'[data-key="{digit}"]').click()
    expect(checkin.locator("[data-keypad-display]")).to_have_text(code)
    screenshot(kiosk, "queue-kiosk-checkin")
    checkin.get_by_role("button", name="签到取号").click()
    expect(kiosk.locator(".q-kiosk-ticket-no")).to_have_text("A002")
    expect(kiosk.locator(".q-kiosk-ticket")).to_contain_text("预约优先")
    expect(kiosk.locator(".q-kiosk-ticket")).to_contain_text("前面还有 0 人")
    screenshot(kiosk, "queue-kiosk-checked-in")
    kiosk.get_by_role("button", name="完成").click()
    expect(staff.locator(f'tr[data-code="{code}"]')).to_contain_text("已签到", timeout=LIVE)

    # --- the counter calls the appointment before the earlier walk-in -------------------------------
    staff.goto(f"/queue/counter?counter_id={counter['id']}")
    rows = staff.locator("#q-desk-list .q-desk-row")
    expect(rows.first).to_contain_text("A002")
    expect(rows.first).to_contain_text("预约")
    screenshot(staff, "queue-counter-lanes")
    staff.locator("#q-desk-call").click()
    active = staff.locator(".q-desk-active .q-desk-ticket")
    expect(active).to_contain_text("A002")
    staff.get_by_role("button", name="开始办理").click()
    staff.get_by_role("button", name="完成", exact=True).click()
    expect(staff.locator("#q-desk-done")).to_have_text("1")

    # --- the customer rates it on the kiosk ---------------------------------------------------------
    kiosk.get_by_role("button", name=re.compile("服务评价")).click()
    choice = kiosk.locator("[data-rate-ticket]", has_text="A002")
    expect(choice).to_be_visible()
    choice.click()
    stars = kiosk.locator("[data-rate-stars]:visible")
    expect(stars).to_have_count(1)
    screenshot(kiosk, "queue-kiosk-rate")
    stars.get_by_role("button", name="5 分").click()
    expect(kiosk.locator(".q-kiosk-rate-thanks")).to_contain_text("感谢您的评价")
    screenshot(kiosk, "queue-kiosk-thanks")

    staff.goto("/queue/settings")
    section = staff.locator("#q-booking")
    expect(section).to_contain_text("开放预约")
    expect(section.locator("#q-booking-url")).to_have_value(booking["url"])
    section.scroll_into_view_if_needed()
    screenshot(staff, "queue-settings-booking")
    section.get_by_role("button", name="修改设置").click()
    dialog = staff.locator("#q-set-booking-form")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#q-bk-cap")).to_have_value("2")
    screenshot(staff, "queue-settings-booking-form")
    dialog.locator("#q-bk-cap").fill("3")
    dialog.get_by_role("button", name="确认").click()
    expect(section).to_contain_text("3 人")

    staff.goto("/queue/stats")
    expect(staff.locator('[data-figure="avg_rating"] .stat-value')).to_have_text("5.0")
    expect(staff.locator("#q-stats-table tfoot")).to_contain_text("5.0 分 / 1 人")
