"""【库存查询】 in a real browser with goods on their way to orgs that hold none of them yet (issue
17): after the stock rows, one row per such goods and org, marked 在途 · 尚未入库 with its 在途
quantity and no 流水; a click on it opens nothing. Screenshots at desktop and iPad widths go to
var/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, new_page
from tests.e2e.test_shipment_flow import both_widths
from tests.logistics.test_stock_in_transit import coming


@pytest.fixture
async def world(tenant) -> dict:
    return await coming(tenant)


def test_goods_on_their_way_show_in_the_stock_query(world, browser, live_server):
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.locator("nav.menu").get_by_role("link", name="库存查询").click()
    rows = page.locator("#stock-table tbody tr.coming-row")
    expect(rows).to_have_count(2)
    s2 = page.locator(f'tr[data-coming="{world["s2"]}-{world["screen"]}"]')
    expect(s2).to_contain_text("S2网点")
    expect(s2).to_contain_text("尚未入库")
    expect(s2.locator('td[data-label="在途"]')).to_have_text("3")
    expect(s2.locator('td[data-label="库存数量"]')).to_have_text("0")
    expect(s2.get_by_role("button", name="流水")).to_have_count(0)
    expect(page.locator(".pagination, nav[aria-label]").first).to_be_visible()
    both_widths(page, "stock-coming")
    s2.click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
