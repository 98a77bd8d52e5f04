"""Issue 15 on the queue screens, in real browsers: the hall TV (1920×1080) is readable without a
click and asks for voice with a small button in its header only where the browser needs a
gesture to speak; a TV started with Chrome's --autoplay-policy=no-user-gesture-required speaks a
call without any click; the kiosk's keypad (820×1180 and 390×844) takes a mainland mobile number
only, says why in place and keeps the number for correcting. speechSynthesis is test_queue_live's
stub, which refuses like Chrome until a click unless the browser may play sound unprompted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import CHROMIUM_ARGS, IPAD, PHONE, new_page, screenshot, until
from tests.e2e.test_queue_live import LIVE, SPEECH_STUB, TV, Q, connected, spoken, wait_spoken

AUTOPLAY = "--autoplay-policy=no-user-gesture-required"


@pytest.fixture
def autoplay_browser(chromium, live_server) -> Iterator:
    """A Chromium started as the README tells a hall TV's to be: sound without a gesture."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=[*CHROMIUM_ARGS, AUTOPLAY]
        )
        try:
            yield instance
        finally:
            instance.close()


def queue(admin_api) -> dict:
    """Services A 维修 and B 取机, counter 1 named after its service (the TV said "维修 · 维修"),
    a TV and a kiosk."""
    a = admin_api.call("POST", f"{Q}/services", 201, json={"name": "维修", "prefix": "A"})
    b = admin_api.call("POST", f"{Q}/services", 201, json={"name": "取机", "prefix": "B", "sort_order": 1})
    counter = admin_api.call(
        "POST", f"{Q}/counters", 201, json={"number": 1, "name": "维修", "service_ids": [a["id"], b["id"]]}
    )
    tv = admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "tv", "name": "大厅电视"})
    kiosk = admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "kiosk", "name": "门口取号机"})
    return {"a": a, "b": b, "counter": counter, "tv": tv, "kiosk": kiosk}


def call_next(admin_api, w: dict) -> dict:
    auth = {"Authorization": f"Bearer {w['kiosk']['token']}"}
    admin_api.call("POST", f"{Q}/tickets", 201, json={"service_id": w["a"]["id"]}, headers=auth)
    return admin_api.call("POST", f"{Q}/counters/{w['counter']['id']}/call-next")


def readable(tv: Page, selector: str) -> None:
    """The element is on screen and nothing lies over it: the topmost element at its centre is
    itself or inside it, and no filter (blur) is on it or around it. Measured in one evaluation
    and polled, since the board is fetched again (and swapped) once the socket opens."""
    check = (
        f"(() => {{ const el = document.querySelector({selector!r}); if (!el) return 'missing';"
        " const box = el.getBoundingClientRect(); if (!box.height) return 'not shown';"
        f" if (box.top < 0 || box.bottom > {TV['height']}) return 'off screen ' + box.top + '..' + box.bottom;"
        " const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);"
        " if (!top || (top !== el && !el.contains(top))) return 'covered';"
        " for (let e = el; e; e = e.parentElement) { const s = getComputedStyle(e);"
        " if (s.filter !== 'none' || s.backdropFilter !== 'none') return 'blurred'; }"
        " return ''; })()"
    )
    import time

    deadline = time.monotonic() + 10
    while (reason := tv.evaluate(check)) and time.monotonic() < deadline:
        tv.wait_for_timeout(100)
    assert not reason, f"{selector}: {reason}"


def test_the_tv_is_readable_without_a_click_and_asks_for_voice_in_a_corner(browser, live_server, admin_api):
    w = queue(admin_api)
    call_next(admin_api, w)  # A001 at counter 1, before the TV is switched on (after a power cut)
    tv = new_page(browser, live_server, TV)
    tv.add_init_script(SPEECH_STUB)
    tv.goto(f"/queue/tv/{w['tv']['token']}")
    connected(tv)

    # the board, at once: the number being called, its counter, the service said once
    expect(tv.locator("#tv-current [data-no]")).to_have_text("A001")
    expect(tv.locator("#tv-current [data-counter]")).to_have_text("1")
    expect(tv.locator("#tv-current [data-meta]")).to_have_text("维修")
    for selector in ("#tv-current [data-no]", "#tv-current [data-counter]", "#tv-waiting-total", ".q-tv-recent"):
        readable(tv, selector)

    # this browser needs a gesture before it speaks: a small button in the header says so
    button = tv.locator("#q-tv-voice")
    expect(button).to_be_visible()
    expect(button).to_have_text("点击开启语音")
    box, header = button.bounding_box(), tv.locator(".q-tv-header").bounding_box()
    assert box["height"] <= 64 and box["width"] <= 320, box
    assert box["y"] >= header["y"] and box["y"] + box["height"] <= header["y"] + header["height"], (box, header)
    screenshot(tv, "queue-tv-no-click")

    # a call meanwhile: refused by the browser, still on the board, the button stays
    second = call_next(admin_api, w)
    expect(tv.locator("#tv-current [data-no]")).to_have_text(second["no"], timeout=LIVE)
    until(tv, "window.__refused.length > 0", LIVE)
    assert spoken(tv) == []
    expect(button).to_be_visible()

    # one click: the latest call is said (twice), the button goes
    button.click()
    expect(button).to_be_hidden()
    wait_spoken(tv, [f"请 {second['no']} 号到 1 号窗口"] * 2)
    third = call_next(admin_api, w)
    wait_spoken(tv, [f"请 {second['no']} 号到 1 号窗口"] * 2 + [f"请 {third['no']} 号到 1 号窗口"] * 2, LIVE)
    assert not tv.evaluate("window.__overlap") and not tv.evaluate("window.__cancelled")


