"""Issue 20's first slice in a real browser: the head office marks itself 维修中心 and a branch
接机点 with it as the repair centre in 【管理机构】; an order shows its intake and repair orgs, and
【工单处理】 filters by them. Screenshots of the org form and the order page, desktop and iPad."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from server.workorders.services import orders
from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, screenshot
from tests.workorders.helpers import intake_body, wo_world


@pytest.fixture
async def taken_in(tenant) -> dict:
    return await orders.intake(tenant, intake_body(await wo_world(tenant), serial_no="F2LXKCARRY1"))


def test_a_carry_in_point_names_its_repair_centre(taken_in, browser, live_server, admin_api):
    hq = admin_api.hq_id()
    branch = admin_api.call("POST", "/api/v1/orgs", 201, json={"code": "JJ01", "name": "徐汇接机点", "parent_id": hq})
    page = new_page(browser, live_server, DESKTOP)
    login(page, "admin@ACME")
    page.goto("/system/orgs")

    def edit(code: str):
        page.locator(f"#org-table tr[data-org-code='{code}']").get_by_role("button", name="修改").click()
        return page.locator("#modal dialog[open]")

    # a carry-in point without a centre is refused beside the field, nothing saved
    dialog = edit("JJ01")
    dialog.get_by_label("接机点（接收设备后送维修中心维修）").check()
    dialog.get_by_role("button", name="确认").click()
    expect(dialog.locator(".field-error")).to_be_visible()
    assert admin_api.call("GET", f"/api/v1/orgs/{branch['id']}")["is_carry_in"] is False
    page.keyboard.press("Escape")

    dialog = edit(admin_api.call("GET", f"/api/v1/orgs/{hq}")["code"])
    dialog.get_by_label("维修中心（维修接机点送来的设备）").check()
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)

    dialog = edit("JJ01")
    dialog.get_by_label("接机点（接收设备后送维修中心维修）").check()
    dialog.locator("#org-centre").select_option(str(hq))
    screenshot(page, "carry-in-org-form")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    saved = admin_api.call("GET", f"/api/v1/orgs/{branch['id']}")
    assert (saved["is_carry_in"], saved["repair_centre_id"]) == (True, hq)

    # the order's two orgs, and the list filtered by the repair org
    page.goto(f"/workorders/{taken_in['id']}")
    hq_name = admin_api.call("GET", f"/api/v1/orgs/{hq}")["name"]
    expect(page.locator("#wo-intake-org")).to_have_text(hq_name)
    expect(page.locator("#wo-repair-org")).to_have_text(hq_name)
    screenshot(page, "carry-in-order-orgs")
    page.goto(f"/workorders/?repair_org_id={hq}")
    expect(page.locator(f'tr[data-no="{taken_in["no"]}"]')).to_be_visible()
    page.goto(f"/workorders/?repair_org_id={branch['id']}")
    expect(page.get_by_text(taken_in["no"])).to_have_count(0)
    page.set_viewport_size(IPAD)
    page.goto(f"/workorders/{taken_in['id']}")
    expect(page).to_have_url(re.compile(rf"/workorders/{taken_in['id']}$"))
    screenshot(page, "carry-in-order-orgs-ipad")
