"""Login (SPEC 1.3, 10): distinct but non-enumerating refusals, OTP with single-use codes,
throttling, the HTML form, forced and voluntary OTP enrolment, CSRF on every unsafe page
request, and the guard on every system API endpoint (401 without a token, 403 without the code)."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from litestar.routes import HTTPRoute

from server.app import CSRF_EXEMPT
from server.core.errors import Unauthorized
from server.system.services import auth
from tests.api_helpers import InFlight, concurrently
from tests.conftest import ADMIN_PASSWORD, api_login, csrf, page_login
from tests.system.helpers import (
    PASSWORD,
    enrol_otp,
    error_of,
    make_role,
    make_user,
    otp_secret,
    page_session_alive,
    token_refused,
    user_with,
)


async def token(client, login: str, password: str, otp: str | None = None):
    body = {"login": login, "password": password} | ({"otp": otp} if otp is not None else {})
    return await client.post("/api/v1/auth/token", json=body)


def next_code(totp: pyotp.TOTP) -> str:
    """The next time window's code: accepted (one step of clock drift) once the current one is used."""
    return totp.at(time.time() + totp.interval)


def wrong_code(totp: pyotp.TOTP) -> str:
    valid = {totp.at(time.time() + d * totp.interval) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def page_secret(html: str) -> str:
    match = re.search(r'id="otp-secret">([A-Z2-7]+)<', html)
    assert match, html[:500]
    return match.group(1)


@pytest.fixture
async def bob(client, tenant, admin) -> dict:
    role = await make_role(client, admin, "总部职员", "hq", ["system.org.view"])
    return await make_user(client, admin, "bob", tenant.org_id, [role["id"]])


# --- refusals --------------------------------------------------------------------------------------


async def test_wrong_password_is_refused(client, tenant):
    body = error_of(await token(client, "admin@ACME", "wrong-pass1"), 401, "wrong_credentials")
    assert body["detail"] == auth.WRONG_CREDENTIALS


async def test_unknown_account_or_company_gets_the_same_answer_as_a_wrong_password(client, tenant):
    wrong_password = await token(client, "admin@ACME", "wrong-pass1")
    for login in ("nobody@ACME", "admin@NOPE", "nobody@NOPE"):
        unknown = await token(client, login, ADMIN_PASSWORD)
        assert unknown.status_code == wrong_password.status_code == 401, login
        assert unknown.json() == wrong_password.json(), login


async def test_malformed_login_name_is_a_clear_400(client, tenant):
    for login in ("admin", "@ACME", "admin@", 42, "x" * 10_000):
        response = await client.post("/api/v1/auth/token", json={"login": login, "password": ADMIN_PASSWORD})
        error_of(response, 400)


async def test_disabled_user_is_told_so_only_with_the_right_password(client, admin, bob):
    await client.patch(f"/api/v1/users/{bob['id']}", json={"enabled": False}, headers=admin)
    disabled = error_of(await token(client, "bob@ACME", PASSWORD), 403, "user_disabled")
    wrong = error_of(await token(client, "bob@ACME", "wrong-pass1"), 401, "wrong_credentials")
    assert disabled["detail"] != wrong["detail"]


async def test_service_login_refuses_a_wrong_password(tenant):
    with pytest.raises(Unauthorized) as refused:
        await auth.login("admin@acme", "wrong-pass1", None, "10.0.0.1")
    assert refused.value.code == "wrong_credentials"
    result = await auth.login("admin@acme", ADMIN_PASSWORD, None, "10.0.0.1")
    assert (result.tenant_id, result.must_enrol_otp) == (tenant.tenant_id, False)


# --- OTP ---------------------------------------------------------------------------------------------


async def test_otp_is_required_checked_and_single_use(client, tenant, bob):
    await enrol_otp(bob["id"], tenant.tenant_id)
    totp = pyotp.TOTP(await otp_secret(bob["id"]))
    error_of(await token(client, "bob@ACME", PASSWORD), 401, "otp_required")
    error_of(await token(client, "bob@ACME", PASSWORD, wrong_code(totp)), 401, "wrong_otp")
    code = totp.now()
    assert (await token(client, "bob@ACME", PASSWORD, code)).status_code == 200
    error_of(await token(client, "bob@ACME", PASSWORD, code), 401, "wrong_otp")


async def test_wrong_password_with_otp_enrolled_reveals_nothing_about_otp(client, tenant, bob):
    totp = await enrol_otp(bob["id"], tenant.tenant_id)
    response = await token(client, "bob@ACME", "wrong-pass1", totp.now())
    error_of(response, 401, "wrong_credentials")


# --- throttling --------------------------------------------------------------------------------------


async def test_sixth_quick_failure_is_throttled_even_with_the_right_password(client, tenant):
    for _ in range(5):
        error_of(await token(client, "admin@ACME", "wrong-pass1"), 401, "wrong_credentials")
    body = error_of(await token(client, "admin@ACME", ADMIN_PASSWORD), 429, "throttled")
    assert body["detail"] == "登录失败次数过多，请 5 秒后再试"
    error_of(await token(client, "ADMIN@acme", ADMIN_PASSWORD), 429, "throttled")


class Clock:
    """time.monotonic of the in-memory throttle, moved by hand: waits are tested without waiting
    (the Redis script, which reads Redis's clock, has its own test in tests/core/test_throttle)."""

    def __init__(self, monkeypatch) -> None:
        from server.core import throttle

        self.now = 1_000.0
        monkeypatch.setattr(throttle.time, "monotonic", lambda: self.now)
        throttle.bind(throttle.MemoryCounter())


async def test_waits_grow_for_a_guesser_and_the_right_password_gets_in_once_waited(client, tenant, monkeypatch):
    clock = Clock(monkeypatch)
    for _ in range(5):
        error_of(await token(client, "admin@ACME", "wrong-pass1"), 401, "wrong_credentials")
    waits = []
    for _ in range(4):  # each wrong guess after waiting doubles the next wait
        waits.append(error_of(await token(client, "admin@ACME", "wrong-pass1"), 429, "throttled")["detail"])
        clock.now += 100
        error_of(await token(client, "admin@ACME", "wrong-pass1"), 401, "wrong_credentials")
    assert waits == [f"登录失败次数过多，请 {s} 秒后再试" for s in (5, 10, 20, 40)]
    clock.now += 100
    await api_login(client, "admin@ACME")


async def test_the_right_password_from_another_address_waits_at_most_half_a_minute(client, tenant, monkeypatch):
    from server.system.services import auth as auth_service

    clock = Clock(monkeypatch)
    for i in range(40):  # a guesser spread over many addresses
        try:
            await auth_service.login("admin@ACME", "wrong-pass1", None, f"10.0.0.{i}")
        except Exception:
            pass
        clock.now += 1
    refused = error_of(await token(client, "admin@ACME", ADMIN_PASSWORD), 429, "throttled")["detail"]
    assert int(refused.split("请 ")[1].split(" 秒")[0]) <= auth_service.NAME_WAIT_CAP
    clock.now += auth_service.NAME_WAIT_CAP
    await api_login(client, "admin@ACME")


async def test_unlock_clears_every_wait_on_the_name_and_is_audited(client, tenant, admin, bob):
    for _ in range(5):
        await token(client, "bob@ACME", "wrong-pass1")
    error_of(await token(client, "bob@ACME", PASSWORD), 429, "throttled")
    response = await client.post(f"/api/v1/users/{bob['id']}/unlock", headers=admin)
    assert response.status_code == 200, response.text
    await api_login(client, "bob@ACME", PASSWORD)
    log = (await client.get("/api/v1/audit-log", params={"action": "unlock"}, headers=admin)).json()
    assert [e["summary"] for e in log["items"]] == ["解锁用户 bob 的登录"]


async def test_unlock_follows_the_escalation_rule(client, tenant, admin):
    clerk, clerk_headers = await user_with(
        client, admin, "clerk", tenant.org_id, "hq", ["system.user.view", "system.user.unlock"]
    )
    me = (await client.get("/api/v1/auth/me", headers=admin)).json()
    refused = await client.post(f"/api/v1/users/{me['user_id']}/unlock", headers=clerk_headers)
    error_of(refused, 403, "permission_escalation")


async def test_throttling_one_login_name_leaves_others_alone(client, bob):
    for _ in range(5):
        await token(client, "admin@ACME", "wrong-pass1")
    error_of(await token(client, "admin@ACME", ADMIN_PASSWORD), 429, "throttled")
    await api_login(client, "bob@ACME", PASSWORD)


async def test_wrong_otp_codes_count_as_failures(client, tenant, bob):
    totp = await enrol_otp(bob["id"], tenant.tenant_id)
    for _ in range(5):
        error_of(await token(client, "bob@ACME", PASSWORD, wrong_code(totp)), 401, "wrong_otp")
    error_of(await token(client, "bob@ACME", PASSWORD, totp.now()), 429, "throttled")


async def test_many_failures_from_one_ip_are_throttled(client, bob):
    for i in range(auth.IP_LIMIT):
        error_of(await token(client, f"nobody{i}@ACME", "wrong-pass1"), 401, "wrong_credentials")
    error_of(await token(client, "bob@ACME", PASSWORD), 429, "throttled")


async def test_successful_login_resets_the_failure_count(client, tenant):
    for _ in range(4):
        await token(client, "admin@ACME", "wrong-pass1")
    await api_login(client, "admin@ACME")
    for _ in range(4):
        await token(client, "admin@ACME", "wrong-pass1")
    await api_login(client, "admin@ACME")


# --- the HTML form -----------------------------------------------------------------------------------


async def test_page_login_with_csrf_opens_a_session(client, tenant):
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"login": "admin@acme", "password": ADMIN_PASSWORD, "_csrf_token": client.cookies.get("csrftoken")},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303) and response.headers["location"] == "/"
    assert await page_session_alive(client)


