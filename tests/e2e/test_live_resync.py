"""Pages resynchronise by state on every socket open (issue 13 item 6), and live updates come
back after a Redis outage with the true state (issue 12 item 1), in real browsers.

- A change committed after a page was drawn but before its socket subscribed shows without
  any later event: the page re-fetches its live regions on every open, the first included.
- Redis killed under an open page and a queue TV: both show 重新连接中… (the server tells the
  sockets); once Redis is back (with its append-only file, so the sessions are still there)
  the server closes them with 1012, they reconnect, and each shows what changed meanwhile,
  without a reload.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import CHROMIUM_ARGS, Api, login, new_page, screenshot, until
from tests.realtime.throwaway_redis import ThrowawayRedis, needs_redis_server

BACK = 15_000  # ms: an upper bound for what follows Redis's return (reconnect, refetch)


def online(page: Page) -> None:
    expect(page.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))


def org_row(page: Page, code: str):
    return page.locator(f'#org-table tr[data-org-code="{code}"]')


def test_a_change_committed_before_the_socket_subscribes_shows_without_another_event(browser, live_server, admin_api):
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    hq = admin_api.hq_id()
    held = []

    def hold_until_committed(ws) -> None:
        """The page is drawn and its socket is about to connect: commit a change now, then let
        the socket through. No event about it can reach this socket any more."""
        if not held:
            admin_api.call("POST", "/api/v1/orgs", 201, json={"code": "GAP", "name": "间隙网点", "parent_id": hq})
        held.append(ws.url)
        ws.connect_to_server()

    page.route_web_socket(re.compile(r"/ws$"), hold_until_committed)
    page.goto("/system/orgs")
    online(page)
    assert held, "the page's socket went through the route"
    page.evaluate("window.__sameDocument = true")
    expect(org_row(page, "GAP")).to_contain_text("间隙网点")
    assert page.evaluate("window.__sameDocument === true"), "shown by the resync, not by a reload"


def test_the_resync_keeps_the_page_on_screen(browser, live_server, admin_api):
    """A list's live refresh asks for the page the user is on (#rows-page), not the first."""
    hq = admin_api.hq_id()
    for n in range(21):  # more than a page of 20
        body = {"code": f"PG{n:02d}", "name": f"分页网点{n}", "parent_id": hq}
        admin_api.call("POST", "/api/v1/orgs", 201, json=body)
    total = admin_api.call("GET", "/api/v1/orgs", 200)["total"]
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    held = []

    def hold_until_committed(ws) -> None:  # one more org the resync alone can show
        if not held:
            admin_api.call("POST", "/api/v1/orgs", 201, json={"code": "PGX", "name": "分页新增", "parent_id": hq})
        held.append(ws.url)
        ws.connect_to_server()

    page.route_web_socket(re.compile(r"/ws$"), hold_until_committed)
    page.goto("/system/orgs?page=2")
    online(page)
    expect(page.locator(".pagination")).to_contain_text(f"共 {total + 1} 条")  # refetched by the resync
    expect(page.locator(".pagination .current")).to_have_text("2 / 2")


# --- a Redis outage --------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path, persistent=True)
    yield server
    server.kill()


@pytest.fixture
def on_own_redis(chromium, tenant, redis_server, live_server_factory):
    """A live server on the throwaway Redis, and a Chromium (launched after every async fixture
    is set up, as the shared `browser` fixture does)."""
    from playwright.sync_api import sync_playwright

    redis_server.start()
    server = live_server_factory(redis_url=redis_server.url)
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance, server
        finally:
            instance.close()


@needs_redis_server
def test_pages_and_screens_show_reconnecting_during_a_redis_outage_and_the_truth_after(on_own_redis, redis_server):
    browser, server = on_own_redis
    admin = Api(server.url, "admin@ACME")
    hq = admin.hq_id()
    service = admin.call("POST", "/api/v1/queue/services", 201, json={"name": "维修", "prefix": "A"})
    tv_device = admin.call("POST", "/api/v1/queue/devices", 201, json={"kind": "tv", "name": "大厅电视"})

    page = new_page(browser, server)
    login(page, "admin@ACME")
    page.goto("/system/orgs")
    online(page)
    tv = new_page(browser, server, {"width": 1920, "height": 1080})
    tv.goto(f"/queue/tv/{tv_device['token']}")
    until(tv, "window.queueScreen && window.queueScreen.socket !== null")
    expect(tv.locator("#tv-waiting-total")).to_have_text("0")
    for p in (page, tv):
        p.evaluate("window.__sameDocument = true")

    redis_server.kill()
    expect(page.locator("#live-dot")).to_have_class(re.compile(r"\breconnecting\b"), timeout=BACK)
    expect(page.locator("#live-dot")).to_have_attribute("title", "实时连接：重新连接中…")
    expect(tv.locator("#q-reconnect")).to_be_visible(timeout=BACK)
    expect(tv.locator("#q-reconnect")).to_have_text("重新连接中…")
    screenshot(tv, "live-redis-outage-tv")

    # meanwhile, work goes on through the API (the database is up; bearer tokens need no Redis)
    admin.call("POST", "/api/v1/orgs", 201, json={"code": "OUT", "name": "停机期间网点", "parent_id": hq})
    admin.call("POST", "/api/v1/queue/tickets", 201, json={"service_id": service["id"]})

    redis_server.start()  # the same data back, sessions included (append-only file)
    expect(org_row(page, "OUT")).to_contain_text("停机期间网点", timeout=BACK)
    online(page)
    expect(tv.locator("#tv-waiting-total")).to_have_text("1", timeout=BACK)
    expect(tv.locator("#q-reconnect")).to_be_hidden()
    screenshot(page, "live-redis-back-page")
    for p in (page, tv):
        assert p.evaluate("window.__sameDocument === true"), "updated in place, not by a reload"

    # and live updates flow again
    admin.call("POST", "/api/v1/orgs", 201, json={"code": "NEXT", "name": "恢复之后网点", "parent_id": hq})
    expect(org_row(page, "NEXT")).to_contain_text("恢复之后网点", timeout=BACK)
    admin.close()
