"""Organizations (SPEC 1.1): tree, unique and immutable code, immutable parent, depth limit,
protected head office, soft delete, subtree scope, filters and export; and what a disabled or
deleted org means for its users."""

from __future__ import annotations

import io

import openpyxl
import pytest

from server.core.errors import BusinessError, Conflict, NotFound
from server.core.pagination import PageParams
from server.system.services import orgs
from server.system.tables import Org
from tests.api_helpers import concurrently
from tests.conftest import api_login, page_login
from tests.system.helpers import (
    PASSWORD,
    error_of,
    make_org,
    page_session_alive,
    service_org,
    service_user,
    token_refused,
    user_with,
)


async def codes(client, headers, **filters) -> list[str]:
    response = await client.get("/api/v1/orgs", params=filters, headers=headers)
    assert response.status_code == 200, response.text
    return [o["code"] for o in response.json()["items"]]


async def read(client, headers, org_id: int) -> dict:
    response = await client.get(f"/api/v1/orgs/{org_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- create ---------------------------------------------------------------------------------------


async def test_create_branch_under_head_office(client, tenant, admin):
    body = {
        "code": "B1",
        "name": "一号网点",
        "parent_id": tenant.org_id,
        "level": 2,
        "contact": "张三",
        "phone": "010-12345678",
        "address": "北京市海淀区",
        "remark": "旗舰店",
    }
    response = await client.post("/api/v1/orgs", json=body, headers=admin)
    assert response.status_code == 201, response.text
    org = response.json()
    expected = body | {"kind": "branch", "depth": 2, "enabled": True, "status": "active"}
    assert {k: org[k] for k in expected} == expected
    assert await read(client, admin, org["id"]) == org


async def test_service_creates_branches_one_level_below_their_parent(tenant):
    b1 = await service_org(tenant, "B1", tenant.org_id)
    b11 = await service_org(tenant, "B11", b1["id"])
    assert (b1["kind"], b1["depth"], b1["parent"]) == ("branch", 2, tenant.org_id)
    assert (b11["kind"], b11["depth"], b11["parent"]) == ("branch", 3, b1["id"])
    assert b11["path"].startswith(b1["path"]) and b1["path"].startswith(tenant.org_path)


async def test_a_new_org_is_one_price_tier_below_its_parent_unless_told(client, tenant, admin):
    east = await make_org(client, admin, "EAST", tenant.org_id)  # below the level-1 head office
    assert east["level"] == 2
    city = await make_org(client, admin, "CITY", east["id"], level=4)
    shop = await make_org(client, admin, "SHOP", city["id"])
    assert (city["level"], shop["level"]) == (4, 4)  # never past the last tier


async def test_the_new_org_form_proposes_the_parent_level_plus_one(client, tenant, admin):
    east = await make_org(client, admin, "EAST", tenant.org_id, level=2)
    await page_login(client, "admin@ACME")
    html = (await client.get("/system/orgs/new", params={"parent_id": east["id"]})).text
    assert '<option value="3" selected>3 级</option>' in html
    assert f'<option value="{east["id"]}" data-fill="3" selected>' in html


async def test_org_code_is_unique_within_the_tenant(client, tenant, admin):
    await make_org(client, admin, "B1", tenant.org_id)
    response = await client.post(
        "/api/v1/orgs", json={"code": "B1", "name": "重复", "parent_id": tenant.org_id}, headers=admin
    )
    error_of(response, 409, "duplicate_code")
    response = await client.post(
        "/api/v1/orgs", json={"code": "HQ", "name": "假总部", "parent_id": tenant.org_id}, headers=admin
    )
    error_of(response, 409, "duplicate_code")
    assert await codes(client, admin) == ["HQ", "B1"]


async def test_service_refuses_a_duplicate_org_code(tenant):
    await service_org(tenant, "B1", tenant.org_id)
    with pytest.raises(Conflict) as refused:
        await service_org(tenant, "B1", tenant.org_id)
    assert refused.value.code == "duplicate_code"


async def test_org_codes_ignore_case_and_are_kept_as_typed(client, tenant, admin):
    """`sz01` beside `SZ01` was accepted (issue 15): codes are unique per tenant ignoring case and
    surrounding spaces, stored as typed; the database refuses a case twin too."""
    made = await make_org(client, admin, " SZ01 ", tenant.org_id)
    assert made["code"] == "SZ01"
    for again in ("sz01", "Sz01", " SZ01"):
        response = await client.post(
            "/api/v1/orgs", json={"code": again, "name": "深圳", "parent_id": tenant.org_id}, headers=admin
        )
        assert "机构代码 SZ01 已存在" in error_of(response, 409, "duplicate_code")["detail"]
    with pytest.raises(Conflict) as refused:
        await service_org(tenant, "hq", tenant.org_id)
    assert refused.value.field == "code" and "HQ" in refused.value.detail
    assert await codes(client, admin, q="sz01") == ["SZ01"]
    with pytest.raises(Exception, match="(?i)unique"):
        await Org.insert(Org(tenant_id=tenant.tenant_id, code="sZ01", path="/x/"))


async def test_concurrent_orgs_abc_and_ABC_make_one(client, tenant, admin):
    body = {"name": "并发", "parent_id": tenant.org_id}
    requests = [("POST", "/api/v1/orgs", admin, body | {"code": c}) for c in ("abc", "ABC", "Abc", "aBC") * 2]
    statuses = sorted(r.status_code for r in await concurrently(client, requests))
    assert statuses == [201] + [409] * 7
    assert len(await codes(client, admin, q="abc")) == 1


async def test_same_org_code_is_fine_in_another_tenant(client, tenant, other_tenant, admin):
    await make_org(client, admin, "B1", tenant.org_id)
    other = await api_login(client, "admin@OTHER")
    org = await make_org(client, other, "B1", other_tenant.org_id)
    assert org["code"] == "B1"
    assert (await service_org(other_tenant, "B2", other_tenant.org_id))["code"] == "B2"
    await service_org(tenant, "B2", tenant.org_id)


# --- update -----------------------------------------------------------------------------------------


async def test_org_code_is_immutable(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    response = await client.patch(f"/api/v1/orgs/{b1['id']}", json={"code": "B9", "name": "改名"}, headers=admin)
    error_of(response, 400, "immutable", extra=("errors",))
    assert await read(client, admin, b1["id"]) == b1
    response = await client.patch(f"/api/v1/orgs/{b1['id']}", json={"code": "B1", "name": "改名"}, headers=admin)
    assert response.status_code == 200 and response.json()["name"] == "改名"


async def test_org_parent_is_immutable(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    b2 = await make_org(client, admin, "B2", tenant.org_id)
    response = await client.patch(
        f"/api/v1/orgs/{b2['id']}", json={"parent_id": b1["id"], "name": "改名"}, headers=admin
    )
    error_of(response, 400, "immutable", extra=("errors",))
    assert await read(client, admin, b2["id"]) == b2
    response = await client.patch(
        f"/api/v1/orgs/{b2['id']}", json={"parent_id": tenant.org_id, "remark": "同一上级"}, headers=admin
    )
    assert response.status_code == 200 and response.json()["parent_id"] == tenant.org_id


async def test_service_refuses_changing_code_or_parent(tenant):
    b1 = await service_org(tenant, "B1", tenant.org_id)
    b2 = await service_org(tenant, "B2", tenant.org_id)
    for change in ({"code": "B9"}, {"parent_id": b1["id"]}):
        with pytest.raises(BusinessError) as refused:
            await orgs.update(tenant, b2["id"], change | {"name": "改名"})
        assert refused.value.code == "immutable"
    after = await orgs.get(tenant, b2["id"])
    assert (after["code"], after["parent"], after["name"]) == ("B2", tenant.org_id, "B2网点")


async def test_head_office_cannot_be_disabled(client, tenant, admin):
    response = await client.patch(f"/api/v1/orgs/{tenant.org_id}", json={"enabled": False}, headers=admin)
    error_of(response, 400, "hq_protected", extra=("errors",))
    assert (await read(client, admin, tenant.org_id))["enabled"] is True


# --- depth ------------------------------------------------------------------------------------------


async def test_depth_over_max_org_depth_is_refused(client, tenant, admin):
    response = await client.patch("/api/v1/settings", json={"max_org_depth": 3}, headers=admin)
    assert response.status_code == 200, response.text
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    b11 = await make_org(client, admin, "B11", b1["id"])
    assert b11["depth"] == 3
    response = await client.post(
        "/api/v1/orgs", json={"code": "B111", "name": "四级", "parent_id": b11["id"]}, headers=admin
    )
    body = error_of(response, 400, "too_deep", extra=("errors",))
    assert "3" in body["detail"]
    assert "B111" not in await codes(client, admin)


async def test_service_refuses_depth_over_the_default_of_five(tenant):
    parent_id = tenant.org_id
    for depth in range(2, 6):
        org = await service_org(tenant, f"D{depth}", parent_id)
        assert org["depth"] == depth
        parent_id = org["id"]
    with pytest.raises(BusinessError) as refused:
        await service_org(tenant, "D6", parent_id)
    assert refused.value.code == "too_deep"


# --- delete -----------------------------------------------------------------------------------------


async def test_head_office_cannot_be_deleted(client, tenant, admin):
    error_of(await client.delete(f"/api/v1/orgs/{tenant.org_id}", headers=admin), 409, "hq_protected")
    assert (await read(client, admin, tenant.org_id))["status"] == "active"


async def test_org_with_active_children_cannot_be_deleted_until_they_are(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    b11 = await make_org(client, admin, "B11", b1["id"])
    error_of(await client.delete(f"/api/v1/orgs/{b1['id']}", headers=admin), 409, "has_children")
    assert (await read(client, admin, b1["id"]))["status"] == "active"
    response = await client.delete(f"/api/v1/orgs/{b11['id']}", headers=admin)
    assert response.status_code == 200 and response.json()["status"] == "deleted"
    response = await client.delete(f"/api/v1/orgs/{b1['id']}", headers=admin)
    assert response.status_code == 200 and response.json()["status"] == "deleted"


async def test_soft_deleted_org_leaves_the_pickers(tenant):
    b1 = await service_org(tenant, "B1", tenant.org_id)
    b2 = await service_org(tenant, "B2", tenant.org_id)
    deleted = await orgs.delete(tenant, b1["id"])
    assert deleted["status"] == "deleted"
    assert [o["code"] for o in await orgs.choices(tenant)] == ["HQ", "B2"]
    assert [o["code"] for o in (await orgs.search(tenant, status="deleted")).items] == ["B1"]
    with pytest.raises(BusinessError) as refused:
        await service_org(tenant, "B11", b1["id"])
    assert refused.value.code == "parent_deleted"
    with pytest.raises(Conflict):
        await orgs.update(tenant, b1["id"], {"name": "复活"})
    assert (await orgs.get(tenant, b2["id"]))["status"] == "active"


# --- scope ------------------------------------------------------------------------------------------


async def test_branch_user_sees_only_its_own_subtree(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    await make_org(client, admin, "B11", b1["id"])
    b2 = await make_org(client, admin, "B2", tenant.org_id)
    _, bob = await user_with(client, admin, "bob", b1["id"], "branch", ["system.org.view"])
    assert await codes(client, bob) == ["B1", "B11"]
    for hidden in (b2["id"], tenant.org_id):
        error_of(await client.get(f"/api/v1/orgs/{hidden}", headers=bob), 404, "not_found")


async def test_service_scopes_orgs_to_the_callers_subtree(tenant):
    b1 = await service_org(tenant, "B1", tenant.org_id)
    await service_org(tenant, "B11", b1["id"])
    b2 = await service_org(tenant, "B2", tenant.org_id)
    bob = await service_user(tenant, "bob", b1["id"], "branch", ["system.org.view", "system.org.create"])
    assert [o["code"] for o in (await orgs.search(bob)).items] == ["B1", "B11"]
    assert [o["code"] for o in await orgs.choices(bob)] == ["B1", "B11"]
    for hidden in (b2["id"], tenant.org_id):
        with pytest.raises(NotFound):
            await orgs.get(bob, hidden)
    with pytest.raises(NotFound):
        await service_org(bob, "B21", b2["id"])


# --- list and export --------------------------------------------------------------------------------


async def _sample(client, tenant, admin) -> None:
    await make_org(client, admin, "B1", tenant.org_id, name="一号网点", level=2)
    await make_org(client, admin, "B2", tenant.org_id, name="二号网点", level=3, enabled=False)
    await make_org(client, admin, "B3", tenant.org_id, name="三号门店", level=3)
    b4 = await make_org(client, admin, "B4", tenant.org_id, name="四号网点", level=2)
    assert (await client.delete(f"/api/v1/orgs/{b4['id']}", headers=admin)).status_code == 200


async def test_org_list_filters(client, tenant, admin):
    await _sample(client, tenant, admin)
    assert await codes(client, admin, q="门店") == ["B3"]
    assert await codes(client, admin, q="b2") == ["B2"]
    assert await codes(client, admin, level=3) == ["B2", "B3"]
    assert await codes(client, admin, enabled="false") == ["B2"]
    assert await codes(client, admin, status="deleted") == ["B4"]
    assert await codes(client, admin, status="active", level=2) == ["B1"]
    assert await codes(client, admin, kind="hq") == ["HQ"]
    error_of(await client.get("/api/v1/orgs", params={"level": 9}, headers=admin), 400, "out_of_range")


async def test_org_list_pagination_envelope(client, tenant, admin):
    await _sample(client, tenant, admin)
    response = await client.get("/api/v1/orgs", params={"status": "active", "page": 2, "page_size": 2}, headers=admin)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "page", "page_size"}
    assert (body["total"], body["page"], body["page_size"]) == (4, 2, 2)
    assert [o["code"] for o in body["items"]] == ["B2", "B3"]
    page = await orgs.search(tenant, status="active", params=PageParams(3, 2))
    assert (page.items, page.total) == ([], 4)


async def test_org_export_holds_exactly_the_filtered_rows(client, tenant, admin):
    await _sample(client, tenant, admin)
    response = await client.get("/api/v1/orgs/export", params={"level": 3, "status": "active"}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("机构代码", "机构名称", "上级机构")
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        ("B2", "二号网点", "艾克米维修总部"),
        ("B3", "三号门店", "艾克米维修总部"),
    ]
    assert [r[0] for r in rows[1:]] == await codes(client, admin, level=3, status="active")


# --- disabled or deleted org --------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["disable", "delete"])
async def test_users_of_a_disabled_or_deleted_org_are_locked_out(client, tenant, admin, action):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    _, bob = await user_with(client, admin, "bob", b1["id"], "branch", ["system.org.view"])
    await page_login(client, "bob@ACME", PASSWORD)
    assert await page_session_alive(client)
    assert (await client.get("/api/v1/auth/me", headers=bob)).status_code == 200

    if action == "disable":
        response = await client.patch(f"/api/v1/orgs/{b1['id']}", json={"enabled": False}, headers=admin)
    else:
        response = await client.delete(f"/api/v1/orgs/{b1['id']}", headers=admin)
    assert response.status_code == 200, response.text

    error_of(await client.get("/api/v1/orgs", headers=bob), 401, "unauthorized")
    assert not await page_session_alive(client)
    error_of(await token_refused(client, "bob@ACME"), 403, "org_disabled")


async def test_reenabled_org_lets_its_users_log_in_again_but_old_sessions_stay_dead(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    _, old_token = await user_with(client, admin, "bob", b1["id"], "branch", ["system.org.view"])
    await page_login(client, "bob@ACME", PASSWORD)
    await client.patch(f"/api/v1/orgs/{b1['id']}", json={"enabled": False}, headers=admin)
    await client.patch(f"/api/v1/orgs/{b1['id']}", json={"enabled": True}, headers=admin)
    error_of(await client.get("/api/v1/orgs", headers=old_token), 401, "unauthorized")
    assert not await page_session_alive(client)
    fresh = await api_login(client, "bob@ACME", PASSWORD)
    assert (await client.get("/api/v1/orgs", headers=fresh)).status_code == 200


async def test_a_deleted_org_is_listed_and_restored_parent_first(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    b11 = await make_org(client, admin, "B11", b1["id"])
    for org in (b11, b1):
        assert (await client.delete(f"/api/v1/orgs/{org['id']}", headers=admin)).status_code == 200
    deleted = (await client.get("/api/v1/orgs", params={"status": "deleted"}, headers=admin)).json()
    assert {o["code"] for o in deleted["items"]} == {"B1", "B11"}
    refused = await client.post(f"/api/v1/orgs/{b11['id']}/restore", headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (409, "parent_deleted")
    for org in (b1, b11):
        response = await client.post(f"/api/v1/orgs/{org['id']}/restore", headers=admin)
        assert (response.status_code, response.json()["status"]) == (200, "active"), response.text
    again = await client.post(f"/api/v1/orgs/{b1['id']}/restore", headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "not_deleted")
    log = (await client.get("/api/v1/audit-log", params={"action": "restore"}, headers=admin)).json()
    assert [e["summary"] for e in log["items"]] == ["恢复机构 B11", "恢复机构 B1"]


async def test_restoring_another_tenants_org_is_404(client, tenant, other_tenant, admin):
    other_admin = await api_login(client, "admin@OTHER")
    theirs = await make_org(client, other_admin, "T1", other_tenant.org_id)
    await client.delete(f"/api/v1/orgs/{theirs['id']}", headers=other_admin)
    response = await client.post(f"/api/v1/orgs/{theirs['id']}/restore", headers=admin)
    assert response.status_code == 404
