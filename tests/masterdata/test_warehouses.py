"""Warehouse definitions and their assignment to orgs (SPEC 2.6): the 8 types, unique immutable
codes, 【仓库套用机构】 creating every (warehouse, org) pair once and idempotently, and the
enable/disable of one org's use that leaves every other org untouched."""

from __future__ import annotations

import pytest

from server.masterdata.services import warehouses
from server.masterdata.tables import OrgWarehouse, Warehouse
from tests.masterdata.helpers import LONG, branch_api_user, branch_ctx, error_of, refused, warehouse
from tests.system.helpers import service_org

URL = "/api/v1/warehouses"
ASSIGN = "/api/v1/warehouse-assignments"
TYPES = ["general", "good", "defective", "scrap", "inspection", "transit", "repair", "custom"]


async def state() -> tuple:
    return (
        await Warehouse.select().order_by(Warehouse.id),
        await OrgWarehouse.select().order_by(OrgWarehouse.id),
    )


@pytest.fixture
async def branches(tenant) -> list[int]:
    b1 = await service_org(tenant, "B1", tenant.org_id, level=2)
    b2 = await service_org(tenant, "B2", tenant.org_id, level=2)
    b3 = await service_org(tenant, "B3", b1["id"], level=3)
    return [b1["id"], b2["id"], b3["id"]]


async def test_the_eight_types_and_crud(client, admin, tenant):
    made = []
    for i, wtype in enumerate(TYPES):
        response = await client.post(URL, json={"code": f"W{i}", "name": f"{wtype}库", "type": wtype}, headers=admin)
        assert response.status_code == 201, response.text
        made.append(response.json())
    assert [w["type"] for w in made] == TYPES
    assert all(w["enabled"] and w["status"] == "active" for w in made)
    error_of(await client.post(URL, json={"code": "X", "name": "X", "type": "freezer"}, headers=admin), 400)
    listed = (await client.get(URL, params={"type": "defective"}, headers=admin)).json()
    assert [w["code"] for w in listed["items"]] == ["W2"]
    assert (await client.get(URL, headers=admin)).json()["total"] == 8

    changed = await client.patch(f"{URL}/{made[0]['id']}", json={"name": "总仓", "type": "good"}, headers=admin)
    assert changed.status_code == 200 and (changed.json()["name"], changed.json()["type"]) == ("总仓", "good")
    off = await client.patch(f"{URL}/{made[0]['id']}", json={"enabled": False}, headers=admin)
    assert off.json()["enabled"] is False
    assert [w["code"] for w in (await client.get(URL, params={"enabled": "false"}, headers=admin)).json()["items"]] == [
        "W0"
    ]
    gone = await client.delete(f"{URL}/{made[1]['id']}", headers=admin)
    assert gone.json()["status"] == "deleted"
    error_of(await client.delete(f"{URL}/{made[1]['id']}", headers=admin), 409, "already_deleted")
    error_of(await client.patch(f"{URL}/{made[1]['id']}", json={"name": "X"}, headers=admin), 409, "deleted")


async def test_duplicate_code_and_immutable_code(client, admin, tenant):
    w = await warehouse(tenant, "MAIN")
    before = await state()
    error_of(await client.post(URL, json={"code": "MAIN", "name": "另一个", "type": "good"}, headers=admin), 409)
    error_of(
        await client.patch(f"{URL}/{w['id']}", json={"code": "MAIN2", "name": "改名"}, headers=admin), 400, "immutable"
    )
    assert await state() == before
    assert (await client.patch(f"{URL}/{w['id']}", json={"code": "MAIN"}, headers=admin)).status_code == 200


async def test_assign_creates_every_pair_once_and_is_idempotent(client, admin, tenant, branches):
    w1, w2 = await warehouse(tenant, "W1"), await warehouse(tenant, "W2", "defective")
    body = {"warehouse_ids": [w1["id"], w2["id"]], "org_ids": branches[:2]}
    first = await client.post(ASSIGN, json=body, headers=admin)
    assert first.status_code == 201, first.text
    pairs = {(a["warehouse_id"], a["org_id"]) for a in first.json()["items"]}
    assert pairs == {(w, o) for w in (w1["id"], w2["id"]) for o in branches[:2]}
    assert all(a["enabled"] and a["usable"] for a in first.json()["items"])
    before = await state()

    again = await client.post(ASSIGN, json=body, headers=admin)
    assert again.status_code == 201
    assert sorted(a["id"] for a in again.json()["items"]) == sorted(a["id"] for a in first.json()["items"])
    assert await state() == before  # posting again changes nothing
    # reversed order and repeated ids are the same set
    body_twice = {"warehouse_ids": [w2["id"], w1["id"], w1["id"]], "org_ids": [branches[1], branches[0], branches[0]]}
    assert (await client.post(ASSIGN, json=body_twice, headers=admin)).status_code == 201
    assert await state() == before

    # an overlapping set adds only the missing pairs
    wider = await client.post(ASSIGN, json={"warehouse_ids": [w1["id"]], "org_ids": branches}, headers=admin)
    assert len(wider.json()["items"]) == 3
    assert await OrgWarehouse.count() == 5
    listed = (await client.get(ASSIGN, params={"org_id": branches[0]}, headers=admin)).json()
    assert sorted(a["warehouse_code"] for a in listed["items"]) == ["W1", "W2"]
    assert listed["items"][0]["org_name"] == "B1网点"
    by_type = (await client.get(ASSIGN, params={"type": "defective"}, headers=admin)).json()
    assert {a["org_id"] for a in by_type["items"]} == set(branches[:2])


