"""【仓库定义】 and 【仓库设置】 in a real browser (issue 3, "Browser test"): add a warehouse in the
definition dialog, assign two warehouses to two branches in one 【仓库套用机构】 save, see the four org
warehouses, and disable one of them. Screenshots at desktop and iPad widths go to var/screenshots/."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, screenshot
from tests.masterdata.helpers import warehouse
from tests.system.helpers import service_org

SHOPS = 12


@pytest.fixture
async def branches(tenant) -> None:
    """Two branches with shops under them (enough orgs for the dialog's list to scroll) and one warehouse."""
    north = await service_org(tenant, "BJ", tenant.org_id, level=2, name="北京分公司")
    south = await service_org(tenant, "SH", tenant.org_id, level=2, name="上海分公司")
    await service_org(tenant, "BJ-CY", north["id"], level=3, name="朝阳网点")
    for i in range(1, SHOPS + 1):
        await service_org(tenant, f"SH-{i:02}", south["id"], level=3, name=f"上海门店{i:02}")
    await warehouse(tenant, "W-GEN", name="通用仓")


def both_widths(page: Page, name: str) -> None:
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(IPAD)
    screenshot(page, f"{name}-ipad")
    page.set_viewport_size(DESKTOP)


def check(dialog, box: str, text: str) -> None:
    dialog.locator(f"{box} .check-list label", has_text=text).locator("input").check()


def test_assign_two_warehouses_to_two_branches_in_one_save(branches, browser, live_server):
    page = new_page(browser, live_server)
    login(page, "admin@ACME")

    # --- 仓库定义: add a second warehouse through the dialog ---------------------------------------
    page.locator("nav.menu").get_by_role("link", name="仓库定义", exact=True).click()
    expect(page).to_have_url(re.compile(r"/masterdata/warehouses$"))
    page.locator(".page-header").get_by_role("button", name="添加").click()
    dialog = page.locator("#modal dialog[open]")
    dialog.locator("#wh-code").fill("W-GOOD")
    dialog.locator("#wh-name").fill("良品仓")
    dialog.locator("#wh-type").select_option(label="良品库")
    both_widths(page, "warehouse-form")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#toast")).to_contain_text("已添加仓库 良品仓")
    expect(page.locator('#warehouse-table tr[data-code="W-GOOD"]')).to_contain_text("良品库")
    both_widths(page, "warehouses")

    # --- 仓库设置: 【仓库套用机构】 two warehouses × two branches, one save -------------------------------
    page.locator("nav.menu").get_by_role("link", name="仓库设置", exact=True).click()
    expect(page).to_have_url(re.compile(r"/masterdata/warehouse-assignments$"))
    expect(page.locator("#assignment-table td.empty")).to_be_visible()
    page.locator(".page-header").get_by_role("button", name="仓库套用机构").click()
    dialog = page.locator("#modal dialog[open]")
    expect(dialog).to_be_visible()

    dialog.get_by_role("button", name="确认").click()
    expect(dialog.locator(".form-error")).to_have_text("请至少勾选一个仓库")
    dialog.get_by_role("button", name="取消").click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    page.locator(".page-header").get_by_role("button", name="仓库套用机构").click()
    expect(dialog.locator(".form-error")).to_be_empty()  # a fresh dialog

    check(dialog, "#assign-warehouses", "通用仓")
    check(dialog, "#assign-warehouses", "良品仓")
    # the text filter narrows the org tree; 全选 then checks only what it shows
    dialog.get_by_label("筛选机构").fill("分公司")
    expect(dialog.locator("#assign-orgs .check-list label:visible")).to_have_count(2)
    dialog.locator("#assign-orgs .check-all input").check()
    dialog.get_by_label("筛选机构").fill("")
    expect(dialog.locator("#assign-orgs .check-list label:visible")).to_have_count(4 + SHOPS)
    expect(dialog.locator("#assign-orgs .check-count")).to_have_text("2")
    expect(dialog.locator("#assign-warehouses .check-count")).to_have_text("2")
    expect(dialog.locator("#assign-orgs .check-list label", has_text="朝阳网点").locator("input")).not_to_be_checked()
    both_widths(page, "warehouse-assign-dialog")
    page.set_viewport_size(IPAD)
    box = dialog.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= IPAD["width"], box  # fits the iPad screen
    assert box["y"] >= 0 and box["y"] + box["height"] <= IPAD["height"], box
    # the long org list scrolls inside its box; the dialog's buttons stay on screen
    assert dialog.locator("#assign-orgs .check-list").evaluate("l => l.scrollHeight > l.clientHeight + 100")
    expect(dialog.get_by_role("button", name="确认")).to_be_in_viewport()
    page.set_viewport_size(DESKTOP)

    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#toast")).to_contain_text("仓库套用机构完成：新增 4 条")
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    rows = page.locator("#assignment-table tbody tr[data-org]")
    expect(rows).to_have_count(4)
    expect(page.locator('#assignment-table tr[data-org="BJ-CY"]')).to_have_count(0)

    # --- disable one pair: only that org stops using the warehouse --------------------------------
    page.once("dialog", lambda d: d.accept())
    target = page.locator('#assignment-table tr[data-org="BJ"][data-warehouse="W-GOOD"]')
    target.get_by_role("button", name="停用").click()
    expect(page.locator("#toast")).to_contain_text("已停用 北京分公司 的仓库 良品仓")
    expect(target.get_by_role("button", name="启用")).to_be_visible()
    expect(target.locator(".badge")).to_have_text("停用")
    other = page.locator('#assignment-table tr[data-org="SH"][data-warehouse="W-GOOD"]')
    expect(other.locator(".badge")).to_have_text("启用")
    expect(other.get_by_role("button", name="停用")).to_be_visible()
    both_widths(page, "warehouse-assignments")

    # --- the org picker filters the list ------------------------------------------------------------
    page.locator("#filters .picker-input").fill("上海")
    page.locator(".picker-option", has_text="上海分公司").click()
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"org_id=\d+"))
    with page.expect_download() as download:
        page.locator(".page-header").get_by_role("link", name="导出").click()
    assert download.value.suggested_filename == "仓库设置.xlsx"
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert [(r[0], r[2]) for r in sheet.iter_rows(min_row=2, values_only=True)] == [("SH", "W-GEN"), ("SH", "W-GOOD")]
