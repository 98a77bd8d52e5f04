"""Tenant isolation (another tenant's id is 404 and nothing changes) and org-subtree scoping."""

import pytest

from server.core.tables import AuditLog
from server.system.services import orgs, roles, users
from server.system.tables import Org, Role, User
from tests.conftest import ADMIN_PASSWORD, api_login

PASSWORD = "Passw0rd1"


@pytest.fixture
async def acme(tenant) -> dict:
    """ACME's own rows: head office, a branch, the built-in and a custom role, the admin and a user."""
    hq = await Org.select().where((Org.tenant_id == tenant.tenant_id) & (Org.kind == "hq")).first()
    branch = await orgs.create(tenant, {"code": "B1", "name": "一号网点", "parent_id": hq["id"], "level": 2})
    builtin = await Role.select().where((Role.tenant_id == tenant.tenant_id) & Role.builtin.eq(True)).first()
    role = await roles.create(tenant, {"name": "维修技师", "org_kind": "branch", "permissions": ["system.org.view"]})
    admin = await User.select().where((User.tenant_id == tenant.tenant_id) & (User.account == "admin")).first()
    user = await users.create(
        tenant,
        {"org_id": branch["id"], "account": "tech", "name": "张师傅", "password": PASSWORD, "role_ids": [role["id"]]},
    )
    return {
        "orgs": [hq["id"], branch["id"]],
        "roles": [builtin["id"], role["id"]],
        "users": [admin["id"], user["id"]],
    }


@pytest.fixture
async def other(client, other_tenant) -> dict:
    return await api_login(client, "admin@OTHER")


async def snapshot(client, headers: dict, rows: dict) -> dict:
    """Every ACME row as ACME's admin reads it through the API."""
    result = {}
    for resource, ids in rows.items():
        for row_id in ids:
            response = await client.get(f"/api/v1/{resource}/{row_id}", headers=headers)
            assert response.status_code == 200, response.text
            result[(resource, row_id)] = response.json()
    return result


def assert_not_found(response) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"


PATCHES = {
    "orgs": {"name": "被别家改掉", "level": 4, "enabled": False},
    "roles": {"name": "被别家改掉", "permissions": []},
    "users": {"name": "被别家改掉", "enabled": False},
}


async def test_another_tenants_rows_are_not_found_and_stay_unchanged(client, acme, other):
    headers_acme = await api_login(client, "admin@ACME")
    before = await snapshot(client, headers_acme, acme)
    audit_before = await AuditLog.count()
    for resource, ids in acme.items():
        for row_id in ids:
            url = f"/api/v1/{resource}/{row_id}"
            assert_not_found(await client.get(url, headers=other))
            assert_not_found(await client.patch(url, json=PATCHES[resource], headers=other))
            assert_not_found(await client.delete(url, headers=other))
    for user_id in acme["users"]:
        url = f"/api/v1/users/{user_id}"
        assert_not_found(await client.post(f"{url}/reset-password", json={"password": "Hacked123"}, headers=other))
        assert_not_found(await client.post(f"{url}/reset-otp", headers=other))
    assert await snapshot(client, headers_acme, acme) == before
    assert await AuditLog.count() == audit_before
    await api_login(client, "admin@ACME")  # the password was not reset


async def test_another_tenants_ids_cannot_be_referenced(client, acme, other):
    org_id, role_id = acme["orgs"][1], acme["roles"][1]
    own_roles = (await client.get("/api/v1/roles", headers=other)).json()["items"]
    own_role = next(r["id"] for r in own_roles if r["builtin"])
    assert_not_found(
        await client.post("/api/v1/orgs", json={"code": "X1", "name": "越界", "parent_id": org_id}, headers=other)
    )
    response = await client.post(
        "/api/v1/users",
        json={"org_id": org_id, "account": "intruder", "name": "越界", "password": PASSWORD, "role_ids": [own_role]},
        headers=other,
    )
    assert_not_found(response)
    other_hq = (await client.get("/api/v1/orgs", params={"kind": "hq"}, headers=other)).json()["items"][0]["id"]
    response = await client.post(
        "/api/v1/users",
        json={"org_id": other_hq, "account": "intruder", "name": "越界", "password": PASSWORD, "role_ids": [role_id]},
        headers=other,
    )
    assert response.status_code in (400, 404), response.text
    assert await User.count().where(User.account == "intruder") == 0
    assert await Org.count().where(Org.code == "X1") == 0


async def test_lists_of_another_tenant_never_include_acme_rows(client, acme, other):
    for resource, ids in acme.items():
        response = await client.get(f"/api/v1/{resource}", params={"page_size": 200}, headers=other)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"]) > 0
        assert not {item["id"] for item in body["items"]} & set(ids)
    by_acme_org = await client.get("/api/v1/users", params={"org_id": acme["orgs"][1]}, headers=other)
    assert by_acme_org.json()["total"] == 0
    by_acme_role = await client.get("/api/v1/users", params={"role_id": acme["roles"][1]}, headers=other)
    assert by_acme_role.json()["total"] == 0
    by_acme_parent = await client.get("/api/v1/orgs", params={"parent_id": acme["orgs"][0]}, headers=other)
    assert by_acme_parent.json()["total"] == 0


