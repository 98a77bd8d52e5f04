"""Nobody gains rights through user management, roles, settings or their own org (audit items 1
and 2): an action on a user needs every right that user holds; a super admin is acted on only by
a super admin; company-wide settings and roles are head-office only; an org's level is set by an
ancestor, never by the org itself. Over the API and the pages."""

from __future__ import annotations

import pytest

from server.system import permissions as P
from tests.conftest import api_login, csrf, page_login
from tests.system.helpers import PASSWORD, error_of, make_org, make_role, make_user, user_with

RESET_ONLY = [P.USER_VIEW, P.USER_RESET_PASSWORD, P.USER_RESET_OTP, P.USER_UPDATE, P.USER_DELETE]
NEW_PASSWORD = "Takeover#123"


def user_actions(user_id: int) -> list[tuple[str, str, dict | None]]:
    """Every action on a user of the user-management API."""
    url = f"/api/v1/users/{user_id}"
    return [
        ("POST", f"{url}/reset-password", {"password": NEW_PASSWORD}),
        ("POST", f"{url}/reset-otp", None),
        ("PATCH", url, {"enabled": False}),
        ("PATCH", url, {"name": "改名"}),
        ("DELETE", url, None),
    ]


async def super_admin_id(client, admin) -> int:
    response = await client.get("/api/v1/auth/me", headers=admin)
    return response.json()["user_id"]


@pytest.fixture
async def resetter(client, tenant, admin):
    """A head-office user holding only user view + the user actions (the audit's attacker)."""
    return await user_with(client, admin, "resetter", tenant.org_id, "hq", RESET_ONLY)


async def test_a_weaker_user_cannot_act_on_the_super_admin(client, tenant, admin, resetter):
    _, headers = resetter
    target = await super_admin_id(client, admin)
    for method, url, body in user_actions(target):
        error_of(await client.request(method, url, json=body, headers=headers), 403, "permission_escalation")
    # the super admin still logs in with the old password, and is still enabled
    await api_login(client, "admin@ACME")
    response = await client.post("/api/v1/auth/token", json={"login": "admin@ACME", "password": NEW_PASSWORD})
    error_of(response, 401, "wrong_credentials")


async def test_a_user_with_every_code_but_no_super_admin_role_cannot_act_on_the_super_admin(client, tenant, admin):
    from server.core import permissions

    _, headers = await user_with(client, admin, "almighty", tenant.org_id, "hq", sorted(permissions.all_codes()))
    target = await super_admin_id(client, admin)
    for method, url, body in user_actions(target):
        error_of(await client.request(method, url, json=body, headers=headers), 403, "permission_escalation")


async def test_a_weaker_user_cannot_act_on_a_richer_user(client, tenant, admin, resetter):
    _, headers = resetter
    rich_role = await make_role(client, admin, "仓库主管", "hq", [P.ORG_VIEW, P.ORG_UPDATE, P.USER_VIEW])
    rich = await make_user(client, admin, "rich", tenant.org_id, [rich_role["id"]])
    for method, url, body in user_actions(rich["id"]):
        error_of(await client.request(method, url, json=body, headers=headers), 403, "permission_escalation")
    await api_login(client, "rich@ACME", PASSWORD)


async def test_roles_of_a_richer_user_cannot_be_changed(client, tenant, admin, resetter):
    _, headers = resetter
    mine = await make_role(client, admin, "只读", "hq", [P.USER_VIEW])
    rich_role = await make_role(client, admin, "主管", "hq", [P.ORG_VIEW, P.USER_VIEW])
    rich = await make_user(client, admin, "rich", tenant.org_id, [rich_role["id"]])
    response = await client.patch(f"/api/v1/users/{rich['id']}", json={"role_ids": [mine["id"]]}, headers=headers)
    error_of(response, 403, "permission_escalation")


async def test_acting_on_a_user_within_ones_rights_works(client, tenant, admin, resetter):
    _, headers = resetter
    weak_role = await make_role(client, admin, "查看用户", "hq", [P.USER_VIEW])
    weak = await make_user(client, admin, "weak", tenant.org_id, [weak_role["id"]])
    response = await client.post(
        f"/api/v1/users/{weak['id']}/reset-password", json={"password": NEW_PASSWORD}, headers=headers
    )
    assert response.status_code == 200, response.text
    await api_login(client, "weak@ACME", NEW_PASSWORD)
    response = await client.patch(f"/api/v1/users/{weak['id']}", json={"enabled": False}, headers=headers)
    assert response.status_code == 200 and response.json()["enabled"] is False


async def test_only_a_super_admin_assigns_the_super_admin_role(client, tenant, admin):
    from server.core import permissions

    roles = (await client.get("/api/v1/roles", headers=admin)).json()["items"]
    super_role = next(r for r in roles if r["builtin"])
    _, headers = await user_with(client, admin, "almighty", tenant.org_id, "hq", sorted(permissions.all_codes()))
    body = {"account": "sneaky", "name": "某人", "password": PASSWORD, "org_id": tenant.org_id}
    response = await client.post("/api/v1/users", json=body | {"role_ids": [super_role["id"]]}, headers=headers)
    error_of(response, 403, "permission_escalation")
    # the super admin may
    response = await client.post("/api/v1/users", json=body | {"role_ids": [super_role["id"]]}, headers=admin)
    assert response.status_code == 201, response.text


