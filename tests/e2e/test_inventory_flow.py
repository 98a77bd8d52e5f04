"""The inventory golden path in a real browser (issue 4, "Browser test"): admin takes 10 units of
a part into the head office's 通用库 (【入库管理】: header, a line in the dialog, 【提交】, tick and
【确认入库】), sees 10 in 【库存查询】 while a second page sitting there sees it arrive live, scraps 3
(【出库管理】, 报废出库) and sees 7, then is refused an outbound of 8 with the shortage message, and an
outbound of 7 at 【确认出库】 once another document has taken a unit meanwhile.
Screenshots at desktop and iPad widths go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from server.masterdata.services import warehouses
from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, pick, screenshot
from tests.masterdata.helpers import chain, make_goods


@pytest.fixture
async def world(tenant) -> dict:
    """A part under Apple › iPhone › iPhone 15 and the head office's 通用库."""
    *_, iphone15 = await chain(tenant, "category", "Apple", "iPhone", "iPhone 15")
    part = await make_goods(tenant, "IP15-SCR", iphone15["id"], name="iPhone 15 屏幕总成", unit="片")
    general = await warehouses.create(tenant, {"code": "HQ-GEN", "name": "通用库", "type": "general"})
    await warehouses.assign(tenant, [general["id"]], [tenant.org_id])
    return {"part": part["id"], "general": general["id"]}


def both_widths(page: Page, name: str) -> None:
    for size, label in ((DESKTOP, "desktop"), (IPAD, "ipad")):
        page.set_viewport_size(size)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(DESKTOP)


def new_document(page: Page, menu: str, type_name: str) -> None:
    """From the menu: 【新增】, the header, 【暂存】; ends on the new draft's page."""
    page.locator("nav.menu").get_by_role("link", name=menu, exact=True).click()
    page.locator(".page-header").get_by_role("link", name="新增").click()
    page.select_option("#doc-type", label=type_name)
    page.select_option("#doc-warehouse", label="HQ-GEN 通用库")
    page.get_by_role("button", name="暂存").click()
    expect(page).to_have_url(re.compile(r"/inventory/\w+bounds/\d+$"))
    expect(page.locator(".page-header h1")).to_contain_text("暂存")


def add_line(page: Page, qty: str, price: str = "") -> None:
    """【添加】 a line of the part in the dialog (its category narrows the goods) and 【确认】."""
    page.locator("#lines").get_by_role("button", name="添加").click()
    dialog = page.locator("#modal dialog[open]")
    expect(dialog).to_be_visible()
    pick(page, dialog.locator("#line-category"), "iPhone 15", "Apple / iPhone / iPhone 15")
    pick(page, dialog.locator("#line-goods"), "IP15", "IP15-SCR")
    if price:
        dialog.locator("#line-price").fill(price)
    dialog.locator("#line-qty").fill(qty)


def submit_and_confirm(page: Page, confirm: str) -> None:
    page.locator("#doc-form").get_by_role("button", name="提交").click()
    expect(page.locator(".page-header h1")).to_contain_text("已提交")
    page.locator("#line-table tbody input[name=line_ids]").check()
    page.locator("#lines").get_by_role("button", name=confirm).click()
    expect(page.locator(".page-header h1")).to_contain_text("已完成")
    expect(page.locator("#line-table tbody")).to_contain_text("已确认")


def stock_qty(page: Page):
    return page.locator('#stock-table tr[data-code="IP15-SCR"] td.qty')


