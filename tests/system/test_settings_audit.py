"""Tenant settings (max_org_depth, require_otp, credit_four_eyes) and the audit log: every
create/update/delete/transition leaves a row with before/after, seen only within one's subtree."""

from __future__ import annotations

import pytest

from server.core import audit
from server.core.errors import BusinessError
from server.core.pagination import PageParams
from server.system.services import tenants
from tests.conftest import api_login
from tests.system.helpers import (
    PASSWORD,
    enrol_otp,
    error_of,
    make_org,
    make_role,
    make_user,
    service_org,
    service_user,
    user_with,
)


async def settings_of(client, headers) -> dict:
    response = await client.get("/api/v1/settings", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def audit_rows(client, headers, **filters) -> list[dict]:
    response = await client.get("/api/v1/audit-log", params={"page_size": 200} | filters, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def history(client, headers, entity: str, entity_id: int) -> list[tuple[str, object, object]]:
    """(action, before, after) of one row, oldest first."""
    rows = await audit_rows(client, headers, entity=entity)
    return [(r["action"], r["before"], r["after"]) for r in reversed(rows) if r["entity_id"] == entity_id]


# --- settings --------------------------------------------------------------------------------------


async def test_settings_defaults(client, admin):
    assert await settings_of(client, admin) == {
        "code": "ACME",
        "name": "艾克米维修",
        "tz": "Asia/Shanghai",
        "max_org_depth": 5,
        "require_otp": False,
        "credit_four_eyes": False,
    }


async def test_settings_can_be_changed(client, admin):
    change = {"max_org_depth": 7, "require_otp": True, "credit_four_eyes": True}
    response = await client.patch("/api/v1/settings", json=change, headers=admin)
    assert response.status_code == 200 and response.json() == (await settings_of(client, admin))
    assert {k: response.json()[k] for k in change} == change


async def test_max_org_depth_accepts_2_to_10(client, admin):
    for depth in (2, 10):
        response = await client.patch("/api/v1/settings", json={"max_org_depth": depth}, headers=admin)
        assert response.status_code == 200 and response.json()["max_org_depth"] == depth


async def test_max_org_depth_outside_2_to_10_is_refused(client, admin):
    for value in (1, 11, 0, -3, 10**12, "five", None, 2.5, [5]):
        response = await client.patch("/api/v1/settings", json={"max_org_depth": value}, headers=admin)
        error_of(response, 400)
    assert (await settings_of(client, admin))["max_org_depth"] == 5


async def test_boolean_settings_refuse_non_booleans(client, admin):
    for value in ("yes", 2, None, "x" * 10_000, []):
        for key in ("require_otp", "credit_four_eyes"):
            error_of(await client.patch("/api/v1/settings", json={key: value}, headers=admin), 400)
    settings = await settings_of(client, admin)
    assert (settings["require_otp"], settings["credit_four_eyes"]) == (False, False)


async def test_max_org_depth_cannot_go_below_the_deepest_org(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    await make_org(client, admin, "B11", b1["id"])
    body = error_of(
        await client.patch("/api/v1/settings", json={"max_org_depth": 2}, headers=admin), 400, "depth_in_use"
    )
    assert "3" in body["detail"]
    assert (await settings_of(client, admin))["max_org_depth"] == 5
    response = await client.patch("/api/v1/settings", json={"max_org_depth": 3}, headers=admin)
    assert response.status_code == 200 and response.json()["max_org_depth"] == 3


async def test_service_refuses_a_depth_below_the_deepest_org(tenant):
    b1 = await service_org(tenant, "B1", tenant.org_id)
    await service_org(tenant, "B11", b1["id"])
    with pytest.raises(BusinessError) as refused:
        await tenants.update_settings(tenant, {"max_org_depth": 2})
    assert refused.value.code == "depth_in_use"
    assert (await tenants.get_settings(tenant))["max_org_depth"] == 5


async def test_settings_update_needs_its_permission(client, tenant, admin):
    _, viewer = await user_with(client, admin, "viewer", tenant.org_id, "hq", ["system.settings.view"])
    assert (await settings_of(client, viewer))["max_org_depth"] == 5
    response = await client.patch("/api/v1/settings", json={"max_org_depth": 4}, headers=viewer)
    error_of(response, 403, "forbidden")
    assert (await settings_of(client, admin))["max_org_depth"] == 5


# --- audit log ---------------------------------------------------------------------------------------


async def test_org_changes_are_audited_with_before_and_after(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id, name="一号网点", level=1)
    await client.patch(f"/api/v1/orgs/{b1['id']}", json={"name": "一号旗舰店", "level": 2}, headers=admin)
    await client.patch(f"/api/v1/orgs/{b1['id']}", json={"enabled": False}, headers=admin)
    await client.delete(f"/api/v1/orgs/{b1['id']}", headers=admin)
    steps = await history(client, admin, "org", b1["id"])
    assert [s[0] for s in steps] == ["create", "update", "update", "delete"]
    (_, before, after) = steps[0]
    assert before is None and (after["code"], after["name"], after["parent_id"]) == ("B1", "一号网点", tenant.org_id)
    assert steps[1][1:] == ({"name": "一号网点", "level": 1}, {"name": "一号旗舰店", "level": 2})
    assert steps[2][1:] == ({"enabled": True}, {"enabled": False})
    assert steps[3][1:] == ({"status": "active"}, {"status": "deleted"})


async def test_audit_row_names_who_did_it_and_when(client, tenant, admin):
    me = (await client.get("/api/v1/auth/me", headers=admin)).json()
    await make_org(client, admin, "B1", tenant.org_id)
    (row,) = await audit_rows(client, admin, entity="org")
    assert (row["user_id"], row["user_name"]) == (me["user_id"], "管理员")
    assert "B1" in row["summary"] and row["created_at"]


async def test_role_changes_are_audited_with_before_and_after(client, admin):
    role = await make_role(client, admin, "前台", "branch", ["system.org.view"])
    await client.patch(f"/api/v1/roles/{role['id']}", json={"permissions": ["system.user.view"]}, headers=admin)
    await client.delete(f"/api/v1/roles/{role['id']}", headers=admin)
    steps = await history(client, admin, "role", role["id"])
    assert [s[0] for s in steps] == ["create", "update", "delete"]
    assert steps[0][2]["permissions"] == ["system", "system.org", "system.org.view"]
    assert steps[1][1:] == (
        {"permissions": ["system", "system.org", "system.org.view"]},
        {"permissions": ["system", "system.user", "system.user.view"]},
    )
    assert steps[2][1:] == ({"status": "active"}, {"status": "deleted"})


async def test_user_changes_and_transitions_are_audited(client, tenant, admin):
    role = await make_role(client, admin, "职员", "hq", ["system.org.view"])
    user = await make_user(client, admin, "bob", tenant.org_id, [role["id"]])
    await enrol_otp(user["id"], tenant.tenant_id)
    await client.patch(f"/api/v1/users/{user['id']}", json={"name": "鲍勃", "enabled": False}, headers=admin)
    await client.post(f"/api/v1/users/{user['id']}/reset-password", json={"password": "n3wpassword"}, headers=admin)
    await client.post(f"/api/v1/users/{user['id']}/reset-otp", headers=admin)
    await client.delete(f"/api/v1/users/{user['id']}", headers=admin)
    steps = await history(client, admin, "user", user["id"])
    assert [s[0] for s in steps] == ["create", "enrol_otp", "update", "reset_password", "reset_otp", "delete"]
    assert steps[0][2]["account"] == "bob" and "password" not in steps[0][2]
    assert steps[1][1:] == ({"otp_enrolled": False}, {"otp_enrolled": True})
    assert steps[2][1:] == ({"name": "用户bob", "enabled": True}, {"name": "鲍勃", "enabled": False})
    assert steps[4][1:] == ({"otp_enrolled": True}, {"otp_enrolled": False})
    assert steps[5][1:] == ({"status": "active"}, {"status": "deleted"})
    assert not any("hash" in str(s) or "n3wpassword" in str(s) for s in steps)


async def test_settings_changes_are_audited(client, tenant, admin):
    await client.patch("/api/v1/settings", json={"max_org_depth": 4, "require_otp": True}, headers=admin)
    assert await history(client, admin, "settings", tenant.tenant_id) == [
        ("update", {"max_org_depth": 5, "require_otp": False}, {"max_org_depth": 4, "require_otp": True})
    ]


async def test_change_of_own_password_is_audited(client, tenant, admin):
    role = await make_role(client, admin, "职员", "hq", [])
    user = await make_user(client, admin, "bob", tenant.org_id, [role["id"]])
    bob = await api_login(client, "bob@ACME", PASSWORD)
    body = {"old_password": PASSWORD, "new_password": "n3wpassword"}
    assert (await client.post("/api/v1/auth/password", json=body, headers=bob)).status_code == 200
    assert [s[0] for s in await history(client, admin, "user", user["id"])] == ["create", "change_password"]


async def test_refused_changes_leave_no_audit_row(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    before = await audit_rows(client, admin)
    await client.post("/api/v1/orgs", json={"code": "B1", "name": "重复", "parent_id": tenant.org_id}, headers=admin)
    await client.patch(f"/api/v1/orgs/{b1['id']}", json={"code": "B9", "name": "改"}, headers=admin)
    await client.delete(f"/api/v1/orgs/{tenant.org_id}", headers=admin)
    await client.patch(f"/api/v1/orgs/{b1['id']}", json={}, headers=admin)
    await client.patch("/api/v1/settings", json={"max_org_depth": 1}, headers=admin)
    assert await audit_rows(client, admin) == before


async def test_audit_log_filters_by_entity_and_action(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    await client.patch(f"/api/v1/orgs/{b1['id']}", json={"name": "改名"}, headers=admin)
    await make_role(client, admin, "前台", "branch")
    assert {(r["entity"], r["action"]) for r in await audit_rows(client, admin, entity="org")} == {
        ("org", "create"),
        ("org", "update"),
    }
    assert [(r["entity"], r["action"]) for r in await audit_rows(client, admin, action="update")] == [("org", "update")]
    rows = await audit_rows(client, admin, entity="role", action="create")
    assert [r["summary"] for r in rows] == ["添加角色 前台"]
    response = await client.get("/api/v1/audit-log", params={"page_size": 2, "page": 1}, headers=admin)
    assert response.json()["page_size"] == 2 and len(response.json()["items"]) == 2


async def test_branch_user_sees_only_audit_rows_of_its_subtree(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    b2 = await make_org(client, admin, "B2", tenant.org_id)
    perms = ["system.audit.view", "system.org.view", "system.org.create"]
    _, bob = await user_with(client, admin, "bob", b1["id"], "branch", perms)
    _, carol = await user_with(client, admin, "carol", b2["id"], "branch", perms)
    b11 = await make_org(client, bob, "B11", b1["id"])
    b21 = await make_org(client, carol, "B21", b2["id"])
    own = await audit_rows(client, bob)
    assert [(r["entity"], r["entity_id"]) for r in own] == [("org", b11["id"])]
    everything = {(r["entity"], r["entity_id"]) for r in await audit_rows(client, admin, entity="org")}
    assert {("org", b1["id"]), ("org", b2["id"]), ("org", b11["id"]), ("org", b21["id"])} <= everything


async def test_service_audit_search_is_scoped_to_the_subtree(tenant):
    b1 = await service_org(tenant, "B1", tenant.org_id)
    bob = await service_user(tenant, "bob", b1["id"], "branch", ["system.org.create", "system.org.view"])
    b11 = await service_org(bob, "B11", b1["id"])
    assert [r["entity_id"] for r in (await audit.search(bob, params=PageParams())).items] == [b11["id"]]
    assert (await audit.search(tenant, entity="org", params=PageParams())).total == 2


async def test_audit_log_of_another_tenant_stays_invisible(client, tenant, other_tenant, admin):
    await make_org(client, admin, "B1", tenant.org_id)
    other = await api_login(client, "admin@OTHER")
    rows = await audit_rows(client, other)
    assert [(r["entity"], r["action"]) for r in rows] == [("tenant", "create")]
    assert all("ACME" not in r["summary"] for r in rows)
