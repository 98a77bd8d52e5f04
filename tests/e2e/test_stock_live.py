"""【库存查询】 in real browsers: two admins watch the list while documents are confirmed through the
JSON API, and both see the new quantities without a reload; a live refresh keeps the filter on
screen; the history dialog lists the row's moves and follows new ones. Screenshots of the list
and the dialog at desktop and iPad widths go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, screenshot
from tests.inventory.helpers import inbound, world
from tests.masterdata.helpers import make_goods

LIVE = 10_000  # ms: a bound for a loaded CI machine; the latency itself is measured in bench/


@pytest.fixture
async def stocked(tenant) -> dict:
    """Screens (safety stock 5) 3 in 通用库 and 2 in 坏品库, batteries 10 in 通用库: the two screen rows
    are below safety stock. Twenty more parts P01–P20 put the screens on the list's second page."""
    w = await world(tenant)
    parts = [await make_goods(tenant, f"P{i:02}", w["iphone15"], name=f"零件{i:02}") for i in range(1, 21)]
    await inbound(tenant, w["general"], (w["screen"], 3, "100"), (w["battery"], 10, "20"))
    await inbound(tenant, w["defective"], (w["screen"], 2, "80"))
    await inbound(tenant, w["general"], *[(p["id"], 1, "5") for p in parts])
    return w


def online(page: Page) -> None:
    expect(page.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))


def both_widths(page: Page, name: str) -> None:
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(IPAD)
    screenshot(page, f"{name}-ipad")
    page.set_viewport_size(DESKTOP)


def row(page: Page, code: str, warehouse: str):
    return page.locator(f'#stock-table tr[data-code="{code}"][data-warehouse="{warehouse}"]')


def confirmed(api, kind: str, warehouse_id: int, goods_id: int, qty: int, **price) -> dict:
    """A document of one line created, submitted and confirmed through the JSON API."""
    body = {"type": "purchase" if kind == "inbounds" else "scrap", "warehouse_id": warehouse_id}
    body["lines"] = [{"goods_id": goods_id, "qty": qty, **price}]
    doc = api.call("POST", f"/api/v1/{kind}", 201, json=body)
    api.call("POST", f"/api/v1/{kind}/{doc['id']}/submit", json={})
    return api.call("POST", f"/api/v1/{kind}/{doc['id']}/confirm", json={})


