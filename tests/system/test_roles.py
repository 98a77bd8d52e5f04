"""Roles (SPEC 1.2): permission codes from the fixed tree, normalised; immutable org kind; no
escalation beyond the editor's own rights; the built-in super admin; soft delete grants nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from server.core import permissions
from server.core.errors import BusinessError, Conflict, Forbidden
from server.system.services import roles
from tests.system.helpers import error_of, make_role, make_user, user_with


async def role_named(client, headers, name: str) -> dict:
    response = await client.get("/api/v1/roles", params={"q": name}, headers=headers)
    assert response.status_code == 200, response.text
    (role,) = [r for r in response.json()["items"] if r["name"] == name]
    return role


async def test_create_role_with_permissions(client, admin):
    body = {
        "name": "前台",
        "org_kind": "branch",
        "permissions": ["system.org.view", "system.user.view"],
        "remark": "接待",
    }
    response = await client.post("/api/v1/roles", json=body, headers=admin)
    assert response.status_code == 201, response.text
    role = response.json()
    assert (role["name"], role["org_kind"], role["status"], role["builtin"], role["remark"]) == (
        "前台",
        "branch",
        "active",
        False,
        "接待",
    )
    assert role["permissions"] == ["system", "system.org", "system.org.view", "system.user", "system.user.view"]
    assert (await client.get(f"/api/v1/roles/{role['id']}", headers=admin)).json() == role


async def test_unknown_permission_code_is_refused(client, admin):
    body = {"name": "乱写", "org_kind": "hq", "permissions": ["system.org.view", "system.org.fly"]}
    body_error = error_of(
        await client.post("/api/v1/roles", json=body, headers=admin), 400, "unknown_permission", extra=("errors",)
    )
    assert "system.org.fly" in body_error["detail"]
    assert (await client.get("/api/v1/roles", params={"q": "乱写"}, headers=admin)).json()["total"] == 0
    role = await make_role(client, admin, "正常", "hq", ["system.org.view"])
    response = await client.patch(f"/api/v1/roles/{role['id']}", json={"permissions": ["nope"]}, headers=admin)
    error_of(response, 400, "unknown_permission", extra=("errors",))
    assert (await client.get(f"/api/v1/roles/{role['id']}", headers=admin)).json() == role


async def test_role_org_kind_is_immutable(client, admin):
    role = await make_role(client, admin, "技术员", "branch", ["system.org.view"])
    response = await client.patch(f"/api/v1/roles/{role['id']}", json={"org_kind": "hq", "name": "改名"}, headers=admin)
    error_of(response, 400, "immutable", extra=("errors",))
    assert (await client.get(f"/api/v1/roles/{role['id']}", headers=admin)).json() == role
    response = await client.patch(
        f"/api/v1/roles/{role['id']}", json={"org_kind": "branch", "name": "改名"}, headers=admin
    )
    assert response.status_code == 200 and response.json()["name"] == "改名"


async def test_service_refuses_changing_org_kind(tenant):
    role = await roles.create(tenant, {"name": "技术员", "org_kind": "branch", "permissions": []})
    with pytest.raises(BusinessError) as refused:
        await roles.update(tenant, role["id"], {"org_kind": "hq"})
    assert refused.value.code == "immutable"
    assert (await roles.get(tenant, role["id"]))["org_kind"] == "branch"


async def test_checking_an_action_grants_its_page_and_module(tenant):
    role = await roles.create(tenant, {"name": "只能添加机构", "org_kind": "hq", "permissions": ["system.org.create"]})
    assert roles.stored_codes(role) == ["system", "system.org", "system.org.create"]
    assert roles.granted(role) == {"system", "system.org", "system.org.create"}
    assert "system.org.view" not in roles.granted(role)


async def test_role_cannot_grant_permissions_the_editor_lacks(client, tenant, admin):
    _, limited = await user_with(client, admin, "limited", tenant.org_id, "hq", ["system.role.create"])
    body = {"name": "越权", "org_kind": "hq", "permissions": ["system.user.delete"]}
    error_of(await client.post("/api/v1/roles", json=body, headers=limited), 403, "permission_escalation")
    assert (await client.get("/api/v1/roles", params={"q": "越权"}, headers=admin)).json()["total"] == 0
    body = {"name": "同权", "org_kind": "hq", "permissions": ["system.role.create"]}
    assert (await client.post("/api/v1/roles", json=body, headers=limited)).status_code == 201


async def test_service_refuses_editing_a_role_beyond_the_editors_rights(tenant):
    editor = replace(tenant, permissions=frozenset(permissions.normalise(["system.role.create", "system.role.update"])))
    role = await roles.create(editor, {"name": "编辑", "org_kind": "hq", "permissions": ["system.role.update"]})
    with pytest.raises(Forbidden) as refused:
        await roles.update(editor, role["id"], {"permissions": ["system.role.update", "system.user.delete"]})
    assert refused.value.code == "permission_escalation"
    assert roles.stored_codes(await roles.get(tenant, role["id"])) == ["system", "system.role", "system.role.update"]


async def test_builtin_super_admin_cannot_be_edited_or_deleted(client, admin):
    role = await role_named(client, admin, "超级管理员")
    assert role["builtin"] and set(role["permissions"]) == permissions.all_codes()
    for change in ({"name": "普通"}, {"permissions": ["system.org.view"]}, {"remark": "改"}):
        error_of(await client.patch(f"/api/v1/roles/{role['id']}", json=change, headers=admin), 409, "builtin")
    error_of(await client.delete(f"/api/v1/roles/{role['id']}", headers=admin), 409, "builtin")
    assert (await client.get(f"/api/v1/roles/{role['id']}", headers=admin)).json() == role


async def test_role_delete_is_soft(client, admin):
    role = await make_role(client, admin, "临时", "hq", ["system.org.view"])
    response = await client.delete(f"/api/v1/roles/{role['id']}", headers=admin)
    assert response.status_code == 200 and response.json() == role | {"status": "deleted"}
    error_of(await client.delete(f"/api/v1/roles/{role['id']}", headers=admin), 409, "already_deleted")
    error_of(await client.patch(f"/api/v1/roles/{role['id']}", json={"name": "x"}, headers=admin), 409, "deleted")
    response = await client.get("/api/v1/roles", params={"status": "deleted"}, headers=admin)
    assert [r["name"] for r in response.json()["items"]] == ["临时"]


async def test_role_name_is_unique_among_active_roles(client, admin):
    role = await make_role(client, admin, "店长", "branch")
    body = {"name": "店长", "org_kind": "hq", "permissions": []}
    error_of(await client.post("/api/v1/roles", json=body, headers=admin), 409, "duplicate_name")
    await client.delete(f"/api/v1/roles/{role['id']}", headers=admin)
    assert (await client.post("/api/v1/roles", json=body, headers=admin)).status_code == 201


async def test_deleted_role_grants_nothing_at_the_next_request(client, tenant, admin):
    user, headers = await user_with(client, admin, "viewer", tenant.org_id, "hq", ["system.org.view"])
    assert (await client.get("/api/v1/orgs", headers=headers)).status_code == 200
    assert (await client.delete(f"/api/v1/roles/{user['role_ids'][0]}", headers=admin)).status_code == 200
    error_of(await client.get("/api/v1/orgs", headers=headers), 403, "forbidden")
    assert (await client.get("/api/v1/auth/me", headers=headers)).json()["permissions"] == []


async def test_service_deleted_role_grants_nothing(tenant):
    role = await roles.create(tenant, {"name": "临时", "org_kind": "hq", "permissions": ["system.org.view"]})
    deleted = await roles.delete(tenant, role["id"])
    assert roles.granted(deleted) == frozenset()


async def test_deleted_role_cannot_be_assigned(client, tenant, admin):
    kept = await make_role(client, admin, "保留", "hq", ["system.org.view"])
    gone = await make_role(client, admin, "作废", "hq", ["system.org.view"])
    user = await make_user(client, admin, "alice", tenant.org_id, [kept["id"]])
    await client.delete(f"/api/v1/roles/{gone['id']}", headers=admin)
    body = {
        "account": "bob",
        "name": "鲍勃",
        "password": "passw0rd1",
        "org_id": tenant.org_id,
        "role_ids": [gone["id"]],
    }
    error_of(await client.post("/api/v1/users", json=body, headers=admin), 400, "role_deleted", extra=("errors",))
    response = await client.patch(f"/api/v1/users/{user['id']}", json={"role_ids": [gone["id"]]}, headers=admin)
    error_of(response, 400, "role_deleted", extra=("errors",))
    assert (await client.get(f"/api/v1/users/{user['id']}", headers=admin)).json()["role_ids"] == [kept["id"]]
    assert (await client.get("/api/v1/users", params={"q": "bob"}, headers=admin)).json()["total"] == 0


async def test_service_refuses_deleting_the_builtin_role(tenant):
    (builtin,) = [r for r in (await roles.search(tenant)).items if r["builtin"]]
    with pytest.raises(Conflict) as refused:
        await roles.delete(tenant, builtin["id"])
    assert refused.value.code == "builtin"


async def test_a_role_stronger_than_the_editor_cannot_be_edited_or_deleted(tenant):
    from dataclasses import replace

    from server.core.errors import Forbidden
    from server.system.services import roles

    strong = await roles.create(tenant, {"name": "强角色", "org_kind": "hq", "permissions": ["system.user.delete"]})
    weak_ctx = replace(
        tenant, permissions=frozenset({"system", "system.role", "system.role.update", "system.role.delete"})
    )
    for call in (
        lambda: roles.update(weak_ctx, strong["id"], {"remark": "x"}),
        lambda: roles.delete(weak_ctx, strong["id"]),
    ):
        try:
            await call()
        except Forbidden as exc:
            assert exc.code == "permission_escalation"
        else:
            raise AssertionError("a weaker editor changed a stronger role")
    assert (await roles.get(tenant, strong["id"]))["status"] == "active"
