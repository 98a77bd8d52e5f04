"""Small frictions a new user met (issue 15 item 10), in a real browser: list filters typed into
work without htmx's syntax errors; a new org's level follows the chosen parent; the audit log
reads in Chinese with the fields that changed."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import login, new_page, screenshot


def test_org_form_follows_the_parent_and_the_log_reads_in_chinese(browser, live_server, admin_api):
    hq = admin_api.hq_id()
    east = admin_api.call("POST", "/api/v1/orgs", 201, json={"code": "EAST", "name": "华东大区", "parent_id": hq})
    assert east["level"] == 2
    page = new_page(browser, live_server)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, "admin@ACME")

    page.goto("/system/orgs")
    page.get_by_role("button", name="添加").first.click()
    dialog = page.locator("#modal dialog[open]")
    expect(dialog.locator("#org-level")).to_have_value("2")  # below the head office
    dialog.locator("#org-parent").select_option(str(east["id"]))
    expect(dialog.locator("#org-level")).to_have_value("3")
    dialog.locator("#org-code").fill("SH01")
    dialog.locator("[name=name]").fill("上海服务中心")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#org-table tr[data-org-code='SH01']")).to_contain_text("3")

    page.locator("#filters input[type=search]").fill("上海")
    expect(page.locator("#org-table tr[data-org-code='EAST']")).to_have_count(0)
    assert not [e for e in errors if "syntax" in e.lower()], errors

    admin_api.call("PATCH", f"/api/v1/orgs/{east['id']}", json={"name": "华东区", "phone": "021-1"})
    page.goto("/system/audit-log")
    row = page.locator("#rows tbody tr").first
    expect(row).to_contain_text("修改 · 机构")
    expect(row).to_contain_text("名称：华东大区 → 华东区")
    expect(row).to_contain_text("电话：（空） → 021-1")
    screenshot(page, "frictions-audit-log")
