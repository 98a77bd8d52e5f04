"""Idempotency-Key in real browsers (issue 12, item 7): one key per submit intent
(static/js/idempotency.js), so a double-click htmx queues behind the first request, or the
kiosk's 【取号】 tapped again after its answer was lost on the network, is done once. The ticket
and page POSTs are held or cut with `page.route`, so what the test needs to happen before an
answer does happen before it, whatever the machine's speed."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Request, Route, expect

from tests.e2e.conftest import DESKTOP, IPAD, login, new_page

Q = "/api/v1/queue"
TICKETS = re.compile(r"/queue/kiosk/[^/]+/tickets$")


def posts_to(page: Page, pattern: re.Pattern) -> list[Request]:
    """Every POST the page sends to `pattern`, as it sends them."""
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" and pattern.search(r.url) else None)
    return sent


def wait_for(page: Page, condition, what: str) -> None:
    """Let Playwright deliver its events (a route handler's call) until `condition()` holds."""
    for _ in range(200):
        if condition():
            return
        page.wait_for_timeout(25)
    raise AssertionError(f"never happened: {what}")


def kiosk_world(admin_api) -> dict:
    service = admin_api.call("POST", f"{Q}/services", 201, json={"name": "维修", "prefix": "A"})
    device = admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "kiosk", "name": "门口取号机"})
    return {"service": service, "device": device}


def tickets(admin_api) -> list[str]:
    return [t["no"] for t in admin_api.call("GET", f"{Q}/tickets")["items"]]


def test_a_double_click_on_a_page_form_makes_one_draft(browser, live_server, admin_api):
    """【暂存】 of a new recharge clicked twice before the first answer: htmx sends the second
    click after the first answer, with the same key, and gets the same draft back."""
    page = new_page(browser, live_server, DESKTOP)
    login(page, "admin@ACME")
    page.goto("/credit/recharges/new")
    page.fill("#doc-remark", "双击暂存")
    sent = posts_to(page, re.compile(r"/credit/recharges$"))
    held: list[Route] = []
    page.route(re.compile(r"/credit/recharges$"), lambda route: held.append(route) if not held else route.continue_())

    page.locator("#doc-form").get_by_role("button", name="暂存").dblclick()
    wait_for(page, lambda: held, "the first 暂存 reached the network")
    assert len(sent) == 1  # the second click waits behind the first, in htmx
    with page.expect_response(lambda r: len(sent) == 2 and r.request == sent[1]) as second:
        held[0].continue_()
    expect(page).to_have_url(re.compile(r"/credit/recharges/\d+$"))
    expect(page.locator(".page-header h1")).to_contain_text("暂存")

    drafts = admin_api.call("GET", "/api/v1/credit/recharges")["items"]
    assert [d["remark"] for d in drafts] == ["双击暂存"]
    assert len(sent) == 2, "both clicks were sent"
    keys = {r.headers.get("idempotency-key") for r in sent}
    assert len(keys) == 1 and None not in keys, keys
    assert second.value.status == 201 and second.value.headers.get("idempotent-replayed") == "true"
    assert page.url.endswith(f"/credit/recharges/{drafts[0]['id']}")

    # once answered, the next deliberate submit of the same form, unchanged, is a new intent
    saves = posts_to(page, re.compile(rf"/credit/recharges/{drafts[0]['id']}$"))
    for _ in range(2):
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/{drafts[0]['id']}")):
            page.locator("#doc-form").get_by_role("button", name="暂存").click()
    assert len({r.headers["idempotency-key"] for r in saves}) == 2


UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# A kiosk on a LAN address over plain http is no secure context: no crypto.randomUUID there.
NOT_SECURE = """
Object.defineProperty(window, "isSecureContext", {value: false});
Object.defineProperty(Crypto.prototype, "randomUUID", {value: undefined});
"""


def test_a_kiosk_double_tap_makes_one_ticket(browser, live_server, admin_api):
    """Two quick taps on 【不留手机号，直接取号】 while the ticket is on its way: one ticket. The
    kiosk here is no secure context, as on a LAN over http: its keys come from getRandomValues."""
    w = kiosk_world(admin_api)
    kiosk = new_page(browser, live_server, IPAD)
    kiosk.add_init_script(NOT_SECURE)
    kiosk.goto(f"/queue/kiosk/{w['device']['token']}")
    sent = posts_to(kiosk, TICKETS)
    held: list[Route] = []
    kiosk.route(TICKETS, lambda route: held.append(route) if not held else route.continue_())

    kiosk.locator(".q-kiosk-service", has_text="维修").click()
    kiosk.get_by_role("button", name="不留手机号，直接取号").dblclick()
    wait_for(kiosk, lambda: held, "the first tap reached the network")
    held[0].continue_()
    expect(kiosk.locator(".q-kiosk-ticket-no")).to_have_text("A001")
    kiosk.wait_for_load_state("networkidle")
    assert tickets(admin_api) == ["A001"]
    keys = {r.headers.get("idempotency-key") for r in sent}
    assert len(keys) == 1 and UUID4.match(keys.pop() or ""), [r.headers for r in sent]


def test_a_kiosk_retry_after_a_lost_answer_makes_one_ticket(browser, live_server, admin_api):
    """The ticket is made but its answer never reaches the kiosk (the network drops it): the
    customer taps again and sees that same ticket, not a second one. The next customer, who
    sends exactly the same (same service, no phone), gets a ticket of their own."""
    w = kiosk_world(admin_api)
    kiosk = new_page(browser, live_server, IPAD)
    kiosk.goto(f"/queue/kiosk/{w['device']['token']}")
    sent = posts_to(kiosk, TICKETS)
    lost: list[int] = []

    def lose_the_first_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.fetch().status)  # the server makes the ticket…
        route.abort("connectionreset")  # …and its answer is lost on the way back

    kiosk.route(TICKETS, lose_the_first_answer)
    kiosk.locator(".q-kiosk-service", has_text="维修").click()
    kiosk.get_by_role("button", name="不留手机号，直接取号").click()
    expect(kiosk.locator("#kiosk-error")).to_have_text("网络连接失败，请稍后重试")
    assert lost == [201] and tickets(admin_api) == ["A001"]

    kiosk.get_by_role("button", name="不留手机号，直接取号").click()  # the customer tries again
    expect(kiosk.locator(".q-kiosk-ticket-no")).to_have_text("A001")
    assert len(sent) == 2 and sent[0].headers["idempotency-key"] == sent[1].headers["idempotency-key"]
    assert tickets(admin_api) == ["A001"]

    # a customer whose answer was lost walks away; the next one sends the very same request
    kiosk.get_by_role("button", name="完成").click()
    lost.clear()
    kiosk.locator(".q-kiosk-service", has_text="维修").click()
    kiosk.get_by_role("button", name="不留手机号，直接取号").click()
    expect(kiosk.locator("#kiosk-error")).to_have_text("网络连接失败，请稍后重试")
    kiosk.get_by_role("button", name="返回重新选择业务").click()
    kiosk.locator(".q-kiosk-service", has_text="维修").click()
    kiosk.get_by_role("button", name="不留手机号，直接取号").click()
    expect(kiosk.locator(".q-kiosk-ticket-no")).to_have_text("A003")
    assert sent[2].headers["idempotency-key"] != sent[3].headers["idempotency-key"]
    assert sorted(tickets(admin_api)) == ["A001", "A002", "A003"]
