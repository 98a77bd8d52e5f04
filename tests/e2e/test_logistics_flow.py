"""Issue 17's browser test, orders and shipments together: the branch manager (sh.manager in the
demo; here B2's manager with the same rights) applies for 3 screens and sees the frozen credit
rise live on its credit page; the head office approves, opens 【发货】 from the order (the form
comes with the order chosen and its open lines prefilled) and ships 2 of 3; on the branch's
screens the badge, a toast naming the shipment and the 【物流收货】 row appear without a reload;
the branch receives into its 良品库; stock (with 在途) and credit pages on both sides show the
truth; the head office ships the third and the order is 已发货.
Screenshots at desktop and iPad widths go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from server.credit import permissions as CREDIT
from server.inventory import permissions as INV
from server.logistics import permissions as P
from tests.credit.helpers import recharge
from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, screenshot
from tests.logistics.shipment_helpers import LOGISTICS_ALL, network
from tests.system.helpers import PASSWORD, service_user

MANAGER = [*P.ORDER.values(), *LOGISTICS_ALL, *INV.STOCK.values(), *CREDIT.ACCOUNT.values()]


@pytest.fixture
async def world(tenant) -> dict:
    """HQ → B2网点 (level 2, 1000.0000 of credit; the screen's order price there is 110.0000);
    HQ and B2 hold 20 screens in their 通用库; B2's manager applies, receives and looks."""
    n = await network(tenant)
    await recharge(tenant, (n["b2"], "1000.0000"))
    await service_user(tenant, "b2mgr", n["b2"], "branch", MANAGER)
    return n


def both_widths(page: Page, name: str) -> None:
    for size, label in ((DESKTOP, "desktop"), (IPAD, "ipad")):
        page.set_viewport_size(size)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(DESKTOP)


def online(page: Page) -> None:
    expect(page.locator("#live-dot")).to_have_class(re.compile("online"))
    page.wait_for_load_state("networkidle")  # the live regions' resync on the socket's opening


def stat(page: Page, name: str):
    return page.locator(f"#stat-{name}")


def ship(hq: Page, order_url: str, qty: str | None) -> str:
    """【发货】 from the order page: the form comes with the order chosen and its open lines;
    `qty` (when given) ships less than what is open; 暂存, 提交, tick, 确认出库. The number."""
    hq.goto(order_url)
    hq.locator(".page-header").get_by_role("link", name="发货").click()
    expect(hq).to_have_url(re.compile(r"/logistics/shipments/new\?order_id=\d+$"))
    expect(hq.locator("#doc-type")).to_have_value("order")
    expect(hq.locator("#order-to-org")).to_have_text("B2网点")
    expect(hq.locator("#doc-to-org")).to_be_hidden()
    hq.select_option("#doc-warehouse", label="W-GEN W-GEN仓")
    if qty is not None:
        hq.locator('#order-lines tr[data-goods="SCR"] input[name=qty]').fill(qty)
        both_widths(hq, "logistics-order-shipment-form")
    hq.fill("#doc-carrier", "顺丰速运")
    hq.locator("#doc-form").get_by_role("button", name="暂存").click()
    expect(hq).to_have_url(re.compile(r"/logistics/shipments/\d+$"))
    hq.locator("#doc-form").get_by_role("button", name="提交").click()
    expect(hq.locator(".page-header h1")).to_contain_text("已提交")
    hq.locator("#line-table tbody input[name=line_ids]").check()
    hq.locator("#lines").get_by_role("button", name="确认出库").click()
    expect(hq.locator(".page-header h1")).to_contain_text("已出库")
    return hq.locator(".page-header h1 .mono").inner_text()


def test_order_shipped_in_parts_received_and_finished_live(world, browser, live_server):
    b2 = world["b2"]
    # the branch manager watches its credit on one screen…
    watch = new_page(browser, live_server)
    login(watch, "b2mgr@ACME", PASSWORD)
    watch.goto(f"/credit/accounts/{b2}")
    online(watch)
    expect(stat(watch, "frozen")).to_have_text("0.0000")
    watch.evaluate("window.notReloaded = true")

    # …and applies on another: 3 screens, 【提交】 freezes 330.0000
    branch = new_page(browser, live_server)
    branch.on("dialog", lambda d: d.accept())
    login(branch, "b2mgr@ACME", PASSWORD)
    branch.locator("nav.menu").get_by_role("link", name="订货申请", exact=True).click()
    branch.locator(".page-header").get_by_role("link", name="新增").click()
    branch.locator("#doc-form").get_by_role("button", name="暂存").click()
    expect(branch).to_have_url(re.compile(r"/logistics/orders/\d+$"))
    branch.locator("#lines").get_by_role("button", name="添加").click()
    box = branch.locator("#line-goods")
    box.click()
    with branch.expect_response(lambda r: "/logistics/orders/goods" in r.url and "q=SCR" in r.url):
        box.fill("SCR")
    branch.locator(".picker-list:visible .picker-option", has_text="SCR").click()
    branch.fill("#line-qty", "3")
    branch.locator("#line-form").get_by_role("button", name="确认").click()
    expect(branch.locator('#line-table tr[data-goods="SCR"]')).to_contain_text("330.0000")
    branch.locator("#doc-form").get_by_role("button", name="提交").click()
    expect(branch.locator(".page-header h1")).to_contain_text("已提交")
    order_no = branch.locator(".page-header h1 .mono").inner_text()
    order_id = branch.url.rsplit("/", 1)[1]

    expect(stat(watch, "frozen")).to_have_text("330.0000")
    expect(stat(watch, "available")).to_have_text("670.0000")
    assert watch.evaluate("window.notReloaded === true")
    both_widths(watch, "logistics-credit-frozen")

    # the branch waits: its order list on one screen, 【物流收货】 on the other
    branch.locator("nav.menu").get_by_role("link", name="订货申请", exact=True).click()
    online(branch)
    branch.evaluate("window.notReloaded = true")
    watch.locator("nav.menu").get_by_role("link", name="物流收货").click()
    expect(watch.locator("#receiving-table")).to_contain_text("暂无待收货的物流单")
    online(watch)
    watch.evaluate("window.notReloaded = true")

    # the head office approves and ships 2 of 3 from the order page
    hq = new_page(browser, live_server)
    hq.on("dialog", lambda d: d.accept())
    login(hq, "admin@ACME")
    order_url = f"/logistics/order-reviews/{order_id}"
    hq.goto(order_url)
    hq.locator(".page-header").get_by_role("button", name="审核通过").click()
    expect(hq.locator(".page-header h1")).to_contain_text("已审核")
    expect(hq.locator(".page-header").get_by_role("link", name="发货")).to_be_visible()
    both_widths(hq, "logistics-order-approved")
    first = ship(hq, order_url, "2")

    # the branch: badge and toast on its order list, the row on 【物流收货】, no reload
    badge = branch.locator("nav.menu a.menu-link", has_text="物流收货").locator(".menu-badge")
    expect(branch.locator("#toast")).to_contain_text(f"新的物流发货 {first} 待收货")
    expect(badge).to_have_text("1")
    expect(branch.locator(f'#order-table tr[data-no="{order_no}"]')).to_contain_text("部分发货")
    both_widths(branch, "logistics-branch-toast")
    row = watch.locator(f'#receiving-table tr[data-no="{first}"]')
    expect(row).to_contain_text("已出库")
    for page in (branch, watch):
        assert page.evaluate("window.notReloaded === true")
    both_widths(watch, "logistics-receiving-list")

    # the head office's stock: 18 screens left, 2 in transit to B2
    hq.locator("nav.menu").get_by_role("link", name="库存查询").click()
    stock_rows = hq.locator('#stock-table tr[data-code="SCR"]')
    expect(stock_rows.filter(has_text="B2网点").locator('[data-label="在途"]')).to_have_text("2")
    expect(stock_rows.filter(has_text="总部").locator('[data-label="库存数量"]')).to_have_text("18")
    both_widths(hq, "logistics-stock-in-transit")

    # the branch receives into its 良品库
    row.get_by_role("link").click()
    online(watch)
    watch.select_option("#receive-warehouse", label="W-GOOD W-GOOD仓（良品库）")
    watch.locator("#line-table tbody input[name=line_ids]").check()
    watch.get_by_role("button", name="确认收货").click()
    expect(watch.locator(".page-header h1")).to_contain_text("已收货")
    expect(badge).to_have_text("")

    # both sides' stock and credit: 2 received at B2 (nothing in transit), 220.0000 used, 110.0000 frozen
    watch.locator("nav.menu").get_by_role("link", name="库存查询").click()
    mine = watch.locator('#stock-table tr[data-code="SCR"][data-warehouse="W-GOOD"]')
    expect(mine.locator('[data-label="库存数量"]')).to_have_text("2")
    expect(watch.locator('#stock-table tr[data-code="SCR"][data-warehouse="W-GEN"] [data-label="在途"]')).to_have_text(
        "—"
    )
    both_widths(watch, "logistics-branch-stock")
    hq.reload()
    expect(
        stock_rows.filter(has_text="B2网点").filter(has_text="W-GOOD").locator('[data-label="库存数量"]')
    ).to_have_text("2")
    watch.goto(f"/credit/accounts/{b2}")
    expect(stat(watch, "balance")).to_have_text("780.0000")
    expect(stat(watch, "frozen")).to_have_text("110.0000")
    hq.goto(f"/credit/accounts/{b2}")
    expect(stat(hq, "balance")).to_have_text("780.0000")
    expect(stat(hq, "frozen")).to_have_text("110.0000")
    both_widths(hq, "logistics-hq-credit")
    online(watch)
    watch.evaluate("window.notReloaded = true")

    # the third screen: the form prefills the 1 still open; the order is then 已发货
    second = ship(hq, order_url, None)
    assert second != first
    expect(stat(watch, "balance")).to_have_text("670.0000")
    expect(stat(watch, "frozen")).to_have_text("0.0000")
    assert watch.evaluate("window.notReloaded === true")
    hq.goto(order_url)
    expect(hq.locator(".page-header h1")).to_contain_text("已发货")
    expect(hq.locator(".page-header").get_by_role("link", name="发货")).to_have_count(0)
    both_widths(hq, "logistics-order-shipped")
    expect(branch.locator(f'#order-table tr[data-no="{order_no}"]')).to_contain_text("已发货")