def test_a_tv_started_with_autoplay_allowed_speaks_without_a_click(autoplay_browser, live_server, admin_api):
    w = queue(admin_api)
    tv = new_page(autoplay_browser, live_server, TV)
    tv.add_init_script(SPEECH_STUB)
    tv.goto(f"/queue/tv/{w['tv']['token']}")
    connected(tv)
    expect(tv.locator(".q-tv-current-none")).to_have_text("请稍候")
    expect(tv.locator("#q-tv-voice")).to_be_hidden()  # nothing to click

    called = call_next(admin_api, w)
    expect(tv.locator("#tv-current [data-no]")).to_have_text(called["no"], timeout=LIVE)
    wait_spoken(tv, [f"请 {called['no']} 号到 1 号窗口"] * 2, LIVE)
    assert tv.evaluate("window.__refused") == []
    expect(tv.locator("#q-tv-voice")).to_be_hidden()
    screenshot(tv, "queue-tv-autoplay")


def keys(kiosk: Page, digits: str) -> None:
    for digit in digits:
        kiosk.locator(f'#kiosk-form .q-kiosk-key[data-key="{digit}"]').click()


@pytest.mark.parametrize("size", ["ipad", "phone"])
def test_the_kiosk_keypad_takes_a_mobile_number_only(browser, live_server, admin_api, size):
    viewport = IPAD if size == "ipad" else PHONE
    w = queue(admin_api)
    kiosk = new_page(browser, live_server, viewport)
    kiosk.goto(f"/queue/kiosk/{w['kiosk']['token']}")
    connected(kiosk)
    screenshot(kiosk, f"queue-kiosk-start-{size}")
    kiosk.locator(".q-kiosk-service", has_text="维修").click()
    display, error = kiosk.locator("#kiosk-form [data-keypad-display]"), kiosk.locator("#kiosk-error")

    # `139` and 【取号】: the error on the keypad screen, the number kept and marked
    keys(kiosk, "139")
    kiosk.get_by_role("button", name="取号", exact=True).click()
    expect(error).to_have_text("请输入 11 位手机号码")
    expect(kiosk.locator('[data-step="phone"]')).to_be_visible()
    expect(display).to_have_text("139")
    expect(display).to_have_class(r"q-kiosk-display q-kiosk-display-error")
    box = error.bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], box  # in view, in place
    screenshot(kiosk, f"queue-kiosk-phone-error-{size}")
    assert kiosk.evaluate("document.documentElement.scrollHeight <= window.innerHeight"), "the kiosk never scrolls"

    # correcting: a key clears the message; no more than 11 digits go in
    keys(kiosk, "1234")
    expect(error).to_have_text("")
    keys(kiosk, "567899")
    expect(display).to_have_text("139 1234 5678")
    # 11 digits that are no mobile number are refused the same way
    kiosk.locator('#kiosk-form .q-kiosk-key[data-key="clear"]').click()
    keys(kiosk, "12345678901")
    kiosk.get_by_role("button", name="取号", exact=True).click()
    expect(error).to_have_text("请输入 11 位手机号码")
    assert admin_api.call("GET", f"{Q}/tickets")["total"] == 0

    kiosk.locator('#kiosk-form .q-kiosk-key[data-key="clear"]').click()
    keys(kiosk, "13912345678")
    kiosk.get_by_role("button", name="取号", exact=True).click()
    expect(kiosk.locator(".q-kiosk-ticket-no")).to_have_text("A001")
    expect(kiosk.locator(".q-kiosk-ticket")).to_contain_text("139****5678")
    screenshot(kiosk, f"queue-kiosk-ticket-{size}")
    assert kiosk.evaluate("document.documentElement.scrollHeight <= window.innerHeight"), "the kiosk never scrolls"


def test_the_kiosk_says_the_services_refusal_of_a_number_in_place(browser, live_server, admin_api):
    """What the service refuses (here a number altered on its way) is said on the keypad screen
    too, the number on the display kept and marked."""
    w = queue(admin_api)
    kiosk = new_page(browser, live_server, IPAD)
    kiosk.goto(f"/queue/kiosk/{w['kiosk']['token']}")
    connected(kiosk)
    kiosk.route(
        "**/tickets",
        lambda route: route.continue_(
            post_data=(route.request.post_data or "").replace("phone=13912345678", "phone=139")
        ),
    )
    kiosk.locator(".q-kiosk-service", has_text="维修").click()
    keys(kiosk, "13912345678")
    with kiosk.expect_response("**/tickets") as answer:
        kiosk.get_by_role("button", name="取号", exact=True).click()
    assert answer.value.status == 400
    expect(kiosk.locator("#kiosk-error")).to_have_text("请输入 11 位手机号码")
    expect(kiosk.locator('[data-step="phone"]')).to_be_visible()
    expect(kiosk.locator("#kiosk-form [data-keypad-display]")).to_have_text("139 1234 5678")
    expect(kiosk.locator("#kiosk-form [data-keypad-display]")).to_have_class(r"q-kiosk-display q-kiosk-display-error")
    assert admin_api.call("GET", f"{Q}/tickets")["total"] == 0
