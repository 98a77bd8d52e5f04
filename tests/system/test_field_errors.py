"""The org, user and role forms report every mistake of a submit at once (issue 15 item 7): the
API lists them in `errors: [{field, detail}]`, a page submit in the X-Field-Errors header."""

from __future__ import annotations

import json
from urllib.parse import unquote

from server.system.tables import Org, Role, User
from tests.conftest import csrf, page_login
from tests.system.helpers import error_of, make_org


def fields_of(response) -> dict[str, str]:
    body = error_of(response, 400, extra=("errors",))
    return {e["field"]: e["detail"] for e in body["errors"]}


async def test_org_create_lists_every_mistake(client, tenant, admin):
    body = {"code": "坏 代码", "name": "", "parent_id": tenant.org_id, "level": 7, "phone": "1" * 31}
    errors = fields_of(await client.post("/api/v1/orgs", json=body, headers=admin))
    assert set(errors) == {"code", "name", "level", "phone"}
    assert errors["name"] == "请填写机构名称" and "1–4" in errors["level"]
    assert await Org.count() == 1


async def test_org_create_names_a_taken_code_beside_the_other_mistakes(client, tenant, admin):
    await make_org(client, admin, "SZ01", tenant.org_id)
    body = {"code": "sz01", "name": "", "parent_id": tenant.org_id}
    errors = fields_of(await client.post("/api/v1/orgs", json=body, headers=admin))
    assert set(errors) == {"code", "name"} and "SZ01 已存在" in errors["code"]
    # alone, a taken code is the 409 it always was
    alone = await client.post("/api/v1/orgs", json=body | {"name": "深圳"}, headers=admin)
    assert error_of(alone, 409, "duplicate_code")["detail"].startswith("机构代码 SZ01 已存在")


async def test_org_update_lists_every_mistake(client, tenant, admin):
    org = await make_org(client, admin, "SZ01", tenant.org_id)
    change = {"code": "OTHER", "name": " ", "address": "地" * 201, "level": 0}
    errors = fields_of(await client.patch(f"/api/v1/orgs/{org['id']}", json=change, headers=admin))
    assert set(errors) == {"code", "name", "address", "level"}


async def test_user_create_lists_every_mistake(client, tenant, admin):
    body = {
        "org_id": tenant.org_id,
        "account": "x",
        "name": "",
        "email": "not-an-email",
        "phone": "abc",
        "password": "short",
        "role_ids": [],
    }
    errors = fields_of(await client.post("/api/v1/users", json=body, headers=admin))
    assert set(errors) == {"account", "name", "email", "phone", "password", "role_ids"}
    assert errors["role_ids"] == "请至少选择一个角色" and errors["password"] == "密码至少 8 位"
    assert await User.count() == 1


async def test_user_update_lists_every_mistake(client, tenant, admin):
    role = await Role.select(Role.id).where((Role.tenant_id == tenant.tenant_id) & (Role.org_kind == "hq")).first()
    body = {
        "org_id": tenant.org_id,
        "account": "bob",
        "name": "鲍勃",
        "password": "Passw0rd!",
        "role_ids": [role["id"]],
    }
    created = await client.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    change = {"account": "robert", "name": "", "email": "bob@", "role_ids": []}
    errors = fields_of(await client.patch(f"/api/v1/users/{created.json()['id']}", json=change, headers=admin))
    assert set(errors) == {"account", "name", "email", "role_ids"}


async def test_role_create_lists_every_mistake(client, tenant, admin):
    body = {"name": "", "org_kind": "shop", "permissions": ["no.such.code"], "remark": "备" * 201}
    errors = fields_of(await client.post("/api/v1/roles", json=body, headers=admin))
    assert set(errors) == {"name", "org_kind", "permissions", "remark"}


async def test_org_page_submit_marks_every_field(client, tenant):
    await page_login(client, "admin@ACME")
    await client.get("/system/orgs")
    data = {"code": "!!", "name": "", "parent_id": str(tenant.org_id), "level": "9", "enabled": "1"}
    response = await client.post("/system/orgs", data=data, headers=csrf(client))
    assert response.status_code == 400
    marked = json.loads(unquote(response.headers["x-field-errors"]))
    assert {e["field"] for e in marked} == {"code", "name", "level"}


async def test_user_form_marks_its_readonly_and_grouped_fields(client, tenant):
    """Each field a refusal may name has an element the page can mark (app.js markFields)."""
    await page_login(client, "admin@ACME")
    form = await client.get("/system/users/new", headers={"hx-request": "true"})
    assert "novalidate" in form.text and 'data-field="role_ids"' in form.text
    roles = await client.get("/system/roles/new", headers={"hx-request": "true"})
    assert "novalidate" in roles.text and 'data-field="permissions"' in roles.text
    orgs = await client.get(f"/system/orgs/{tenant.org_id}/edit", headers={"hx-request": "true"})
    assert 'data-field="code"' in orgs.text and 'data-field="parent_id"' in orgs.text
