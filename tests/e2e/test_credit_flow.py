"""Issue 5's browser test: the head office recharges a level-2 branch with 1000.0000 (the line
form of 【额度充值】, its own org refused inline, 【提交】, 【确认充值】) while the branch's manager,
in a second browser context on 【额度查询】, sees 1000.0000 arrive without reloading; then an
adjustment decreasing 200.5000 shows as frozen there (available 799.5000) until 【确认调整】
(balance 799.5000, frozen 0). The manager's 【查看明细】 tabs follow a further freeze live.
Screenshots at desktop and iPad widths go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from server.credit import permissions as P
from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, pick, screenshot
from tests.system.helpers import PASSWORD, service_org, service_user


@pytest.fixture
async def network(tenant) -> dict:
    """上海分部 (level 2) under the head office, 浦东网点 (level 3) under it, and the branch's
    manager who may look at (and export) the credit accounts."""
    shanghai = await service_org(tenant, "SH", tenant.org_id, name="上海分部", level=2)
    await service_org(tenant, "SH-PD", shanghai["id"], name="浦东网点", level=3)
    await service_user(tenant, "shmgr", shanghai["id"], "branch", [P.ACCOUNT["view"], P.ACCOUNT["export"]])
    return {"shanghai": shanghai["id"]}


def both_widths(page: Page, name: str) -> None:
    for size, label in ((DESKTOP, "desktop"), (IPAD, "ipad")):
        page.set_viewport_size(size)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(DESKTOP)


def add_line(page: Page, org: str, amount: str, direction: str | None = None) -> None:
    form = page.locator("#line-form")
    pick(page, form.locator("#line-org"), org, org)
    if direction:
        form.locator("#line-direction").select_option(label=direction)
    form.locator("#line-amount").fill(amount)
    form.get_by_role("button", name="添加").click()


def account_row(page: Page, org: str):
    return page.locator(f'#account-table tr[data-org="{org}"]')


def expect_figures(row, balance: str, frozen: str, available: str) -> None:
    expect(row.locator('[data-col="balance"]')).to_have_text(balance)
    expect(row.locator('[data-col="frozen"]')).to_have_text(frozen)
    expect(row.locator('[data-col="available"]')).to_have_text(available)


def test_recharge_and_adjustment_reach_the_branch_live(network, browser, live_server, admin_api):
    # the branch manager sits on 【额度查询】 (a second browser context, its own session)
    branch = new_page(browser, live_server, DESKTOP)
    login(branch, "shmgr@ACME", PASSWORD)
    branch.locator("nav.menu").get_by_role("link", name="额度查询", exact=True).click()
    expect(branch).to_have_url(re.compile(r"/credit/accounts$"))
    expect(branch.locator("#live-dot")).to_have_class(re.compile("online"))
    shanghai = account_row(branch, "上海分部")
    expect_figures(shanghai, "0.0000", "0.0000", "0.0000")
    expect(account_row(branch, "浦东网点")).to_be_visible()
    branch.evaluate("window.__stayed = true")  # gone if the page ever reloads

    # the head office writes the recharge: the manual's line form above the list
    hq = new_page(browser, live_server, DESKTOP)
    hq.on("dialog", lambda d: d.accept())
    login(hq, "admin@ACME")
    hq.locator("nav.menu").get_by_role("link", name="额度充值", exact=True).click()
    hq.locator(".page-header").get_by_role("link", name="新增").click()
    expect(hq).to_have_url(re.compile(r"/credit/recharges/new$"))
    hq.fill("#doc-remark", "上海分部首次授信")
    add_line(hq, "上海分部", "1000.0000")
    expect(hq).to_have_url(re.compile(r"/credit/recharges/\d+$"))
    expect(hq.locator(".page-header h1")).to_contain_text("暂存")
    expect(hq.locator('#line-table tr[data-org="上海分部"]')).to_contain_text("1000.0000")
    expect(hq.locator("#doc-remark")).to_have_value("上海分部首次授信")

    # the picker offers only orgs below the head office (its own org is refused by the service too,
    # tests/credit); 5 decimals are refused inline, in the line form
    box = hq.locator("#line-org")
    box.click()
    with hq.expect_response(lambda r: "/pickers/" in r.url and "below=1" in r.url):
        box.fill("艾克米")
    expect(hq.locator(".picker-list:visible .picker-option")).to_have_count(0)
    box.fill("")
    hq.locator("#line-amount").fill("1.00001")
    pick(hq, hq.locator("#line-org"), "浦东", "浦东网点")
    hq.locator("#line-form").get_by_role("button", name="添加").click()
    expect(hq.locator("#line-form .form-error")).to_have_text("金额最多 4 位小数")
    expect(hq.locator("#line-table tbody tr")).to_have_count(1)
    both_widths(hq, "credit-recharge-draft")

    hq.locator("#doc-form").get_by_role("button", name="提交").click()
    expect(hq.locator(".page-header h1")).to_contain_text("已提交")
    expect(hq.locator("#line-form")).to_have_count(0)
    both_widths(hq, "credit-recharge-submitted")
    expect_figures(shanghai, "0.0000", "0.0000", "0.0000")  # nothing moves before the confirmation

    # with four-eyes on, the submitter's own confirmation is refused in the page
    admin_api.call("PATCH", "/api/v1/settings", json={"credit_four_eyes": True})
    hq.locator("#doc-form").get_by_role("button", name="确认充值").click()
    expect(hq.locator("#doc-form .form-error")).to_have_text("已开启额度双人复核：确认人不能是提交人")
    both_widths(hq, "credit-recharge-four-eyes")
    admin_api.call("PATCH", "/api/v1/settings", json={"credit_four_eyes": False})
    hq.locator("#doc-form").get_by_role("button", name="确认充值").click()
    expect(hq.locator(".page-header h1")).to_contain_text("已确认")
    expect(hq.locator("#doc-header")).to_contain_text("确认人")

    # the branch sees the recharge arrive, live
    expect_figures(shanghai, "1000.0000", "0.0000", "1000.0000")
    both_widths(branch, "credit-accounts-branch")

    # an adjustment decreasing 200.5000: frozen on submit, taken on confirmation
    hq.locator("nav.menu").get_by_role("link", name="额度调整", exact=True).click()
    hq.locator(".page-header").get_by_role("link", name="新增").click()
    add_line(hq, "上海分部", "200.5000", direction="减少")
    expect(hq.locator("#line-table tbody")).to_contain_text("提交时冻结")
    hq.locator("#doc-form").get_by_role("button", name="提交").click()
    expect(hq.locator(".page-header h1")).to_contain_text("已提交")
    expect(hq.locator("#line-table tbody")).to_contain_text("冻结中 200.5000")
    expect_figures(shanghai, "1000.0000", "200.5000", "799.5000")
    both_widths(branch, "credit-accounts-frozen")
    both_widths(hq, "credit-adjustment-submitted")

    hq.locator("#doc-form").get_by_role("button", name="确认调整").click()
    expect(hq.locator(".page-header h1")).to_contain_text("已确认")
    expect_figures(shanghai, "799.5000", "0.0000", "799.5000")
    assert branch.evaluate("window.__stayed") is True
    hq.locator("nav.menu").get_by_role("link", name="额度调整", exact=True).click()
    expect(hq.locator("#doc-table tbody tr")).to_have_count(1)
    expect(hq.locator("#doc-table tbody")).to_contain_text("已确认")
    both_widths(hq, "credit-adjustments-list")

    # 【查看明细】: the three tabs; a further freeze appears in them live
    shanghai.get_by_role("link", name="查看明细").click()
    expect(branch).to_have_url(re.compile(rf"/credit/accounts/{network['shanghai']}$"))
    kinds = branch.locator("#record-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["decrease", "freeze", "recharge"]
    both_widths(branch, "credit-detail-entries")
    branch.get_by_role("tab", name="冻结记录").click()
    expect(branch).to_have_url(re.compile(r"tab=freezes"))
    expect(branch.locator("#record-table tbody")).to_contain_text("暂无冻结中的额度")
    doc = admin_api.call(
        "POST",
        "/api/v1/credit/adjustments",
        201,
        json={"lines": [{"org_id": network["shanghai"], "direction": "decrease", "amount": "50"}]},
    )
    admin_api.call("POST", f"/api/v1/credit/adjustments/{doc['id']}/submit")
    expect(branch.locator(f'#record-table tr[data-no="{doc["no"]}"]')).to_contain_text("50.0000")
    expect(branch.locator("#stat-frozen")).to_have_text("50.0000")
    expect(branch.locator("#stat-available")).to_have_text("749.5000")
    both_widths(branch, "credit-detail-freezes")
    branch.fill("#filters input[name=doc_no]", "nothing")
    expect(branch.locator("#record-table tbody")).to_contain_text("暂无冻结中的额度")
    with branch.expect_download() as download:
        branch.locator(".page-header").get_by_role("link", name="导出").click()
    assert download.value.suggested_filename == "上海分部冻结记录.xlsx"
    branch.get_by_role("tab", name="使用记录").click()
    expect(branch.locator("#record-table tbody")).to_contain_text("暂无使用记录")
    both_widths(branch, "credit-detail-usage")
