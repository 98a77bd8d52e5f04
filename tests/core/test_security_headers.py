"""Every answer carries the security headers (server/core/headers.py): a strict CSP that forbids
inline script and framing by other sites, X-Frame-Options, nosniff, a same-origin referrer, and
HSTS in production only. The browser test tests/e2e/test_csp.py proves the pages work under it."""

from __future__ import annotations

import dataclasses

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import csrf, page_login

EXPECTED = {
    "x-frame-options": "SAMEORIGIN",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}
HSTS = "max-age=31536000; includeSubDomains"


def directives(policy: str) -> dict[str, str]:
    parts = (d.strip().split(None, 1) for d in policy.split(";") if d.strip())
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def assert_hardened(response, hsts: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    assert directives(response.headers.get("content-security-policy", "")) == POLICY, where
    assert response.headers.get("strict-transport-security") == (HSTS if hsts else None), where


def test_the_policy_allows_no_inline_script_or_eval():
    for value in POLICY.values():
        assert "unsafe" not in value and "*" not in value


async def test_every_kind_of_answer_carries_the_headers(client, tenant, admin):
    answers = [
        await client.get("/login"),  # the login page, anonymous
        await client.get("/static/css/app.css"),  # a static file
        await client.get("/static/js/nope.js"),  # a static 404
        await client.get("/no-such-page"),  # the router's own 404
        await client.get("/api/v1/no-such-thing", headers=admin),
        await client.post("/healthz"),  # the router's own 405
        await client.get("/healthz"),
        await client.get("/api/v1/auth/me", headers=admin),  # API JSON
        await client.get("/api/v1/auth/me"),  # API 401
        await client.get("/system/orgs", follow_redirects=False),  # a page's redirect to /login
        await client.post("/api/v1/orgs", content="x", headers=admin | {"content-type": "text/plain"}),  # 415
        await client.get("/schema/openapi.json"),
    ]
    assert [r.status_code for r in answers] == [200, 200, 404, 404, 404, 405, 200, 200, 401, 302, 415, 200]
    await page_login(client, "admin@ACME")
    answers += [
        await client.get("/"),
        await client.get("/system/roles"),  # the role editor, which must not be framed elsewhere
        await client.get("/system/orgs", headers={"hx-request": "true", "hx-target": "rows"}),  # an htmx fragment
        await client.post("/system/orgs", data={"name": "x"}),  # CSRF refusal (page)
        await client.post("/system/orgs", data={"name": "x"}, headers=csrf(client)),  # a form error
    ]
    assert [r.status_code for r in answers[-5:]] == [200, 200, 200, 403, 400]
    for response in answers:
        assert_hardened(response)


async def test_the_api_viewers_keep_the_framing_protection(client):
    """Litestar's OpenAPI viewers load their script from a CDN and start it inline: their pages
    keep frame-ancestors, base-uri and object-src, and every other header, not the script rules."""
    response = await client.get("/schema")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert directives(response.headers["content-security-policy"]) == {
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'self'",
    }
    for name, value in EXPECTED.items():
        assert response.headers[name] == value


@pytest.fixture
async def prod_client(settings):
    from server.app import create_app

    async with AsyncTestClient(app=create_app(dataclasses.replace(settings, env="prod"))) as c:
        yield c


async def test_hsts_only_in_production(client, prod_client, tenant):
    assert "strict-transport-security" not in (await client.get("/login")).headers
    for path, status in (("/login", 200), ("/static/css/app.css", 200), ("/no-such-page", 404), ("/healthz", 200)):
        response = await prod_client.get(path)
        assert response.status_code == status
        assert_hardened(response, hsts=True)
