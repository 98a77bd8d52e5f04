"""【工单受理】 in a real browser (issue 16, the first slice): the form opened with a known phone
fills the customer, typing the serial shows the device's earlier order, a product is picked,
是否领用货品 opens its goods rows (added and deleted), saving opens the intake receipt, and the
new order is in 【工单处理】 with its page, whose 【编辑】 dialog changes the intake data and the
issued goods (a row deleted, one changed, one added; a bad quantity marked in its row).
Screenshots at 1280×800, 820×1180 and 390×844 go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from server.workorders.services import orders
from tests.e2e.conftest import DESKTOP, IPAD, PHONE, login, new_page, pick, screenshot
from tests.workorders.helpers import intake_body, wo_world


@pytest.fixture
async def known(tenant) -> dict:
    w = await wo_world(tenant)
    customer = {"name": "张三", "phone": "13800001234", "address": "上海市徐汇区", "customer_type": "personal"}
    return await orders.intake(
        tenant, intake_body(w, customer=customer, serial_no="F2LXK0AAA", fault_description="电池鼓包")
    )


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

    # 是否领用货品 opens one goods row; 【添加一行】 adds more, 删除 takes one away
    expect(page.locator("#intake-issued")).to_be_hidden()
    page.get_by_label("是否领用货品").check()
    rows = page.locator("#intake-issued .wo-issued-row")
    expect(rows).to_have_count(1)
    for _ in range(2):
        page.get_by_role("button", name="添加一行").click()
    expect(rows).to_have_count(3)
    rows.nth(2).get_by_role("button", name="删除").click()
    expect(rows).to_have_count(2)
    for i, (goods, qty) in enumerate((("SCR", "1"), ("BAT", "2"))):
        pick(page, rows.nth(i).locator(".picker-input").nth(0), "W-GEN", "W-GEN")
        pick(page, rows.nth(i).locator(".picker-input").nth(1), goods, goods)
        rows.nth(i).get_by_label("数量").fill(qty)
    expect(page.locator("#issued-goods-r1")).to_have_value(re.compile("^BAT"))  # the added row's own ids
    for size, label in ((DESKTOP, "desktop"), (IPAD, "ipad"), (PHONE, "phone")):
        page.set_viewport_size(size)
        screenshot(page, f"wo-intake-{label}", full_page=True)
    page.set_viewport_size(IPAD)

    # a refused quantity is marked in its own row
    rows.nth(1).get_by_label("数量").fill("0")
    page.get_by_role("button", name="保存并打印受理单").click()
    expect(rows.nth(1).locator(".field-error")).to_contain_text("数量")
    expect(rows.nth(0).locator(".field-error")).to_have_count(0)
    rows.nth(1).get_by_label("数量").fill("2")
    page.get_by_role("button", name="保存并打印受理单").click()
    expect(page).to_have_url(re.compile(r"/workorders/\d+/receipt\?from=intake$"))
    expect(page.locator("#receipt-no")).to_have_text(re.compile(r"^GD\d{8}-0002$"))
    expect(page.locator("body")).to_contain_text("划痕")
    screenshot(page, "wo-intake-receipt")
    page.locator(".pr-toolbar").get_by_role("link", name="继续受理").click()  # the desk's next customer
    expect(page).to_have_url(re.compile(r"/workorders/intake$"))

    page.set_viewport_size(DESKTOP)
    page.goto("/workorders")
    expect(page.locator("#wo-table tbody tr")).to_have_count(2)
    screenshot(page, "wo-list-desktop")
    page.locator("#wo-table tbody tr").first.get_by_role("link").click()
    expect(page.locator("#wo-timeline li")).to_have_count(1)
    expect(page.locator("body")).to_contain_text(known["no"])  # the device's earlier order
    screenshot(page, "wo-detail-desktop", full_page=True)
    expect(page.locator("#wo-lines tbody tr")).to_have_count(2)
    expect(page.locator("#wo-lines")).to_contain_text("iPhone 15 电池")

    # 【编辑】: the intake data in a dialog; a refusal marks the field, a good save reloads the page
    page.locator("#wo-edit").click()
    dialog = page.locator("dialog[open]")
    expect(dialog.locator("#edit-fault")).to_have_value("屏幕碎裂，触摸失灵")
    for size, label in ((DESKTOP, "desktop"), (IPAD, "ipad")):
        page.set_viewport_size(size)
        screenshot(page, f"wo-edit-{label}")
    dialog.locator("#edit-phone").fill("138-abc")
    dialog.get_by_role("button", name="确认").click()
    expect(dialog.locator(".field-error")).to_contain_text("手机号")
    dialog.locator("#edit-phone").fill("13800001234")
    dialog.locator("#edit-name").fill("张三丰")
    dialog.locator("#edit-fault").fill("屏幕碎裂，已换屏")
    # the issued goods: the screen row goes, the battery's quantity changes, a row is added; a
    # refused quantity is marked in its row
    issued = dialog.locator("#edit-issued .wo-issued-row")
    expect(issued).to_have_count(2)
    expect(dialog.locator("#edit-category")).to_be_visible()  # the category picker, beside the product
    issued.nth(0).get_by_role("button", name="删除").click()
    issued.nth(0).get_by_label("数量").fill("3")
    dialog.get_by_role("button", name="添加一行").click()
    expect(issued).to_have_count(2)
    pick(page, issued.nth(1).locator(".picker-input").nth(0), "W-GEN", "W-GEN")
    pick(page, issued.nth(1).locator(".picker-input").nth(1), "SCR", "SCR")
    issued.nth(1).get_by_label("数量").fill("0")
    page.set_viewport_size(PHONE)
    issued.nth(1).scroll_into_view_if_needed()
    screenshot(page, "wo-edit-issued-phone")
    page.set_viewport_size(IPAD)
    dialog.get_by_role("button", name="确认").click()
    expect(issued.nth(1).locator(".field-error")).to_contain_text("数量")
    expect(issued.nth(0).locator(".field-error")).to_have_count(0)
    issued.nth(1).get_by_label("数量").fill("1")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(page.locator("body")).to_contain_text("已换屏")
    expect(page.locator("body")).to_contain_text("张三丰")
    rows = page.locator("#wo-lines tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("iPhone 15 电池")
    expect(rows.nth(0).locator('[data-label="数量"]')).to_have_text("3")
    expect(rows.nth(1)).to_contain_text("iPhone 15 屏幕")

    # 【直接维修】, a repair line, and its 数量 changed in its row
    page.select_option("#wo-defective", label="W-BAD W-BAD仓")
    page.locator("#wo-repair-form").get_by_role("button", name="直接维修").click()
    expect(page.locator("#wo-status")).to_have_text("维修中")
    page.select_option("#wo-line-code", label="LCD 维修LCD（用料）")
    page.select_option("#wo-line-wh", label="W-GEN W-GEN仓")
    pick(page, page.locator("#wo-line-goods"), "SCR", "SCR")
    page.locator("#wo-line-form").get_by_role("button", name="添加").click()
    qty = page.locator(".wo-qty-form input[name=qty]")
    expect(qty).to_have_value("1")
    qty.fill("0")
    page.locator(".wo-qty-form").get_by_role("button", name="修改").click()
    expect(page.locator(".wo-qty-form .field-error")).to_contain_text("数量")
    qty.fill("2")
    with page.expect_navigation():  # saved, the page reloads
        page.locator(".wo-qty-form").get_by_role("button", name="修改").click()
    expect(page.locator(".wo-qty-form input[name=qty]")).to_have_value("2")
    expect(page.locator(".wo-qty-form .field-error")).to_have_count(0)
    page.locator("#wo-lines").scroll_into_view_if_needed()
    screenshot(page, "wo-detail-lines-ipad")
