"""The golden path of system management in a real browser (issue 2, "Browser test").

Admin enrols OTP and logs in with the code, creates a branch, a branch role (through the
permission tree) and a user of that branch; the new user sees only what the role permits.
Screenshots of the main screens at desktop and phone widths go to var/screenshots/.
"""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, login, logout, new_page, screenshot

BRANCH_PASSWORD = "Branch2024"


def both_widths(page: Page, name: str) -> None:
    """Screenshot at desktop width, then at phone width, and back (dialogs scrolled to the top)."""
    page.evaluate("document.querySelectorAll('.dialog-body').forEach(b => b.scrollTop = 0)")
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def open_dialog(page: Page, button: str = "添加"):
    page.locator(".page-header").get_by_role("button", name=button).click()
    dialog = page.locator("#modal dialog[open]")
    expect(dialog).to_be_visible()
    return dialog


def go(page: Page, menu_label: str, url: str) -> None:
    """Navigate through the left menu (on phones it is behind the ☰ button)."""
    page.locator("nav.menu").get_by_role("link", name=menu_label, exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(url) + r"$"))


def enrol_otp(page: Page) -> pyotp.TOTP:
    page.locator(".topbar-actions").get_by_role("link", name="动态密钥").click()
    expect(page).to_have_url(re.compile(r"/account/otp$"))
    expect(page.locator(".qr svg")).to_be_visible()
    both_widths(page, "otp-enrol")
    secret = page.locator("#otp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.fill("#otp", "000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="完成绑定").click()
    expect(page.locator(".form-error")).to_have_text("动态密钥错误，请输入验证器上显示的 6 位数字")
    page.fill("#otp", totp.now())
    page.get_by_role("button", name="完成绑定").click()
    expect(page.locator("#toast")).to_contain_text("动态密钥已绑定")
    expect(page.locator("main.content")).to_contain_text("已绑定")  # the form gave way to the bound state
    expect(page.locator("#otp-secret")).to_have_count(0)
    both_widths(page, "otp-enrolled")
    return totp


def test_admin_builds_a_branch_and_its_user_sees_only_the_permitted_menu(browser, live_server, admin_api):
    # A small tree beside the branch the test creates, so the org list shows its indentation.
    hq = admin_api.hq_id()
    north = admin_api.call("POST", "/api/v1/orgs", 201, json={"code": "BJ", "name": "北京分公司", "parent_id": hq})
    admin_api.call("POST", "/api/v1/orgs", 201, json={"code": "BJ-CY", "name": "朝阳网点", "parent_id": north["id"]})

    page = new_page(browser, live_server)
    page.goto("/login")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    both_widths(page, "login")

    # --- enrol OTP, then the code is required ------------------------------------------------
    login(page, "admin@ACME")
    totp = enrol_otp(page)
    logout(page)

    page.fill("#login", "admin@ACME")
    page.fill("#password", "admin1234")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#login-error")).to_have_text("请输入 6 位动态密钥")
    expect(page.locator("#login")).to_have_value("admin@ACME")
    both_widths(page, "login-otp-required")
    # The enrolment used the current time step and a step is accepted only once: log in with
    # the next one (the server allows one step of clock drift either way).
    login(page, "admin@ACME", otp=totp.at(time.time() + totp.interval))
    expect(page.locator(".ti-user")).to_contain_text("admin@ACME")
    expect(page.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))

    # --- a branch under the head office --------------------------------------------------------
    go(page, "管理机构", "/system/orgs")
    dialog = open_dialog(page)
    expect(dialog.locator("#org-parent")).to_have_value(str(hq))
    dialog.locator("#org-code").fill("SH")
    dialog.locator("#org-name").fill("上海分公司")
    dialog.locator("#org-level").select_option("2")
    dialog.locator("#org-contact").fill("李娜")
    dialog.locator("#org-phone").fill("021-55550000")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("已添加机构 上海分公司")
    row = page.locator('#org-table tr[data-org-code="SH"]')
    expect(row).to_contain_text("上海分公司")
    expect(row).to_contain_text("网点")

    # a duplicate code is refused inside the dialog, which stays open with what was typed
    dialog = open_dialog(page)
    dialog.locator("#org-code").fill("SH")
    dialog.locator("#org-name").fill("上海第二分公司")
    dialog.get_by_role("button", name="确认").click()
    expect(dialog.locator(".form-error")).to_have_text("机构代码 SH 已存在")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#org-name")).to_have_value("上海第二分公司")
    dialog.get_by_role("button", name="取消").click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    expect(page.locator("#org-table tbody tr")).to_have_count(4)  # 总部, 北京, 朝阳, 上海
    both_widths(page, "org-list")

    # --- a branch role through the permission tree ---------------------------------------------
    go(page, "角色管理", "/system/roles")
    dialog = open_dialog(page)
    dialog.locator("#role-name").fill("网点经理")
    dialog.locator("#role-kind").select_option("branch")
    tree = dialog.locator(".perm-tree")
    org_page = tree.locator('input[value="system.org"]')
    org_page.check()
    for action in ("view", "create", "update", "delete", "export"):
        expect(tree.locator(f'input[value="system.org.{action}"]')).to_be_checked()
    expect(tree.locator('input[value="system"]')).to_be_checked()
    expect(tree.locator('input[value="system.role.view"]')).not_to_be_checked()
    for action in ("create", "update", "delete", "export"):
        tree.locator(f'input[value="system.org.{action}"]').uncheck()
    expect(org_page).to_be_checked()
    expect(org_page).to_have_js_property("indeterminate", True)
    tree.locator('input[value="system.user.view"]').check()
    expect(tree.locator('input[value="system.user"]')).to_be_checked()
    expect(tree.locator('input[value="system.user"]')).to_have_js_property("indeterminate", True)
    both_widths(page, "role-form")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("已添加角色 网点经理")
    expect(page.locator("#rows")).to_contain_text("网点经理")

    # --- a user of the branch with that role ---------------------------------------------------
    go(page, "用户管理", "/system/users")
    dialog = open_dialog(page)
    branch_id = dialog.locator("#user-org option", has_text="上海分公司").get_attribute("value")
    dialog.locator("#user-org").select_option(branch_id)
    role_box = dialog.locator("#role-checks").get_by_label("网点经理")
    expect(role_box).to_be_visible()  # roles follow the org's kind (网点)
    expect(dialog.locator("#role-checks")).not_to_contain_text("超级管理员")
    dialog.locator("#user-account").fill("shmgr")
    dialog.locator("#user-name").fill("张经理")
    dialog.locator("#user-phone").fill("13800138000")
    dialog.locator("#user-password").fill(BRANCH_PASSWORD)
    role_box.check()
    both_widths(page, "user-form")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("已添加用户 shmgr")
    row = page.locator('#user-table tr[data-account="shmgr"]')
    expect(row).to_contain_text("上海分公司")
    expect(row).to_contain_text("网点经理")
    both_widths(page, "user-list")

    # the list filters by the org's code or name as one types (no reload)
    page.locator('#filters input[name="org_q"]').fill("上海")
    expect(page.locator("#user-table tbody tr")).to_have_count(1)
    expect(page.locator("#user-table tbody")).to_contain_text("shmgr@ACME")
    expect(page).to_have_url(re.compile(r"org_q="))
    page.locator('#filters input[name="org_q"]').fill("")
    expect(page.locator("#user-table tbody tr")).to_have_count(2)
    logout(page)

    # --- the branch user: only the permitted menu, only its own subtree ------------------------
    login(page, "shmgr@ACME", BRANCH_PASSWORD)
    menu = page.locator("nav.menu")
    expect(menu).to_contain_text("系统管理")
    expect(menu.get_by_role("link", name="管理机构")).to_be_visible()
    expect(menu.get_by_role("link", name="用户管理")).to_be_visible()
    for hidden in ("角色管理", "系统设置", "操作日志", "基础数据", "额度管理"):
        expect(menu).not_to_contain_text(hidden)
    expect(page.locator(".ti-org")).to_have_text("上海分公司")

    go(page, "管理机构", "/system/orgs")
    expect(page.locator("#org-table tbody tr")).to_have_count(1)
    expect(page.locator("#org-table")).to_contain_text("上海分公司")
    expect(page.locator(".page-header").get_by_role("button", name="添加")).to_have_count(0)
    expect(page.locator("#org-table").get_by_role("button", name="修改")).to_have_count(0)

    response = page.goto("/system/roles")
    assert response is not None and response.status == 403
    expect(page.locator("body")).to_contain_text("没有权限")
    both_widths(page, "forbidden")


def test_phone_menu_opens_and_navigates(browser, live_server):
    """At phone width the menu is behind ☰ and still reaches every permitted page."""
    page = new_page(browser, live_server, PHONE)
    login(page, "admin@ACME")
    sidebar = page.locator("#sidebar")
    expect(sidebar).to_be_hidden()  # off-canvas
    page.get_by_role("button", name="打开菜单").click()
    expect(sidebar).to_be_visible()
    expect(sidebar.get_by_role("link", name="管理机构")).to_be_in_viewport()
    screenshot(page, "menu-phone")
    sidebar.get_by_role("link", name="管理机构").click()
    expect(page).to_have_url(re.compile(r"/system/orgs$"))
    expect(page.locator("#org-table")).to_contain_text("总部")
