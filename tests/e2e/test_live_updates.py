"""Live updates in real browsers: what one admin does appears in another admin's lists without a
reload, and a user who is disabled (or whose org is disabled) is thrown out while their page is
open. Runs on the memory channels backend, or on Redis when TEST_REDIS_URL is set."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LOGIN, login, new_page, screenshot

LIVE = 10_000  # ms: a bound for a loaded CI machine; the latency itself is measured in bench/
SECOND_PASSWORD = "Second2024"
TECH_PASSWORD = "Tech2024x"


def online(page: Page) -> None:
    """The page's WebSocket is connected (the topbar dot turns green)."""
    expect(page.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))


def mark(page: Page) -> None:
    """A marker that survives only as long as the document does: a reload or navigation drops it."""
    page.evaluate("window.__sameDocument = true")


def same_document(page: Page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def make_user(admin_api, account: str, password: str, org_id: int, role_id: int, name: str) -> dict:
    body = {"org_id": org_id, "account": account, "name": name, "password": password, "role_ids": [role_id]}
    return admin_api.call("POST", "/api/v1/users", 201, json=body)


def test_two_admins_see_each_others_changes_and_a_disabled_user_is_thrown_out(browser, live_server, admin_api):
    hq = admin_api.hq_id()
    super_admin = admin_api.role_id("超级管理员")
    make_user(admin_api, "admin2", SECOND_PASSWORD, hq, super_admin, "第二管理员")
    make_user(admin_api, "tech1", TECH_PASSWORD, hq, super_admin, "王技术")

    first = new_page(browser, live_server)
    login(first, "admin@ACME")
    second = new_page(browser, live_server)
    login(second, "admin2@ACME", SECOND_PASSWORD)
    victim = new_page(browser, live_server)
    login(victim, "tech1@ACME", TECH_PASSWORD)

    # --- a new org appears in the other admin's list --------------------------------------------
    first.goto("/system/orgs")
    second.goto("/system/orgs")
    online(first)
    online(second)
    mark(second)
    expect(second.locator('#org-table tr[data-org-code="GZ"]')).to_have_count(0)

    first.locator(".page-header").get_by_role("button", name="添加").click()
    dialog = first.locator("#modal dialog[open]")
    dialog.locator("#org-code").fill("GZ")
    dialog.locator("#org-name").fill("广州分公司")
    dialog.get_by_role("button", name="确认").click()
    expect(second.locator('#org-table tr[data-org-code="GZ"]')).to_contain_text("广州分公司", timeout=LIVE)
    assert same_document(second), "the list must update in place, not by reloading the page"
    screenshot(second, "live-org-list")

    # --- a user disabled by one admin: the other's list says 停用, the user is thrown out --------
    victim.goto("/system/orgs")
    online(victim)
    mark(victim)
    first.goto("/system/users")
    second.goto("/system/users")
    online(second)
    mark(second)
    row = second.locator('#user-table tr[data-account="tech1"]')
    expect(row).to_contain_text("启用")

    first.locator('#user-table tr[data-account="tech1"]').get_by_role("button", name="修改").click()
    dialog = first.locator("#modal dialog[open]")
    dialog.get_by_label("启用").uncheck()
    dialog.get_by_role("button", name="确认").click()

    expect(row).to_contain_text("停用", timeout=LIVE)
    assert same_document(second)
    expect(victim).to_have_url(LOGIN, timeout=LIVE)
    expect(victim.locator(".form-ok")).to_have_text("会话已结束，请重新登录")
    screenshot(victim, "live-thrown-out")

    # the session is dead, not only the page: going back to a page lands on the login form again
    victim.goto("/system/orgs")
    expect(victim).to_have_url(LOGIN)
    # and the account cannot log in any more
    victim.fill("#login", "tech1@ACME")
    victim.fill("#password", TECH_PASSWORD)
    victim.get_by_role("button", name="登录").click()
    expect(victim.locator("#login-error")).to_have_text("账号已停用，请联系管理员")

    # the admins themselves are still connected and logged in
    online(first)
    online(second)


def test_members_of_a_disabled_org_are_thrown_out_and_others_are_not(browser, live_server, admin_api):
    hq = admin_api.hq_id()
    branch = admin_api.call("POST", "/api/v1/orgs", 201, json={"code": "WH", "name": "武汉网点", "parent_id": hq})
    role = admin_api.call(
        "POST",
        "/api/v1/roles",
        201,
        json={"name": "网点前台", "org_kind": "branch", "permissions": ["system.user.view"]},
    )
    make_user(admin_api, "desk", TECH_PASSWORD, branch["id"], role["id"], "前台小刘")
    make_user(admin_api, "admin2", SECOND_PASSWORD, hq, admin_api.role_id("超级管理员"), "第二管理员")

    member = new_page(browser, live_server)
    login(member, "desk@ACME", TECH_PASSWORD)
    member.goto("/system/users")
    bystander = new_page(browser, live_server)
    login(bystander, "admin2@ACME", SECOND_PASSWORD)
    online(member)
    online(bystander)
    mark(bystander)

    admin_api.call("PATCH", f"/api/v1/orgs/{branch['id']}", json={"enabled": False})

    expect(member).to_have_url(LOGIN, timeout=LIVE)
    expect(member.locator(".form-ok")).to_have_text("会话已结束，请重新登录")
    # someone outside that org keeps their page and their connection
    online(bystander)
    assert same_document(bystander)
