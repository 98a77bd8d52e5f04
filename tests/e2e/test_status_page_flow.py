"""The customer's status page in real browsers (issue 21): the intake receipt's QR code holds the
order's status link; opened on a phone (390×844) it asks for the phone's last four digits, a
wrong guess is refused, the right ones show 受理 and are remembered on reload; the order moving
on (the API starts the repair, the technician's browser presses 【维修完毕】) shows on the phone
without a reload, charges included; once closed the stars come live and the customer's rating
shows on the staff's order. Screenshots go to var/screenshots/."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import segno
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, login, new_page, screenshot
from tests.e2e.test_csp import WATCH

LIVE = 10_000  # ms: a bound for a loaded CI machine


@pytest.fixture
async def shop(tenant) -> dict:
    from server.workorders.services import orders
    from tests.workorders.helpers import intake_body, wo_world

    w = await wo_world(tenant, stock=0)
    order = await orders.intake(tenant, intake_body(w, phone="13912345678", remark="内部备注勿外传"))
    return w | {"order": order}


def no_sideways(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_scan_the_receipt_and_follow_the_repair_live(shop, browser, live_server, admin_api):
    order = shop["order"]
    # the intake receipt (built-in template) carries the QR code of the order's status link
    receipt = admin_api.client.get(f"/api/v1/print/intake_receipt/{order['id']}")
    assert receipt.status_code == 200
    assert segno.make(order["status_url"], error="m").svg_inline(scale=2, border=1, omitsize=False) in receipt.text
    desk = new_page(browser, live_server, DESKTOP)
    login(desk, "admin@ACME")
    desk.goto(f"/workorders/{order['id']}/receipt")
    expect(desk.locator(".qr svg")).to_be_visible()
    screenshot(desk, "status-intake-receipt")

    # the customer scans it: the link's path on this server (WEIFU_PUBLIC_URL is the real site's)
    phone = new_page(browser, live_server, PHONE)
    phone.add_init_script(WATCH)  # no script, style or eval the policy refuses
    phone.goto(urlsplit(order["status_url"]).path)
    expect(phone.get_by_label("手机号后四位")).to_be_visible()
    expect(phone.locator("body")).not_to_contain_text(order["no"])
    no_sideways(phone)
    screenshot(phone, "status-ask")
    phone.get_by_label("手机号后四位").fill("0000")
    phone.get_by_role("button", name="查询进度").click()
    expect(phone.locator("#ss-error")).to_have_text("手机号后四位不正确")
    screenshot(phone, "status-wrong-digits")
    phone.get_by_label("手机号后四位").fill("5678")
    phone.get_by_role("button", name="查询进度").click()
    expect(phone.locator("#ss-status")).to_have_text("受理")
    expect(phone.locator("#ss-no")).to_have_text(order["no"])
    phone.reload()  # remembered: no second question
    expect(phone.locator("#ss-status")).to_have_text("受理")
    text = phone.locator("body").inner_text()
    assert "内部备注勿外传" not in text and "13912345678" not in text and "admin" not in text
    no_sideways(phone)
    screenshot(phone, "status-accepted", full_page=True)
    phone.evaluate("window.__same_document = true")  # gone if the page were reloaded

    # the repair starts (API) and the technician completes it (another browser): live on the phone
    oid = order["id"]
    admin_api.call("POST", f"/api/v1/work-orders/{oid}/start-repair", json={"final_service_type": "in_warranty"})
    expect(phone.locator("#ss-status")).to_have_text("维修中", timeout=LIVE)
    admin_api.call("POST", f"/api/v1/work-orders/{oid}/lines", json={"repair_code_id": shop["diag_code"]})
    desk.goto(f"/workorders/{oid}/repair")
    desk.select_option("#wo-result", index=0)
    desk.once("dialog", lambda d: d.accept())
    desk.get_by_role("button", name="维修完毕").click()
    expect(desk.locator("#wo-status")).to_have_text("维修完毕")
    expect(phone.locator("#ss-status")).to_have_text("维修完毕", timeout=LIVE)
    expect(phone.locator("#ss-charges")).to_contain_text("20.5000")
    expect(phone.locator("#ss-timeline li")).to_have_count(3)
    assert phone.evaluate("window.__same_document === true")
    assert phone.evaluate("window.__cspViolations") == []
    no_sideways(phone)
    screenshot(phone, "status-repaired", full_page=True)

    # closing (API): the stars come live; one press rates the repair, and staff see it on the order
    expect(phone.locator("#ss-rate")).to_have_count(0)
    close = {"closing_method": "onsite", "amount_received": "20.5000", "payment_method": "cash"}
    admin_api.call("POST", f"/api/v1/work-orders/{oid}/close", json=close)
    expect(phone.locator("#ss-status")).to_have_text("已结单", timeout=LIVE)
    stars = phone.locator("#ss-rate")
    expect(stars.get_by_role("button")).to_have_count(5)
    no_sideways(phone)
    screenshot(phone, "status-rate", full_page=True)
    stars.get_by_role("button", name="4 星").click()
    expect(phone.locator("#ss-rating")).to_contain_text("已评价 4 星")
    expect(phone.locator("#ss-rate")).to_have_count(0)
    assert phone.evaluate("window.__cspViolations") == []
    screenshot(phone, "status-rated")
    desk.goto(f"/workorders/{oid}")
    expect(desk.locator("#wo-rating")).to_contain_text("4 星")
    desk.locator("#wo-rating").scroll_into_view_if_needed()
    screenshot(desk, "status-rating-on-the-order")