def test_inbound_confirm_outbound_scrap_and_a_refused_shortage(world, browser, live_server, admin_api):
    watcher = new_page(browser, live_server)
    login(watcher, "admin@ACME")
    watcher.goto("/inventory/stock")
    expect(watcher.locator("#stock-table")).to_contain_text("暂无库存")
    watcher.evaluate("window.notReloaded = true")

    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    new_document(page, "入库管理", "采购入库")
    add_line(page, "10", "85.5")
    both_widths(page, "inbound-draft-dialog")
    page.locator("#modal dialog[open]").get_by_role("button", name="确认").click()
    expect(page.locator("#toast")).to_contain_text("已添加明细 IP15-SCR iPhone 15 屏幕总成")
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    row = page.locator('#line-table tr[data-goods="IP15-SCR"]')
    expect(row).to_contain_text("85.5000")
    expect(row).to_contain_text("855.0000")
    expect(page.locator("#line-table tfoot")).to_contain_text("合计（1 行）")
    doc_url = page.url

    # 【提交】, then open it from the list by its number and confirm the ticked line
    page.locator("#doc-form").get_by_role("button", name="提交").click()
    expect(page.locator(".page-header h1")).to_contain_text("已提交")
    page.locator(".page-header").get_by_role("link", name="返回列表").click()
    listed = page.locator("#doc-table tbody tr").first
    expect(listed).to_contain_text("已提交")
    expect(listed).to_contain_text("通用库")
    both_widths(page, "inbound-list")
    listed.get_by_role("link").click()
    expect(page).to_have_url(doc_url)
    expect(page.locator("#line-table tbody input[name=line_ids]")).to_have_count(1)
    both_widths(page, "inbound-submitted")
    # another user's page on the same document follows the confirmation live
    reader = new_page(browser, live_server)
    login(reader, "admin@ACME")
    reader.goto(doc_url)
    expect(reader.locator("#line-table tbody")).to_contain_text("未确认")
    page.locator("#line-table tbody input[name=line_ids]").check()
    page.locator("#lines").get_by_role("button", name="确认入库").click()
    expect(page.locator("#toast")).to_contain_text("已确认入库")
    expect(page.locator(".page-header h1")).to_contain_text("已完成")
    expect(page.locator("#line-table tbody")).to_contain_text("已确认")
    expect(reader.locator(".page-header h1")).to_contain_text("已完成")
    expect(reader.locator("#line-table tbody")).to_contain_text("已确认")
    reader.context.close()

    # the print view opens in a new tab: A4, the lines, totals and signature lines, no menu
    with page.context.expect_page() as opened:
        page.locator(".page-header").get_by_role("link", name="打印").click()
    sheet = opened.value
    sheet.wait_for_load_state()
    expect(sheet.locator(".sheet")).to_contain_text("IP15-SCR")
    expect(sheet.locator(".sheet tfoot")).to_contain_text("855.0000")
    expect(sheet.locator(".signs")).to_contain_text("仓管员")
    expect(sheet.locator("nav.menu")).to_have_count(0)
    both_widths(sheet, "inbound-print")
    sheet.emulate_media(media="print")  # as printed: no button bar, the sheet's own margins
    sheet.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    expect(sheet.locator(".bar")).to_be_hidden()
    screenshot(sheet, "inbound-print-media")
    sheet.close()

    # 【库存查询】 shows 10; the page that sat there saw it arrive without a reload
    page.locator("nav.menu").get_by_role("link", name="库存查询", exact=True).click()
    expect(stock_qty(page)).to_have_text("10")
    expect(stock_qty(watcher)).to_have_text("10")

    # scrap 3: the unit price left empty takes the org's price
    new_document(page, "出库管理", "报废出库")
    add_line(page, "3")
    page.locator("#modal dialog[open]").get_by_role("button", name="确认").click()
    expect(page.locator('#line-table tr[data-goods="IP15-SCR"]')).to_contain_text("100.0000")
    submit_and_confirm(page, "确认出库")
    page.locator("nav.menu").get_by_role("link", name="库存查询", exact=True).click()
    expect(stock_qty(page)).to_have_text("7")
    expect(stock_qty(watcher)).to_have_text("7")
    assert watcher.evaluate("window.notReloaded") is True

    # 8 more than the 7 on hand: refused in the dialog with the shortage
    new_document(page, "出库管理", "报废出库")
    add_line(page, "8")
    dialog = page.locator("#modal dialog[open]")
    dialog.get_by_role("button", name="确认").click()
    expect(dialog.locator(".form-error")).to_have_text("库存不足：IP15-SCR iPhone 15 屏幕总成 需要 8，库存 7")
    both_widths(page, "outbound-shortage")

    # 7 fits now, but someone takes 1 before 【确认出库】: the confirmation is refused in the page
    dialog.locator("#line-qty").fill("7")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator('#line-table tr[data-goods="IP15-SCR"]')).to_contain_text("7")
    page.locator("#doc-form").get_by_role("button", name="提交").click()
    expect(page.locator(".page-header h1")).to_contain_text("已提交")
    body = {"type": "scrap", "warehouse_id": world["general"], "lines": [{"goods_id": world["part"], "qty": 1}]}
    other = admin_api.call("POST", "/api/v1/outbounds", 201, json=body)
    admin_api.call("POST", f"/api/v1/outbounds/{other['id']}/submit")
    admin_api.call("POST", f"/api/v1/outbounds/{other['id']}/confirm", json={"line_ids": [other["lines"][0]["id"]]})
    expect(stock_qty(watcher)).to_have_text("6")
    page.locator("#line-table tbody input[name=line_ids]").check()
    page.locator("#lines").get_by_role("button", name="确认出库").click()
    expect(page.locator("#lines .form-error")).to_have_text("库存不足：IP15-SCR iPhone 15 屏幕总成 需要 7，库存 6")
    expect(page.locator(".page-header h1")).to_contain_text("已提交")
    both_widths(page, "outbound-confirm-shortage")
    expect(stock_qty(watcher)).to_have_text("6")
