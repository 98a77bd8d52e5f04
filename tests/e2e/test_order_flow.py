"""Issue 17's orders in the browser: a branch manager applies for an order (【订货申请】: the line
dialog's picker offers only goods the branch may order, 【提交】 freezes the total) while the
head office sits on 【订单审核】 and sees the order arrive without reloading, with the branch's
credit beside it; it approves, and the branch's list shows 已审核 without reloading.
Screenshots at desktop and iPad widths go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from server.logistics import permissions as P
from tests.credit.helpers import recharge
from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, screenshot
from tests.masterdata.helpers import basics, make_goods, tiers
from tests.system.helpers import PASSWORD, service_org, service_user

NOT_AT_2 = tiers(("1", "2", True), ("5", "9", False), ("6", "9", True), ("7", "9", True))


@pytest.fixture
async def network(tenant) -> dict:
    """上海分部 (level 2) with 1000.0000 of credit, its manager, a head-office reviewer, and three
    parts, one of which level 2 may not order."""
    b = await basics(tenant)
    shanghai = await service_org(tenant, "SH", tenant.org_id, name="上海分部", level=2)
    await make_goods(tenant, "SCR-15", b["iphone15"], name="iPhone 15 屏幕总成")
    await make_goods(tenant, "BAT-15", b["iphone15"], name="iPhone 15 电池")
    await make_goods(tenant, "LOGIC-15", b["iphone15"], name="iPhone 15 主板", prices=NOT_AT_2)
    await recharge(tenant, (shanghai["id"], "1000.0000"))
    await service_user(tenant, "shmgr", shanghai["id"], "branch", [*P.ORDER.values()])
    await service_user(tenant, "hqwh", tenant.org_id, "hq", [*P.REVIEW.values()])
    return {"shanghai": shanghai["id"]}


def both_widths(page: Page, name: str) -> None:
    for size, label in ((DESKTOP, "desktop"), (IPAD, "ipad")):
        page.set_viewport_size(size)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(DESKTOP)


def test_branch_applies_and_head_office_approves_live(network, browser, live_server):
    # the head office's reviewer waits on 【订单审核】
    hq = new_page(browser, live_server, DESKTOP)
    login(hq, "hqwh@ACME", PASSWORD)
    hq.locator("nav.menu").get_by_role("link", name="订单审核", exact=True).click()
    expect(hq).to_have_url(re.compile(r"/logistics/order-reviews$"))
    expect(hq.locator("#live-dot")).to_have_class(re.compile("online"))
    expect(hq.locator("#review-table tbody")).to_contain_text("暂无待处理的下级订货单")
    hq.evaluate("window.__stayed = true")

    # the branch applies: 【新增】, 【暂存】, lines in the dialog, 【提交】
    branch = new_page(browser, live_server, DESKTOP)
    branch.on("dialog", lambda d: d.accept())
    login(branch, "shmgr@ACME", PASSWORD)
    branch.locator("nav.menu").get_by_role("link", name="订货申请", exact=True).click()
    branch.locator(".page-header").get_by_role("link", name="新增").click()
    branch.fill("#doc-remark", "门店备件补货")
    branch.locator("#doc-form").get_by_role("button", name="暂存").click()
    expect(branch).to_have_url(re.compile(r"/logistics/orders/\d+$"))
    expect(branch.locator(".page-header h1")).to_contain_text("暂存")

    branch.locator("#lines").get_by_role("button", name="添加").click()
    box = branch.locator("#line-goods")
    box.click()
    with branch.expect_response(lambda r: "/logistics/orders/goods" in r.url and "q=15" in r.url):
        box.fill("15")
    options = branch.locator(".picker-list:visible .picker-option")
    expect(options).to_have_count(2)  # the mainboard is not orderable at level 2
    expect(branch.locator(".picker-list:visible")).not_to_contain_text("主板")
    options.filter(has_text="屏幕总成").click()
    branch.fill("#line-qty", "2")
    branch.locator("#line-form").get_by_role("button", name="确认").click()
    expect(branch.locator('#line-table tr[data-goods="SCR-15"]')).to_contain_text("220.0000")

    branch.locator("#lines").get_by_role("button", name="添加").click()
    box = branch.locator("#line-goods")
    box.click()
    with branch.expect_response(lambda r: "/logistics/orders/goods" in r.url and "q=BAT" in r.url):
        box.fill("BAT")
    branch.locator(".picker-list:visible .picker-option", has_text="BAT-15").click()
    branch.fill("#line-qty", "1")
    branch.locator("#line-form").get_by_role("button", name="确认").click()
    expect(branch.locator("#line-table tbody tr")).to_have_count(2)
    expect(branch.locator("#line-table tfoot")).to_contain_text("330.0000")
    both_widths(branch, "order-draft")

    branch.locator("#doc-form").get_by_role("button", name="提交").click()
    expect(branch.locator(".page-header h1")).to_contain_text("已提交")
    expect(branch.locator(".page-header")).to_contain_text("撤回")
    order_no = branch.locator(".page-header h1 .mono").inner_text()
    both_widths(branch, "order-submitted")

    # the reviewer's list gains the order live, the branch's credit beside it
    row = hq.locator(f'#review-table tr[data-no="{order_no}"]')
    expect(row).to_contain_text("上海分部")
    expect(row.locator('[data-label="额度"]')).to_have_text("1000.0000")
    expect(row.locator('[data-label="冻结"]')).to_have_text("330.0000")
    expect(row.locator('[data-label="可用"]')).to_have_text("670.0000")
    assert hq.evaluate("window.__stayed") is True
    both_widths(hq, "order-review-list")

    # the branch waits on its list while the head office approves
    branch.locator("nav.menu").get_by_role("link", name="订货申请", exact=True).click()
    mine = branch.locator(f'#order-table tr[data-no="{order_no}"]')
    expect(mine).to_contain_text("已提交")
    expect(branch.locator("#live-dot")).to_have_class(re.compile("online"))
    branch.evaluate("window.__stayed = true")

    row.get_by_role("link", name=order_no).click()
    expect(hq.locator("#order-credit")).to_contain_text("670.0000")
    expect(hq.locator("#line-table thead")).to_contain_text("已发货")
    both_widths(hq, "order-review-detail")
    hq.locator(".page-header").get_by_role("button", name="审核通过").click()
    expect(hq.locator(".page-header h1")).to_contain_text("已审核")
    expect(hq.locator(".page-header")).to_contain_text("关闭订单")

    expect(mine).to_contain_text("已审核")
    assert branch.evaluate("window.__stayed") is True
    both_widths(branch, "order-list-approved")
