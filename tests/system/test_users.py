"""Users (SPEC 1.3): account rules, login name, role kind, immutable org and account, enable,
soft delete, password and OTP resets, changing one's own password, subtree scope."""

from __future__ import annotations

import pytest

from server.core.errors import BusinessError, Conflict, NotFound
from server.system.services import users
from tests.conftest import api_login, page_login
from tests.system.helpers import (
    PASSWORD,
    enrol_otp,
    error_of,
    make_org,
    make_role,
    make_user,
    page_session_alive,
    service_org,
    service_user,
    token_refused,
    user_with,
)

NEW_PASSWORD = "n3wpassword"


async def user_count(client, headers, **filters) -> int:
    response = await client.get("/api/v1/users", params=filters, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["total"]


async def read(client, headers, user_id: int) -> dict:
    response = await client.get(f"/api/v1/users/{user_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def me(client, headers) -> dict:
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def hq_role(client, admin) -> dict:
    return await make_role(client, admin, "总部职员", "hq", ["system.org.view"])


@pytest.fixture
async def branch(client, tenant, admin) -> dict:
    return await make_org(client, admin, "B1", tenant.org_id)


@pytest.fixture
async def branch_role(client, admin) -> dict:
    return await make_role(client, admin, "网点职员", "branch", ["system.org.view"])


# --- account and login name ------------------------------------------------------------------------


async def test_invalid_account_is_refused(client, tenant, admin, hq_role):
    for account in ("ab", "a b", "张三", "x@y", "", "a" * 51, "bob!"):
        body = {"account": account, "name": "某人", "password": PASSWORD, "org_id": tenant.org_id}
        response = await client.post("/api/v1/users", json=body | {"role_ids": [hq_role["id"]]}, headers=admin)
        error_of(response, 400, extra=("errors",))
    assert await user_count(client, admin) == 1


async def test_valid_account_is_accepted(client, tenant, admin, hq_role):
    for account in ("abc", "a.b_c-1", "Zhang.San"):
        user = await make_user(client, admin, account, tenant.org_id, [hq_role["id"]])
        assert (user["account"], user["login_name"]) == (account, f"{account}@ACME")


async def test_service_refuses_a_short_account(tenant):
    with pytest.raises(BusinessError) as refused:
        await service_user(tenant, "ab", tenant.org_id, "hq", [])
    assert (refused.value.code, refused.value.field) == ("invalid_field", "account")


async def test_duplicate_account_is_refused_case_insensitively(client, tenant, admin, hq_role):
    await make_user(client, admin, "Bob", tenant.org_id, [hq_role["id"]])
    for account in ("Bob", "bob", "BOB"):
        body = {
            "account": account,
            "name": "重名",
            "password": PASSWORD,
            "org_id": tenant.org_id,
            "role_ids": [hq_role["id"]],
        }
        error_of(await client.post("/api/v1/users", json=body, headers=admin), 409, "duplicate_account")
    assert await user_count(client, admin) == 2


async def test_same_account_is_fine_in_another_tenant(tenant, other_tenant):
    await service_user(tenant, "bob", tenant.org_id, "hq", [])
    bob = await service_user(other_tenant, "bob", other_tenant.org_id, "hq", [])
    assert bob.login_name == "bob@OTHER"


async def test_login_name_is_case_insensitive_on_code_and_account(client, tenant, admin, hq_role):
    await make_user(client, admin, "Bob", tenant.org_id, [hq_role["id"]])
    for login in ("Bob@ACME", "bob@acme", "BOB@Acme", " bob@ACME "):
        headers = await api_login(client, login, PASSWORD)
        assert (await me(client, headers))["login_name"] == "Bob@ACME"


# --- roles must match the org kind ---------------------------------------------------------------


async def test_hq_role_cannot_be_given_to_a_branch_user(client, admin, branch, hq_role, branch_role):
    body = {"account": "bob", "name": "鲍勃", "password": PASSWORD, "org_id": branch["id"], "role_ids": [hq_role["id"]]}
    error_of(await client.post("/api/v1/users", json=body, headers=admin), 400, "role_kind_mismatch", extra=("errors",))
    user = await make_user(client, admin, "bob", branch["id"], [branch_role["id"]])
    response = await client.patch(
        f"/api/v1/users/{user['id']}", json={"role_ids": [branch_role["id"], hq_role["id"]]}, headers=admin
    )
    error_of(response, 400, "role_kind_mismatch", extra=("errors",))
    assert (await read(client, admin, user["id"]))["role_ids"] == [branch_role["id"]]


async def test_branch_role_cannot_be_given_to_a_hq_user(client, tenant, admin, hq_role, branch_role):
    body = {
        "account": "bob",
        "name": "鲍勃",
        "password": PASSWORD,
        "org_id": tenant.org_id,
        "role_ids": [branch_role["id"]],
    }
    error_of(await client.post("/api/v1/users", json=body, headers=admin), 400, "role_kind_mismatch", extra=("errors",))
    assert await user_count(client, admin) == 1


async def test_service_refuses_a_role_of_the_other_org_kind(tenant):
    b1 = await service_org(tenant, "B1", tenant.org_id)
    with pytest.raises(BusinessError) as refused:
        await service_user(tenant, "bob", b1["id"], "hq", ["system.org.view"])
    assert refused.value.code == "role_kind_mismatch"


async def test_user_cannot_be_given_a_role_beyond_the_editors_rights(client, tenant, admin, hq_role):
    _, limited = await user_with(
        client, admin, "limited", tenant.org_id, "hq", ["system.user.create", "system.org.view"]
    )
    strong = await make_role(client, admin, "能删用户", "hq", ["system.user.delete"])
    body = {"account": "bob", "name": "鲍勃", "password": PASSWORD, "org_id": tenant.org_id, "role_ids": [strong["id"]]}
    error_of(await client.post("/api/v1/users", json=body, headers=limited), 403, "permission_escalation")
    assert (
        await client.post("/api/v1/users", json=body | {"role_ids": [hq_role["id"]]}, headers=limited)
    ).status_code == 201


# --- immutable fields, self-protection ----------------------------------------------------------------


async def test_user_org_and_account_are_immutable(client, tenant, admin, hq_role):
    hq_id = tenant.org_id
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    user = await make_user(client, admin, "bob", hq_id, [hq_role["id"]])
    for change in ({"account": "robert"}, {"org_id": b1["id"]}):
        response = await client.patch(f"/api/v1/users/{user['id']}", json=change | {"name": "改名"}, headers=admin)
        error_of(response, 400, "immutable", extra=("errors",))
    assert await read(client, admin, user["id"]) == user
    response = await client.patch(
        f"/api/v1/users/{user['id']}", json={"account": "BOB", "org_id": hq_id, "name": "改名"}, headers=admin
    )
    assert response.status_code == 200 and response.json()["name"] == "改名"
    assert response.json()["account"] == "bob"


async def test_nobody_acts_on_themselves_through_user_management(client, admin):
    """【修改密码】 asks the old password; resetting one's own through user management would not."""
    own_id = (await me(client, admin))["user_id"]
    url = f"/api/v1/users/{own_id}"
    for method, path, body in (
        ("PATCH", url, {"enabled": False}),
        ("PATCH", url, {"name": "改名"}),
        ("DELETE", url, None),
        ("POST", f"{url}/reset-password", {"password": "Another#pass1"}),
        ("POST", f"{url}/reset-otp", None),
    ):
        response = await client.request(method, path, json=body, headers=admin)
        error_of(response, 403, "permission_escalation")
    assert (await read(client, admin, own_id))["enabled"] is True


# --- disable, delete -------------------------------------------------------------------------------------


async def test_disabled_user_is_locked_out_at_the_next_request(client, tenant, admin, hq_role):
    bob = await make_user(client, admin, "bob", tenant.org_id, [hq_role["id"]])
    token = await api_login(client, "bob@ACME", PASSWORD)
    await page_login(client, "bob@ACME", PASSWORD)
    assert await page_session_alive(client)

    response = await client.patch(f"/api/v1/users/{bob['id']}", json={"enabled": False}, headers=admin)
    assert response.status_code == 200 and response.json()["enabled"] is False

    error_of(await client.get("/api/v1/orgs", headers=token), 401, "unauthorized")
    assert not await page_session_alive(client)
    error_of(await token_refused(client, "bob@ACME"), 403, "user_disabled")


async def test_reenabled_user_logs_in_again_but_old_tokens_stay_dead(client, tenant, admin, hq_role):
    bob = await make_user(client, admin, "bob", tenant.org_id, [hq_role["id"]])
    token = await api_login(client, "bob@ACME", PASSWORD)
    await client.patch(f"/api/v1/users/{bob['id']}", json={"enabled": False}, headers=admin)
    await client.patch(f"/api/v1/users/{bob['id']}", json={"enabled": True}, headers=admin)
    error_of(await client.get("/api/v1/orgs", headers=token), 401)
    fresh = await api_login(client, "bob@ACME", PASSWORD)
    assert (await client.get("/api/v1/orgs", headers=fresh)).status_code == 200


async def test_deleted_user_is_locked_out_at_the_next_request(client, tenant, admin, hq_role):
    bob = await make_user(client, admin, "bob", tenant.org_id, [hq_role["id"]])
    token = await api_login(client, "bob@ACME", PASSWORD)
    await page_login(client, "bob@ACME", PASSWORD)

    response = await client.delete(f"/api/v1/users/{bob['id']}", headers=admin)
    assert response.status_code == 200 and response.json()["status"] == "deleted"

    error_of(await client.get("/api/v1/orgs", headers=token), 401, "unauthorized")
    assert not await page_session_alive(client)
    # a deleted account is answered like an unknown one
    error_of(await token_refused(client, "bob@ACME"), 401, "wrong_credentials")
    error_of(await client.patch(f"/api/v1/users/{bob['id']}", json={"name": "x"}, headers=admin), 409, "deleted")


async def test_service_soft_deletes_a_user(tenant):
    bob = await service_user(tenant, "bob", tenant.org_id, "hq", [])
    deleted = await users.delete(tenant, bob.user_id)
    assert deleted["status"] == "deleted"
    assert (await users.search(tenant, status="deleted")).total == 1
    with pytest.raises(Conflict):
        await users.delete(tenant, bob.user_id)


# --- passwords and OTP -----------------------------------------------------------------------------------


async def test_admin_reset_password_kills_the_old_one_and_its_sessions(client, tenant, admin, hq_role):
    bob = await make_user(client, admin, "bob", tenant.org_id, [hq_role["id"]])
    token = await api_login(client, "bob@ACME", PASSWORD)
    await page_login(client, "bob@ACME", PASSWORD)
    response = await client.post(
        f"/api/v1/users/{bob['id']}/reset-password", json={"password": NEW_PASSWORD}, headers=admin
    )
    assert response.status_code == 200, response.text
    error_of(await client.get("/api/v1/orgs", headers=token), 401)
    assert not await page_session_alive(client)
    error_of(await token_refused(client, "bob@ACME", PASSWORD), 401, "wrong_credentials")
    await api_login(client, "bob@ACME", NEW_PASSWORD)


async def test_reset_password_refuses_a_weak_password(client, tenant, admin, hq_role):
    bob = await make_user(client, admin, "bob", tenant.org_id, [hq_role["id"]])
    for password in ("short1", "lettersonly", "12345678", "a1" * 65):
        url = f"/api/v1/users/{bob['id']}/reset-password"
        error_of(await client.post(url, json={"password": password}, headers=admin), 400)
    await api_login(client, "bob@ACME", PASSWORD)


async def test_admin_reset_otp_clears_the_enrolment(client, tenant, admin, hq_role):
    bob = await make_user(client, admin, "bob", tenant.org_id, [hq_role["id"]])
    await enrol_otp(bob["id"], tenant.tenant_id)
    assert (await read(client, admin, bob["id"]))["otp_enrolled"] is True
    error_of(await token_refused(client, "bob@ACME"), 401, "otp_required")
    response = await client.post(f"/api/v1/users/{bob['id']}/reset-otp", headers=admin)
    assert response.status_code == 200 and response.json()["otp_enrolled"] is False
    await api_login(client, "bob@ACME", PASSWORD)


async def test_change_own_password(client, tenant, admin, hq_role):
    await make_user(client, admin, "bob", tenant.org_id, [hq_role["id"]])
    bob = await api_login(client, "bob@ACME", PASSWORD)
    body = {"old_password": "wrong-old1", "new_password": NEW_PASSWORD}
    error_of(await client.post("/api/v1/auth/password", json=body, headers=bob), 400, "wrong_password")
    await api_login(client, "bob@ACME", PASSWORD)

    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = await client.post("/api/v1/auth/password", json=body, headers=bob)
    assert response.status_code == 200, response.text
    error_of(await token_refused(client, "bob@ACME", PASSWORD), 401, "wrong_credentials")
    await api_login(client, "bob@ACME", NEW_PASSWORD)


async def test_change_own_password_refuses_a_weak_or_unchanged_password(client, tenant, admin, hq_role):
    await make_user(client, admin, "bob", tenant.org_id, [hq_role["id"]])
    bob = await api_login(client, "bob@ACME", PASSWORD)
    for new, code in (("short1", "weak_password"), (PASSWORD, "same_password")):
        body = {"old_password": PASSWORD, "new_password": new}
        error_of(await client.post("/api/v1/auth/password", json=body, headers=bob), 400, code)
    await api_login(client, "bob@ACME", PASSWORD)


# --- scope -----------------------------------------------------------------------------------------------


async def test_branch_user_sees_only_users_of_its_subtree(client, tenant, admin, branch_role, hq_role):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    b11 = await make_org(client, admin, "B11", b1["id"])
    b2 = await make_org(client, admin, "B2", tenant.org_id)
    await make_user(client, admin, "child", b11["id"], [branch_role["id"]])
    sibling = await make_user(client, admin, "sibling", b2["id"], [branch_role["id"]])
    boss = await make_user(client, admin, "boss", tenant.org_id, [hq_role["id"]])
    _, manager = await user_with(client, admin, "manager", b1["id"], "branch", ["system.user.view"])

    response = await client.get("/api/v1/users", headers=manager)
    assert sorted(u["account"] for u in response.json()["items"]) == ["child", "manager"]
    for hidden in (sibling, boss):
        error_of(await client.get(f"/api/v1/users/{hidden['id']}", headers=manager), 404, "not_found")


async def test_service_scopes_users_to_the_callers_subtree(tenant):
    b1 = await service_org(tenant, "B1", tenant.org_id)
    b2 = await service_org(tenant, "B2", tenant.org_id)
    manager = await service_user(tenant, "manager", b1["id"], "branch", ["system.user.view", "system.user.create"])
    sibling = await service_user(tenant, "sibling", b2["id"], "branch", [])
    assert [u["account"] for u in (await users.search(manager)).items] == ["manager"]
    with pytest.raises(NotFound):
        await users.get(manager, sibling.user_id)
    with pytest.raises(NotFound):
        await users.create(
            manager, {"account": "newbie", "name": "新人", "password": PASSWORD, "org_id": b2["id"], "role_ids": []}
        )
