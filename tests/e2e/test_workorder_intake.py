"""【工单受理】 in a real browser (issue 16, the first slice): the form opened with a known phone
fills the customer, typing the serial shows the device's earlier order, a product is picked,
saving opens the intake receipt, and the new order is in 【工单处理】 with its page. Screenshots
at 1280×800, 820×1180 and 390×844 go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from server.workorders.services import orders
from tests.e2e.conftest import DESKTOP, IPAD, PHONE, login, new_page, pick, screenshot
from tests.masterdata.helpers import chain, make_goods


@pytest.fixture
async def known(tenant) -> dict:
    *_, iphone15 = await chain(tenant, "category", "Apple", "iPhone", "iPhone 15")
    phone = await make_goods(tenant, "IP15", iphone15["id"], name="iPhone 15", is_intake_item=True)
    body = {
        "customer": {"name": "张三", "phone": "13800001234", "address": "上海市徐汇区", "customer_type": "personal"},
        "goods_id": phone["id"],
        "serial_no": "F2LXK0AAA",
        "service_type": "in_warranty",
        "fault_description": "电池鼓包",
    }
    return await orders.intake(tenant, body)


def test_intake_from_a_known_phone_to_the_receipt(known, browser, live_server):
    page = new_page(browser, live_server, IPAD)
    login(page, "admin@ACME")
    page.goto("/workorders/intake?phone=13800001234")
    expect(page.locator("#intake-name")).to_have_value("张三")
    expect(page.locator("#intake-address")).to_have_value("上海市徐汇区")

    # another known phone typed in fills from that customer; an unknown one leaves the fields to type
    page.locator("#intake-phone").fill("13900000000")
    page.locator("#intake-phone").dispatch_event("change")
    expect(page.locator("#intake-name")).to_have_value("")
    page.locator("#intake-phone").fill("13800001234")
    page.locator("#intake-phone").dispatch_event("change")
    expect(page.locator("#intake-name")).to_have_value("张三")

    pick(page, page.locator("#intake-goods"), "IP15", "IP15 iPhone 15")
    page.locator("#intake-serial").fill("F2LXK0AAA")
    expect(page.locator("#intake-device")).to_contain_text(known["no"])
    page.select_option("#intake-stype", label="保外维修")
    page.locator("#intake-fault").fill("屏幕碎裂，触摸失灵")
    page.get_by_label("划痕").check()
    page.get_by_label("充电器").check()
    for size, label in ((DESKTOP, "desktop"), (IPAD, "ipad"), (PHONE, "phone")):
        page.set_viewport_size(size)
        screenshot(page, f"wo-intake-{label}", full_page=True)
    page.set_viewport_size(IPAD)

    page.get_by_role("button", name="保存并打印受理单").click()
    expect(page).to_have_url(re.compile(r"/workorders/\d+/receipt$"))
    expect(page.locator("#receipt-no")).to_have_text(re.compile(r"^GD\d{8}-0002$"))
    expect(page.locator("body")).to_contain_text("划痕")
    screenshot(page, "wo-intake-receipt")

    page.set_viewport_size(DESKTOP)
    page.goto("/workorders")
    expect(page.locator("#wo-table tbody tr")).to_have_count(2)
    screenshot(page, "wo-list-desktop")
    page.locator("#wo-table tbody tr").first.get_by_role("link").click()
    expect(page.locator("#wo-timeline li")).to_have_count(1)
    expect(page.locator("body")).to_contain_text(known["no"])  # the device's earlier order
    screenshot(page, "wo-detail-desktop", full_page=True)
