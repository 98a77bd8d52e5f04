"""Carry-in points and repair centres on orgs (issue 20, step 1): an org marked 接机点 names a
repair centre, an active org of the same tenant marked 维修中心 other than itself."""

from __future__ import annotations

from server.system.services import orgs
from tests.conftest import api_login
from tests.system.helpers import make_org


async def centre_and_point(client, admin, hq: int) -> tuple[dict, dict]:
    centre = await make_org(client, admin, "RC", hq, is_repair_centre=True)
    point = await make_org(client, admin, "CI", hq, is_carry_in=True, repair_centre_id=centre["id"])
    return centre, point


async def test_a_carry_in_point_names_its_repair_centre(client, tenant, admin):
    centre, point = await centre_and_point(client, admin, tenant.org_id)
    assert (centre["is_repair_centre"], centre["is_carry_in"], centre["repair_centre_id"]) == (True, False, None)
    assert (point["is_carry_in"], point["is_repair_centre"], point["repair_centre_id"]) == (True, False, centre["id"])
    read = (await client.get(f"/api/v1/orgs/{point['id']}", headers=admin)).json()
    assert read["repair_centre_id"] == centre["id"]
    assert (await orgs.repair_centre_of(tenant, point["id"]))["id"] == centre["id"]
    assert await orgs.repair_centre_of(tenant, centre["id"]) is None
    # no longer a carry-in point: the centre goes with it
    response = await client.patch(f"/api/v1/orgs/{point['id']}", json={"is_carry_in": False}, headers=admin)
    assert response.status_code == 200, response.text
    assert (response.json()["is_carry_in"], response.json()["repair_centre_id"]) == (False, None)


async def test_a_branch_may_name_a_centre_above_it(client, tenant, admin):
    """The centre is any org of the tenant, not only of the caller's subtree."""
    await client.patch(f"/api/v1/orgs/{tenant.org_id}", json={"is_repair_centre": True}, headers=admin)
    point = await make_org(client, admin, "CI", tenant.org_id)
    sub = await make_org(client, admin, "CI2", point["id"])
    from tests.system.helpers import user_with

    _, headers = await user_with(client, admin, "mgr", point["id"], "branch", ["system.org.view", "system.org.update"])
    response = await client.patch(
        f"/api/v1/orgs/{sub['id']}", json={"is_carry_in": True, "repair_centre_id": tenant.org_id}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["repair_centre_id"] == tenant.org_id


async def test_refusals(client, tenant, admin):
    plain = await make_org(client, admin, "PL", tenant.org_id)
    centre, point = await centre_and_point(client, admin, tenant.org_id)
    cases = [
        ({"is_carry_in": True}, 400, "required"),
        ({"is_carry_in": True, "repair_centre_id": plain["id"]}, 400, "self"),
        ({"is_carry_in": True, "repair_centre_id": point["id"]}, 400, "not_repair_centre"),
        ({"is_carry_in": True, "repair_centre_id": 987654}, 404, "not_found"),
    ]
    for body, status, code in cases:
        response = await client.patch(f"/api/v1/orgs/{plain['id']}", json=body, headers=admin)
        assert response.status_code == status, (body, response.text)
        assert response.json()["code"] == code, (body, response.text)
        assert response.json()["detail"]
    assert (await client.get(f"/api/v1/orgs/{plain['id']}", headers=admin)).json()["is_carry_in"] is False
    created = await client.post(
        "/api/v1/orgs",
        json={
            "code": "X",
            "name": "新网点",
            "parent_id": tenant.org_id,
            "is_carry_in": True,
            "repair_centre_id": plain["id"],
        },
        headers=admin,
    )
    assert (created.status_code, created.json()["code"]) == (400, "not_repair_centre")
    # a centre some carry-in point uses stays one, and is not deleted
    response = await client.patch(f"/api/v1/orgs/{centre['id']}", json={"is_repair_centre": False}, headers=admin)
    assert (response.status_code, response.json()["code"]) == (400, "in_use")
    response = await client.delete(f"/api/v1/orgs/{centre['id']}", headers=admin)
    assert (response.status_code, response.json()["code"]) == (409, "in_use")
    assert "接机点" in response.json()["detail"]
    # a deleted centre is refused
    spare = await make_org(client, admin, "RC2", tenant.org_id, is_repair_centre=True)
    assert (await client.delete(f"/api/v1/orgs/{spare['id']}", headers=admin)).status_code == 200
    response = await client.patch(f"/api/v1/orgs/{point['id']}", json={"repair_centre_id": spare["id"]}, headers=admin)
    assert (response.status_code, response.json()["code"]) == (400, "deleted")
    assert (await client.get(f"/api/v1/orgs/{point['id']}", headers=admin)).json()["repair_centre_id"] == centre["id"]


async def test_another_tenants_centre_cannot_be_named(client, tenant, admin, other_tenant):
    theirs = await orgs.create(
        other_tenant, {"code": "RC", "name": "别家中心", "parent_id": other_tenant.org_id, "is_repair_centre": True}
    )
    point = await make_org(client, admin, "CI", tenant.org_id)
    response = await client.patch(
        f"/api/v1/orgs/{point['id']}", json={"is_carry_in": True, "repair_centre_id": theirs["id"]}, headers=admin
    )
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    response = await client.post(
        "/api/v1/orgs",
        json={
            "code": "CX",
            "name": "X",
            "parent_id": tenant.org_id,
            "is_carry_in": True,
            "repair_centre_id": theirs["id"],
        },
        headers=admin,
    )
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    # nor can the other tenant write ACME's org to make it a centre
    other = await api_login(client, "admin@OTHER")
    response = await client.patch(f"/api/v1/orgs/{point['id']}", json={"is_repair_centre": True}, headers=other)
    assert response.status_code == 404
    assert (await client.get(f"/api/v1/orgs/{point['id']}", headers=admin)).json()["is_repair_centre"] is False
    assert [c["id"] for c in await orgs.repair_centres(tenant)] == []


async def test_the_org_form_offers_the_tenants_centres(client, tenant, admin):
    from tests.conftest import page_login

    centre, point = await centre_and_point(client, admin, tenant.org_id)
    await page_login(client, "admin@ACME")
    html = (await client.get(f"/system/orgs/{point['id']}/edit")).text
    assert 'name="is_carry_in"' in html and 'name="is_repair_centre"' in html
    assert f'<option value="{centre["id"]}" selected>' in html
    html = (await client.get(f"/system/orgs/{centre['id']}/edit")).text
    assert "RC网点（RC）</option>" not in html  # not its own centre
