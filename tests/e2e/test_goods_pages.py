"""The goods golden path in a real browser (issue 3, "Browser test"): admin creates a goods with
four price tiers, a new goods type (【自定义】) and one per-store price, then previews on its edit
page the price of a level-3 branch. Screenshots at desktop and iPad widths go to var/screenshots/."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from server.masterdata.services.goods_io import COLUMNS
from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, pick, screenshot
from tests.masterdata.helpers import chain
from tests.system.helpers import service_org

TIERS = {1: ("100", "150.5"), 2: ("110", "160"), 3: ("120.1234", "170"), 4: ("130", "180")}


@pytest.fixture
async def world(tenant) -> dict:
    """Apple › iPhone › iPhone 15, a level-2 branch and a level-3 branch under it."""
    await chain(tenant, "category", "Apple", "iPhone", "iPhone 15")
    shenzhen = await service_org(tenant, "SZ", tenant.org_id, name="深圳网点", level=2)
    futian = await service_org(tenant, "SZFT", shenzhen["id"], name="福田网点", level=3)
    return {"l2": shenzhen["id"], "l3": futian["id"]}


def both_widths(page: Page, name: str, anchor: str = "") -> None:
    """Screenshots at desktop width, then at iPad width (with `anchor` scrolled to the top), and back."""
    for size, label in ((DESKTOP, "desktop"), (IPAD, "ipad")):
        page.set_viewport_size(size)
        if anchor:
            page.locator(anchor).evaluate("el => el.scrollIntoView({block: 'start'})")
        else:
            page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(DESKTOP)


def workbook(*rows: dict) -> dict:
    """An import file for Playwright's set_input_files: the template's header and `rows` by column name."""
    wb = Workbook()
    wb.active.append(list(COLUMNS))
    for row in rows:
        wb.active.append([row.get(c) for c in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return {"name": "货品.xlsx", "mimeType": "application/octet-stream", "buffer": buf.getvalue()}


def test_admin_creates_a_goods_with_tiers_and_a_store_price_and_previews_a_branch_price(world, browser, live_server):
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.locator("nav.menu").get_by_role("link", name="货品管理", exact=True).click()
    expect(page).to_have_url(re.compile(r"/masterdata/goods$"))
    page.locator(".page-header").get_by_role("link", name="添加").click()
    expect(page).to_have_url(re.compile(r"/masterdata/goods/new$"))

    page.fill("#goods-code", "IP15-SCR")
    page.fill("#goods-name", "iPhone 15 屏幕总成")
    pick(page, page.locator("#goods-category"), "iPhone 15", "Apple / iPhone / iPhone 15")
    page.fill("#goods-unit", "片")
    page.fill("#goods-spec", "原装 6.1 寸")
    page.fill("#goods-cost", "0.1000")
    page.fill("#goods-safety", "5")

    # 【自定义】: a new goods type without leaving the form, then selected
    page.locator("#goods-type-field").get_by_role("button", name="自定义").click()
    page.fill("input[name=goods_type_name]", "屏幕组件")
    page.locator("#goods-type-inline").get_by_role("button", name="保存").click()
    expect(page.locator("#goods-type option:checked")).to_have_text("屏幕组件")
    expect(page.locator("#toast")).to_contain_text("已添加货品分类 屏幕组件")

    for level, (order, retail) in TIERS.items():
        page.fill(f"input[name=order_price_{level}]", order)
        page.fill(f"input[name=retail_price_{level}]", retail)
    page.locator("input[name=orderable_4][type=checkbox]").uncheck()

    expect(page.locator("#store-rows")).to_be_hidden()
    page.check("#per-store")
    page.get_by_role("button", name="添加店铺").click()
    row = page.locator(".store-price-row").first
    pick(page, row.locator(".picker-input"), "深圳", "深圳网点")
    row.locator("input[name=store_order_price]").fill("99.5")
    row.locator("input[name=store_retail_price]").fill("0.1000")
    both_widths(page, "goods-form")
    both_widths(page, "goods-form-prices", "#price-grid")

    page.get_by_role("button", name="保存", exact=True).last.click()
    expect(page.locator("#toast")).to_contain_text("已添加货品 IP15-SCR iPhone 15 屏幕总成")
    expect(page).to_have_url(re.compile(r"/masterdata/goods$"))
    listed = page.locator('#goods-table tr[data-code="IP15-SCR"]')
    expect(listed).to_contain_text("屏幕组件")
    expect(listed).to_contain_text("Apple / iPhone / iPhone 15")
    expect(listed).to_contain_text("0.1000")
    both_widths(page, "goods-list")

    # the edit page keeps every value and previews the level-3 branch's price (its level's tier)
    listed.get_by_role("link", name="修改").click()
    expect(page).to_have_url(re.compile(r"/masterdata/goods/\d+/edit$"))
    expect(page.locator("#goods-code")).to_have_value("IP15-SCR")
    expect(page.locator("input[name=order_price_3]")).to_have_value("120.1234")
    expect(page.locator("input[name=retail_price_1]")).to_have_value("150.5000")
    expect(page.locator("input[name=store_order_price]")).to_have_value("99.5000")
    result = page.locator("#price-preview-result")
    pick(page, page.locator("#preview-org"), "福田", "福田网点")
    expect(result.locator("[data-field=order_price]")).to_have_text("120.1234")
    expect(result.locator("[data-field=retail_price]")).to_have_text("170.0000")
    expect(result.locator("[data-field=source]")).to_have_text("3 级价格")
    pick(page, page.locator("#preview-org"), "深圳", "深圳网点")
    expect(result.locator("[data-field=order_price]")).to_have_text("99.5000")
    expect(result.locator("[data-field=source]")).to_have_text("店铺单独定价")
    both_widths(page, "goods-edit-preview", "#price-preview")

    # an error stays on the form with its message, and nothing is saved
    page.fill("input[name=order_price_2]", "1.12345")
    page.get_by_role("button", name="保存", exact=True).last.click()
    expect(page.locator("#goods-form .form-error")).to_have_text("2 级订单价格最多 4 位小数")
    expect(page).to_have_url(re.compile(r"/edit$"))


def test_import_dialog_reports_bad_rows_then_imports_a_good_file(world, browser, live_server):
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.goto("/masterdata/goods")
    page.locator(".page-header").get_by_role("button", name="导入").click()
    dialog = page.locator("#modal dialog[open]")
    expect(dialog.get_by_role("link", name="下载导入模板")).to_be_visible()

    good = {"货品编码": "IMP-1", "货品名称": "导入的屏幕", "品类": "Apple/iPhone/iPhone 15", "采购成本": "0.1000"}
    bad = good | {"货品编码": "IMP-2", "品类": "Apple/没有这个"}
    dialog.locator("input[type=file]").set_input_files(workbook(good, bad))
    dialog.get_by_role("button", name="导入").click()
    expect(dialog).to_contain_text("导入失败：共 1 行有错误，未导入任何数据")
    expect(dialog.locator("#goods-import-errors tbody tr")).to_have_text(["3品类【Apple/没有这个】不存在或已删除"])
    both_widths(page, "goods-import-report")

    dialog.locator("input[type=file]").set_input_files(workbook(good))
    dialog.get_by_role("button", name="导入").click()
    expect(page.locator("#toast")).to_contain_text("已导入 1 条货品")
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    expect(page.locator('#goods-table tr[data-code="IMP-1"]')).to_contain_text("0.1000")
