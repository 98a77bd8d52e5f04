"""The customer's status page in real browsers (issue 21): the intake receipt's QR code holds the
order's status link; opened on a phone (390×844) it asks for the phone's last four digits, a
wrong guess is refused, the right ones show 已受理 and are remembered on reload; the order moving
on (the API starts the repair, the technician's browser presses 【维修完毕】) shows on the phone
without a reload, charges included. The customer is told at intake and when the device is ready,
by SMS (the fake gateway) and by email (the SMTP sink), each time with the status link: the live
server's own jobs send them. Once closed the stars come live and the customer's rating shows on
the staff's order. Screenshots go to var/screenshots/."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as email_policy
from urllib.parse import urlsplit

import httpx
import pytest
import segno
from playwright.sync_api import expect

from server.notices import services
from tests.e2e.conftest import DESKTOP, PHONE, eventually, login, new_page, screenshot
from tests.e2e.test_csp import WATCH
from tests.workorders.helpers import intake_body, wo_world

LIVE = 10_000  # ms: a bound for a loaded CI machine


@pytest.fixture
async def shop(tenant, gateway, smtp_sink) -> dict:
    """The world to repair in, and the head office's SMS gateway and SMTP server: the local fakes."""
    w = await wo_world(tenant, stock=0)
    await services.put_settings(
        tenant,
        {
            "sms_enabled": True,
            "sms_url": f"{gateway}/sms",
            "email_enabled": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
            "smtp_security": "none",
            "smtp_from": "service@acme.example",
        },
    )
    return w


def told(gateway: str, sink, count: int) -> tuple[list[str], list]:
    """The first `count` texts the fake SMS gateway took and mails the SMTP sink took, once both
    have that many (the live server's jobs send them after the move's commit)."""

    def texts() -> list[str]:
        taken = httpx.get(f"{gateway}/fake/messages").json()["messages"]
        return [m["text"] for m in taken] if len(taken) >= count else []

    def mails() -> list:
        return [message_from_bytes(e.content, policy=email_policy) for e in sink.messages]

    sms = eventually(texts, f"{count} SMS at the gateway")
    mail = eventually(lambda: len(sink.messages) >= count and mails(), f"{count} mails at the SMTP sink")
    return sms[:count], mail[:count]


def no_sideways(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_scan_the_receipt_and_follow_the_repair_live(shop, gateway, smtp_sink, browser, live_server, admin_api):
    body = intake_body(shop, phone="13912345678", remark="内部备注勿外传")
    body["customer"] |= {"phone": "13912345678", "email": "zhang@example.com"}
    order = admin_api.call("POST", "/api/v1/work-orders", 201, json=body)
    # the live server's job told the customer: by SMS and by email, with the status link
    [sms], [mail] = told(gateway, smtp_sink, 1)
    assert "已受理" in sms and order["no"] in sms and order["status_url"] in sms
    assert "已受理" in mail["Subject"] and order["status_url"] in mail.get_content()
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
    expect(phone.locator("#ss-status")).to_have_text("已受理")
    expect(phone.locator("#ss-no")).to_have_text(order["no"])
    phone.reload()  # remembered: no second question
    expect(phone.locator("#ss-status")).to_have_text("已受理")
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

    # ready for pickup: told again on both channels, the link in each
    sms, mails = told(gateway, smtp_sink, 2)
    assert "已维修完毕" in sms[1] and order["status_url"] in sms[1]
    assert "已维修完毕" in mails[1]["Subject"] and order["status_url"] in mails[1].get_content()
    assert [m["To"] for m in mails] == ["zhang@example.com"] * 2
    desk.goto(f"/workorders/{oid}")
    for channel in ("短信", "邮件"):
        expect(desk.locator("#wo-timeline")).to_contain_text(f"{channel}通知 · 维修完毕（待取机） · 已发送")
    screenshot(desk, "status-order-notices", full_page=True)

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
    # the order's page open at the desk reloads itself on the close (its status moved): let that
    # reload end before opening the page again, or the two navigations cancel each other
    expect(desk.locator("#wo-status")).to_have_text("已结单", timeout=LIVE)
    desk.wait_for_load_state("load")
    desk.goto(f"/workorders/{oid}")
    expect(desk.locator("#wo-rating")).to_contain_text("4 星")
    desk.locator("#wo-rating").scroll_into_view_if_needed()
    screenshot(desk, "status-rating-on-the-order")
