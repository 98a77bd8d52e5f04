"""Browser tests: Playwright for Python driving the system Chromium against a real server.

The tests are plain sync functions (Playwright's sync API must not run inside an asyncio loop);
pytest-asyncio still runs the async fixtures they need (`tenant`, the database) beforehand.
Without /usr/bin/chromium they are skipped with a loud notice; `playwright install` is never used.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.settings import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
IPAD = {"width": 820, "height": 1180}
ADMIN_PASSWORD = "admin1234"
HOME = re.compile(r"^https?://[^/]+/$")
LOGIN = re.compile(r"^https?://[^/]+/login(\?.*)?$")


def pytest_collection_modifyitems(items) -> None:
    """Browser tests share one xdist worker (`--dist loadgroup`): two Chromiums and two servers
    on a 2-core machine starve each other; the other worker runs the rest meanwhile.

    A browser test that fails is run once more (pytest-rerunfailures: an `R` in the progress, "1
    rerun" in the summary, so it stays visible). Two browsers, a server and its sockets on a
    shared, loaded CI machine miss a beat now and then (a live refresh not seen in 10 s, once in
    some hundred runs); a red CI for that throws a whole session's work away. A real break fails
    both runs."""
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.xdist_group("browser"))
            item.add_marker(pytest.mark.flaky(reruns=1))


def until(page, expression: str, timeout: float = 10_000) -> None:
    """Wait until `expression` is truthy in the page. Polls with `page.evaluate`, which a strict
    CSP allows, where `wait_for_function` needs eval in the page and is refused by it."""
    import time

    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(f"!!({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} ms: {expression}")
        page.wait_for_timeout(50)


def eventually(check, what: str, timeout: float = 15.0):
    """Poll `check()` until it answers something truthy, and return that: for what happens outside
    the page (a live server's job reaching the fake SMS gateway or the SMTP sink)."""
    import time

    deadline = time.monotonic() + timeout
    while not (answer := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {timeout} s: {what}")
        time.sleep(0.05)
    return answer


def _missing_chromium() -> None:
    message = (
        f"\n{'!' * 78}\n!!! BROWSER TESTS SKIPPED: {CHROMIUM} not found. Install it with "
        f"`apt-get install -y chromium`\n!!! (never `playwright install`). The UI is NOT tested in this run.\n"
        f"{'!' * 78}\n"
    )
    # Straight to the terminal, past pytest's capture, and also into the warnings summary.
    sys.__stderr__.write(message)
    sys.__stderr__.flush()
    warnings.warn(f"browser tests skipped: {CHROMIUM} is missing", UserWarning, stacklevel=2)
    pytest.skip(f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing (apt-get install -y chromium)")


@pytest.fixture
def chromium() -> Path:
    """The system Chromium, or a loud skip (before any server is started for nothing)."""
    if not CHROMIUM.exists():
        _missing_chromium()
    return CHROMIUM


@pytest.fixture
def browser(chromium, live_server) -> Iterator:
    """A headless Chromium per test (no shared Playwright loop between tests of an xdist worker).

    It depends on `live_server` so that every async fixture (database, tenant) is set up before
    Playwright's loop exists and torn down after it is gone: the two loops must never overlap.
    """
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class Api:
    """JSON API calls against the live server as one user (data setup and checks)."""

    def __init__(self, base_url: str, login: str, password: str = ADMIN_PASSWORD, otp: str | None = None) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=10)
        body = {"login": login, "password": password} | ({"otp": otp} if otp else {})
        response = self.client.post("/api/v1/auth/token", json=body)
        assert response.status_code == 200, response.text
        self.client.headers["Authorization"] = f"Bearer {response.json()['token']}"

    def call(self, method: str, url: str, expected: int = 200, **kwargs) -> dict:
        response = self.client.request(method, url, **kwargs)
        assert response.status_code == expected, f"{method} {url}: {response.status_code} {response.text}"
        return response.json()

    def hq_id(self) -> int:
        return self.call("GET", "/api/v1/orgs", params={"kind": "hq"})["items"][0]["id"]

    def role_id(self, name: str) -> int:
        roles = self.call("GET", "/api/v1/roles", params={"q": name})["items"]
        return next(r["id"] for r in roles if r["name"] == name)

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def admin_api(live_server) -> Iterator[Api]:
    api = Api(live_server.url, "admin@ACME")
    yield api
    api.close()


@pytest.fixture
def gateway() -> Iterator[str]:
    """The fake SMS gateway in a thread of its own: the live server's job and the test both reach it."""
    import threading
    import time

    import uvicorn

    from server.notices import fake
    from tests.conftest import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake.create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


# The pages of the running test and what each went through (its sockets opened, closed, the
# live signals received, console errors, failed requests): printed with a failure, so a live
# update missed on a loaded machine says where it was lost.
_pages: list = []


def new_page(browser, live_server, viewport: dict = DESKTOP):
    """A page in a fresh context (own cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="zh-CN")
    page = context.new_page()
    _watch(page)
    return page


def _watch(page) -> None:
    import time

    log: list[str] = []
    page._weifu_log = log
    _pages.append(page)

    def note(text: str) -> None:
        log.append(f"{time.strftime('%H:%M:%S')}.{int(time.time() * 1000) % 1000:03d} {text}"[:300])
        del log[:-60]

    def socket(ws) -> None:
        note(f"ws open {ws.url}")
        ws.on("close", lambda _: note("ws close"))
        ws.on("framereceived", lambda frame: note(f"ws in {str(frame)[:160]}"))

    page.on("websocket", socket)
    page.on("console", lambda m: note(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("requestfailed", lambda r: note(f"request failed {r.method} {r.url} {r.failure}"))
    page.on(
        "response",
        lambda r: (
            note(f"{r.status} {r.request.method} {r.url}")
            if r.request.headers.get("hx-request") or r.status >= 400
            else None
        ),
    )
    page.on("framenavigated", lambda f: note(f"navigated {f.url}") if f == page.main_frame else None)


@pytest.fixture(autouse=True)
def _pages_of_this_test() -> Iterator[None]:
    _pages.clear()
    yield
    _pages.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or not _pages:
        return
    lines = []
    for n, page in enumerate(_pages, 1):
        try:
            state = page.evaluate(
                "JSON.stringify({url: location.href, dot: (document.getElementById('live-dot') || {}).className,"
                " last: window.weifuLastEvent || null})"
            )
        except Exception as exc:  # a closed page
            state = f"(unreadable: {exc.__class__.__name__})"
        lines.append(f"page {n}: {state}")
        lines += [f"  {entry}" for entry in getattr(page, "_weifu_log", [])]
    report.sections.append(("weifu pages", "\n".join(lines)))


def login(page, login_name: str, password: str = ADMIN_PASSWORD, otp: str = "") -> None:
    """Log in through the form and wait for the home page."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.fill("#login", login_name)
    page.fill("#password", password)
    if otp:
        page.fill("#otp", otp)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(HOME)


def logout(page) -> None:
    from playwright.sync_api import expect

    page.locator(".topbar-actions").get_by_role("button", name="退出").click()
    expect(page).to_have_url(LOGIN)


def screenshot(page, name: str, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # finite CSS transitions (the sliding menu after a resize, the dialog's entry) are finished first
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def pick(page, box, text: str, option: str) -> None:
    """Type into a picker's box (a locator) and choose `option` once the search for `text` has
    answered (macro `picker`)."""
    from urllib.parse import quote_plus

    from playwright.sync_api import expect

    box.click()
    with page.expect_response(lambda r: "/pickers/" in r.url and f"q={quote_plus(text)}" in r.url):
        box.fill(text)
    page.locator(".picker-list:visible .picker-option", has_text=option).first.click()
    expect(page.locator(".picker-list:visible")).to_have_count(0)