async def test_page_login_with_a_wrong_password_shows_the_message_again(client, tenant):
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"login": "admin@ACME", "password": "wrong-pass1", "_csrf_token": client.cookies.get("csrftoken")},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert auth.WRONG_CREDENTIALS in response.text and 'value="admin@ACME"' in response.text
    assert not await page_session_alive(client)


@pytest.mark.parametrize(
    ("next_url", "location"),
    [("/system/orgs", "/system/orgs"), ("https://evil.example/", "/"), ("//evil.example/x", "/")],
)
async def test_page_login_only_follows_a_local_next(client, tenant, next_url, location):
    await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "login": "admin@ACME",
            "password": ADMIN_PASSWORD,
            "next": next_url,
            "_csrf_token": client.cookies.get("csrftoken"),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == location


async def test_logout_ends_the_page_session(client, tenant):
    await page_login(client, "admin@ACME")
    response = await client.post("/logout", headers=csrf(client))
    assert response.status_code == 200 and response.headers["hx-redirect"] == "/login"
    assert not await page_session_alive(client)


async def test_revoked_token_stops_working(client, admin):
    assert (await client.delete("/api/v1/auth/token", headers=admin)).status_code == 204
    error_of(await client.get("/api/v1/auth/me", headers=admin), 401, "unauthorized")