async def test_disabling_one_assignment_leaves_other_orgs_untouched(client, admin, tenant, branches):
    w = await warehouse(tenant, "W1")
    items = (
        await client.post(ASSIGN, json={"warehouse_ids": [w["id"]], "org_ids": branches[:2]}, headers=admin)
    ).json()["items"]
    mine = next(a for a in items if a["org_id"] == branches[0])
    response = await client.patch(f"{ASSIGN}/{mine['id']}", json={"enabled": False}, headers=admin)
    assert response.status_code == 200, response.text
    assert (response.json()["enabled"], response.json()["usable"]) == (False, False)
    status = {a["org_id"]: a["enabled"] for a in await OrgWarehouse.select()}
    assert status == {branches[0]: False, branches[1]: True}
    # the pickers and the document check agree
    assert await warehouses.usable_for_org(tenant, branches[0]) == []
    assert [a["warehouse_code"] for a in await warehouses.usable_for_org(tenant, branches[1])] == ["W1"]
    await refused(warehouses.require_usable(tenant, w["id"], branches[0]), "warehouse_unusable")
    assert (await warehouses.require_usable(tenant, w["id"], branches[1]))["org_id"] == branches[1]
    # assigning the pair again does not re-enable it (idempotent: nothing changes)
    await client.post(ASSIGN, json={"warehouse_ids": [w["id"]], "org_ids": [branches[0]]}, headers=admin)
    assert (await warehouses.get_assignment(tenant, mine["id"]))["enabled"] is False
    # and enabling brings it back
    back = await client.patch(f"{ASSIGN}/{mine['id']}", json={"enabled": True}, headers=admin)
    assert back.json()["usable"] is True
    assert (await warehouses.require_usable(tenant, w["id"], branches[0]))["id"] == mine["id"]


async def test_disabling_or_deleting_the_definition_stops_every_org(client, admin, tenant, branches):
    w = await warehouse(tenant, "W1")
    d = await warehouse(tenant, "W2")
    await warehouses.assign(tenant, [w["id"], d["id"]], branches)
    await client.patch(f"{URL}/{w['id']}", json={"enabled": False}, headers=admin)
    await client.delete(f"{URL}/{d['id']}", headers=admin)
    for org in branches:
        assert await warehouses.usable_for_org(tenant, org) == []
        for wid in (w["id"], d["id"]):
            await refused(warehouses.require_usable(tenant, wid, org), "warehouse_unusable")
    listed = (await client.get(ASSIGN, headers=admin)).json()["items"]
    assert listed and all(a["enabled"] and not a["usable"] for a in listed)
    # a disabled or deleted definition cannot be assigned
    before = await state()
    hq = tenant.org_id
    for wid in (w["id"], d["id"]):
        error_of(
            await client.post(ASSIGN, json={"warehouse_ids": [wid], "org_ids": [hq]}, headers=admin),
            400,
            "warehouse_disabled",
        )
    assert await state() == before
    # enabling the definition again restores the assignments that are enabled
    await client.patch(f"{URL}/{w['id']}", json={"enabled": True}, headers=admin)
    for org in branches:
        assert [a["warehouse_code"] for a in await warehouses.usable_for_org(tenant, org)] == ["W1"]


