"""API bodies are JSON: a body of another type (text/plain, a form, multipart) is what a page of
another site can make a browser send without a CORS preflight, so the API refuses it with 415
before reading it — except where the handler takes that type (the goods import's file)."""

from __future__ import annotations

import pytest

from server.system.tables import Org
from tests.api_helpers import error_of

ORG = '{"code": "B1", "name": "一号网点", "parent_id": %d}'
JSON = {"content-type": "application/json"}
TEXT = {"content-type": "text/plain"}
NOT_JSON = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    None,
]


async def orgs_named_b1() -> int:
    return await Org.count().where(Org.code == "B1")


@pytest.mark.parametrize("content_type", NOT_JSON)
async def test_a_body_that_is_not_json_is_refused_415(client, tenant, admin, content_type):
    headers = admin | ({"content-type": content_type} if content_type else {})
    response = await client.post("/api/v1/orgs", content=ORG % tenant.org_id, headers=headers)
    body = error_of(response, 415, "unsupported_media_type")
    assert body["detail"] == "请求体必须是 JSON（Content-Type: application/json）"
    assert await orgs_named_b1() == 0


async def test_every_unsafe_method_and_the_login_itself_are_covered(client, tenant, admin):
    org = (await client.get("/api/v1/orgs", headers=admin)).json()["items"][0]
    url = f"/api/v1/orgs/{org['id']}"
    for method in ("PATCH", "DELETE"):  # (no endpoint takes PUT)
        response = await client.request(method, url, content='{"remark": "x"}', headers=admin | TEXT)
        error_of(response, 415, "unsupported_media_type")
    # a cross-site text/plain form could otherwise log a victim into the attacker's account
    login = '{"login": "admin@ACME", "password": "admin1234"}'
    error_of(await client.post("/api/v1/auth/token", content=login, headers=TEXT), 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"],
)
async def test_json_in_any_spelling_is_accepted(client, tenant, admin, content_type):
    headers = admin | {"content-type": content_type}
    assert (await client.post("/api/v1/orgs", content=ORG % tenant.org_id, headers=headers)).status_code == 201


async def test_requests_without_a_body_need_no_content_type(client, tenant, admin):
    created = (await client.post("/api/v1/orgs", content=ORG % tenant.org_id, headers=admin | JSON)).json()
    assert (await client.post("/api/v1/auth/otp/secret", headers=admin)).status_code == 200  # an action, no body
    empty = admin | TEXT | {"content-length": "0"}
    assert (await client.post("/api/v1/auth/otp/secret", headers=empty)).status_code == 200
    assert (await client.delete(f"/api/v1/orgs/{created['id']}", headers=admin)).status_code == 200


async def test_pages_keep_their_form_posts(client, tenant):
    """Only /api/ is JSON-only: the htmx pages post forms (their CSRF token guards them)."""
    await client.get("/login")
    data = {"login": "admin@ACME", "password": "admin1234", "_csrf_token": client.cookies.get("csrftoken")}
    assert (await client.post("/login", data=data, follow_redirects=False)).status_code in (302, 303)


async def test_the_goods_import_still_takes_a_file_and_only_a_file(client, tenant, admin):
    url = "/api/v1/goods/import"
    upload = {"file": ("goods.xlsx", b"not a workbook", "application/octet-stream")}
    response = await client.post(url, files=upload, headers=admin)
    assert response.status_code == 400 and response.json()["code"] != "unsupported_media_type", response.text
    body = error_of(await client.post(url, content="x", headers=admin | TEXT), 415, "unsupported_media_type")
    assert body["detail"] == "请求体必须是上传的文件（Content-Type: multipart/form-data）"
