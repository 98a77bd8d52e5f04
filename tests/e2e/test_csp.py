"""Every page works under the Content-Security-Policy (server/core/headers.py): no inline script,
no inline style, no eval. A tenant admin with every permission opens every page of the menu, a
document, its print view, the goods form, the counter, a kiosk (printing its ticket through the
hidden same-origin frame) and a TV; the test fails on any violation the browser reports
(`securitypolicyviolation` events and console messages) and on any eval htmx was refused.

The handlers that left the templates for static/js/app.js (data-* attributes) are used once
each, and the live regions whose hx-trigger filters became data-live-* attributes are shown to
refresh on their own events. A page of another site cannot frame ours. Screenshots go to
var/screenshots/csp-*.png."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from server.core import permissions
from server.masterdata.services import warehouses
from tests.e2e.conftest import DESKTOP, IPAD, login, new_page, screenshot, until
from tests.e2e.test_goods_pages import workbook
from tests.masterdata.helpers import chain, make_goods
from tests.system.helpers import service_org

ONLINE = re.compile(r"\bonline\b")
Q = "/api/v1/queue"

# Runs in every frame before its own scripts (through CDP: the CSP does not apply to it).
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " refused " + (e.blockedURI || "?") + " in " +
    e.sourceFile + ":" + e.lineNumber + " " + e.sample);
});
document.addEventListener("htmx:evalDisallowedError", function (e) {
  window.__cspViolations.push("htmx wanted eval on " + String(e.target.outerHTML).slice(0, 300));
});
window.print = function () { window.__printed = (window.__printed || 0) + 1; };
"""


@pytest.fixture
async def world(tenant) -> dict:
    """A part under Apple › iPhone › iPhone 15 (and a second one), the head office's 通用库, and a
    level-2 branch 深圳网点 with a level-3 one under it (credit accounts, store prices, pickers)."""
    *_, iphone15 = await chain(tenant, "category", "Apple", "iPhone", "iPhone 15")
    screen = await make_goods(tenant, "IP15-SCR", iphone15["id"], name="iPhone 15 屏幕总成", unit="片")
    battery = await make_goods(tenant, "IP15-BAT", iphone15["id"], name="iPhone 15 电池", unit="块")
    general = await warehouses.create(tenant, {"code": "HQ-GEN", "name": "通用库", "type": "general"})
    await warehouses.assign(tenant, [general["id"]], [tenant.org_id])
    shenzhen = await service_org(tenant, "SZ", tenant.org_id, name="深圳网点", level=2)
    await service_org(tenant, "SZFT", shenzhen["id"], name="福田网点", level=3)
    return {"screen": screen["id"], "battery": battery["id"], "general": general["id"], "shenzhen": shenzhen["id"]}