async def test_warehouse_picker_filters_by_type(tenant, branches):
    general = await warehouse(tenant, "GEN", "general")
    bad = await warehouse(tenant, "BAD", "defective")
    good = await warehouse(tenant, "GOOD", "good")
    await warehouses.assign(tenant, [general["id"], bad["id"], good["id"]], [branches[0]])
    assert [a["warehouse_code"] for a in await warehouses.usable_for_org(tenant, branches[0])] == ["BAD", "GEN", "GOOD"]
    picked = await warehouses.usable_for_org(tenant, branches[0], ("good", "general"))
    assert [a["warehouse_code"] for a in picked] == ["GEN", "GOOD"]
    await refused(warehouses.require_usable(tenant, bad["id"], branches[0], ("good",)), "warehouse_unusable")
    await refused(warehouses.require_usable(tenant, general["id"], branches[1]), "warehouse_unusable")  # unassigned
    await refused(warehouses.require_usable(tenant, "x", branches[0]), "invalid_field")


async def test_assignment_bad_input_changes_nothing(client, admin, tenant, other_tenant, branches):
    w = await warehouse(tenant, "W1")
    foreign = await warehouse(other_tenant, "W1")
    before = await state()
    for body, code in (
        ({"warehouse_ids": [], "org_ids": branches}, "required"),
        ({"warehouse_ids": [w["id"]], "org_ids": []}, "required"),
        ({"warehouse_ids": [999_999], "org_ids": branches}, "unknown_warehouse"),
        ({"warehouse_ids": [foreign["id"]], "org_ids": branches}, "unknown_warehouse"),
        ({"warehouse_ids": [w["id"]], "org_ids": [other_tenant.org_id]}, "unknown_org"),
        ({"warehouse_ids": [w["id"]], "org_ids": [branches[0], 999_999]}, "unknown_org"),
        ({"warehouse_ids": [10**20], "org_ids": branches}, "out_of_range"),
        ({"warehouse_ids": [-1], "org_ids": branches}, "out_of_range"),
        ({"warehouse_ids": list(range(1, 300)), "org_ids": branches}, "too_many"),
        ({"warehouse_ids": ["x"], "org_ids": branches}, "invalid_request"),
        ({"warehouse_ids": w["id"], "org_ids": branches}, "invalid_request"),
        ({"org_ids": branches}, "invalid_request"),
    ):
        error_of(await client.post(ASSIGN, json=body, headers=admin), 400, code)
    error_of(await client.patch(f"{ASSIGN}/999999", json={"enabled": False}, headers=admin), 404, "not_found")
    assignment = (await warehouses.assign(tenant, [w["id"]], branches[:1]))[0]
    before = await state()
    for body in ({"enabled": "maybe"}, {"enabled": None}, {}, {"enabled": LONG}):
        error_of(await client.patch(f"{ASSIGN}/{assignment['id']}", json=body, headers=admin), 400)
    for body in (
        {"code": LONG, "name": "X", "type": "good"},
        {"code": "中文", "name": "X", "type": "good"},
        {"code": "OK", "name": LONG, "type": "good"},
        {"code": "OK", "name": "X", "type": LONG},
        {"code": "OK", "name": "X", "type": "good", "enabled": "maybe"},
        {"code": "OK", "name": "X"},
    ):
        error_of(await client.post(URL, json=body, headers=admin), 400)
    error_of(await client.patch(f"{URL}/{w['id']}", json={"type": "freezer"}, headers=admin), 400)
    assert await state() == before


async def test_branch_users_read_their_own_assignments_but_never_write(client, admin, tenant, branches):
    w = await warehouse(tenant, "W1")
    items = await warehouses.assign(tenant, [w["id"]], branches)
    headers = await branch_api_user(client, admin, branches[0])  # B1, with B3 below it
    before = await state()
    listed = (await client.get(ASSIGN, headers=headers)).json()
    assert {a["org_id"] for a in listed["items"]} == {branches[0], branches[2]}
    assert (await client.get(URL, headers=headers)).json()["total"] == 1
    b2 = next(a for a in items if a["org_id"] == branches[1])
    error_of(await client.get(f"{ASSIGN}/{b2['id']}", headers=headers), 404)  # outside its subtree
    mine = next(a for a in items if a["org_id"] == branches[0])
    for response in (
        await client.post(ASSIGN, json={"warehouse_ids": [w["id"]], "org_ids": [branches[0]]}, headers=headers),
        await client.patch(f"{ASSIGN}/{mine['id']}", json={"enabled": False}, headers=headers),
        await client.post(URL, json={"code": "BR", "name": "网点仓", "type": "general"}, headers=headers),
        await client.patch(f"{URL}/{w['id']}", json={"name": "X"}, headers=headers),
        await client.delete(f"{URL}/{w['id']}", headers=headers),
    ):
        error_of(response, 403, "forbidden")
    assert await state() == before
    branch = await branch_ctx(tenant, code="BX")
    await refused(warehouses.assign(branch, [w["id"]], [branch.org_id]), "forbidden", 403)
    await refused(warehouses.set_assignment_enabled(branch, mine["id"], False), status=403)
