"""The golden path of 维修代码 in a real browser: add a code with a labor fee that uses material,
choosing its category and repair class with the pickers, see it in the list and filter the list
by category. Screenshots at desktop and iPad widths go to var/screenshots/."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, pick, screenshot


def both_widths(page: Page, name: str) -> None:
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(IPAD)
    screenshot(page, f"{name}-ipad")
    page.set_viewport_size(DESKTOP)


def tree(api, kind: str, *names: str) -> list[int]:
    ids: list[int] = []
    for name in names:
        body = {"name": name} | ({"parent_id": ids[-1]} if ids else {})
        ids.append(api.call("POST", f"/api/v1/{kind}", 201, json=body)["id"])
    return ids


def test_add_a_repair_code_with_the_pickers_and_filter_the_list(browser, live_server, admin_api):
    apple, _, iphone15 = tree(admin_api, "categories", "Apple", "iPhone", "iPhone 15")
    ipad = admin_api.call("POST", "/api/v1/categories", 201, json={"name": "iPad", "parent_id": apple})["id"]
    _, lcd = tree(admin_api, "repair-classes", "屏幕维修", "换屏")
    tree(admin_api, "repair-classes", "电池维修", "更换电池")
    for code, name, category, fee in (("R010", "iPad 换屏", ipad, "120"), ("R020", "iPhone 15 贴膜", iphone15, "0")):
        body = {"code": code, "name": name, "category_id": category, "repair_class_id": lcd, "labor_fee": fee}
        admin_api.call("POST", "/api/v1/repair-codes", 201, json=body)

    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.locator("nav.menu").get_by_role("link", name="维修代码", exact=True).click()
    expect(page).to_have_url(re.compile(r"/masterdata/repair-codes$"))
    expect(page.locator("#code-table tbody tr[data-code]")).to_have_count(2)

    page.locator(".page-header").get_by_role("button", name="添加").click()
    dialog = page.locator("#modal dialog[open]")
    expect(dialog).to_be_visible()
    dialog.locator("#code-code").fill("R100")
    dialog.locator("#code-name").fill("更换屏幕总成")
    pick(page, page.locator("#code-category"), "15", "Apple / iPhone / iPhone 15")
    pick(page, page.locator("#code-class"), "换屏", "屏幕维修 / 换屏")
    dialog.locator("#code-fee").fill("88.5")
    dialog.get_by_label("是否用料").check()
    both_widths(page, "repair-code-form")

    dialog.locator("#code-fee").fill("88.12345")  # five decimals: refused inside the dialog
    dialog.get_by_role("button", name="确认").click()
    expect(dialog.locator(".form-error")).to_have_text("维修劳务费最多 4 位小数")
    dialog.locator("#code-fee").fill("88.5")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("已添加维修代码 R100")
    row = page.locator('#code-table tr[data-code="R100"]')
    expect(row).to_contain_text("88.5000")
    expect(row).to_contain_text("Apple / iPhone / iPhone 15")
    expect(row).to_contain_text("屏幕维修 / 换屏")
    expect(row.locator("td").nth(3)).to_have_text("是")
    both_widths(page, "repair-code-list")

    # the category filter matches its whole subtree; the export link follows the filter
    pick(page, page.locator("#filter-category"), "iPad", "Apple / iPad")
    expect(page.locator("#code-table tbody tr[data-code]")).to_have_count(1)
    expect(page.locator("#code-table tbody")).to_contain_text("R010")
    expect(page).to_have_url(re.compile(rf"category_id={ipad}"))
    with page.expect_download() as download:
        page.locator(".page-header").get_by_role("link", name="导出").click()
    assert f"category_id={ipad}" in download.value.url and download.value.suggested_filename == "维修代码.xlsx"
    pick(page, page.locator("#filter-category"), "iPhone", "Apple / iPhone")
    expect(page.locator("#code-table tbody tr[data-code]")).to_have_count(2)
    page.locator('#filters input[name="q"]').fill("总成")
    expect(page.locator("#code-table tbody tr[data-code]")).to_have_count(1)
    expect(page.locator("#code-table tbody")).to_contain_text("R100")
    pick(page, page.locator("#filter-class"), "电池", "电池维修 / 更换电池")
    expect(page.locator("#code-table tbody")).to_contain_text("暂无数据")
    page.locator("#filter-class ~ .picker-clear").click()
    page.keyboard.press("Escape")
    expect(page.locator("#code-table tbody tr[data-code]")).to_have_count(1)
    both_widths(page, "repair-code-filtered")

    # 故障原因 is the same page without the fee columns, its class from the fault tree
    _, battery = tree(admin_api, "fault-classes", "电源故障", "电池")
    body = {"code": "F001", "name": "电池老化", "category_id": iphone15, "fault_class_id": battery}
    admin_api.call("POST", "/api/v1/fault-reasons", 201, json=body)
    page.locator("nav.menu").get_by_role("link", name="故障原因", exact=True).click()
    row = page.locator('#code-table tr[data-code="F001"]')
    expect(row).to_contain_text("电源故障 / 电池")
    expect(page.locator("#code-table thead")).not_to_contain_text("维修劳务费")
    both_widths(page, "fault-reason-list")
