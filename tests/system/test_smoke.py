from tests.conftest import api_login, csrf, page_login


async def test_openapi_and_login_flow(client, tenant):
    assert (await client.get("/schema/openapi.json")).status_code == 200
    headers = await api_login(client, "admin@acme")
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["login_name"] == "admin@ACME"


async def test_pages_render(client, tenant):
    await page_login(client, "admin@ACME")
    for path in (
        "/",
        "/system/orgs",
        "/system/roles",
        "/system/users",
        "/system/settings",
        "/system/audit-log",
        "/account/password",
        "/account/otp",
        "/system/orgs/new",
        "/system/roles/new",
        "/system/users/new",
    ):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
    response = await client.post(
        "/system/orgs",
        data={"code": "B1", "name": "一号网点", "parent_id": "1", "level": "2", "enabled": "1"},
        headers=csrf(client),
    )
    assert response.status_code == 201, response.text
