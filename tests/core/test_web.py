"""HTTP plumbing: sessions, CSRF, redirects and error answers."""

from tests.conftest import api_login, csrf, page_login


async def test_anonymous_visitor_gets_no_session_cookie(client):
    response = await client.get("/login")
    assert response.status_code == 200
    assert "session" not in client.cookies


async def test_login_gives_a_fresh_session_id(client, tenant):
    client.cookies.set("session", "attacker-chosen-id", domain="testserver.local")
    await page_login(client, "admin@ACME")
    assert client.cookies.get("session") not in (None, "attacker-chosen-id")
    assert (await client.get("/system/orgs")).status_code == 200


async def test_logout_ends_the_session(client, tenant):
    await page_login(client, "admin@ACME")
    response = await client.post("/logout", headers=csrf(client))
    assert response.status_code == 200 and response.headers["hx-redirect"] == "/login"
    response = await client.get("/system/orgs", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


async def test_cookie_api_request_needs_csrf_but_bearer_does_not(client, tenant):
    await page_login(client, "admin@ACME")
    body = {"code": "B1", "name": "一号网点", "parent_id": tenant.org_id}
    response = await client.post("/api/v1/orgs", json=body)
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    response = await client.post("/api/v1/orgs", json=body, headers=csrf(client))
    assert response.status_code == 201
    headers = await api_login(client, "admin@ACME")
    client.cookies.clear()
    response = await client.post("/api/v1/orgs", json=body | {"code": "B2"}, headers=headers)
    assert response.status_code == 201


async def test_login_redirect_only_to_local_paths(client, tenant):
    await client.get("/login")
    form = {"login": "admin@ACME", "password": "admin1234", "_csrf_token": client.cookies.get("csrftoken")}
    for target, expected in (("/system/users", "/system/users"), ("https://evil.example/x", "/"), ("//evil", "/")):
        client.cookies.delete("session")
        response = await client.post("/login", data=form | {"next": target}, follow_redirects=False)
        assert response.headers["location"] == expected


async def test_unknown_api_path_answers_json_404(client, admin):
    response = await client.get("/api/v1/nothing-here", headers=admin)
    assert response.status_code == 404
    assert response.json() == {"detail": "页面或记录不存在", "code": "not_found"}


async def test_wrong_method_answers_json_405(client, admin):
    response = await client.put("/api/v1/orgs", headers=admin, json={})
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


async def test_page_business_error_is_plain_chinese_text_for_htmx(client, tenant):
    await page_login(client, "admin@ACME")
    response = await client.post(
        "/system/orgs", data={"code": "", "name": "x", "parent_id": tenant.org_id}, headers=csrf(client)
    )
    assert response.status_code == 400
    assert response.text == "请填写机构代码"


async def test_unauthenticated_page_redirects_to_login_with_next(client, tenant):
    response = await client.get("/system/users", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/system/users"


async def test_otp_enrolment_through_the_api(client, admin):
    import pyotp

    new = (await client.post("/api/v1/auth/otp/secret", headers=admin)).json()
    assert new["otp_uri"].startswith("otpauth://totp/") and "<svg" in new["qr_svg"]
    wrong = await client.post("/api/v1/auth/otp", headers=admin, json={"secret": new["secret"], "otp": "000000"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_otp"
    code = pyotp.TOTP(new["secret"]).now()
    ok = await client.post("/api/v1/auth/otp", headers=admin, json={"secret": new["secret"], "otp": code})
    assert ok.status_code == 200 and ok.json() == {"otp_enrolled": True}
    again = await client.post("/api/v1/auth/otp", headers=admin, json={"secret": new["secret"], "otp": code})
    assert again.status_code == 409
    refused = await client.post("/api/v1/auth/token", json={"login": "admin@ACME", "password": "admin1234"})
    assert refused.status_code == 401 and refused.json()["code"] == "otp_required"


async def test_list_regions_render_alone_as_htmx_fragments(client, tenant, monkeypatch):
    """An htmx refresh renders only the `rows` block, which must still see the shared macros, and
    does not work out the main menu it does not show."""
    from server.core import web

    menus = []
    whole_page_menu = web.menu_html
    monkeypatch.setattr(web, "menu_html", lambda *a: menus.append(a) or whole_page_menu(*a))
    await page_login(client, "admin@ACME")
    for url in (
        "/system/orgs",
        "/system/users",
        "/system/roles",
        "/system/audit-log",
        "/masterdata/suppliers",
        "/masterdata/dictionaries",
        "/masterdata/categories",
        "/masterdata/repair-codes",
        "/masterdata/fault-reasons",
        "/masterdata/goods",
        "/masterdata/warehouses",
        "/masterdata/warehouse-assignments",
        "/inventory/inbounds",
        "/inventory/outbounds",
        "/inventory/stock",
        "/credit/recharges",
        "/credit/adjustments",
        "/credit/accounts",
    ):
        menus.clear()
        fragment = await client.get(url, headers={"hx-request": "true", "hx-target": "rows"})
        assert fragment.status_code == 200, (url, fragment.text[:300])
        assert "<html" not in fragment.text and "<table" in fragment.text and not menus, url
        page = await client.get(url)
        assert page.status_code == 200 and "<html" in page.text and len(menus) == 1, url


async def test_pages_name_the_icon_so_browsers_do_not_ask_for_a_missing_favicon(client, tenant):
    """Without a link, every page load asked for /favicon.ico and got a 404 through the whole
    middleware chain."""
    login = await client.get("/login")
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in login.text
    await page_login(client, "admin@ACME")
    assert 'href="/static/favicon.svg"' in (await client.get("/workorders")).text
    icon = await client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
