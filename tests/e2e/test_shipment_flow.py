"""The shipment golden path in a real browser (issue 17): the head office drafts a 配送 to branch
B2 in 【物流发货】 (header, a line in the dialog, 【提交】, tick and 【确认出库】); on the branch's
screen, open on 【物流收货】, the menu badge and the row appear without a reload; the branch
opens it, picks its 良品库, ticks the line and 【确认收货】, and the badge clears.
Screenshots at desktop and iPad widths go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, pick, screenshot
from tests.logistics.shipment_helpers import network
from tests.system.helpers import PASSWORD


@pytest.fixture
async def world(tenant) -> dict:
    return await network(tenant)


def both_widths(page: Page, name: str) -> None:
    for size, label in ((DESKTOP, "desktop"), (IPAD, "ipad")):
        page.set_viewport_size(size)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(DESKTOP)


def test_head_office_distributes_and_the_branch_receives(world, browser, live_server):
    branch = new_page(browser, live_server)
    login(branch, "b2staff@ACME", PASSWORD)
    branch.locator("nav.menu").get_by_role("link", name="物流收货").click()
    expect(branch.locator("#receiving-table")).to_contain_text("暂无待收货的物流单")
    expect(branch.locator("#filter-sender")).to_be_disabled()
    branch.evaluate("window.notReloaded = true")

    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.locator("nav.menu").get_by_role("link", name="物流发货").click()
    page.locator(".page-header").get_by_role("link", name="添加").click()
    page.select_option("#doc-type", label="配送")
    page.select_option("#doc-to-org", label="B2 B2网点")
    page.select_option("#doc-warehouse", label="W-GEN W-GEN仓")
    page.fill("#doc-carrier", "顺丰速运")
    page.fill("#doc-tracking", "SF1234567890")
    page.get_by_role("button", name="暂存").click()
    expect(page).to_have_url(re.compile(r"/logistics/shipments/\d+$"))
    expect(page.locator(".page-header h1")).to_contain_text("暂存")

    page.locator("#lines").get_by_role("button", name="添加").click()
    dialog = page.locator("#modal dialog[open]")
    expect(dialog).to_be_visible()
    pick(page, dialog.locator("#line-goods"), "SCR", "SCR")
    dialog.locator("#line-qty").fill("3")
    both_widths(page, "shipment-line-dialog")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#toast")).to_contain_text("已添加明细 SCR")
    expect(page.locator('#line-table tr[data-goods="SCR"]')).to_contain_text("330.0000")

    page.locator("#doc-form").get_by_role("button", name="提交").click()
    expect(page.locator(".page-header h1")).to_contain_text("已提交")
    page.locator("#line-table tbody input[name=line_ids]").check()
    both_widths(page, "shipment-submitted")
    page.locator("#lines").get_by_role("button", name="确认出库").click()
    expect(page.locator("#toast")).to_contain_text("已确认出库")
    expect(page.locator(".page-header h1")).to_contain_text("已出库")
    expect(page.locator("#line-table tbody")).to_contain_text("在途")
    no = page.locator(".page-header h1 .mono").inner_text()

    # the branch's open page: badge and row arrive live
    badge = branch.locator("nav.menu a.menu-link", has_text="物流收货").locator(".menu-badge")
    expect(badge).to_have_text("1")
    row = branch.locator(f'#receiving-table tr[data-no="{no}"]')
    expect(row).to_contain_text("已出库")
    assert branch.evaluate("window.notReloaded === true")
    both_widths(branch, "receiving-list")
    branch.select_option("select[name=type]", label="配送")
    expect(branch.locator("#filter-sender")).to_be_enabled()
    row.get_by_role("link").click()
    expect(branch.locator("#live-dot")).to_have_class(re.compile("online"))
    branch.wait_for_load_state("networkidle")  # the resync of the lines on the socket's opening
    branch.select_option("#receive-warehouse", label="W-GOOD W-GOOD仓（良品库）")
    branch.locator("#line-table tbody input[name=line_ids]").check()
    both_widths(branch, "receiving-receipt")
    branch.get_by_role("button", name="确认收货").click()
    expect(branch.locator("#toast")).to_contain_text("已确认收货")
    expect(branch.locator(".page-header h1")).to_contain_text("已收货")
    expect(badge).to_have_text("")

    # the shipper's page follows; in transit is empty again
    expect(page.locator(".page-header h1")).to_contain_text("已收货", timeout=10_000)
    page.locator("nav.menu").get_by_role("link", name="在途库存").click()
    expect(page.locator("#transit-table")).to_contain_text("没有在途的货品")
    both_widths(page, "in-transit")
