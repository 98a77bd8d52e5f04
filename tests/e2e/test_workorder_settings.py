"""Issue 16 leftovers in a real browser: 【系统设置】→ 工单设置 marks every bad limit in one submit
and saves good ones; a repairing order's lines show their warehouse's stock; 【结单】 opens the
closing receipt. Screenshots: var/screenshots/wo-settings-*.png, wo-detail-stock-desktop.png,
wo-closing-receipt.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, new_page, screenshot, until
from tests.workorders.helpers import repairing, wo_world


@pytest.fixture
async def order(tenant) -> dict:
    w = await wo_world(tenant)
    return await repairing(tenant, w, (w["lcd_code"], w["screen"], 2))


def test_settings_page_marks_bad_limits_and_saves(tenant, browser, live_server):
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.goto("/system/settings")
    page.locator("#workorder-settings-link").click()
    expect(page).to_have_url(re.compile(r"/workorders/settings$"))
    page.locator('[name="sla.repairing.yellow"]').fill("100")
    page.locator('[name="sla.accepted.yellow"]').fill("60")
    page.get_by_role("button", name="保存").click()
    until(page, "document.querySelectorAll('#workorder-settings .field-error').length === 2")
    assert page.locator("#workorder-settings [aria-invalid=true]").count() == 2
    expect(page.locator("#workorder-settings")).to_contain_text("受理黄色时限必须大于绿色时限")
    screenshot(page, "wo-settings-errors-desktop", full_page=True)
    page.locator('[name="sla.repairing.yellow"]').fill("2000")
    page.locator('[name="sla.accepted.yellow"]').fill("120")
    # the save's answer, before reading the page again: the marks clear as soon as it is sent
    with page.expect_response(lambda r: r.request.method == "POST" and "/workorders/settings" in r.url) as saved:
        page.get_by_role("button", name="保存").click()
    assert saved.value.ok
    expect(page.locator("#workorder-settings [aria-invalid=true]")).to_have_count(0)
    until(page, "!document.querySelector('#workorder-settings .field-error')")
    page.reload()
    expect(page.locator('[name="sla.repairing.yellow"]')).to_have_value("2000")


def test_line_stock_and_the_closing_receipt(order, browser, live_server):
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.goto(f"/workorders/{order['id']}")
    line = order["lines"][0]
    expect(page.locator(f'[data-stock="{line["id"]}"]')).to_have_text("5")
    screenshot(page, "wo-detail-stock-desktop", full_page=True)
    page.select_option("#wo-result", index=0)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="维修完毕").click()
    expect(page.locator("#wo-close-form")).to_be_visible()
    page.select_option("#wo-method", value="mail")
    page.locator("#wo-carrier").fill("顺丰")
    page.locator("#wo-tracking").fill("SF1234567890")
    page.select_option("#wo-pay", value="cash")
    page.get_by_role("button", name="结单").click()
    expect(page).to_have_url(re.compile(r"/workorders/\d+/closing-receipt$"))
    expect(page.locator("#receipt-no")).to_have_text(order["no"])
    screenshot(page, "wo-closing-receipt", full_page=True)