# --- OTP enrolment -------------------------------------------------------------------------------------


async def test_require_otp_forces_enrolment_at_first_page_login(client, admin, bob):
    response = await client.patch("/api/v1/settings", json={"require_otp": True}, headers=admin)
    assert response.status_code == 200 and response.json()["require_otp"] is True
    error_of(await token_refused(client, "bob@ACME"), 403, "otp_enrolment_required")

    await client.get("/login")
    response = await client.post(
        "/login",
        data={"login": "bob@ACME", "password": PASSWORD, "_csrf_token": client.cookies.get("csrftoken")},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303) and response.headers["location"] == "/otp/enrol"
    assert not await page_session_alive(client)  # a pending enrolment grants nothing yet

    page = await client.get("/otp/enrol")
    assert page.status_code == 200 and "<svg" in page.text
    totp = pyotp.TOTP(page_secret(page.text))
    response = await client.post(
        "/otp/enrol",
        data={"otp": wrong_code(totp), "_csrf_token": client.cookies.get("csrftoken")},
        follow_redirects=False,
    )
    assert response.status_code == 400 and "动态密钥错误" in response.text
    response = await client.post(
        "/otp/enrol",
        data={"otp": totp.now(), "_csrf_token": client.cookies.get("csrftoken")},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303) and response.headers["location"] == "/"
    assert await page_session_alive(client)
    assert await otp_secret(bob["id"]) == totp.secret

    error_of(await token_refused(client, "bob@ACME"), 401, "otp_required")
    await api_login(client, "bob@ACME", PASSWORD, next_code(totp))


