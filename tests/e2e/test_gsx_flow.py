"""The GSX golden path in a real browser against the fake GSX (issue 19, "Browser test"): the
head office sets up 【GSX 对接】 and tests the connection, the user links their Apple account in
【我的账户】→【关联 GSX】, takes in an order for a known serial, 【查询保修】 shows its coverage,
【创建 GSX 维修】 answers a HOLD that the user acknowledges; then the fake moves the repair to
ready for pickup and the order's page shows it live. Screenshots: var/screenshots/gsx-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, login, new_page, screenshot
from tests.gsx.conftest import fake_gsx, fake_gsx_server  # noqa: F401  (the fake GSX fixtures)
from tests.gsx.helpers import IN_WARRANTY, activation, order

LIVE = 10_000  # ms: a bound for a loaded machine, not the latency


@pytest.fixture
async def gsx_order(tenant) -> dict:
    from tests.workorders.helpers import wo_world

    return await order(tenant, await wo_world(tenant, stock=0), IN_WARRANTY)


def test_link_coverage_hold_and_live_status(gsx_order, fake_gsx, browser, live_server, admin_api):  # noqa: F811
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    # hidden until configured: no menu link, no card on the order
    expect(page.locator("#gsx-top-link")).to_have_count(0)
    page.goto("/system/settings")
    page.locator("#gsx-settings-link").click()
    expect(page.locator("h1")).to_have_text("GSX 对接")
    admin_api.call("PUT", "/api/v1/gsx/settings", json=fake_gsx.settings_body())
    page.reload()
    expect(page.locator("#gsx-cert-state")).to_contain_text("Weifu Partner")
    key_body = fake_gsx.pem("client.key").splitlines()[1]
    assert key_body not in page.content()  # the key is never rendered back
    page.locator("#gsx-test").click()
    expect(page.locator("#gsx-test-result")).to_contain_text("连接成功")
    screenshot(page, "gsx-settings", full_page=True)

    page.locator("#gsx-top-link").click()
    page.fill("#apple_id", "tech@example.com")
    page.fill("#activation_token", activation())
    page.get_by_role("button", name="关联", exact=True).click()
    expect(page.locator("#gsx-link-state")).to_contain_text("已关联")
    screenshot(page, "gsx-link")

    page.goto(f"/workorders/{gsx_order['id']}")
    page.locator("#gsx-coverage-btn").click()
    expect(page.locator("#gsx-coverage")).to_contain_text("MacBook Pro")
    expect(page.locator("#gsx-coverage")).to_contain_text("2027-03-01")
    page.locator(".gsx-create summary").click()
    page.fill("#gsx-component", "DISPLAY")
    page.fill("#gsx-issue", "DS01")
    # 【检查资格与部件】: GSX's eligibility and each part, an unknown one flagged before creating
    page.fill("#gsx-parts", "661-12345, 661-99999")
    page.locator("#gsx-check-btn").click()
    expect(page.locator("#gsx-eligibility")).to_contain_text("符合 GSX 维修资格")
    expect(page.locator("#gsx-eligibility")).to_contain_text("设备符合维修资格")
    expect(page.locator("#gsx-parts tbody tr").first).to_contain_text("Display Assembly")
    expect(page.locator("#gsx-parts tbody tr").first).to_contain_text("2399.0000")
    expect(page.locator("#gsx-parts .gsx-part-unknown")).to_contain_text("GSX 查无此部件")
    screenshot(page, "gsx-check", full_page=True)
    page.locator("#gsx-create-btn").click()
    expect(page.locator("#gsx-error")).to_contain_text("GSX 中查不到部件号 661-99999")
    expect(page.locator("#gsx-component")).to_have_value("DISPLAY")  # what was typed stays
    expect(page.locator("#gsx-repair-id")).to_have_count(0)
    page.fill("#gsx-parts", "661-12345")
    page.locator("#gsx-create-btn").click()
    expect(page.locator("#gsx-outcome")).to_contain_text("维修已暂挂")
    expect(page.locator("#gsx-outcome")).to_contain_text("需要提供购买凭证照片")
    screenshot(page, "gsx-order-hold", full_page=True)
    page.locator("#gsx-ack").click()
    expect(page.locator("#gsx-outcome")).to_contain_text("已确认")
    repair_id = page.locator("#gsx-repair-id").inner_text()
    expect(page.locator("#gsx-status")).to_contain_text("维修已创建")
    page.fill("#gsx-note", "客户已上传购买凭证")
    page.locator("#gsx-note-btn").click()
    expect(page.locator(".gsx-history")).to_contain_text("备注：客户已上传购买凭证")

    # GSX moves the repair on; a status refresh elsewhere (as the poller does) shows here live
    fake_gsx.control("/fake/advance", {"repairId": repair_id, "status": "RFPU"})
    admin_api.call("POST", f"/api/v1/work-orders/{gsx_order['id']}/gsx/refresh")
    expect(page.locator("#gsx-status")).to_contain_text("维修完成，可取机", timeout=LIVE)
    screenshot(page, "gsx-order-live", full_page=True)
    page.set_viewport_size(PHONE)
    page.locator("#gsx-panel").scroll_into_view_if_needed()
    screenshot(page, "gsx-order-phone")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.set_viewport_size(DESKTOP)

    page.goto("/gsx/repairs")
    expect(page.locator("#gsx-repairs tbody tr")).to_have_count(1)
    expect(page.locator("#gsx-repairs")).to_contain_text("维修完成，可取机")
    page.locator("#gsx-sync").click()
    expect(page.locator("#gsx-sync-result")).to_contain_text("已向 GSX 查询 1 个维修")
    screenshot(page, "gsx-repairs", full_page=True)

    page.goto("/system/gsx/calls")
    expect(page.locator("#gsx-calls tbody tr")).to_have_count(14)
    expect(page.locator("#gsx-calls")).to_contain_text("repair/eligibility")
    expect(page.locator("#gsx-calls")).to_contain_text("repair/summary")
    assert "TOK-" not in page.content()
    screenshot(page, "gsx-calls", full_page=True)


@pytest.fixture
async def gsx_world(tenant) -> dict:
    from tests.workorders.helpers import wo_world

    return await wo_world(tenant, stock=0)


def test_intake_check_then_status_moves_the_order_live(gsx_world, fake_gsx, browser, live_server, admin_api):  # noqa: F811
    """【查询保修】 on the intake form before saving (GSX down first: said, intake unaffected), the
    order saved carries the coverage; GSX "in repair" moves it to 维修中 and its timeline shows
    the GSX events live; "ready for pickup" only hints (【维修完毕】 stays the technician's)."""
    import re

    from tests.e2e.conftest import pick

    admin_api.call("PUT", "/api/v1/gsx/settings", json=fake_gsx.settings_body())
    admin_api.call("POST", "/api/v1/gsx/link", json={"apple_id": "tech@example.com", "activation_token": activation()})
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.goto("/workorders/intake")
    page.fill("#intake-phone", "13800007777")
    pick(page, page.locator("#intake-goods"), "IP15", "IP15 iPhone 15")
    page.locator("#intake-serial").fill("ABC-123")
    page.locator("#gsx-intake-check").click()
    expect(page.locator("#gsx-intake-error")).to_contain_text("序列号格式不正确")
    fake_gsx.control("/fake/mode", {"mode": "down"})
    page.locator("#intake-serial").fill(IN_WARRANTY)
    page.locator("#gsx-intake-check").click()
    expect(page.locator("#gsx-intake-error")).to_contain_text("不影响受理")
    fake_gsx.control("/fake/mode", {"mode": "ok"})
    page.locator("#gsx-intake-check").click()
    expect(page.locator("#gsx-intake-coverage")).to_contain_text("MacBook Pro")
    expect(page.locator("#gsx-intake-coverage")).to_contain_text("2027-03-01")
    page.select_option("#intake-stype", label="保外维修")
    page.locator("#intake-fault").fill("屏幕闪烁")
    page.fill("#intake-name", "李四")  # after the phone's lookup (an unknown phone empties the name)
    screenshot(page, "gsx-intake-check", full_page=True)
    page.get_by_role("button", name="保存并打印受理单").click()
    expect(page).to_have_url(re.compile(r"/workorders/\d+/receipt\?from=intake$"))
    order_id = int(re.search(r"/workorders/(\d+)/receipt", page.url).group(1))

    page.goto(f"/workorders/{order_id}")
    expect(page.locator("#gsx-coverage")).to_contain_text("MacBook Pro")  # attached at saving
    body = {"repair_type": "CIN", "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}]}
    g = admin_api.call("POST", f"/api/v1/work-orders/{order_id}/gsx/repair", expected=201, json=body)
    expect(page.locator("#wo-timeline")).to_contain_text(f"GSX：创建维修 {g['repair_id']}", timeout=LIVE)
    expect(page.locator("#wo-status")).to_have_text("受理")
    expect(page.get_by_role("heading", name="直接维修")).to_be_visible()
    expect(page.locator("#wo-repair-actions")).to_have_count(0)
    fake_gsx.control("/fake/advance", {"repairId": g["repair_id"], "status": "INRP"})
    admin_api.call("POST", f"/api/v1/work-orders/{order_id}/gsx/refresh")
    expect(page.locator("#wo-status")).to_have_text("维修中", timeout=LIVE)
    expect(page.locator("#wo-timeline")).to_contain_text("GSX：维修中（按对接设置：工单已转为维修中）", timeout=LIVE)
    # the GSX move brings the page's other cards along, as a move made elsewhere does (the live
    # timeline refresh finds the order moved and reloads the page): the repairing order's forms
    expect(page.locator("#wo-repair-actions")).to_be_visible(timeout=LIVE)
    expect(page.locator("#wo-edit")).to_be_visible()
    fake_gsx.control("/fake/advance", {"repairId": g["repair_id"], "status": "RFPU"})
    admin_api.call("POST", f"/api/v1/work-orders/{order_id}/gsx/refresh")
    expect(page.locator("#gsx-status-hint")).to_contain_text("【维修完毕】", timeout=LIVE)
    expect(page.locator("#toast")).to_contain_text("请填写维修结果并【维修完毕】", timeout=LIVE)  # the personal notice
    expect(page.locator("#wo-status")).to_have_text("维修中")
    screenshot(page, "gsx-order-timeline", full_page=True)
