"""Issue 3's browser test, the tree part: Apple → iPhone → iPhone 15 built with the inline editor
(the manual's blue tick), a refused duplicate, a search, and the tree at desktop and iPad widths."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, screenshot, until


def add_child(page: Page, parent: str | None, name: str) -> None:
    if parent is None:
        page.locator(".page-header").get_by_role("button", name="添加").click()
    else:
        page.locator(f'tr[data-name="{parent}"]').get_by_role("button", name="新增子品类").click()
    editor = page.locator("tr.editing")
    expect(editor).to_be_visible()
    editor.get_by_role("textbox").fill(name)
    editor.get_by_role("button", name="保存").click()
    expect(page.locator(f'tr[data-name="{name}"]')).to_be_visible()


def test_category_tree_with_the_inline_editor(browser, live_server):
    page = new_page(browser, live_server, DESKTOP)
    login(page, "admin@ACME")
    page.locator("nav.menu").get_by_role("link", name="品类管理", exact=True).click()
    expect(page).to_have_url(re.compile(r"/masterdata/categories$"))

    add_child(page, None, "Apple")
    add_child(page, "Apple", "iPhone")
    add_child(page, "iPhone", "iPhone 15")
    add_child(page, "Apple", "iPad")
    names = page.locator("#tree-body tr").evaluate_all("rows => rows.map(r => r.dataset.name)")
    assert names == ["Apple", "iPad", "iPhone", "iPhone 15"] or names == ["Apple", "iPhone", "iPhone 15", "iPad"]

    # a sibling of the same name is refused, with the message inside the editor
    page.locator('tr[data-name="Apple"]').get_by_role("button", name="新增子品类").click()
    editor = page.locator("tr.editing")
    editor.get_by_role("textbox").fill("iPhone")
    editor.get_by_role("button", name="保存").click()
    expect(editor.locator(".form-error")).to_contain_text("已有名为【iPhone】")
    editor.get_by_role("button", name="取消").click()
    expect(page.locator("tr.editing")).to_have_count(0)

    # rename in place
    page.locator('tr[data-name="iPad"]').get_by_role("button", name="修改").click()
    page.locator("tr.editing").get_by_role("textbox").fill("iPad Pro")
    page.locator("tr.editing").get_by_role("button", name="保存").click()
    expect(page.locator('tr[data-name="iPad Pro"]')).to_be_visible()

    screenshot(page, "category-tree-desktop")
    page.set_viewport_size(IPAD)
    page.locator('tr[data-name="iPhone 15"]').get_by_role("button", name="新增子品类").click()
    expect(page.locator("tr.editing")).to_be_visible()
    screenshot(page, "category-tree-ipad")
    page.locator("tr.editing").get_by_role("button", name="取消").click()

    # the search shows each match with its full path
    page.fill("#filters input[name=q]", "15")
    expect(page.locator("#tree-body tr")).to_have_count(1)
    expect(page.locator("#tree-body")).to_contain_text("Apple / iPhone / iPhone 15")
    expect(page).to_have_url(re.compile(r"q=15"))


def test_an_open_editor_outlives_a_live_refresh(browser, live_server, admin_api):
    """A refresh of the tree (another user's change, or the resync as the page's socket opens)
    leaves an inline editor the user opened, empty or typed in (data-live-keep); its 保存 then
    shows both changes, and its 取消 lets the next refresh through."""
    page = new_page(browser, live_server, DESKTOP)
    login(page, "admin@ACME")
    page.goto("/masterdata/categories")
    expect(page.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))
    page.wait_for_load_state("networkidle")
    page.locator(".page-header").get_by_role("button", name="添加").click()
    editor = page.locator("tr.editing")
    expect(editor).to_be_visible()

    admin_api.call("POST", "/api/v1/categories", 201, json={"name": "Huawei"})  # another user
    until(page, "window.weifuLastEvent && window.weifuLastEvent.topic === 'category'")
    page.wait_for_timeout(600)  # the refresh it asks for has come back meanwhile
    expect(editor).to_be_visible()
    editor.get_by_role("textbox").fill("Apple")
    editor.get_by_role("button", name="保存").click()
    expect(page.locator('tr[data-name="Apple"]')).to_be_visible()
    expect(page.locator('tr[data-name="Huawei"]')).to_be_visible()
    expect(page.locator("tr.editing")).to_have_count(0)

    page.locator('tr[data-name="Apple"]').get_by_role("button", name="新增子品类").click()
    expect(editor).to_be_visible()
    page.locator("tr.editing").get_by_role("button", name="取消").click()
    expect(page.locator("tr.editing")).to_have_count(0)
    admin_api.call("POST", "/api/v1/categories", 201, json={"name": "Xiaomi"})
    expect(page.locator('tr[data-name="Xiaomi"]')).to_be_visible()