async def test_otp_enrolment_on_the_account_page(client, admin, bob):
    await page_login(client, "bob@ACME", PASSWORD)
    page = await client.get("/account/otp")
    assert page.status_code == 200 and "<svg" in page.text
    totp = pyotp.TOTP(page_secret(page.text))

    response = await client.post("/account/otp", data={"otp": wrong_code(totp)}, headers=csrf(client))
    assert response.status_code == 400 and response.headers["x-error-code"] == "wrong_otp"
    assert (await client.get(f"/api/v1/users/{bob['id']}", headers=admin)).json()["otp_enrolled"] is False

    response = await client.post("/account/otp", data={"otp": totp.now()}, headers=csrf(client))
    assert response.status_code == 200, response.text
    assert (await client.get(f"/api/v1/users/{bob['id']}", headers=admin)).json()["otp_enrolled"] is True
    assert await otp_secret(bob["id"]) == totp.secret

    client.cookies.clear()
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"login": "bob@ACME", "password": PASSWORD, "_csrf_token": client.cookies.get("csrftoken")},
        follow_redirects=False,
    )
    assert response.status_code == 401 and "请输入 6 位动态密钥" in response.text
    await page_login(client, "bob@ACME", PASSWORD, next_code(totp))
    assert await page_session_alive(client)


# --- CSRF ----------------------------------------------------------------------------------------------


