"""The goods form reports every mistake in one submit, each beside its field (issue 15 item 7: five
mistakes took five round trips, reported one at a time at the bottom). Desktop width; the
screenshots go to var/screenshots/field-errors-goods-{,prices-}desktop.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, new_page, pick, screenshot, until
from tests.masterdata.helpers import chain

# what each field is told, by the element its message follows
EXPECTED = {
    "code": "货品编码只能包含字母、数字和 . _ / -（最多 64 位）",
    "name": "请填写货品名称",
    "category_id": "请选择品类",
    "purchase_cost": "采购成本格式不正确",
    "prices[0].order_price": "1 级订单价格不能为负数",
}

# each message with the name (or data-field, or the picker's hidden input name) of what it follows
MESSAGES = """Array.from(document.querySelectorAll('#goods-form .field-error')).map(note => {
  const before = note.previousElementSibling;
  const hidden = before.matches('.picker') ? before.querySelector('input[type=hidden]') : null;
  const field = hidden ? hidden.name : (before.dataset.field || before.getAttribute('name'));
  return [field, note.textContent];
})"""


@pytest.fixture
async def world(tenant) -> None:
    await chain(tenant, "category", "Apple", "iPhone", "iPhone 15")


def test_five_mistakes_are_all_shown_beside_their_fields_in_one_submit(world, browser, live_server):
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.goto("/masterdata/goods/new")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.method == "POST" else None)

    page.fill("#goods-code", "IP15 电池")  # a space and Chinese: not a code
    page.fill("#goods-name", "   ")  # only spaces: empty once trimmed
    # the category is left unchosen: the browser does not stop at it (one per submit), the server
    # reports it with the others
    page.fill("#goods-cost", "abc")
    page.fill("input[name=order_price_1]", "-1")
    page.locator("#goods-form").get_by_role("button", name="保存").click()

    until(page, "document.querySelectorAll('#goods-form .field-error').length === 5")
    assert dict(page.evaluate(MESSAGES)) == EXPECTED
    assert len(requests) == 1, requests  # one round trip
    assert page.locator("#goods-form [aria-invalid=true]").count() == 5
    expect(page.locator("#goods-form .form-error")).to_have_text("有 5 处填写需要修改，见各栏下方的提示")
    expect(page.locator("#goods-code")).to_be_focused()  # the first one, to start fixing
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "field-errors-goods-desktop")
    page.locator("#price-grid").evaluate("el => el.scrollIntoView({block: 'center'})")
    screenshot(page, "field-errors-goods-prices-desktop")

    # fixed, the form saves; the marks go with the next submit
    page.fill("#goods-code", "IP15-BAT")
    page.fill("#goods-name", "iPhone 15 电池")
    pick(page, page.locator("#goods-category"), "iPhone 15", "Apple / iPhone / iPhone 15")
    page.fill("#goods-cost", "12.5")
    page.fill("input[name=order_price_1]", "20")
    page.locator("#goods-form").get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/masterdata/goods$"))
    expect(page.locator("#toast")).to_contain_text("已添加货品 IP15-BAT iPhone 15 电池")


USER_EXPECTED = {
    "account": "账号至少 3 位，只能包含字母、数字、点、下划线和短横线",
    "name": "请填写姓名",
    "email": "邮箱格式不正确",
    "password": "密码至少 8 位",
    "role_ids": "请至少选择一个角色",
}
USER_MESSAGES = MESSAGES.replace("#goods-form", "#user-form")


def test_the_user_dialog_shows_every_mistake_beside_its_field(tenant, browser, live_server):
    """The same in a dialog: the user form (system), its role checkboxes marked as one group."""
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.goto("/system/users")
    page.get_by_role("button", name="添加").click()
    dialog = page.locator("#modal dialog[open]")
    expect(dialog.locator("#user-account")).to_be_visible()
    dialog.locator("#user-account").fill("x")
    dialog.locator("#user-email").fill("bob@")
    dialog.locator("#user-password").fill("short")
    # no name, no role: the browser does not stop at them (novalidate), the server lists them
    dialog.get_by_role("button", name="确认").click()

    until(page, "document.querySelectorAll('#user-form .field-error').length === 5")
    assert dict(page.evaluate(USER_MESSAGES)) == USER_EXPECTED
    assert page.locator("#user-form [aria-invalid=true]").count() == 5
    expect(dialog.locator(".form-error")).to_have_text("有 5 处填写需要修改，见各栏下方的提示")
    expect(dialog.locator("#user-account")).to_be_focused()
    screenshot(page, "field-errors-user-desktop")

    dialog.locator("#user-account").fill("bob")
    dialog.locator("#user-name").fill("鲍勃")
    dialog.locator("#user-email").fill("bob@example.com")
    dialog.locator("#user-password").fill("Passw0rd1")
    dialog.locator("#role-checks input[type=checkbox]").first.check()
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("已添加用户 bob")
