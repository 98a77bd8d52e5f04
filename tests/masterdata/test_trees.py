"""The three trees (SPEC 2.1–2.2): categories, repair classes, fault classes.

Inline add/edit, a fixed parent, soft delete of a whole subtree, and a node under a deleted
node unusable everywhere: not offered by any picker and refused on every save."""

from __future__ import annotations

import pytest

from server.core.tables import AuditLog
from server.masterdata.services import codes, goods, trees
from server.masterdata.tables import FaultReason, Goods, RepairCode, TreeNode
from tests.masterdata.helpers import (
    LONG,
    basics,
    branch_api_user,
    branch_ctx,
    chain,
    error_of,
    fault_reason,
    make_goods,
    refused,
    repair_code,
)
from tests.system.helpers import service_org

KINDS = [
    ("category", "/api/v1/categories"),
    ("repair_class", "/api/v1/repair-classes"),
    ("fault_class", "/api/v1/fault-classes"),
]


async def nodes() -> list[dict]:
    return await TreeNode.select().order_by(TreeNode.id)


@pytest.mark.parametrize(("kind", "url"), KINDS)
async def test_build_a_tree_through_the_api(client, admin, kind, url):
    root = await client.post(url, json={"name": "Apple"}, headers=admin)
    assert root.status_code == 201, root.text
    root = root.json()
    assert root | {"id": 0} == {
        "id": 0,
        "kind": kind,
        "parent_id": None,
        "name": "Apple",
        "depth": 1,
        "sort": 0,
        "status": "active",
    }
    child = (await client.post(url, json={"name": "iPhone", "parent_id": root["id"]}, headers=admin)).json()
    leaf = (
        await client.post(url, json={"name": "iPhone 15", "parent_id": child["id"], "sort": 5}, headers=admin)
    ).json()
    assert (child["depth"], leaf["depth"], leaf["sort"]) == (2, 3, 5)
    assert leaf["parent_id"] == child["id"]

    listed = (await client.get(url, headers=admin)).json()
    assert [n["name"] for n in listed["items"]] == ["Apple", "iPhone", "iPhone 15"]  # parents before children
    assert listed["total"] == 3
    assert (await client.get(f"{url}/{leaf['id']}", headers=admin)).json() == leaf
    assert [n["name"] for n in (await client.get(url, params={"q": "15"}, headers=admin)).json()["items"]] == [
        "iPhone 15"
    ]

    renamed = await client.patch(f"{url}/{leaf['id']}", json={"name": "iPhone 15 Pro", "sort": 1}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() | {"name": None} == leaf | {"name": None, "sort": 1}
    assert renamed.json()["name"] == "iPhone 15 Pro"


@pytest.mark.parametrize(("kind", "url"), KINDS)
async def test_trees_are_kept_apart(client, admin, tenant, kind, url):
    """A node of one tree is not a node of another: 404 by id, unknown as a parent."""
    others = [u for k, u in KINDS if k != kind]
    node = (await client.post(url, json={"name": "Apple"}, headers=admin)).json()
    for other in others:
        error_of(await client.get(f"{other}/{node['id']}", headers=admin), 404, "not_found")
        error_of(
            await client.post(other, json={"name": "X", "parent_id": node["id"]}, headers=admin), 400, "unknown_node"
        )
        assert (await client.get(other, headers=admin)).json()["total"] == 0


async def test_same_name_under_one_parent_is_a_conflict(client, admin, tenant):
    apple = (await client.post("/api/v1/categories", json={"name": "Apple"}, headers=admin)).json()
    ipad = await client.post("/api/v1/categories", json={"name": "iPad", "parent_id": apple["id"]}, headers=admin)
    assert ipad.status_code == 201
    again = await client.post("/api/v1/categories", json={"name": "iPad", "parent_id": apple["id"]}, headers=admin)
    error_of(again, 409, "duplicate_name")
    error_of(await client.post("/api/v1/categories", json={"name": "Apple"}, headers=admin), 409, "duplicate_name")
    # the same name elsewhere in the tree is fine, and so is a rename onto a free name
    other = (await client.post("/api/v1/categories", json={"name": "Huawei"}, headers=admin)).json()
    assert (
        await client.post("/api/v1/categories", json={"name": "iPad", "parent_id": other["id"]}, headers=admin)
    ).status_code == 201
    error_of(await client.patch(f"/api/v1/categories/{other['id']}", json={"name": "Apple"}, headers=admin), 409)
    assert len(await nodes()) == 4


@pytest.mark.parametrize(("kind", "url"), KINDS)
async def test_parent_is_immutable(client, admin, tenant, kind, url):
    a, b = await chain(tenant, kind, "A", "B")
    c = await trees.create(tenant, kind, {"name": "C"})
    before = await nodes()
    for body in (
        {"parent_id": c["id"], "name": "改名"},
        {"parent_id": a["id"] + 1000},
        {"parent_id": None, "name": "改名"},  # moving B to the root is a move too
    ):
        error_of(await client.patch(f"{url}/{b['id']}", json=body, headers=admin), 400, "immutable")
    error_of(await client.patch(f"{url}/{a['id']}", json={"parent_id": c["id"]}, headers=admin), 400, "immutable")
    await refused(trees.update(tenant, kind, b["id"], {"parent_id": ""}), "immutable")
    assert await nodes() == before
    # naming the current parent is not a change
    same = await client.patch(f"{url}/{b['id']}", json={"parent_id": a["id"], "name": "B2"}, headers=admin)
    assert same.status_code == 200 and same.json()["parent_id"] == a["id"]
    root = await client.patch(f"{url}/{a['id']}", json={"parent_id": None, "name": "A2"}, headers=admin)
    assert root.status_code == 200 and root.json()["parent_id"] is None


@pytest.mark.parametrize(("kind", "url"), KINDS)
async def test_deleting_a_node_deletes_its_subtree(client, admin, tenant, kind, url):
    root, mid, leaf = await chain(tenant, kind, "Apple", "iPhone", "iPhone 15")
    deeper = await trees.create(tenant, kind, {"name": "Pro", "parent_id": leaf["id"]})
    sibling = await trees.create(tenant, kind, {"name": "iPad", "parent_id": root["id"]})

    gone = await client.delete(f"{url}/{mid['id']}", headers=admin)
    assert gone.status_code == 200, gone.text
    assert gone.json()["status"] == "deleted"
    status = {n["id"]: n["status"] for n in await nodes()}
    assert status == {
        root["id"]: "active",
        mid["id"]: "deleted",
        leaf["id"]: "deleted",
        deeper["id"]: "deleted",
        sibling["id"]: "active",
    }
    # pickers (the default listing) leave the subtree out; the list can still show it
    assert [n["id"] for n in await trees.listing(tenant, kind)] == [root["id"], sibling["id"]]
    active = (await client.get(url, params={"status": "active"}, headers=admin)).json()
    assert {n["id"] for n in active["items"]} == {root["id"], sibling["id"]}
    deleted = (await client.get(url, params={"status": "deleted"}, headers=admin)).json()
    assert {n["id"] for n in deleted["items"]} == {mid["id"], leaf["id"], deeper["id"]}
    assert (await client.get(url, headers=admin)).json()["total"] == 5

    # a deleted node cannot be chosen as a parent, edited or deleted again
    for node in (mid, leaf, deeper):
        error_of(
            await client.post(url, json={"name": "新", "parent_id": node["id"]}, headers=admin), 400, "node_deleted"
        )
        await refused(trees.usable(tenant, kind, node["id"]), "node_deleted")
    error_of(await client.patch(f"{url}/{leaf['id']}", json={"name": "改"}, headers=admin), 409, "deleted")
    error_of(await client.delete(f"{url}/{mid['id']}", headers=admin), 409, "already_deleted")
    assert (await trees.usable(tenant, kind, sibling["id"]))["id"] == sibling["id"]
    # one audit row names the subtree size
    rows = await AuditLog.select().where((AuditLog.entity == kind) & (AuditLog.action == "delete"))
    assert len(rows) == 1 and "共 3 个" in rows[0]["summary"]


async def test_a_node_under_a_deleted_node_cannot_be_chosen_anywhere(tenant):
    """Goods category, repair code category and class, fault reason category and class."""
    b = await basics(tenant)
    kept_code = await repair_code(tenant, "R1", b["iphone15"], b["lcd"])
    kept_reason = await fault_reason(tenant, "F1", b["iphone15"], b["battery"])
    kept_goods = await make_goods(tenant, "G1", b["iphone15"])
    # delete the ancestors: the leaves themselves were never touched directly
    await trees.delete(tenant, "category", b["iphone"])
    await trees.delete(tenant, "repair_class", b["screen"])
    await trees.delete(tenant, "fault_class", b["power"])
    counts = (await Goods.count(), await RepairCode.count(), await FaultReason.count())

    await refused(make_goods(tenant, "G2", b["iphone15"]), "node_deleted")
    await refused(repair_code(tenant, "R2", b["iphone15"], b["lcd"]), "node_deleted")
    await refused(fault_reason(tenant, "F2", b["iphone15"], b["battery"]), "node_deleted")
    await refused(repair_code(tenant, "R3", b["ipad"], b["lcd"]), "node_deleted")  # the class is gone
    await refused(fault_reason(tenant, "F3", b["ipad"], b["battery"]), "node_deleted")
    await refused(codes.update(tenant, "repair_code", kept_code["id"], {"category_id": b["iphone15"]}), "node_deleted")
    await refused(
        codes.update(tenant, "fault_reason", kept_reason["id"], {"fault_class_id": b["battery"]}), "node_deleted"
    )
    assert (await Goods.count(), await RepairCode.count(), await FaultReason.count()) == counts

    # rows filed under the deleted subtree are no longer usable, and pickers leave them out
    await refused(goods.usable(tenant, kept_goods["id"]), "node_deleted")
    await refused(codes.usable(tenant, "repair_code", kept_code["id"], "code_id"), "node_deleted")
    await refused(codes.usable(tenant, "fault_reason", kept_reason["id"], "reason_id"), "node_deleted")
    assert (await goods.search(tenant, usable_only=True)).total == 0
    assert (await codes.search(tenant, "repair_code", usable_only=True)).total == 0
    assert (await codes.search(tenant, "fault_reason", usable_only=True)).total == 0
    assert [n["name"] for n in await trees.listing(tenant, "category")] == ["Apple", "iPad"]
    # the unfiltered lists still show them (history stays readable)
    assert (await goods.search(tenant)).total == 1


async def test_tree_bad_input_is_refused_in_chinese(client, admin, tenant):
    url = "/api/v1/categories"
    root = (await client.post(url, json={"name": "Apple"}, headers=admin)).json()
    before = await nodes()
    for body, code in (
        ({"name": LONG}, "too_long"),
        ({"name": ""}, "required"),
        ({"name": "   "}, "required"),
        ({"name": "X", "parent_id": 999_999}, "unknown_node"),
        ({"name": "X", "parent_id": 10**20}, "out_of_range"),
        ({"name": "X", "parent_id": -1}, "out_of_range"),
        ({"name": "X", "sort": -1}, "out_of_range"),
        ({"name": "X", "sort": 10**15}, "out_of_range"),
        ({"name": 5}, "invalid_request"),
        ({"name": "X", "parent_id": "abc"}, "invalid_request"),
        ({}, "invalid_request"),
    ):
        error_of(await client.post(url, json=body, headers=admin), 400, code)
    for raw in (b"{not json", b"", b"[]", b"null"):
        response = await client.post(url, content=raw, headers=admin | {"content-type": "application/json"})
        error_of(response, 400)
    error_of(await client.patch(f"{url}/{root['id']}", json={"name": LONG}, headers=admin), 400, "too_long")
    error_of(await client.patch(f"{url}/999999", json={"name": "X"}, headers=admin), 404, "not_found")
    error_of(await client.get(f"{url}/99999999999", headers=admin), 400)
    error_of(await client.get(url, params={"q": "x" * 10_000}, headers=admin), 400, "too_long")
    error_of(await client.get(url, params={"page": "x"}, headers=admin), 400)
    assert await nodes() == before


async def test_trees_are_at_most_eight_deep(tenant):
    path = await chain(tenant, "category", *[f"L{i}" for i in range(1, 9)])
    assert path[-1]["depth"] == 8
    await refused(trees.create(tenant, "category", {"name": "L9", "parent_id": path[-1]["id"]}), "too_deep")


@pytest.mark.parametrize(("kind", "url"), KINDS)
async def test_branch_users_read_trees_but_cannot_write(client, admin, tenant, kind, url):
    node = await trees.create(tenant, kind, {"name": "Apple"})
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    headers = await branch_api_user(client, admin, branch["id"])
    before = await nodes()
    assert (await client.get(url, headers=headers)).json()["total"] == 1
    assert (await client.get(f"{url}/{node['id']}", headers=headers)).status_code == 200
    error_of(await client.post(url, json={"name": "X"}, headers=headers), 403, "forbidden")
    error_of(await client.patch(f"{url}/{node['id']}", json={"name": "X"}, headers=headers), 403)
    error_of(await client.delete(f"{url}/{node['id']}", headers=headers), 403)
    assert await nodes() == before


async def test_service_refuses_branch_and_unpermitted_users(tenant):
    node = await trees.create(tenant, "category", {"name": "Apple"})
    branch = await branch_ctx(tenant)
    for call in (
        trees.create(branch, "category", {"name": "X"}),
        trees.update(branch, "category", node["id"], {"name": "X"}),
        trees.delete(branch, "category", node["id"]),
    ):
        await refused(call, "forbidden", 403)
    assert [n["name"] for n in await trees.listing(branch, "category")] == ["Apple"]


async def test_a_pages_paths_are_kept_until_the_tree_changes(tenant, other_tenant, monkeypatch):
    """`paths_of` keeps a page's full names as a count is kept: read once, read again after a
    rename (an ancestor's, too), and never another tenant's."""
    from server.core import pagination
    from tests.core.test_list_statements import statements

    monkeypatch.setattr(pagination, "COUNT_TTL", 3600)
    b = await basics(tenant)
    ids = {b["iphone15"], b["ipad"]}
    with statements(monkeypatch) as seen:
        first = await trees.paths_of(tenant, ids)
        assert await trees.paths_of(tenant, ids) == first
    assert len(seen) == 1 and first[b["iphone15"]] == "Apple / iPhone / iPhone 15"
    await trees.update(tenant, "category", b["apple"], {"name": "苹果"})
    assert (await trees.paths_of(tenant, ids))[b["iphone15"]] == "苹果 / iPhone / iPhone 15"
    assert await trees.paths_of(other_tenant, ids) == {}