class Watch:
    """The CSP trouble a page reports: what the init script collects in each frame, and the
    console messages that name the policy (the browser's own account of a refusal)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console.append(f"page error: {exc}"))

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text or "evalDisallowed" in message.text:
            self.console.append(message.text)

    def clean(self, what: str) -> None:
        """Once the page has settled: nothing was refused in any of its frames."""
        self.page.wait_for_load_state("load")
        if self.page.locator("#live-dot").count():
            expect(self.page.locator("#live-dot")).to_have_class(ONLINE)  # the socket, under connect-src
        self.page.wait_for_timeout(150)
        found = list(self.console)
        for frame in self.page.frames:
            found += frame.evaluate("window.__cspViolations || []")
        assert not found, f"{what}: {found}"


def page_with_watch(browser, live_server, viewport: dict = DESKTOP) -> tuple[Page, Watch]:
    page = new_page(browser, live_server, viewport)
    page.context.add_init_script(WATCH)
    return page, Watch(page)


def visit(page: Page, watch: Watch, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, (url, response and response.status)
    assert "script-src 'self'" in response.headers["content-security-policy"], url
    watch.clean(url)


def menu_urls() -> list[str]:
    return [p.url for module in permissions.tree() for p in module.children if p.url]


def inbound(api, world: dict, *lines: tuple[str, int]) -> dict:
    """A purchase inbound draft into 通用库 with (goods, qty) lines at cost 10."""
    body = {"type": "purchase", "warehouse_id": world["general"]}
    body["lines"] = [{"goods_id": world[goods], "qty": qty, "cost_price": "10"} for goods, qty in lines]
    return api.call("POST", "/api/v1/inbounds", 201, json=body)


def add_line(api, doc: dict, world: dict, goods: str, qty: int) -> None:
    line = {"goods_id": world[goods], "qty": qty, "cost_price": "10"}
    api.call("POST", f"/api/v1/inbounds/{doc['id']}/lines", 201, json=line)


def confirm(api, url: str) -> None:
    api.call("POST", f"{url}/submit")
    api.call("POST", f"{url}/confirm")


def test_every_page_works_under_the_csp(world, browser, live_server, admin_api):
    draft = inbound(admin_api, world, ("screen", 2), ("battery", 3))
    stocked = inbound(admin_api, world, ("screen", 5))
    confirm(admin_api, f"/api/v1/inbounds/{stocked['id']}")
    recharge = admin_api.call(
        "POST", "/api/v1/credit/recharges", 201, json={"lines": [{"org_id": world["shenzhen"], "amount": "100"}]}
    )
    service = admin_api.call("POST", f"{Q}/services", 201, json={"name": "维修", "prefix": "A"})
    counter = admin_api.call("POST", f"{Q}/counters", 201, json={"number": 1, "service_ids": [service["id"]]})
    kiosk_device = admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "kiosk", "name": "门口取号机"})
    tv_device = admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "tv", "name": "大厅电视"})

    page, watch = page_with_watch(browser, live_server)
    page.on("dialog", lambda d: d.accept())  # hx-confirm
    visit(page, watch, "/login")
    login(page, "admin@ACME")
    watch.clean("home")

    # --- every page of the menu, and the pages behind them -------------------------------------------
    urls = menu_urls()
    assert len(urls) >= 20 and "/system/roles" in urls and "/queue/counter" in urls
    for url in [
        *urls,
        "/account/otp",
        "/account/password",
        "/masterdata/goods/new",
        "/inventory/inbounds/new",
        f"/inventory/inbounds/{stocked['id']}",
        f"/credit/recharges/{recharge['id']}",
        f"/credit/accounts/{world['shenzhen']}",
        f"/queue/counter?counter_id={counter['id']}",
        "/workorders/intake",
    ]:
        visit(page, watch, url)
    page.goto("/no-such-page")  # the error page
    watch.clean("404 page")

    # --- an inbound draft: 全选 (data-check-all), and its lines refresh on the document's own event ------
    visit(page, watch, f"/inventory/inbounds/{draft['id']}")
    boxes = page.locator("#line-table tbody input[name=line_ids]")
    expect(boxes).to_have_count(2)
    page.locator("#line-table thead input[data-check-all]").check()
    for box in boxes.all():
        expect(box).to_be_checked()
    page.locator("#line-table thead input[data-check-all]").uncheck()
    for box in boxes.all():
        expect(box).not_to_be_checked()
    # data-live-ref: another document's event leaves the lines alone, this document's refreshes them
    refreshes = []
    page.on("request", lambda r: refreshes.append(r.url) if f"/inbounds/{draft['id']}?shown=" in r.url else None)
    other = inbound(admin_api, world)
    add_line(admin_api, other, world, "screen", 1)
    page.wait_for_timeout(600)  # past the region's 200 ms delay: a refresh would have been asked for
    add_line(admin_api, draft, world, "screen", 7)
    expect(boxes).to_have_count(3)
    assert len(refreshes) == 1, refreshes
    watch.clean("inbound draft")

    # the print view: its own style sheet, and its button (data-print-page)
    visit(page, watch, f"/inventory/inbounds/{draft['id']}/print")
    assert page.locator(".sheet").evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 255, 255)"
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") == 1
    screenshot(page, "csp-inventory-print")

    # --- the stock moves dialog refreshes while open (data-live="stock" inside a dialog) ---------------
    visit(page, watch, "/inventory/stock")
    page.locator('#stock-table tr[data-code="IP15-SCR"]').click()
    moves = page.locator("#modal dialog[open] #moves-table tbody tr")
    expect(moves).to_have_count(1)
    confirm(admin_api, f"/api/v1/inbounds/{other['id']}")
    expect(moves).to_have_count(2)
    watch.clean("stock moves dialog")

    # --- credit: the account's page follows its own account --------------------------------------------
    visit(page, watch, f"/credit/accounts/{world['shenzhen']}")
    expect(page.locator("#stat-balance")).to_have_text("0.0000")
    confirm(admin_api, f"/api/v1/credit/recharges/{recharge['id']}")
    expect(page.locator("#stat-balance")).to_have_text("100.0000")
    watch.clean("credit account")

    # --- masterdata: a tree's inline editor and its 取消 (data-live-signal) -----------------------------
    visit(page, watch, "/masterdata/categories")
    page.locator(".page-header").get_by_role("button", name="添加").click()
    expect(page.locator("tr.editing")).to_have_count(1)
    page.locator("tr.editing").get_by_role("button", name="取消").click()
    expect(page.locator("tr.editing")).to_have_count(0)
    indent = page.locator('#rows tr[data-name="iPhone 15"] .tree-indent')
    assert indent.evaluate("el => getComputedStyle(el).paddingLeft") == "48px"  # depth 3: 2 × 1.5rem
    watch.clean("category tree")

    # the goods form: per-store pricing (data-shows), store rows (data-remove-closest), a picker whose
    # options are indented by data-depth, a goods type added with Enter (data-enter-clicks) and one
    # abandoned (data-remove-closest)
    visit(page, watch, "/masterdata/goods/new")
    expect(page.locator("#store-rows")).to_be_hidden()
    page.check("#per-store")
    expect(page.locator("#store-rows")).to_be_visible()
    for _ in range(2):
        page.get_by_role("button", name="添加店铺").click()
    rows = page.locator(".store-price-row")
    expect(rows).to_have_count(2)
    rows.first.locator(".picker-input").click()
    option = page.locator(".picker-list:visible .picker-option", has_text="福田网点")
    expect(option).to_be_visible()
    assert option.evaluate("el => getComputedStyle(el).paddingLeft") == "44px"  # 福田网点 at depth 3: 12px + 2 × 16px
    option.click()
    rows.first.locator("input[name=store_order_price]").fill("99.5")
    screenshot(page, "csp-goods-form")
    rows.last.get_by_role("button", name="删除").click()
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".picker-input")).to_have_value(re.compile("福田网点"))
    page.uncheck("#per-store")
    expect(page.locator("#store-rows")).to_be_hidden()
    page.locator("#goods-type-field").get_by_role("button", name="自定义").click()
    page.fill("input[name=goods_type_name]", "屏幕组件")
    page.press("input[name=goods_type_name]", "Enter")
    expect(page.locator("#goods-type option:checked")).to_have_text("屏幕组件")
    expect(page).to_have_url(re.compile(r"/masterdata/goods/new$"))  # Enter did not submit the goods form
    page.locator("#goods-type-field").get_by_role("button", name="自定义").click()
    expect(page.locator("#goods-type-inline")).to_have_count(1)
    page.locator("#goods-type-inline").get_by_role("button", name="取消").click()
    expect(page.locator("#goods-type-inline")).to_have_count(0)
    watch.clean("goods form")

    # the import dialog empties its previous report when it sends again (data-clear-on-request)
    visit(page, watch, "/masterdata/goods")
    page.locator(".page-header").get_by_role("button", name="导入").click()
    dialog = page.locator("#modal dialog[open]")
    bad = {"货品编码": "IMP-2", "货品名称": "导入的屏幕", "品类": "Apple/没有这个", "采购成本": "0.1000"}
    dialog.locator("input[type=file]").set_input_files(workbook(bad))
    dialog.get_by_role("button", name="导入").click()
    expect(dialog.locator("#goods-import-errors tbody tr")).to_have_count(1)
    page.evaluate(
        """document.addEventListener("htmx:beforeSend", function (evt) {
             if (evt.detail.elt.id !== "goods-import") return;  // the form's own send, not the job's polls
             window.__reportAtSend = document.getElementById("goods-import-report").innerHTML.trim();
           })"""
    )
    dialog.get_by_role("button", name="导入").click()
    expect(dialog.locator("#goods-import-errors tbody tr")).to_have_count(1)
    assert page.evaluate("window.__reportAtSend") == ""
    watch.clean("goods import")

    # --- 排队设置: the regions refresh on their own kinds, the device link is copied ---------------------
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    visit(page, watch, "/queue/settings")
    admin_api.call("POST", f"{Q}/services", 201, json={"name": "取机", "prefix": "B"})
    expect(page.locator('#q-set-service-table tr[data-prefix="B"]')).to_contain_text("取机")  # kind settings
    admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "tv", "name": "二楼电视"})
    expect(page.locator("#q-set-device-table tr[data-device]")).to_contain_text(["二楼电视"])  # kind devices
    page.get_by_role("button", name="新增设备").click()
    dialog = page.locator("#modal dialog[open]")
    dialog.locator(".q-set-kind", has_text="叫号屏").click()
    dialog.locator("#q-set-dname").fill("三楼电视")
    dialog.get_by_role("button", name="确认").click()
    link = page.locator("#modal dialog.q-set-link[open]")
    url = link.locator("#q-set-url").input_value()
    link.locator("#q-set-url").focus()  # data-select-on-focus
    assert link.locator("#q-set-url").evaluate("el => [el.selectionStart, el.selectionEnd]") == [0, len(url)]
    link.get_by_role("button", name="复制链接").click()  # data-copy-target
    expect(page.locator("#toast")).to_contain_text("已复制设备链接")
    assert page.evaluate("navigator.clipboard.readText()") == url
    screenshot(page, "csp-queue-device-link")
    watch.clean("queue settings")

    # --- 修改密码: the form is emptied once saved (data-reset-on-success) --------------------------------
    visit(page, watch, "/account/password")
    page.fill("#old_password", "admin1234")
    page.fill("#new_password", "admin5678")
    page.fill("#confirm", "admin5678")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#toast")).to_contain_text("密码")
    for field in ("#old_password", "#new_password", "#confirm"):
        expect(page.locator(field)).to_have_value("")
    watch.clean("password")

    # --- the kiosk (its ticket printed through the hidden same-origin frame) and the TV ----------------
    kiosk, kiosk_watch = page_with_watch(browser, live_server, IPAD)
    visit(kiosk, kiosk_watch, f"/queue/kiosk/{kiosk_device['token']}")
    until(kiosk, "window.queueScreen && window.queueScreen.socket !== null")
    kiosk.locator(".q-kiosk-service", has_text="维修").click()
    kiosk.get_by_role("button", name="不留手机号，直接取号").click()
    expect(kiosk.locator(".q-kiosk-ticket-no")).to_have_text("A001")
    kiosk.get_by_role("button", name="打印小票").click()
    ticket = kiosk.frame_locator("#kiosk-print")
    expect(ticket.locator(".q-ticket-no")).to_have_text("A001")  # frame-ancestors 'self' lets it in
    printed = next(f for f in kiosk.frames if "/tickets/" in f.url)
    until(printed, "window.__printed === 1")
    screenshot(kiosk, "csp-kiosk-ticket")
    kiosk_watch.clean("kiosk")

    tv, tv_watch = page_with_watch(browser, live_server, {"width": 1920, "height": 1080})
    visit(tv, tv_watch, f"/queue/tv/{tv_device['token']}")
    until(tv, "window.queueScreen && window.queueScreen.socket !== null")
    expect(tv.locator("#tv-waiting-total")).to_have_text("1")
    screenshot(tv, "csp-tv")
    tv_watch.clean("tv")
    tv.goto("/queue/tv/dev_not-a-device")  # the full-screen notice of a bad link
    expect(tv.locator(".q-screen-notice")).to_be_visible()
    tv_watch.clean("bad device link")


@contextmanager
def other_site(html: str) -> Iterator[str]:
    """A page of another origin (another port), served from this machine."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            body = html.encode() if self.path == "/" else b"<p>inner</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_another_site_cannot_frame_our_pages(browser, live_server):
    """frame-ancestors 'self' (and X-Frame-Options for older browsers): the role editor, or any
    page of ours, is not shown inside another origin's frame, while that origin's own frame is."""
    page = new_page(browser, live_server)
    html = f'<!doctype html><iframe src="{live_server.url}/system/roles"></iframe><iframe src="/inner"></iframe>'
    with other_site(html) as evil:
        page.goto(evil)
        page.wait_for_load_state("load")
        urls = sorted(f.url for f in page.frames if f is not page.main_frame)
    assert urls == ["chrome-error://chromewebdata/", f"{evil}/inner"], urls