async def test_a_branch_manager_cannot_take_over_a_richer_user_of_the_branch(client, tenant, admin):
    """The demo's 网点经理 shape: user management in a branch, one richer user beside it."""
    branch = await make_org(client, admin, "B1", tenant.org_id)
    _, manager = await user_with(
        client, admin, "manager", branch["id"], "branch", [P.USER_VIEW, P.USER_UPDATE, P.USER_RESET_PASSWORD]
    )
    richer_role = await make_role(client, admin, "网点全权", "branch", [P.USER_VIEW, P.ORG_VIEW, P.ORG_UPDATE])
    richer = await make_user(client, admin, "richer", branch["id"], [richer_role["id"]])
    response = await client.post(
        f"/api/v1/users/{richer['id']}/reset-password", json={"password": NEW_PASSWORD}, headers=manager
    )
    error_of(response, 403, "permission_escalation")


async def test_user_pages_refuse_and_hide_actions_on_richer_users(client, tenant, admin, resetter):
    target = await super_admin_id(client, admin)
    await page_login(client, "resetter@ACME", PASSWORD)
    page = await client.get("/system/users")
    assert page.status_code == 200
    row = page.text[page.text.index('data-account="admin"') :].split("</tr>")[0]
    assert "无权操作" in row and "重置密码" not in row
    own = page.text[page.text.index('data-account="resetter"') :].split("</tr>")[0]
    assert "本人" in own and "重置密码" not in own
    for url in (f"/system/users/{target}/edit", f"/system/users/{target}/reset-password"):
        response = await client.get(url, headers=csrf(client))
        assert response.status_code == 403 and "超级管理员" in response.text
    for url, data in (
        (f"/system/users/{target}/reset-password", {"password": NEW_PASSWORD}),
        (f"/system/users/{target}/reset-otp", {}),
        (f"/system/users/{target}", {"name": "改名", "enabled": ""}),
        (f"/system/users/{target}/delete", {}),
    ):
        response = await client.post(url, data=data, headers=csrf(client))
        assert response.status_code == 403 and "超级管理员" in response.text, (url, response.text)
    await api_login(client, "admin@ACME")


# --- company-wide state is head-office only -----------------------------------------------------------


@pytest.fixture
async def branch_admin(client, tenant, admin):
    """A branch user holding every settings, role and org code."""
    branch = await make_org(client, admin, "B1", tenant.org_id)
    codes = [
        P.SETTINGS_VIEW,
        P.SETTINGS_UPDATE,
        P.ROLE_VIEW,
        P.ROLE_CREATE,
        P.ROLE_UPDATE,
        P.ROLE_DELETE,
        P.ORG_VIEW,
        P.ORG_UPDATE,
        P.ORG_CREATE,
    ]
    _, headers = await user_with(client, admin, "boss", branch["id"], "branch", codes)
    return branch, headers


async def test_a_branch_cannot_change_company_settings(client, admin, branch_admin):
    _, headers = branch_admin
    error_of(await client.patch("/api/v1/settings", json={"require_otp": False}, headers=headers), 403)
    settings = (await client.get("/api/v1/settings", headers=admin)).json()
    response = await client.patch("/api/v1/settings", json={"require_otp": not settings["require_otp"]}, headers=admin)
    assert response.status_code == 200


async def test_a_branch_cannot_create_edit_or_delete_roles(client, admin, branch_admin):
    _, headers = branch_admin
    shared = await make_role(client, admin, "网点职员", "branch", [P.ORG_VIEW])
    for kind in ("hq", "branch"):
        body = {"name": f"自建{kind}", "org_kind": kind, "permissions": [P.ORG_VIEW]}
        error_of(await client.post("/api/v1/roles", json=body, headers=headers), 403)
    error_of(await client.patch(f"/api/v1/roles/{shared['id']}", json={"permissions": []}, headers=headers), 403)
    error_of(await client.delete(f"/api/v1/roles/{shared['id']}", headers=headers), 403)
    response = await client.get(f"/api/v1/roles/{shared['id']}", headers=headers)
    assert response.json()["permissions"] == [P.ORG_VIEW.rsplit(".", 2)[0], P.ORG_VIEW.rsplit(".", 1)[0], P.ORG_VIEW]


async def test_an_org_cannot_raise_its_own_level(client, tenant, admin, branch_admin):
    branch, headers = branch_admin
    error_of(await client.patch(f"/api/v1/orgs/{branch['id']}", json={"level": 4}, headers=headers), 403, "own_org")
    # unchanged level and other fields are fine; the parent sets the level
    response = await client.patch(
        f"/api/v1/orgs/{branch['id']}", json={"level": branch["level"], "contact": "王经理"}, headers=headers
    )
    assert response.status_code == 200, response.text
    child = await make_org(client, headers, "B1A", branch["id"])
    response = await client.patch(f"/api/v1/orgs/{child['id']}", json={"level": 3}, headers=headers)
    assert response.status_code == 200 and response.json()["level"] == 3
    response = await client.patch(f"/api/v1/orgs/{branch['id']}", json={"level": 2}, headers=admin)
    assert response.status_code == 200 and response.json()["level"] == 2


async def test_branch_pages_refuse_settings_roles_and_own_level(client, tenant, admin, branch_admin):
    branch, _ = branch_admin
    shared = await make_role(client, admin, "网点职员", "branch", [P.ORG_VIEW])
    await page_login(client, "boss@ACME", PASSWORD)
    for url, data in (
        ("/system/settings", {"max_org_depth": "5", "require_otp": ""}),
        ("/system/roles", {"name": "自建", "org_kind": "branch", "permissions": P.ORG_VIEW}),
        (f"/system/roles/{shared['id']}/delete", {}),
        (f"/system/orgs/{branch['id']}", {"name": branch["name"], "level": "4"}),
    ):
        response = await client.post(url, data=data, headers=csrf(client))
        assert response.status_code == 403, (url, response.status_code, response.text)
