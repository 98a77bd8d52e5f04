"""A quote signed on the front desk's iPad (issue 21, "Browser tests"), at 820×1180: 【报价】 from
the order's page opens the signing page; 【维修完毕】 is refused while the quote waits; a blank
pad is not a signature; a signature drawn with the mouse is kept and shown on the order's card
(on a second browser showing the order too, live, without a reload), and then 【维修完毕】
succeeds; the quote prints on A4 with the tenant's 报价单 template, the signature in it.
Screenshots go to var/screenshots/quote-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import IPAD, PHONE, login, new_page, screenshot, until
from tests.workorders.helpers import repairing, wo_world


@pytest.fixture
async def order(tenant) -> dict:
    w = await wo_world(tenant, stock=5)
    return await repairing(tenant, w, (w["lcd_code"], w["screen"], 1), (w["diag_code"], None, 1))


def draw(page, selector: str) -> None:
    """A signature-like scribble dragged with the mouse across the canvas."""
    box = page.locator(selector).bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.15, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + w * (0.15 + 0.035 * i), y + h * (0.6 - 0.3 * ((i % 4) in (1, 2))), steps=3)
    page.mouse.up()
    page.mouse.move(x + w * 0.3, y + h * 0.75)
    page.mouse.down()
    page.mouse.move(x + w * 0.8, y + h * 0.7, steps=10)
    page.mouse.up()


def watching(browser, live_server, order_id: int):
    """The order's page in another browser, live (its socket open), marked to tell a reload."""
    desk = new_page(browser, live_server)
    login(desk, "admin@ACME")
    desk.goto(f"/workorders/{order_id}")
    expect(desk.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))
    desk.evaluate("window.__stayed = true")  # gone if the page ever reloads
    return desk


def test_a_quote_signed_on_the_ipad_lets_the_repair_complete(order, browser, live_server, admin_api):
    page = new_page(browser, live_server, IPAD)
    login(page, "admin@ACME")
    page.goto(f"/workorders/{order['id']}")
    card = page.locator("#qt-card")
    expect(card).to_contain_text("尚未报价")
    screenshot(page, "quote-order-before", full_page=True)

    page.locator("#qt-create").click()
    expect(page).to_have_url(re.compile(r"/quotes/\d+/sign$"))
    quote = admin_api.call("GET", f"/api/v1/work-orders/{order['id']}/quote")
    assert quote["status"] == "pending" and quote["labor"] == "70.5000"
    expect(page.locator("#qt-total")).to_contain_text(quote["total"])
    expect(page.locator("#qt-lines tbody tr")).to_have_count(2)
    screenshot(page, "quote-sign-blank", full_page=True)

    # a second browser at the counter keeps the order's page open all along
    desk = watching(browser, live_server, order["id"])
    expect(desk.locator("#qt-status")).to_have_text("待确认")

    # while the customer has not signed, the repair cannot be completed
    page.goto(f"/workorders/{order['id']}")
    expect(page.locator("#qt-status")).to_have_text("待确认")
    page.select_option("#wo-result", index=0)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="维修完毕").click()
    expect(page.locator("#wo-complete-form .form-error")).to_contain_text("等待客户确认")
    expect(page.locator("#wo-status")).to_have_text("维修中")

    page.locator("#qt-present").click()
    expect(page).to_have_url(re.compile(rf"/quotes/{quote['id']}/sign$"))
    page.locator("#qt-approve").click()  # a blank pad
    expect(page.locator("#qt-approve-form .form-error")).to_contain_text("签字")
    draw(page, "#qt-pad")
    assert page.locator("#qt-signature").input_value().startswith("data:image/png;base64,")
    screenshot(page, "quote-sign-drawn", full_page=True)
    page.locator("#qt-approve").click()
    expect(page.locator("#qt-status")).to_have_text("已同意")
    expect(page.locator("#qt-decided")).to_contain_text("签字同意")
    expect(page.locator("#qt-signature-img")).to_be_visible()
    assert page.locator("#qt-signature-img").evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "quote-sign-approved", full_page=True)
    expect(desk.locator("#qt-status")).to_have_text("已同意")  # live, on the page that sat there
    expect(desk.locator("#qt-signature-img")).to_be_visible()
    expect(desk.locator("#qt-present")).to_have_count(0)
    assert desk.evaluate("window.__stayed === true"), "updated in place, not by a reload"
    screenshot(desk, "quote-order-live-approved", full_page=True)

    signed = admin_api.call("GET", f"/api/v1/quotes/{quote['id']}")
    assert signed["status"] == "approved" and signed["decided_by_name"] and signed["signature_type"] == "image/png"
    image = admin_api.client.get(signed["signature_url"])
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n" and len(image.content) > 1000

    page.locator("#qt-back").click()
    expect(page.locator("#qt-status")).to_have_text("已同意")
    expect(card.locator("#qt-signature-img")).to_be_visible()
    screenshot(page, "quote-order-approved", full_page=True)
    page.select_option("#wo-result", index=0)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="维修完毕").click()
    expect(page.locator("#wo-status")).to_have_text("维修完毕")
    assert admin_api.call("GET", f"/api/v1/work-orders/{order['id']}")["charges"]["total"] == quote["total"]

    page.goto(f"/quotes/{quote['id']}/print")  # the card's 【打印报价单】
    expect(page.locator("#quote-total")).to_have_text(f"{float(quote['total']):,.2f}")
    expect(page.locator("#quote-status")).to_have_text("已同意")
    expect(page.locator("#pr-template")).to_contain_text("标准报价单（A4）（默认）")
    assert page.locator("#quote-signature").evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator(".pr-paper").evaluate("el => el.dataset.widthMm") == "210"
    screenshot(page, "quote-print", full_page=True)
    page.locator("#pr-back").click()
    expect(page).to_have_url(re.compile(rf"/workorders/{order['id']}$"))