def test_two_pages_follow_confirmed_documents_live(stocked, browser, live_server, admin_api):
    w = stocked
    pages = [new_page(browser, live_server) for _ in range(2)]
    for page in pages:
        login(page, "admin@ACME")
        page.locator("nav.menu").get_by_role("link", name="库存查询", exact=True).click()
        expect(page).to_have_url(re.compile(r"/inventory/stock$"))
        online(page)
        page.evaluate("window.__sameDocument = true")
    first, second = pages
    expect(first.locator("#stock-table tr[data-stock]")).to_have_count(20)
    expect(first.locator(".pagination")).to_contain_text("共 23 条")
    both_widths(first, "stock-list")
    for page in pages:  # the screens are on page 2; the live refreshes below must keep it
        page.locator(".pagination").get_by_role("link", name="下一页").click()
        expect(page).to_have_url(re.compile(r"page=2"))
        expect(page.locator(".pagination .current")).to_have_text("2 / 2")
    expect(first.locator("#stock-table tr[data-stock]")).to_have_count(3)
    general = row(first, "SCR", "W-GEN")
    expect(general.locator("td.qty")).to_have_text("3")
    expect(general.locator(".badge")).to_have_text("低于安全库存")
    expect(general).to_have_class(re.compile(r"\bbelow-safety\b"))
    expect(row(first, "P20", "W-GEN").locator(".badge")).to_have_count(0)
    both_widths(first, "stock-list-page2")

    # --- an inbound confirmed elsewhere: both pages show 13, the marker goes ----------------------
    confirmed(admin_api, "inbounds", w["general"], w["screen"], 10, cost_price="100")
    for page in pages:
        expect(row(page, "SCR", "W-GEN").locator("td.qty")).to_have_text("13", timeout=LIVE)
        expect(row(page, "SCR", "W-GEN").locator(".badge")).to_have_count(0)
        expect(row(page, "SCR", "W-GEN")).not_to_have_class(re.compile(r"\bbelow-safety\b"))
        expect(page.locator(".pagination .current")).to_have_text("2 / 2")
        assert page.evaluate("window.__sameDocument === true"), "updated in place, not by a reload"

    # --- the below-safety filter, kept by the live refresh ----------------------------------------
    first.get_by_label("仅显示低于安全库存").check()
    expect(first).to_have_url(re.compile(r"below_safety=true"))
    expect(first.locator("#stock-table tr[data-stock]")).to_have_count(1)
    expect(row(first, "SCR", "W-BAD")).to_be_visible()
    confirmed(admin_api, "outbounds", w["general"], w["screen"], 9)  # 13 → 4: below again
    expect(first.locator("#stock-table tr[data-stock]")).to_have_count(2, timeout=LIVE)
    expect(row(first, "SCR", "W-GEN").locator("td.qty")).to_have_text("4")
    expect(first.get_by_label("仅显示低于安全库存")).to_be_checked()
    expect(row(second, "SCR", "W-GEN").locator("td.qty")).to_have_text("4", timeout=LIVE)
    expect(second.locator("#stock-table tr[data-stock]")).to_have_count(3)  # no filter there, still page 2
    expect(second.locator(".pagination .current")).to_have_text("2 / 2")
    both_widths(first, "stock-list-below-safety")

    # --- the history dialog: newest first, document links, deltas; it follows new moves -----------
    row(first, "SCR", "W-GEN").locator("td").first.click()
    dialog = first.locator("#modal dialog[open]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_contain_text("SCR iPhone 15 屏幕")
    moves = dialog.locator("#moves-table tbody tr")
    expect(moves).to_have_count(3)
    expect(moves.nth(0).locator("td.delta")).to_have_text("-9")
    expect(moves.nth(0)).to_contain_text("出库单")
    expect(moves.nth(1).locator("td.delta")).to_have_text("+10")
    expect(moves.nth(2).locator("td.delta")).to_have_text("+3")
    expect(moves.nth(0).locator("td").last).to_have_text("4")
    assert re.fullmatch(r"/inventory/outbounds/\d+", moves.nth(0).locator("a").get_attribute("href"))
    assert re.fullmatch(r"/inventory/inbounds/\d+", moves.nth(1).locator("a").get_attribute("href"))
    both_widths(first, "stock-moves-dialog")
    page_box = dialog.bounding_box()
    assert page_box and page_box["x"] >= 0 and page_box["x"] + page_box["width"] <= DESKTOP["width"]

    latest = confirmed(admin_api, "inbounds", w["general"], w["screen"], 1, cost_price="100")
    expect(moves).to_have_count(4, timeout=LIVE)
    expect(moves.nth(0)).to_contain_text(latest["no"])
    expect(dialog.locator("#stock-moves-qty")).to_have_text("5")
    # behind the dialog the filtered list follows too: at 5 the row is no longer below safety stock
    expect(first.locator("#stock-table tr[data-stock]")).to_have_count(1, timeout=LIVE)
    expect(row(second, "SCR", "W-GEN").locator("td.qty")).to_have_text("5", timeout=LIVE)
    dialog.get_by_role("button", name="关闭").last.click()
    expect(first.locator("#modal dialog[open]")).to_have_count(0)
    # a closed dialog stops refreshing; the list still does
    history_requests: list[str] = []
    first.on("request", lambda r: history_requests.append(r.url) if "/moves" in r.url else None)
    confirmed(admin_api, "outbounds", w["general"], w["screen"], 2)  # 5 → 3: below again
    expect(first.locator("#stock-table tr[data-stock]")).to_have_count(2, timeout=LIVE)
    assert history_requests == []

    # the 【流水】 button opens the same dialog, for keyboards too
    row(second, "P20", "W-GEN").get_by_role("button", name="流水").focus()
    second.keyboard.press("Enter")
    expect(second.locator("#modal dialog[open] #moves-table tbody tr")).to_have_count(1)
    expect(second.locator("#modal dialog[open] td.delta")).to_have_text("+1")
    second.keyboard.press("Escape")
    expect(second.locator("#modal dialog[open]")).to_have_count(0)

    # the goods picker offers only goods of the chosen category
    second.locator("#filter-category").fill("iPad")
    second.locator(".picker-option", has_text="Apple / iPad").click()
    expect(second.locator("#stock-table td.empty")).to_have_text("暂无库存")
    second.locator("#filter-goods").focus()
    expect(second.locator("#filters .picker-list:visible")).to_contain_text("无匹配结果")
