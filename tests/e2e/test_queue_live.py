"""The live queue in real browsers (the issue's acceptance): a kiosk (iPad), a TV (1920×1080) and
the 【叫号】 page at once. A ticket taken on the kiosk shows on the TV and the counter without a
reload; a call on the counter is on the TV within a second and spoken twice; quick calls are
spoken in order and never over each other; a dropped socket shows 重新连接中…, then the board
comes back with what was missed (and announces it); revoking the TV switches it off.
speechSynthesis is stubbed in the TV page: it records what it is asked to say."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, IPAD, PHONE, login, new_page, screenshot, until

TV = {"width": 1920, "height": 1080}
LIVE = 10_000  # ms: a bound for a loaded CI machine; the latency itself is measured in bench/
Q = "/api/v1/queue"

# Replaces the browser's speech: each utterance "lasts" 50 ms; a second speak() before the
# previous one ended (an overlap) or any cancel() is recorded, and the test fails on either. Like
# Chrome, it refuses to speak ("not-allowed", recorded in __refused) until a real click or key on
# the page, unless the browser may play sound without one (--autoplay-policy=no-user-gesture-required):
# told by an AudioContext made before the page's scripts run. (Playwright's evaluate counts as a
# gesture in Chrome; here only a trusted click or key does.)
SPEECH_STUB = """
window.__spoken = [];
window.__refused = [];
window.__overlap = false;
window.__cancelled = false;
(function () {
  var busy = false;
  var probe = new AudioContext();
  var unprompted = probe.state === "running";
  probe.close();
  var gesture = false;
  ["pointerdown", "keydown"].forEach(function (type) {
    window.addEventListener(type, function (evt) { if (evt.isTrusted) gesture = true; }, true);
  });
  function Utterance(text) { this.text = text; this.lang = ""; this.rate = 1; this.onend = null; this.onerror = null; }
  var synth = {
    speak: function (u) {
      if (!unprompted && !gesture) {
        window.__refused.push(u.text);
        setTimeout(function () { if (u.onerror) u.onerror({error: "not-allowed"}); }, 0);
        return;
      }
      if (busy) window.__overlap = true;
      busy = true;
      window.__spoken.push({text: u.text, lang: u.lang, rate: u.rate});
      setTimeout(function () { busy = false; if (u.onend) u.onend({}); }, 50);
    },
    cancel: function () { window.__cancelled = true; },
    getVoices: function () { return []; }
  };
  Object.defineProperty(window, "speechSynthesis", {value: synth, configurable: true});
  window.SpeechSynthesisUtterance = Utterance;
})();
"""


def spoken(page: Page) -> list[str]:
    return page.evaluate("window.__spoken.map(function (u) { return u.text; })")


def wait_spoken(page: Page, texts: list[str], timeout: int = 5_000) -> None:
    """Wait until the TV has said exactly `texts`, in this order."""
    until(page, f"window.__spoken.length >= {len(texts)}", timeout)
    page.wait_for_timeout(300)  # nothing more should follow
    assert spoken(page) == texts


def connected(page: Page) -> None:
    until(page, "window.queueScreen && window.queueScreen.socket !== null")


def take_on_kiosk(kiosk: Page, service: str, phone: str = "") -> None:
    kiosk.locator(".q-kiosk-service", has_text=service).click()
    expect(kiosk.locator('[data-step="phone"]')).to_be_visible()
    for digit in phone:
        kiosk.locator(f'#kiosk-form .q-kiosk-key[data-key="{digit}"]').click()
    if phone:
        kiosk.get_by_role("button", name="取号", exact=True).click()
    else:
        kiosk.get_by_role("button", name="不留手机号，直接取号").click()
    expect(kiosk.locator('[data-step="ticket"]')).to_be_visible()


def test_kiosk_tv_and_counter_live(browser, live_server, admin_api):
    a = admin_api.call("POST", f"{Q}/services", 201, json={"name": "维修", "prefix": "A"})
    b = admin_api.call("POST", f"{Q}/services", 201, json={"name": "取机", "prefix": "B", "sort_order": 1})
    counter = admin_api.call("POST", f"{Q}/counters", 201, json={"number": 1, "service_ids": [a["id"], b["id"]]})
    admin_api.call("POST", f"{Q}/counters", 201, json={"number": 2, "name": "快速通道", "service_ids": [b["id"]]})
    kiosk_device = admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "kiosk", "name": "门口取号机"})
    tv_device = admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "tv", "name": "大厅电视"})
    kiosk_auth = {"Authorization": f"Bearer {kiosk_device['token']}"}

    kiosk = new_page(browser, live_server, IPAD)
    kiosk.goto(f"/queue/kiosk/{kiosk_device['token']}")
    tv = new_page(browser, live_server, TV)
    tv.add_init_script(SPEECH_STUB)
    tv.goto(f"/queue/tv/{tv_device['token']}")
    desk = new_page(browser, live_server, DESKTOP)
    login(desk, "admin@ACME")
    desk.goto("/queue/counter")
    desk.get_by_label("选择窗口").select_option(label="1 号窗口")
    expect(desk).to_have_url(re.compile(rf"counter_id={counter['id']}$"))
    expect(desk.locator("#live-dot")).to_have_class(re.compile(r"\bonline\b"))
    connected(kiosk)
    connected(tv)
    for page in (kiosk, tv, desk):
        page.evaluate("window.__sameDocument = true")

    # this browser speaks only after a click: someone turns the voice on (see test_queue_frictions
    # for a TV that speaks without one)
    tv.get_by_role("button", name="点击开启语音").click()
    expect(tv.locator("#q-tv-voice")).to_be_hidden()
    wait_spoken(tv, ["语音播报已开启"])
    tv.evaluate("window.__spoken.length = 0")
    expect(tv.locator(".q-tv-current-none")).to_have_text("请稍候")
    expect(desk.locator("#q-desk-call")).to_contain_text("当前没有等候的顾客")
    screenshot(kiosk, "queue-kiosk-start")
    screenshot(tv, "queue-tv-idle")

    # --- a ticket on the kiosk: the TV and the counter follow without a reload -----------------------
    take_on_kiosk(kiosk, "维修", "13800001234")
    ticket = kiosk.locator(".q-kiosk-ticket")
    expect(ticket.locator(".q-kiosk-ticket-no")).to_have_text("A001")
    expect(ticket).to_contain_text("前面还有 0 人")
    expect(ticket).to_contain_text("138****1234")
    screenshot(kiosk, "queue-kiosk-ticket")
    expect(tv.locator("#tv-waiting-total")).to_have_text("1", timeout=LIVE)
    expect(tv.locator('.q-tv-service[data-service="A"] b')).to_have_text("1")
    expect(desk.locator('#q-desk-list [data-ticket="A001"]')).to_be_visible(timeout=LIVE)
    expect(desk.locator('#q-desk-list [data-ticket="A001"]')).to_contain_text("138****1234")
    expect(desk.locator("#q-desk-waiting")).to_have_text("1")

    # the kiosk goes back to its start (【完成】) and its counts follow too
    kiosk.get_by_role("button", name="完成").click()
    expect(kiosk.locator('[data-step="services"]')).to_be_visible()
    expect(kiosk.locator(".q-kiosk-service", has_text="维修").locator(".q-kiosk-waiting")).to_have_text("等候 1 人")

    # --- 【叫号】 on the counter: on the TV within a second, spoken twice ----------------------------
    desk.locator("#q-desk-call").click()
    expect(tv.locator("#tv-current [data-no]")).to_have_text("A001", timeout=LIVE)
    expect(tv.locator("#tv-current [data-counter]")).to_have_text("1", timeout=LIVE)
    expect(tv.locator("#tv-current")).to_have_class(re.compile(r"\bq-tv-flash\b"))
    wait_spoken(tv, ["请 A001 号到 1 号窗口"] * 2)
    assert tv.evaluate("window.__spoken[0]") == {"text": "请 A001 号到 1 号窗口", "lang": "zh-CN", "rate": 0.9}
    expect(desk.locator('.q-desk-ticket[data-ticket="A001"]')).to_contain_text("已叫号")
    expect(tv.locator("#tv-waiting-total")).to_have_text("0")

    # --- two quick calls: spoken in order, each twice, never over each other ------------------------
    take_on_kiosk(kiosk, "维修")  # A002, no phone
    expect(kiosk.locator(".q-kiosk-ticket-no")).to_have_text("A002")
    expect(kiosk.locator(".q-kiosk-ticket")).to_contain_text("前面还有 0 人")
    admin_api.call("POST", f"{Q}/tickets", 201, json={"service_id": b["id"]}, headers=kiosk_auth)  # B001
    expect(desk.locator("#q-desk-list li")).to_have_count(2, timeout=LIVE)
    desk.locator("#q-desk-call").click()
    expect(desk.locator('.q-desk-ticket[data-ticket="A002"]')).to_be_visible()
    desk.locator("#q-desk-call").click()
    expect(tv.locator("#tv-current [data-no]")).to_have_text("B001", timeout=LIVE)
    wait_spoken(
        tv,
        ["请 A001 号到 1 号窗口"] * 2 + ["请 A002 号到 1 号窗口"] * 2 + ["请 B001 号到 1 号窗口"] * 2,
    )
    expect(tv.locator(".q-tv-recent-item")).to_have_count(2)
    expect(tv.locator(".q-tv-recent-item").first).to_contain_text("A002")
    expect(tv.locator(".q-tv-recent-item").first).to_contain_text("1 号窗口")

    # 【重呼】 is spoken again; 【开始办理】 and 【完成】 move the ticket on
    desk.locator('.q-desk-ticket[data-ticket="A001"]').get_by_role("button", name="重呼").click()
    expect(tv.locator("#tv-current [data-no]")).to_have_text("A001", timeout=LIVE)
    wait_spoken(
        tv,
        ["请 A001 号到 1 号窗口"] * 2
        + ["请 A002 号到 1 号窗口"] * 2
        + ["请 B001 号到 1 号窗口"] * 2
        + ["请 A001 号到 1 号窗口"] * 2,
    )
    desk.locator('.q-desk-ticket[data-ticket="A001"]').get_by_role("button", name="开始办理").click()
    expect(desk.locator('.q-desk-ticket[data-ticket="A001"]')).to_contain_text("办理中")
    take_on_kiosk(kiosk, "取机")  # B002 waits, so the screenshots show a list
    expect(desk.locator('#q-desk-list [data-ticket="B002"]')).to_be_visible(timeout=LIVE)
    expect(tv.locator("#tv-waiting-total")).to_have_text("1", timeout=LIVE)
    screenshot(tv, "queue-tv-calling")
    desk.evaluate("window.scrollTo(0, 0)")
    screenshot(desk, "queue-counter-desktop")
    desk.set_viewport_size(PHONE)
    desk.evaluate("window.scrollTo(0, 0)")
    screenshot(desk, "queue-counter-phone")
    desk.set_viewport_size(DESKTOP)
    desk.locator('.q-desk-ticket[data-ticket="A001"]').get_by_role("button", name="完成").click()
    expect(desk.locator('.q-desk-ticket[data-ticket="A001"]')).to_have_count(0)
    expect(desk.locator("#q-desk-done")).to_have_text("1")
    kiosk.get_by_role("button", name="完成").click()

    # --- a dropped socket: 重新连接中…, then the whole board again, with the missed call said ---------
    tv.evaluate("window.queueScreen.socket.close()")
    expect(tv.locator("#q-reconnect")).to_be_visible()
    expect(tv.locator("#q-reconnect")).to_have_text("重新连接中…")
    expect(tv.locator("body")).to_have_class(re.compile(r"\bq-screen-is-offline\b"))
    screenshot(tv, "queue-tv-reconnecting")
    called = admin_api.call("POST", f"{Q}/counters/{counter['id']}/call-next")  # missed by the TV
    assert called["no"] == "B002"
    expect(tv.locator("#q-reconnect")).to_be_hidden(timeout=LIVE)
    expect(tv.locator("#tv-current [data-no]")).to_have_text("B002")
    expect(tv.locator("body")).not_to_have_class(re.compile(r"\bq-screen-is-offline\b"))
    wait_spoken(
        tv,
        ["请 A001 号到 1 号窗口"] * 2
        + ["请 A002 号到 1 号窗口"] * 2
        + ["请 B001 号到 1 号窗口"] * 2
        + ["请 A001 号到 1 号窗口"] * 2
        + ["请 B002 号到 1 号窗口"] * 2,
    )

    # --- revoking the TV switches it off at once; the kiosk and the counter go on -------------------
    admin_api.call("POST", f"{Q}/devices/{tv_device['id']}/revoke")
    expect(tv.locator("#q-off")).to_be_visible(timeout=LIVE)
    expect(tv.locator("#q-off")).to_contain_text("此设备已被停用")
    expect(tv.locator("#tv-board [data-no]")).to_have_count(0)
    screenshot(tv, "queue-tv-revoked")
    take_on_kiosk(kiosk, "取机")
    expect(kiosk.locator(".q-kiosk-ticket-no")).to_have_text("B003")
    expect(desk.locator('#q-desk-list [data-ticket="B003"]')).to_be_visible(timeout=LIVE)

    assert not tv.evaluate("window.__overlap"), "an announcement started before the previous one ended"
    assert not tv.evaluate("window.__cancelled"), "speechSynthesis.cancel() was called"
    for page in (kiosk, desk):
        assert page.evaluate("window.__sameDocument === true"), "updated in place, not by a reload"


def test_kiosk_phone_step_and_tv_voice_button(browser, live_server, admin_api):
    """The kiosk's phone step (keypad, a paused service's message, no scrolling), the printable
    slip on a 58 and an 80 mm roll, and a TV in a browser that needs a click before it may speak:
    its small voice button."""
    repair = admin_api.call("POST", f"{Q}/services", 201, json={"name": "维修", "prefix": "A"})
    admin_api.call("POST", f"{Q}/services", 201, json={"name": "取机", "prefix": "B", "sort_order": 1})
    consult = admin_api.call("POST", f"{Q}/services", 201, json={"name": "咨询", "prefix": "C", "sort_order": 2})
    kiosk_device = admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "kiosk", "name": "门口取号机"})
    tv_device = admin_api.call("POST", f"{Q}/devices", 201, json={"kind": "tv", "name": "大厅电视"})

    kiosk = new_page(browser, live_server, {"width": 768, "height": 1024})
    kiosk.goto(f"/queue/kiosk/{kiosk_device['token']}")
    kiosk.locator(".q-kiosk-service", has_text="咨询").click()
    for digit in "1380000":
        kiosk.locator(f'#kiosk-form .q-kiosk-key[data-key="{digit}"]').click()
    kiosk.locator('#kiosk-form .q-kiosk-key[data-key="back"]').click()
    expect(kiosk.locator("#kiosk-form [data-keypad-display]")).to_have_text("138 000")
    for digit in "01234":
        kiosk.locator(f'#kiosk-form .q-kiosk-key[data-key="{digit}"]').click()
    expect(kiosk.locator("#kiosk-form [data-keypad-display]")).to_have_text("138 0000 1234")
    screenshot(kiosk, "queue-kiosk-phone")
    assert kiosk.evaluate("document.documentElement.scrollHeight <= window.innerHeight"), "the kiosk never scrolls"
    # a service paused meanwhile: its Chinese message on the screen, and the button goes
    admin_api.call("PATCH", f"{Q}/services/{consult['id']}", json={"enabled": False})
    kiosk.get_by_role("button", name="取号", exact=True).click()
    expect(kiosk.locator("#kiosk-error")).to_have_text("业务「咨询」已暂停取号")
    kiosk.get_by_role("button", name="返回重新选择业务").click()
    expect(kiosk.locator(".q-kiosk-service")).to_have_count(2)

    # the printable slip: a 58 mm or 80 mm roll (the page size is the slip's own)
    kiosk_auth = {"Authorization": f"Bearer {kiosk_device['token']}"}
    ticket = admin_api.call(
        "POST", f"{Q}/tickets", 201, json={"service_id": repair["id"], "phone": "13912345678"}, headers=kiosk_auth
    )
    slip = new_page(browser, live_server, {"width": 480, "height": 640})
    for width, mm in (("58", 58), ("80", 80)):
        slip.goto(f"/queue/kiosk/{kiosk_device['token']}/tickets/{ticket['id']}/print?width={width}")
        expect(slip.locator(".q-ticket-no")).to_have_text(ticket["no"])
        expect(slip.locator(".q-ticket")).to_contain_text("139****5678")
        expect(slip.locator(".q-ticket")).to_contain_text("请留意叫号屏与语音提示")
        screenshot(slip, f"queue-ticket-print-{width}")
        pdf = slip.pdf(prefer_css_page_size=True)
        box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
        assert box and abs(float(box.group(1)) / 72 * 25.4 - mm) < 1, box

    tv = new_page(browser, live_server, TV)
    tv.goto(f"/queue/tv/{tv_device['token']}")
    expect(tv.locator("#q-tv-voice")).to_be_visible()
    screenshot(tv, "queue-tv-voice-button")
    tv.get_by_role("button", name="点击开启语音").click()
    expect(tv.locator("#q-tv-voice")).to_be_hidden()
