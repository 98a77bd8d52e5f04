"""Phone lists show their numbers (issue 15, item 4): at 390×844 every list a phone user opens in
inventory and credit shows each row's key number on screen without scrolling sideways: the
cell's box lies inside the viewport's width and the page does not scroll horizontally.
Lists: 库存查询 (库存数量), 入库管理/出库管理 (数量合计), an inbound's and an outbound's lines
(数量), 额度查询 (可用额度), an account's entries (额度变动), 额度充值 and a recharge's lines.
Screenshots: var/screenshots/phone-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from server.inventory.services import documents as stock_docs
from server.masterdata.services import suppliers, warehouses
from tests.credit.helpers import recharge
from tests.e2e.conftest import PHONE, login, new_page, screenshot, until
from tests.masterdata.helpers import chain, make_goods
from tests.system.helpers import service_org

LONG = "iPhone 15 Pro Max 原装屏幕总成（含框，带排线与防尘网）"


@pytest.fixture
async def world(tenant) -> dict:
    *_, iphone15 = await chain(tenant, "category", "Apple", "iPhone", "iPhone 15 Pro Max")
    parts = [
        await make_goods(tenant, f"IP15PM-SCR-{n}", iphone15["id"], name=f"{LONG} {n}", unit="片") for n in range(3)
    ]
    general = await warehouses.create(tenant, {"code": "HQ-GEN", "name": "总部通用配件库", "type": "general"})
    await warehouses.assign(tenant, [general["id"]], [tenant.org_id])
    vendor = await suppliers.create(tenant, {"code": "S1", "name": "深圳华强北配件供应有限公司"})
    body = {
        "type": "purchase",
        "warehouse_id": general["id"],
        "supplier_id": vendor["id"],
        "lines": [{"goods_id": p["id"], "qty": 1200 + n, "cost_price": "324.6154"} for n, p in enumerate(parts)],
    }
    inbound = await stock_docs.create(tenant, "inbound", body)
    inbound = await stock_docs.submit(tenant, "inbound", inbound["id"])
    inbound = await stock_docs.confirm(tenant, "inbound", inbound["id"])
    body = {"type": "scrap", "warehouse_id": general["id"], "lines": [{"goods_id": parts[0]["id"], "qty": 7}]}
    outbound = await stock_docs.create(tenant, "outbound", body)
    branch = await service_org(tenant, "SH", tenant.org_id, name="上海徐汇服务中心（直营）", level=2)
    doc = await recharge(tenant, (branch["id"], "123456789.1234"))
    return {"inbound": inbound["id"], "outbound": outbound["id"], "branch": branch["id"], "recharge": doc["id"]}


# (screenshot name, url, the key number's cells)
def lists(world: dict) -> list[tuple[str, str, str]]:
    return [
        ("stock", "/inventory/stock", "#stock-table tbody td.qty"),
        ("inbounds", "/inventory/inbounds", "#doc-table tbody td.card-key"),
        ("outbounds", "/inventory/outbounds", "#doc-table tbody td.card-key"),
        ("inbound-lines", f"/inventory/inbounds/{world['inbound']}", "#line-table tbody td.card-key"),
        ("outbound-lines", f"/inventory/outbounds/{world['outbound']}", "#line-table tbody td.card-key"),
        ("credit-accounts", "/credit/accounts", '#account-table tbody td[data-col="available"]'),
        ("credit-entries", f"/credit/accounts/{world['branch']}?tab=entries", "#record-table tbody td.card-key"),
        ("credit-recharges", "/credit/recharges", "#doc-table tbody td.card-key"),
        ("credit-recharge-lines", f"/credit/recharges/{world['recharge']}", "#line-table tbody td.card-key"),
    ]


def settled(page: Page) -> None:
    """The live socket is open and the refresh it triggers (live:resync) has been swapped in."""
    until(page, "document.querySelector('#live-dot.online')")
    page.wait_for_timeout(300)
    until(page, "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def assert_numbers_on_screen(page: Page, name: str, cells: str) -> None:
    settled(page)
    numbers = page.locator(cells)
    expect(numbers.first).to_be_visible()
    width = page.viewport_size["width"]
    boxes = [numbers.nth(i).bounding_box() for i in range(numbers.count())]
    off = [b for b in boxes if b is None or b["x"] < 0 or b["x"] + b["width"] > width]
    assert not off, f"{name}: a key number lies outside the {width}px screen: {off}"
    assert numbers.first.inner_text().strip(), name
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name}: the page scrolls sideways ({scroll}px wide)"
    # the number is shown with its column's name (the card's label) and is not cut off
    assert numbers.first.get_attribute("data-label"), name
    assert numbers.first.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), name


def test_every_list_shows_its_key_number_on_a_phone(world, browser, live_server):
    page = new_page(browser, live_server, PHONE)
    login(page, "admin@ACME")
    for name, url, cells in lists(world):
        page.goto(url)
        assert_numbers_on_screen(page, name, cells)
        page.locator(cells).first.evaluate("el => el.closest('tr').scrollIntoView({block: 'center'})")
        screenshot(page, f"phone-{name}")
    # at desktop width the same lists stay tables (the header row shows)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/inventory/stock")
    expect(page.locator("#stock-table thead th").first).to_be_visible()


def first_row_on_first_screen(page: Page, name: str, rows: str) -> None:
    """The first row (a card on a phone) lies wholly within the first screen, page not scrolled."""
    settled(page)
    assert page.evaluate("window.scrollY") == 0, name
    box = page.locator(rows).first.bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= height, f"{name}: first row at {box}"


def test_the_filters_fold_behind_one_button_on_a_phone(world, browser, live_server):
    """Issue 15 item 4: at 390×844 the filters above 库存查询 and the goods list took the whole
    first screen. Now the search box and 【筛选 n】 show (n: filters chosen), the first row is on
    the first screen, and the button opens the rest; at 1280×800 the filters stay one open row."""
    page = new_page(browser, live_server, PHONE)
    login(page, "admin@ACME")
    for name, url, rows in (
        ("stock", "/inventory/stock", "#stock-table tbody tr"),
        ("goods", "/masterdata/goods", "#goods-table tbody tr"),
    ):
        page.goto(url)
        toggle = page.locator("#filters [data-filter-toggle]")
        expect(toggle).to_be_visible()
        expect(page.locator("#filters input[name=q]")).to_be_visible()
        expect(page.locator("#filters select").first).to_be_hidden()
        first_row_on_first_screen(page, name, rows)
        screenshot(page, f"phone-filters-{name}")

        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#filters select").first).to_be_visible()
        expect(page.locator("#filters .actions button[type=submit]")).to_be_visible()
        screenshot(page, f"phone-filters-{name}-open")

    # a chosen filter is counted on the button (the goods list's default 正常 is not), and the
    # list follows it while the filters are folded again
    expect(page.locator("#filters .filter-count")).to_be_hidden()
    page.locator("#filters select[name=status]").select_option("")
    expect(page.locator("#filters .filter-count")).to_have_text("1")
    page.locator("#filters [data-filter-toggle]").click()
    expect(page.locator("#filters select[name=status]")).to_be_hidden()
    expect(page.locator("#filters .filter-count")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]status=(&|$)"))  # the list pushed its filters
    page.reload()
    expect(page.locator("#filters .filter-count")).to_have_text("1")  # from the URL the list pushed

    page.set_viewport_size({"width": 1280, "height": 800})
    for name, url in (("stock", "/inventory/stock"), ("goods", "/masterdata/goods")):
        page.goto(url)
        expect(page.locator("#filters [data-filter-toggle]")).to_be_hidden()
        expect(page.locator("#filters select").first).to_be_visible()
        expect(page.locator("#filters .actions button[type=submit]")).to_be_visible()
        settled(page)
        screenshot(page, f"desktop-filters-{name}")