def test_the_customer_signs_the_quote_on_their_status_page(order, browser, live_server, admin_api):
    """The same quote decided by the customer on their own phone (390×844): the status page shows
    it once the digits are right; a blank pad is refused in place; a finger-drawn signature
    approves it (the order's page open at the counter shows it live), and 【维修完毕】 then goes
    through."""
    quote = admin_api.call("POST", f"/api/v1/work-orders/{order['id']}/quote", 201, json={})
    desk = watching(browser, live_server, order["id"])
    expect(desk.locator("#qt-status")).to_have_text("待确认")
    phone = new_page(browser, live_server, PHONE)
    phone.goto(re.sub(r"^https?://[^/]+", "", order["status_url"]))
    phone.get_by_label("手机号后四位").fill(order["customer"]["phone"][-4:])
    phone.get_by_role("button", name="查询进度").click()
    card = phone.locator("#ss-quote")
    expect(card).to_contain_text(f"¥{quote['total']}")
    expect(card).to_contain_text("待确认")
    phone.get_by_role("button", name="同意报价").click()  # a blank pad
    expect(card.locator("#ss-approve .form-error")).to_have_text("请先在框内签字")
    card.scroll_into_view_if_needed()
    draw(phone, "#ss-pad")
    screenshot(phone, "status-quote-drawn", full_page=True)
    phone.get_by_role("button", name="同意报价").click()
    expect(card).to_contain_text("您已同意本报价")
    screenshot(phone, "status-quote-approved", full_page=True)
    expect(desk.locator("#qt-status")).to_have_text("已同意")  # the counter's page sees it live
    assert desk.evaluate("window.__stayed === true"), "updated in place, not by a reload"
    signed = admin_api.call("GET", f"/api/v1/quotes/{quote['id']}")
    assert signed["status"] == "approved" and signed["decided_by_name"] == "客户（进度查询页）"
    done = admin_api.call("POST", f"/api/v1/work-orders/{order['id']}/complete", json={"repair_result": "repaired"})
    assert done["status"] == "repaired"


def test_a_quote_refreshes_its_orders_page_but_not_the_list(order, browser, live_server, admin_api):
    """A quote changes only its order's page (`own_kinds`): the order's card follows it live, while
    【工单处理】 open beside it re-reads nothing; a change the list shows (a technician assigned)
    still refreshes the list."""
    desk = watching(browser, live_server, order["id"])
    board = new_page(browser, live_server)
    login(board, "admin@ACME")
    board.goto("/workorders")
    expect(board.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))
    board.wait_for_load_state("networkidle")
    reads: list[str] = []
    board.on("request", lambda r: reads.append(r.url) if r.headers.get("hx-request") else None)
    board.evaluate("window.weifuLastEvent = null")

    admin_api.call("POST", f"/api/v1/work-orders/{order['id']}/quote", 201, json={})
    expect(desk.locator("#qt-status")).to_have_text("待确认")  # the order's page, live
    until(board, "window.weifuLastEvent && window.weifuLastEvent.topic === 'workorders'")
    board.wait_for_timeout(800)  # a list refresh would have gone out 200 ms after the signal
    assert reads == [], reads

    me = admin_api.call("GET", "/api/v1/auth/me")
    admin_api.call("POST", f"/api/v1/work-orders/{order['id']}/assign", json={"technician_id": me["user_id"]})
    expect(board.locator(f'#wo-table tr[data-no="{order["no"]}"]')).to_contain_text(me["name"])
    assert any("/workorders" in url for url in reads), reads
