"""The golden path of a work order in real browsers (issue 16, "Browser tests"): the front desk
calls A001 at the counter, 【开单】 opens intake with the phone filled, saves with a technician;
the order appears live in 【工单处理】 in a second browser and on the technician's phone-sized
【我的维修】, which opens the phone repair page (the order's facts first); there the technician
starts the repair, adds a line with a part (its stock shown), edits its quantity, adds and
deletes a labour line, sees the goods the front desk issues meanwhile arrive live, and
【维修完毕】, the page never wider than the phone; the part
leaves the 通用库 and the 坏品库 receives the old one; the front desk closes it by mail.
Screenshots of the list, detail, mine and repair pages at 1280×800, 820×1180 and 390×844 go to
var/screenshots/wo-flow-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from server.workorders import permissions as P
from tests.e2e.conftest import DESKTOP, IPAD, PHONE, login, new_page, pick, screenshot
from tests.system.helpers import PASSWORD, service_user
from tests.workorders.helpers import wo_world

LIVE = 10_000  # ms: a bound for a loaded machine, not the latency (bench/ measures that)
SIZES = ((DESKTOP, "desktop"), (IPAD, "ipad"), (PHONE, "phone"))
Q = "/api/v1/queue"


@pytest.fixture
async def shop(tenant) -> dict:
    """Parts in a 通用库 (5 screens), a 坏品库, repair codes and a technician `tech`."""
    w = await wo_world(tenant, stock=5)
    await service_user(tenant, "tech", tenant.org_id, "hq", [P.VIEW, P.REPAIR, P.MINE])
    return w


def online(page) -> None:
    expect(page.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))


def shots(page, name: str, back_to: dict) -> None:
    for size, label in SIZES:
        page.set_viewport_size(size)
        screenshot(page, f"wo-flow-{name}-{label}", full_page=True)
    page.set_viewport_size(back_to)


def no_sideways(page) -> None:
    """Nothing on the page scrolls sideways (a phone's whole repair fits its width)."""
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def stock(api, warehouse_id: int, goods_id: int) -> int:
    rows = api.call("GET", "/api/v1/stock", params={"warehouse_id": warehouse_id, "goods_id": goods_id})["items"]
    return sum(r["qty"] for r in rows)


def test_from_the_queue_to_closing_by_mail(shop, browser, live_server, admin_api):
    service = admin_api.call("POST", f"{Q}/services", 201, json={"name": "维修", "prefix": "A"})
    counter = admin_api.call("POST", f"{Q}/counters", 201, json={"number": 1, "service_ids": [service["id"]]})
    admin_api.call("POST", f"{Q}/tickets", 201, json={"service_id": service["id"], "phone": "13800001234"})

    # the board (【工单处理】, another browser) and the technician's phone wait, live
    board = new_page(browser, live_server, DESKTOP)
    login(board, "admin@ACME")
    board.goto("/workorders")
    online(board)
    expect(board.locator("#wo-table tbody")).not_to_contain_text("GD")
    tech = new_page(browser, live_server, PHONE)
    login(tech, "tech@ACME", PASSWORD)
    tech.goto("/workorders/mine")
    online(tech)
    expect(tech.locator("#wo-mine")).to_contain_text("没有待处理的工单")

    # --- the counter calls A001, 【开单】 opens intake with the phone ----------------------------------
    desk = new_page(browser, live_server, DESKTOP)
    login(desk, "admin@ACME")
    desk.goto("/queue/counter")
    desk.get_by_label("选择窗口").select_option(label="1 号窗口")
    expect(desk).to_have_url(re.compile(rf"counter_id={counter['id']}$"))
    desk.locator("#q-desk-call").click()
    ticket = desk.locator('.q-desk-ticket[data-ticket="A001"]')
    expect(ticket).to_contain_text("已叫号")
    ticket.get_by_role("link", name="开单").click()
    expect(desk).to_have_url(re.compile(r"/workorders/intake\?"))
    expect(desk.locator("#intake-phone")).to_have_value("13800001234")
    expect(desk.locator("#intake-ticket")).to_contain_text("A001")
    desk.locator("#intake-name").fill("李四")
    desk.locator("#intake-address").fill("上海市徐汇区")
    pick(desk, desk.locator("#intake-goods"), "IP15", "IP15 iPhone 15")
    desk.locator("#intake-serial").fill("F2LXK0BBB")
    desk.select_option("#intake-stype", label="保外维修")
    desk.locator("#intake-fault").fill("屏幕碎裂")
    desk.select_option("#intake-tech", label="tech")
    desk.get_by_role("button", name="保存并打印受理单").click()
    expect(desk).to_have_url(re.compile(r"/workorders/\d+/receipt\?from=intake$"))
    no = desk.locator("#receipt-no").inner_text()
    order_id = int(re.search(r"/workorders/(\d+)/receipt\?from=intake$", desk.url).group(1))

    # --- live: on the board and on the technician's 【我的维修】, without a reload ---------------------
    expect(board.locator("#wo-table tbody")).to_contain_text(no, timeout=LIVE)
    expect(tech.locator(f'.wo-mine-item[data-no="{no}"]')).to_be_visible(timeout=LIVE)
    expect(tech.locator(f'.wo-mine-item[data-no="{no}"]')).to_contain_text("李四")
    shots(board, "list", DESKTOP)
    shots(tech, "mine", PHONE)

    # --- the technician repairs it on the phone, on the repair page 【我的维修】 opens ---------------
    tech.locator(f'.wo-mine-item[data-no="{no}"] a').click()
    expect(tech).to_have_url(re.compile(rf"/workorders/{order_id}/repair$"))
    online(tech)
    facts = tech.locator(".wo-facts")
    expect(tech.locator("h1")).to_contain_text(no)
    for fact in ("李四", "iPhone 15", "F2LXK0BBB", "屏幕碎裂", "受理"):
        expect(facts).to_contain_text(fact)
    expect(tech.locator("#wo-sla")).to_be_visible()
    expect(tech.locator("#wo-status")).to_be_in_viewport(ratio=1)  # the facts first, not the intake section
    shots(tech, "repair-accepted", PHONE)
    tech.select_option("#wo-defective", index=1)  # the org's 坏品库
    tech.get_by_role("button", name="直接维修").click()
    expect(tech.locator("#wo-status")).to_have_text("维修中")
    expect(tech).to_have_url(re.compile(rf"/workorders/{order_id}/repair$"))
    tech.select_option("#wo-line-code", value=str(shop["lcd_code"]))
    tech.select_option("#wo-line-wh", value=str(shop["general"]))
    pick(tech, tech.locator("#wo-line-goods"), "SCR", "SCR")
    tech.locator("#wo-line-qty").fill("2")
    # the form reloads the page (HX-Redirect); the old page's live refresh may show the line just
    # before the new page replaces it, so the row is edited once the new page is there
    with tech.expect_navigation():
        tech.get_by_role("button", name="添加").click()
    expect(tech.locator("#wo-lines tbody tr")).to_have_count(1)
    line = tech.locator("#wo-lines tbody tr").first
    expect(line).to_contain_text("iPhone 15 屏幕")
    expect(line.locator("[data-stock]")).to_have_text("5")  # the stock it can take
    # the quantity back to one in its row, and a labour line added and deleted (with the confirm)
    line.locator('input[name="qty"]').fill("1")
    tech.locator(".page-header h1").click()  # the field loses the focus, its change unsaved
    # a live refresh meanwhile (the front desk edits the order) does not throw the typing away
    with tech.expect_response(lambda r: f"/workorders/{order_id}/repair" in r.url and r.request.method == "GET"):
        admin_api.call("PATCH", f"/api/v1/work-orders/{order_id}", json={"remark": "客户催修"})
    expect(line.locator('input[name="qty"]')).to_have_value("1")
    with tech.expect_navigation():  # the page comes back with the change
        line.get_by_role("button", name="修改").click()
    expect(tech.locator('#wo-lines input[name="qty"]')).to_have_value("1")
    tech.select_option("#wo-line-code", value=str(shop["diag_code"]))
    tech.select_option("#wo-line-wh", value="")
    tech.get_by_role("button", name="添加").click()
    expect(tech.locator("#wo-lines tbody tr")).to_have_count(2)
    tech.once("dialog", lambda d: d.accept())
    tech.locator("#wo-lines tbody tr").nth(1).get_by_role("button", name="删除").click()
    expect(tech.locator("#wo-lines tbody tr")).to_have_count(1)
    # the front desk adds issued goods: the technician's page shows them live, stock and all
    issued = {"warehouse_id": shop["general"], "goods_id": shop["battery"], "qty": 1}
    admin_api.call("PATCH", f"/api/v1/work-orders/{order_id}", json={"issued_lines": [issued]})
    expect(tech.locator("#wo-lines tbody tr")).to_have_count(2, timeout=LIVE)
    expect(tech.locator("#wo-lines tbody tr").nth(1)).to_contain_text("受理领用")
    no_sideways(tech)
    shots(tech, "repair-repairing", PHONE)
    tech.select_option("#wo-result", index=0)
    tech.once("dialog", lambda d: d.accept())
    tech.get_by_role("button", name="维修完毕").click()
    expect(tech.locator("#wo-status")).to_have_text("维修完毕")
    expect(tech).to_have_url(re.compile(rf"/workorders/{order_id}/repair$"))
    no_sideways(tech)
    assert stock(admin_api, shop["general"], shop["screen"]) == 4
    assert stock(admin_api, shop["general"], shop["battery"]) == 4
    assert stock(admin_api, shop["defective"], shop["screen"]) == 1

    tech.goto("/workorders/mine")
    online(tech)
    expect(tech.locator(f'.wo-mine-item[data-no="{no}"]')).to_contain_text("维修完毕")

    # --- the front desk closes it by mail; it leaves the technician's list live -----------------------
    desk.goto(f"/workorders/{order_id}")
    expect(desk.locator("#wo-status")).to_have_text("维修完毕")
    shots(desk, "detail-repaired", DESKTOP)
    desk.select_option("#wo-method", value="mail")
    desk.locator("#wo-carrier").fill("顺丰")
    desk.locator("#wo-tracking").fill("SF1234567890")
    desk.select_option("#wo-pay", value="cash")
    desk.get_by_role("button", name="结单").click()
    expect(desk).to_have_url(re.compile(r"/workorders/\d+/closing-receipt$"))
    closed = admin_api.call("GET", f"/api/v1/work-orders/{order_id}")
    assert (closed["status"], closed["closing_method"], closed["carrier"], closed["tracking_no"]) == (
        "closed",
        "mail",
        "顺丰",
        "SF1234567890",
    )
    expect(tech.locator(f'.wo-mine-item[data-no="{no}"]')).to_have_count(0, timeout=LIVE)
