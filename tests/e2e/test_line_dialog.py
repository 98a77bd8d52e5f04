"""The inbound/outbound line dialog at desktop size (issue 15, item 10): opening it does not
throw the category list over the goods field; the goods field can be clicked and typed into
with the category list open; only one picker list is open at a time; Esc closes an open list
first, then the dialog. Screenshots: var/screenshots/line-dialog-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from server.masterdata.services import trees, warehouses
from tests.e2e.conftest import login, new_page, screenshot, until
from tests.masterdata.helpers import chain, make_goods


@pytest.fixture
async def world(tenant) -> dict:
    apple, _, iphone15 = await chain(tenant, "category", "Apple", "iPhone", "iPhone 15")
    for n in range(8):  # enough categories for a tall list
        await trees.create(tenant, "category", {"name": f"iPad {n}", "parent_id": apple["id"]})
    await make_goods(tenant, "IP15-SCR", iphone15["id"], name="iPhone 15 屏幕总成", unit="片")
    general = await warehouses.create(tenant, {"code": "HQ-GEN", "name": "通用库", "type": "general"})
    await warehouses.assign(tenant, [general["id"]], [tenant.org_id])
    return {"general": general["id"]}


def open_lists(page: Page) -> int:
    return page.locator("#modal .picker-list:visible").count()


def open_dialog(page: Page, admin_api, world) -> None:
    body = {"type": "purchase", "warehouse_id": world["general"]}
    doc = admin_api.call("POST", "/api/v1/inbounds", 201, json=body)
    page.goto(f"/inventory/inbounds/{doc['id']}")
    page.locator("#lines").get_by_role("button", name="添加").click()
    expect(page.locator("#modal dialog[open]")).to_be_visible()


def test_the_goods_field_stays_usable_and_esc_closes_the_list_then_the_dialog(world, browser, live_server, admin_api):
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    open_dialog(page, admin_api, world)
    dialog = page.locator("#modal dialog[open]")
    category, goods = dialog.locator("#line-category"), dialog.locator("#line-goods")
    page.wait_for_timeout(400)  # a list that opens by itself would be there by now
    screenshot(page, "line-dialog-opened")
    assert open_lists(page) == 0, "no list opens before the user asks for one"

    # the category list, opened by a click, never covers the goods field
    with page.expect_response(lambda r: "/pickers/categories" in r.url):
        category.click()
    expect(dialog.locator(".picker-list:visible")).to_have_count(1)
    screenshot(page, "line-dialog-category-list")
    box = goods.bounding_box()
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y) && document.elementFromPoint(x, y).id",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert hit == "line-goods", f"the goods field is covered by {hit!r}"

    # a click on the goods field goes to it: the category list closes, no category is chosen
    with page.expect_response(lambda r: "/pickers/goods" in r.url):
        goods.click()
    expect(goods).to_be_focused()
    until(page, "document.querySelectorAll('#modal .picker-list:not([hidden])').length === 1")
    expect(dialog.locator("input[name=category_id]")).to_have_value("")
    expect(dialog.locator("#line-goods ~ .picker-list")).to_be_visible()
    expect(dialog.locator("#line-goods ~ .picker-list")).to_contain_text("IP15-SCR")
    screenshot(page, "line-dialog-goods-list")

    # Esc: first the open list, then the dialog
    page.keyboard.press("Escape")
    expect(dialog.locator(".picker-list:visible")).to_have_count(0)
    expect(page.locator("#modal dialog[open]")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#modal dialog[open]")).to_have_count(0)

    # the keyboard way: a list opened by typing closes on Esc, the next Esc closes the dialog
    page.locator("#lines").get_by_role("button", name="添加").click()
    dialog = page.locator("#modal dialog[open]")
    expect(dialog).to_be_visible()
    with page.expect_response(lambda r: "/pickers/categories" in r.url and "q=iPad" in r.url):
        dialog.locator("#line-category").fill("iPad")
    expect(dialog.locator(".picker-list:visible")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(dialog.locator(".picker-list:visible")).to_have_count(0)
    expect(page.locator("#modal dialog[open]")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
