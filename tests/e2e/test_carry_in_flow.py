"""Issue 20 in a real browser: a carry-in point (a level-4 branch) takes in an iPhone and
【保存并送修】; its repair centre (level 2) sees the 送修 shipment arrive live in 【物流收货】,
receives it, repairs it with a screen and 【返还】s it; the carry-in point, whose order page
follows each move live, receives the return and closes with the customer. Screenshots (desktop,
iPad) go to var/screenshots/carry-flow-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from server.masterdata.services import warehouses
from tests.credit.helpers import recharge
from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, pick, screenshot
from tests.inventory.helpers import inbound
from tests.system.helpers import PASSWORD, service_org, service_user
from tests.workorders.carry_helpers import STAFF
from tests.workorders.helpers import wo_world

LIVE = 10_000  # ms: a bound for a loaded machine, not the latency


@pytest.fixture
async def network(tenant) -> dict:
    w = await wo_world(tenant, stock=0)
    centre = await service_org(tenant, "WX", tenant.org_id, level=2, name="上海维修中心", is_repair_centre=True)
    l3 = await service_org(tenant, "L3", centre["id"], level=3)
    point = await service_org(
        tenant, "JJ", l3["id"], level=4, name="徐汇接机点", is_carry_in=True, repair_centre_id=centre["id"]
    )
    await warehouses.assign(tenant, [w["general"], w["defective"]], [centre["id"], point["id"]])
    staff = await service_user(tenant, "wxstaff", centre["id"], "branch", STAFF)
    await service_user(tenant, "jjstaff", point["id"], "branch", STAFF)
    await inbound(staff, w["general"], (w["screen"], 3, "100"))
    await recharge(tenant, (point["id"], "500.0000"))
    return w | {"centre": centre, "point": point}


def test_a_device_goes_to_the_centre_and_back(network, browser, live_server):
    w = network
    desk = new_page(browser, live_server, IPAD)  # the carry-in point's counter
    login(desk, "jjstaff@ACME", PASSWORD)
    centre = new_page(browser, live_server, DESKTOP)
    login(centre, "wxstaff@ACME", PASSWORD)
    centre.goto("/logistics/receiving")
    expect(centre.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))

    desk.goto("/workorders/intake")
    desk.locator("#intake-phone").fill("13800005678")
    desk.locator("#intake-phone").dispatch_event("change")  # a new customer: the fields come back empty
    desk.wait_for_load_state("networkidle")
    desk.locator("#intake-name").fill("王五")
    pick(desk, desk.locator("#intake-goods"), "IP15", "IP15 iPhone 15")
    desk.locator("#intake-serial").fill("F2LXKCARRY9")
    desk.select_option("#intake-stype", label="保外维修")
    desk.locator("#intake-fault").fill("屏幕碎裂")
    desk.get_by_role("button", name="保存并送修（上海维修中心）").click()
    expect(desk).to_have_url(re.compile(r"/workorders/\d+#wo-send-form$"))
    order_id = int(re.search(r"/workorders/(\d+)", desk.url).group(1))
    desk.locator("#wo-ship-carrier").fill("顺丰")
    desk.locator("#wo-ship-tracking").fill("SF2026120701")
    screenshot(desk, "carry-flow-send-ipad", full_page=True)
    desk.get_by_role("button", name="送修").click()
    expect(desk.locator("#wo-status")).to_have_text("送修在途")
    expect(desk.locator("#wo-carry-note")).to_contain_text("等待维修中心收货")
    expect(desk.locator("#wo-timeline")).to_contain_text("送修在途")
    screenshot(desk, "carry-flow-sent-ipad", full_page=True)

    # the centre's 【物流收货】 shows the 送修 shipment live; it receives the device whole
    row = centre.locator("#rows tbody tr", has_text="送修")
    expect(row).to_have_count(1, timeout=LIVE)
    screenshot(centre, "carry-flow-incoming-desktop")
    row.get_by_role("link").first.click()
    expect(centre.locator("#device-info")).to_contain_text("F2LXKCARRY9")
    screenshot(centre, "carry-flow-receipt-desktop", full_page=True)
    centre.get_by_role("button", name="确认收货").click()
    expect(centre.locator("#device-status")).to_have_text("已收货")
    expect(desk.locator("#wo-status")).to_have_text("受理", timeout=LIVE)  # the counter sees it live

    # the centre repairs it with a screen from its own 通用库
    centre.goto(f"/workorders/{order_id}")
    expect(centre.locator("#wo-repair-org")).to_have_text("上海维修中心")
    centre.select_option("#wo-defective", index=1)
    centre.get_by_role("button", name="直接维修").click()
    expect(centre.locator("#wo-status")).to_have_text("维修中")
    expect(desk.locator("#wo-status")).to_have_text("维修中", timeout=LIVE)
    centre.select_option("#wo-line-code", value=str(w["lcd_code"]))
    centre.select_option("#wo-line-wh", value=str(w["general"]))
    pick(centre, centre.locator("#wo-line-goods"), "SCR", "SCR")
    with centre.expect_navigation():
        centre.get_by_role("button", name="添加").click()
    expect(centre.locator("#wo-lines tbody tr")).to_have_count(1)
    centre.select_option("#wo-result", index=0)
    centre.once("dialog", lambda d: d.accept())
    centre.get_by_role("button", name="维修完毕").click()
    expect(centre.locator("#wo-status")).to_have_text("维修完毕")
    expect(centre.locator("#wo-close-form")).to_have_count(0)  # the centre does not close with the customer
    centre.locator("#wo-ship-carrier").fill("顺丰")
    centre.locator("#wo-ship-tracking").fill("SF2026120702")
    screenshot(centre, "carry-flow-return-desktop", full_page=True)
    centre.get_by_role("button", name="返还").click()
    expect(centre.locator("#wo-status")).to_have_text("返还在途")
    expect(desk.locator("#wo-status")).to_have_text("返还在途", timeout=LIVE)
    expect(desk.locator("#wo-close-form")).to_have_count(0)

    # the carry-in point receives it back and closes with the customer
    desk.goto("/logistics/receiving")
    desk.locator("#rows tbody tr", has_text="送修返还").get_by_role("link").first.click()
    desk.get_by_role("button", name="确认收货").click()
    expect(desk.locator("#device-status")).to_have_text("已收货")
    desk.goto(f"/workorders/{order_id}")
    expect(desk.locator("#wo-status")).to_have_text("维修完毕")
    expect(desk.locator("#wo-carry-charge")).to_have_text(
        "180.0000"
    )  # labour 50 + the screen at level 4's order price 130
    desk.select_option("#wo-method", value="onsite")
    desk.select_option("#wo-pay", value="cash")
    screenshot(desk, "carry-flow-close-ipad", full_page=True)
    desk.get_by_role("button", name="结单").click()
    expect(desk).to_have_url(re.compile(rf"/workorders/{order_id}/closing-receipt"))
    desk.goto(f"/workorders/{order_id}")
    expect(desk.locator("#wo-status")).to_have_text("已结单")
    expect(desk.locator("#wo-timeline")).to_contain_text("返还在途")
    screenshot(desk, "carry-flow-closed-ipad", full_page=True)
