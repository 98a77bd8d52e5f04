"""【排队设置】 and 【排队统计】 in a real browser: the admin adds services A 维修 and B 取机 (a
duplicate letter is refused inside the dialog), counter 1 serving both, and a TV device whose
one-time dialog shows its URL and QR code; that URL opens the TV board in another browser; the
device is revoked and its link stops working. Then 【排队统计】 shows the day's table.
Screenshots (the device dialog, the settings page, the statistics) go to var/screenshots/."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, pick, screenshot


def online(page: Page) -> None:
    expect(page.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))


def add_service(page: Page, prefix: str, name: str) -> None:
    page.get_by_role("button", name="新增业务类型").click()
    dialog = page.locator("#modal dialog[open]")
    dialog.locator("#q-set-prefix").fill(prefix)
    dialog.locator("#q-set-name").fill(name)
    dialog.get_by_role("button", name="确认").click()


def test_set_up_a_queue_open_the_tv_and_read_the_statistics(browser, live_server, admin_api):
    page = new_page(browser, live_server)
    page.on("dialog", lambda d: d.accept())  # hx-confirm of 停用
    login(page, "admin@ACME")
    page.locator("nav.menu").get_by_role("link", name="排队设置", exact=True).click()
    expect(page).to_have_url(re.compile(r"/queue/settings$"))
    online(page)
    expect(page.locator("#q-set-service-table")).to_contain_text("还没有业务类型")

    add_service(page, "a", "维修")
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    expect(page.locator('#q-set-service-table tr[data-prefix="A"]')).to_contain_text("维修")
    add_service(page, "A", "取机")  # the letter is taken: said inside the dialog, which stays open
    dialog = page.locator("#modal dialog[open]")
    expect(dialog.locator(".form-error")).to_have_text("号码字母 A 已被本机构的其他业务使用")
    dialog.locator("#q-set-prefix").fill("B")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator('#q-set-service-table tr[data-prefix="B"]')).to_contain_text("取机")
    expect(page.locator("#toast")).to_contain_text("已新增业务类型 B 取机")

    page.get_by_role("button", name="新增窗口").click()
    dialog = page.locator("#modal dialog[open]")
    dialog.locator("#q-set-number").fill("1")
    dialog.locator("#q-set-cname").fill("综合窗口")
    for box in dialog.locator('input[name="service_ids"]').all():
        box.check()
    screenshot(page, "queue-settings-counter-form")
    dialog.get_by_role("button", name="确认").click()
    counter = page.locator('#q-set-counter-table tr[data-number="1"]')
    expect(counter.locator(".q-set-chip")).to_have_text(["A维修", "B取机"])
    expect(counter).to_contain_text("综合窗口")

    page.get_by_role("button", name="新增设备").click()
    dialog = page.locator("#modal dialog[open]")
    dialog.locator(".q-set-kind", has_text="叫号屏").click()
    dialog.locator("#q-set-dname").fill("大厅电视")
    screenshot(page, "queue-settings-device-form")
    dialog.get_by_role("button", name="确认").click()
    link = page.locator("#modal dialog.q-set-link[open]")
    expect(link).to_be_visible()
    expect(link.locator(".q-set-qr svg")).to_be_visible()
    expect(link).to_contain_text("链接只显示这一次")
    url = link.locator("#q-set-url").input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/queue/tv/dev_[\w-]+", url), url
    expect(page.locator("#q-set-device-table tr[data-device]")).to_contain_text(["大厅电视"])
    screenshot(page, "queue-settings-device-dialog")
    page.set_viewport_size(IPAD)
    screenshot(page, "queue-settings-device-dialog-ipad")
    page.set_viewport_size(DESKTOP)

    # the URL opens the TV board in a browser that has never logged in
    tv = new_page(browser, live_server, {"width": 1920, "height": 1080})
    tv.goto(url)
    expect(tv.locator("#tv-board")).to_be_visible()
    expect(tv.locator("body")).to_contain_text("维修")

    link.get_by_role("button", name="我已保存，关闭").click()
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    device = page.locator("#q-set-device-table tr[data-device]", has_text="大厅电视")
    expect(device.locator(".badge")).to_have_text("正常")
    screenshot(page, "queue-settings", full_page=True)

    device.get_by_role("button", name="停用").click()
    expect(device.locator(".badge")).to_have_text("已停用")
    expect(device.get_by_role("button", name="停用")).to_have_count(0)
    tv.reload()
    expect(tv.locator("body")).to_contain_text("此设备链接已失效")

    # another org's settings: the branch has none of the head office's
    admin_api.call("POST", "/api/v1/orgs", 201, json={"code": "B2", "name": "B2网点", "parent_id": admin_api.hq_id()})
    pick(page, page.locator("#q-set-org-picker"), "B2", "B2网点")
    expect(page).to_have_url(re.compile(r"/queue/settings\?org_id=\d+$"))
    expect(page.locator("#q-set-services-title")).to_contain_text("B2网点")
    expect(page.locator("#q-set-service-table")).to_contain_text("还没有业务类型")
    expect(page.locator("#q-set-device-table")).to_contain_text("还没有设备")

    # a few tickets through the API, one served at counter 1, then the statistics
    services = admin_api.call("GET", "/api/v1/queue/services")["items"]
    counter_id = admin_api.call("GET", "/api/v1/queue/counters")["items"][0]["id"]
    for service in (services[0], services[0], services[1]):
        admin_api.call("POST", "/api/v1/queue/tickets", 201, json={"service_id": service["id"]})
    called = admin_api.call("POST", f"/api/v1/queue/counters/{counter_id}/call-next")
    admin_api.call("POST", f"/api/v1/queue/tickets/{called['id']}/start")
    admin_api.call("POST", f"/api/v1/queue/tickets/{called['id']}/finish")

    page.locator("nav.menu").get_by_role("link", name="排队统计", exact=True).click()
    expect(page).to_have_url(re.compile(r"/queue/stats$"))
    expect(page.locator('[data-figure="tickets"] .stat-value')).to_have_text("3")
    expect(page.locator('[data-figure="served"] .stat-value')).to_have_text("1")
    expect(page.locator("#q-stats-table tbody tr[data-day]")).to_have_count(3)
    expect(page.locator("#q-stats-table tbody tr[data-day]").first).to_contain_text("1 号窗口")
    expect(page.locator("#q-stats-table tfoot")).to_contain_text("合计")
    online(page)
    # a ticket taken now shows without a reload
    admin_api.call("POST", "/api/v1/queue/tickets", 201, json={"service_id": services[1]["id"]})
    expect(page.locator('[data-figure="tickets"] .stat-value')).to_have_text("4")
    screenshot(page, "queue-stats", full_page=True)
    page.set_viewport_size(IPAD)
    screenshot(page, "queue-stats-ipad", full_page=True)

    # a period too long is said on the page, with the filters still there to fix it
    page.set_viewport_size(DESKTOP)
    page.goto("/queue/stats?date_from=2025-01-01&date_to=2025-12-31")
    expect(page.locator("#q-stats-results .form-error")).to_have_text("统计区间最长 92 天")
    page.locator('input[name="date_from"]').fill("2025-12-01")
    expect(page.locator("#q-stats-table")).to_contain_text("所选期间没有取号记录")
