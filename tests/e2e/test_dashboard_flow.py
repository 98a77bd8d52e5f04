"""【看板】 in real browsers: a manager's board (the page `/` shows after login) and a wall
screen's TV mode follow work orders taken in, repaired and closed through the JSON API, without
a reload — across processes when a Redis broker is configured (the changes go to one server,
the browsers watch another). A dropped socket shows 重新连接中… and then the true state.
Screenshots of the desktop board and the TV mode go to var/screenshots/."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from server.queue.services import devices
from tests.conftest import REDIS_URL
from tests.dashboard.helpers import board_world
from tests.e2e.conftest import Api, login, new_page, screenshot, until
from tests.workorders.helpers import intake_body, wo_world

URL = "/api/v1/work-orders"
TV = {"width": 1920, "height": 1080}


@pytest.fixture
async def shop(tenant) -> dict:
    """Parts to repair with, an order taken in three days ago (the trend) and a wall board device."""
    w = await wo_world(tenant, stock=5)
    board = await devices.create(tenant, {"kind": "board", "name": "大厅看板"})
    return w | {"tv_path": board["path"]}


def figure(page: Page, name: str):
    return page.locator(f'#board [data-figure="{name}"]')


def bars_are(page: Page, expected: list[int]) -> None:
    """The status chart draws `expected` (ECharts' own option: the bars in the life cycle's order)."""
    data = "window.weifuBoard.charts['chart-status'].getOption().series[0].data"
    until(page, f"JSON.stringify({data}) === '{json.dumps(expected, separators=(',', ':'))}'")


def test_board_and_tv_follow_orders_live(shop, browser, live_server, live_server_factory):
    w = shop
    # the changes go through another process when a broker joins them
    writer = live_server_factory() if REDIS_URL else live_server
    api = Api(writer.url, "admin@ACME")
    try:
        watcher = new_page(browser, live_server)
        login(watcher, "admin@ACME")  # a manager lands on the board at /
        expect(watcher.locator("h1")).to_contain_text("看板")
        expect(figure(watcher, "today_intake")).to_have_text("0")
        until(watcher, "window.weifuBoard && window.weifuBoard.charts['chart-status']")
        bars_are(watcher, [0, 0, 0, 0, 0])

        tv = new_page(browser, live_server, viewport=TV)
        tv.goto(w["tv_path"])
        expect(figure(tv, "today_intake")).to_have_text("0")
        expect(tv.locator("nav.menu")).to_have_count(0)

        order = api.call("POST", URL, 201, json=intake_body(w))
        expect(figure(watcher, "today_intake")).to_have_text("1")
        bars_are(watcher, [1, 0, 0, 0, 0])
        expect(figure(tv, "today_intake")).to_have_text("1")

        start = {"final_service_type": "in_warranty", "fault_reason_ids": [w["reason"]]}
        api.call("POST", f"{URL}/{order['id']}/start-repair", json=start | {"defective_warehouse_id": w["defective"]})
        bars_are(watcher, [0, 1, 0, 0, 0])
        api.call("POST", f"{URL}/{order['id']}/lines", json={"repair_code_id": w["diag_code"], "qty": 1})
        api.call("POST", f"{URL}/{order['id']}/complete", json={"repair_result": "repaired"})
        bars_are(watcher, [0, 0, 1, 0, 0])
        expect(figure(watcher, "completed_today")).to_have_text("1")
        api.call(
            "POST",
            f"{URL}/{order['id']}/close",
            json={"closing_method": "mail", "carrier": "顺丰", "tracking_no": "SF1"},
        )
        bars_are(watcher, [0, 0, 0, 1, 0])
        expect(figure(watcher, "today_intake")).to_have_text("1")
        expect(figure(tv, "completed_today")).to_have_text("1")
        screenshot(watcher, "dashboard-desktop", full_page=True)
        screenshot(tv, "dashboard-tv")

        # every card links to the list it summarises, with that filter
        watcher.locator("#card-today-intake").click()
        expect(watcher).to_have_url(
            re.compile(r"/workorders\?date_from=\d{4}-\d\d-\d\d&date_to=\d{4}-\d\d-\d\d&org_id=\d+$")
        )
        expect(watcher.locator("#wo-table tr[data-no]")).to_have_count(1)
    finally:
        api.close()


def test_a_dropped_socket_says_so_then_shows_the_true_state(shop, browser, live_server, admin_api):
    w = shop
    routes = []

    def through(ws) -> None:
        routes.append(ws)
        ws.connect_to_server()

    page = new_page(browser, live_server)
    page.route_web_socket(re.compile(r"/ws$"), through)
    login(page, "admin@ACME")
    expect(figure(page, "today_intake")).to_have_text("0")
    until(page, "document.getElementById('live-dot').classList.contains('online')")
    # the next reconnect waits 3 s, so the notice can be seen before it
    page.evaluate("htmx.config.wsReconnectDelay = () => 3000")
    routes[-1].close(code=1012, reason="restart")
    expect(page.locator("#db-reconnect")).to_be_visible()
    expect(page.locator("#db-reconnect")).to_have_text("重新连接中…")
    admin_api.call("POST", URL, 201, json=intake_body(w))  # while no socket listens
    screenshot(page, "dashboard-reconnecting")
    expect(page.locator("#db-reconnect")).to_be_hidden()
    expect(figure(page, "today_intake")).to_have_text("1")
    assert len(routes) == 2


@pytest.fixture
async def full(tenant, client, admin) -> dict:
    """Every section with something in it (tests/dashboard/helpers.py), and a wall board device."""
    w = await board_world(tenant, client, admin)
    board = await devices.create(tenant, {"kind": "board", "name": "大厅看板"})
    return w | {"tv_path": board["path"]}


def test_every_section_on_the_desktop_and_the_tv(full, browser, live_server, admin_api):
    d = admin_api.call("GET", "/api/v1/dashboard")
    cards = {
        "today_intake": d["today_intake"],
        "overdue": d["overdue"]["count"],
        "completed_today": sum(t["count"] for t in d["completed_by_technician"]),
        "queue_waiting": d["queue"]["waiting"],
        "below_safety": d["below_safety"]["count"],
        "credit_low": d["credit"]["low"],
        "in_transit": d["in_transit"]["shipments"],
        "to_receive": d["in_transit"]["to_receive"],
    }
    refused = []  # ECharts styles its elements from script (allowed); nothing may break the CSP
    page = new_page(browser, live_server)
    tv = new_page(browser, live_server, viewport=TV)
    for p in (page, tv):
        p.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    login(page, "admin@ACME")
    tv.goto(full["tv_path"])
    for p in (page, tv):
        for name, value in cards.items():
            expect(figure(p, name)).to_have_text(str(value))
        until(p, "window.weifuBoard.charts['chart-credit']")
        expect(p.locator("#panel-credit tr.db-low")).to_have_count(1)
    screenshot(page, "dashboard-desktop-full", full_page=True)
    screenshot(tv, "dashboard-tv-full")
    # the TV fits its screen: nothing scrolls
    assert tv.evaluate("document.documentElement.scrollHeight <= 1080 && document.documentElement.scrollWidth <= 1920")
    assert refused == []
    # the overdue card opens the list of SLA red orders, most overdue first
    page.locator("#card-overdue").click()
    expect(page).to_have_url(re.compile(r"/workorders\?sla=red&sort=urgency&org_id=\d+$"))
    expect(page.locator("#wo-table tr[data-no]")).to_have_count(cards["overdue"])