def unsafe_page_routes(app) -> list[tuple[str, str]]:
    """Every POST/PUT/PATCH/DELETE outside the JSON API and the CSRF-exempt paths (a kiosk's
    token in its URL), with path parameters filled in."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/api/"):
            continue
        if any(re.match(pattern, route.path) for pattern in CSRF_EXEMPT):
            continue
        for method in sorted({m for h in route.route_handlers for m in h.http_methods} - {"GET", "HEAD", "OPTIONS"}):
            found.append((method, re.sub(r"\{[^}]+\}", "1", route.path)))
    return found


async def test_every_unsafe_page_request_without_csrf_token_is_refused(client, app, tenant):
    routes = unsafe_page_routes(app)
    assert ("POST", "/login") in routes and ("POST", "/system/orgs") in routes
    await page_login(client, "admin@ACME")
    for method, path in routes:
        response = await client.request(method, path, data={"name": "x"}, follow_redirects=False)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "CSRF" in response.text, (method, path)
        response = await client.request(
            method, path, data={"_csrf_token": "forged"}, headers={"x-csrftoken": "forged"}, follow_redirects=False
        )
        assert response.status_code == 403, (method, path, "forged token")


async def test_page_post_without_csrf_changes_nothing(client, tenant, admin):
    await page_login(client, "admin@ACME")
    data = {"code": "B1", "name": "一号网点", "parent_id": str(tenant.org_id), "level": "2"}
    assert (await client.post("/system/orgs", data=data)).status_code == 403
    assert (await client.get("/api/v1/orgs", params={"q": "B1"}, headers=admin)).json()["total"] == 0
    assert (await client.post("/system/orgs", data=data, headers=csrf(client))).status_code == 201


async def test_api_request_authenticated_by_session_cookie_needs_csrf(client, tenant):
    await page_login(client, "admin@ACME")
    body = {"code": "B1", "name": "一号网点", "parent_id": tenant.org_id}
    error_of(await client.post("/api/v1/orgs", json=body), 403, "csrf_failed")
    assert (await client.post("/api/v1/orgs", json=body, headers=csrf(client))).status_code == 201


@pytest.mark.parametrize("layout", ["a=b;session={}", "a=b ;  session={}", "a=b;\tsession={};c=d", "session={};a=b"])
async def test_a_session_cookie_anywhere_in_the_header_needs_csrf(client, tenant, layout):
    """The session backend parses the Cookie header (any spacing after `;`), so the CSRF check
    must see the session cookie wherever and however it is written, not only after "; "."""
    await page_login(client, "admin@ACME")
    session = client.cookies["session"]
    client.cookies.clear()
    cookie = {"cookie": layout.format(session)}
    assert (await client.get("/api/v1/auth/me", headers=cookie)).status_code == 200  # the cookie does log in
    body = {"code": "B1", "name": "一号网点", "parent_id": tenant.org_id}
    error_of(await client.post("/api/v1/orgs", json=body, headers=cookie), 403, "csrf_failed")
    assert (await client.get("/api/v1/orgs", params={"q": "B1"}, headers=cookie)).json()["total"] == 0


# --- the guard on every system API endpoint --------------------------------------------------------------

ANY_USER = None  # any logged-in user, no permission code needed
SYSTEM_API = [
    ("GET", "/api/v1/auth/me", ANY_USER),
    ("DELETE", "/api/v1/auth/token", ANY_USER),
    ("POST", "/api/v1/auth/password", ANY_USER),
    ("POST", "/api/v1/auth/otp/secret", ANY_USER),
    ("POST", "/api/v1/auth/otp", ANY_USER),
    ("GET", "/api/v1/permissions", ANY_USER),
    ("GET", "/api/v1/orgs", "system.org.view"),
    ("POST", "/api/v1/orgs", "system.org.create"),
    ("GET", "/api/v1/orgs/export", "system.org.export"),
    ("GET", "/api/v1/orgs/{id}", "system.org.view"),
    ("PATCH", "/api/v1/orgs/{id}", "system.org.update"),
    ("DELETE", "/api/v1/orgs/{id}", "system.org.delete"),
    ("POST", "/api/v1/orgs/{id}/restore", "system.org.delete"),
    ("GET", "/api/v1/roles", "system.role.view"),
    ("POST", "/api/v1/roles", "system.role.create"),
    ("GET", "/api/v1/roles/{id}", "system.role.view"),
    ("PATCH", "/api/v1/roles/{id}", "system.role.update"),
    ("DELETE", "/api/v1/roles/{id}", "system.role.delete"),
    ("GET", "/api/v1/users", "system.user.view"),
    ("POST", "/api/v1/users", "system.user.create"),
    ("GET", "/api/v1/users/export", "system.user.export"),
    ("GET", "/api/v1/users/{id}", "system.user.view"),
    ("PATCH", "/api/v1/users/{id}", "system.user.update"),
    ("DELETE", "/api/v1/users/{id}", "system.user.delete"),
    ("POST", "/api/v1/users/{id}/reset-password", "system.user.reset_password"),
    ("POST", "/api/v1/users/{id}/reset-otp", "system.user.reset_otp"),
    ("POST", "/api/v1/users/{id}/unlock", "system.user.unlock"),
    ("GET", "/api/v1/audit-log", "system.audit.view"),
    ("GET", "/api/v1/settings", "system.settings.view"),
    ("PATCH", "/api/v1/settings", "system.settings.update"),
]
GUARDED = [entry for entry in SYSTEM_API if entry[2] is not ANY_USER]
ABSENT_ID = "999999"  # the guard answers before any lookup; a permitted caller gets 404 or 400


def call(client, method: str, path: str, headers: dict | None = None):
    url = path.replace("{id}", ABSENT_ID)
    body = {"json": {}} if method in ("POST", "PATCH") else {}
    return client.request(method, url, headers=headers or {}, **body)


def test_the_table_lists_every_system_api_endpoint_with_its_permission(app):
    routes = {
        (method, re.sub(r"\{[^}]+\}", "{id}", route.path), handler.opt.get("perm"))
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if handler.fn.__module__ == "server.system.api" and not handler.opt.get("public")
        for method in handler.http_methods
    }
    assert routes == set(SYSTEM_API)


async def test_system_api_without_a_token_is_401(client, tenant):
    for method, path, _ in SYSTEM_API:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = await call(client, method, path, headers)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["code"] == "unauthorized", (method, path)


async def test_system_api_without_the_permission_is_403(client, tenant, admin):
    _, nobody = await user_with(client, admin, "nobody", tenant.org_id, "hq", [])
    for method, path, _ in GUARDED:
        response = await call(client, method, path, nobody)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "forbidden", (method, path)


async def test_system_api_lets_the_holder_of_the_code_past_the_guard(client, tenant, admin):
    holder, headers = await user_with(client, admin, "holder", tenant.org_id, "hq", [])
    for method, path, perm in GUARDED:
        role_url = f"/api/v1/roles/{holder['role_ids'][0]}"
        assert (await client.patch(role_url, json={"permissions": [perm]}, headers=admin)).status_code == 200
        response = await call(client, method, path, headers)
        assert response.status_code not in (401, 403), (method, path, response.text)


async def test_system_api_open_to_any_logged_in_user(client, tenant, admin):
    _, nobody = await user_with(client, admin, "nobody", tenant.org_id, "hq", [])
    revoking_last = sorted((e for e in SYSTEM_API if e[2] is ANY_USER), key=lambda e: e[1] == "/api/v1/auth/token")
    for method, path, _ in revoking_last:
        response = await call(client, method, path, nobody)
        assert response.status_code not in (401, 403), (method, path, response.text)


# --- parallel bursts (audit item 5): counted atomically, before the password is checked -------------


async def test_a_parallel_burst_of_wrong_passwords_gets_only_the_limit_checked(client, tenant, monkeypatch):
    from server.system.services import passwords

    checked = InFlight(monkeypatch, passwords, "verify")
    burst = [("POST", "/api/v1/auth/token", {}, {"login": "admin@ACME", "password": f"wrong-{i}x"}) for i in range(60)]
    answers = await concurrently(client, burst)
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(401) == auth.LOGIN_LIMIT and statuses.count(429) == 60 - auth.LOGIN_LIMIT, statuses
    assert checked.calls == auth.LOGIN_LIMIT  # the 55 refused never reached argon2
    error_of(await token(client, "admin@ACME", ADMIN_PASSWORD), 429, "throttled")


async def test_one_fresh_otp_code_logs_in_once_however_many_race(client, tenant, bob):
    totp = await enrol_otp(bob["id"], tenant.tenant_id)
    code = totp.now()
    body = {"login": "bob@ACME", "password": PASSWORD, "otp": code}
    answers = await concurrently(client, [("POST", "/api/v1/auth/token", {}, body)] * 8)
    assert [r.status_code for r in answers].count(200) == 1, [r.text for r in answers]
    for answer in answers:
        if answer.status_code != 200:  # the code is used up, or the burst reached the throttle
            assert error_of(answer, answer.status_code)["code"] in ("wrong_otp", "throttled"), answer.text


async def test_form_login_works_when_the_session_folder_and_its_parents_do_not_exist(settings, tenant, tmp_path):
    """A fresh checkout has no var/: the app makes what it needs at start-up (issue 15 item 11)."""
    import dataclasses

    from litestar.testing import AsyncTestClient

    from server.app import create_app

    fresh = dataclasses.replace(settings, session_dir=tmp_path / "nothing" / "here" / "sessions")
    async with AsyncTestClient(app=create_app(fresh)) as client:
        await page_login(client, "admin@ACME")
        assert (await client.get("/")).status_code == 200