async def test_audit_log_of_another_tenant_has_no_acme_rows(client, tenant, acme, other):
    acme_rows = {r["id"] for r in await AuditLog.select(AuditLog.id).where(AuditLog.tenant_id == tenant.tenant_id)}
    assert acme_rows
    response = await client.get("/api/v1/audit-log", params={"page_size": 200}, headers=other)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items
    assert not {item["id"] for item in items} & acme_rows
    assert all("一号网点" not in item["summary"] and "tech" not in item["summary"] for item in items)


async def test_a_user_of_another_tenant_cannot_log_in_to_acme_with_its_own_credentials(client, acme, other_tenant):
    branch = await orgs.create(other_tenant, {"code": "O1", "name": "别家网点", "parent_id": other_tenant.org_id})
    role = await roles.create(other_tenant, {"name": "技师", "org_kind": "branch", "permissions": []})
    await users.create(
        other_tenant,
        {"org_id": branch["id"], "account": "tech", "name": "别家", "password": "0therPass9", "role_ids": [role["id"]]},
    )
    await users.create(
        other_tenant,
        {"org_id": branch["id"], "account": "bob", "name": "鲍勃", "password": "B0bSecret", "role_ids": [role["id"]]},
    )
    await api_login(client, "tech@OTHER", "0therPass9")
    for login, password in (("tech@ACME", "0therPass9"), ("bob@ACME", "B0bSecret"), ("admin@ACME", "0therPass9")):
        response = await client.post("/api/v1/auth/token", json={"login": login, "password": password})
        assert response.status_code == 401, (login, response.text)
        assert response.json()["code"] == "wrong_credentials"
    await api_login(client, "tech@ACME", PASSWORD)
    await api_login(client, "admin@ACME", ADMIN_PASSWORD)


@pytest.fixture
async def network(tenant) -> dict:
    """HQ ─┬─ A ── A1
           └─ B
    with a branch manager in A (org view, user view/update) and one user in each org."""
    a = await orgs.create(tenant, {"code": "A", "name": "A 网点", "parent_id": tenant.org_id})
    a1 = await orgs.create(tenant, {"code": "A1", "name": "A1 网点", "parent_id": a["id"]})
    b = await orgs.create(tenant, {"code": "B", "name": "B 网点", "parent_id": tenant.org_id})
    manager_role = await roles.create(
        tenant,
        {
            "name": "网点经理",
            "org_kind": "branch",
            "permissions": ["system.org.view", "system.user.view", "system.user.update"],
        },
    )
    staff_role = await roles.create(tenant, {"name": "前台接待", "org_kind": "branch", "permissions": []})
    hq_role = await roles.create(tenant, {"name": "总部职员", "org_kind": "hq", "permissions": []})

    async def user(account: str, org_id: int, role_id: int) -> int:
        data = {"org_id": org_id, "account": account, "name": account, "password": PASSWORD, "role_ids": [role_id]}
        return (await users.create(tenant, data))["id"]

    return {
        "orgs": {"hq": tenant.org_id, "a": a["id"], "a1": a1["id"], "b": b["id"]},
        "manager": await user("manager", a["id"], manager_role["id"]),
        "a1": await user("staff.a1", a1["id"], staff_role["id"]),
        "b": await user("staff.b", b["id"], staff_role["id"]),
        "hq": await user("staff.hq", tenant.org_id, hq_role["id"]),
    }


async def test_branch_manager_cannot_reach_users_of_a_sibling_branch_or_of_hq(client, network):
    manager = await api_login(client, "manager@ACME", PASSWORD)
    for key in ("b", "hq"):
        url = f"/api/v1/users/{network[key]}"
        assert_not_found(await client.get(url, headers=manager))
        assert_not_found(await client.patch(url, json={"name": "越权修改"}, headers=manager))
    assert await User.count().where(User.name == "越权修改") == 0
    for key in ("b", "hq"):
        assert_not_found(await client.get(f"/api/v1/orgs/{network['orgs'][key]}", headers=manager))


async def test_branch_manager_reaches_users_and_orgs_of_its_own_child_branch(client, network):
    manager = await api_login(client, "manager@ACME", PASSWORD)
    url = f"/api/v1/users/{network['a1']}"
    assert (await client.get(url, headers=manager)).status_code == 200
    response = await client.patch(url, json={"name": "改名了"}, headers=manager)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "改名了"
    org = await client.get(f"/api/v1/orgs/{network['orgs']['a1']}", headers=manager)
    assert org.status_code == 200 and org.json()["code"] == "A1"


async def test_branch_manager_lists_only_its_own_subtree(client, network):
    manager = await api_login(client, "manager@ACME", PASSWORD)
    listed = (await client.get("/api/v1/users", headers=manager)).json()
    assert {u["id"] for u in listed["items"]} == {network["manager"], network["a1"]}
    assert listed["total"] == 2
    org_codes = {o["code"] for o in (await client.get("/api/v1/orgs", headers=manager)).json()["items"]}
    assert org_codes == {"A", "A1"}
    sibling = await client.get("/api/v1/users", params={"org_id": network["orgs"]["b"]}, headers=manager)
    assert sibling.json()["total"] == 0
