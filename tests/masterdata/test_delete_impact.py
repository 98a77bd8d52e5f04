"""Issue 15 item 1: a delete says what it takes out of use, refuses while stock or open documents
use it, and every deleted tree node or warehouse can be restored (a node with the subtree its
delete removed). Stock and documents are inventory's: master data hears of them through the
usage hooks inventory registers."""

from __future__ import annotations

import pytest

from server.core.tables import AuditLog
from server.inventory.services import documents
from server.masterdata.services import goods, trees, warehouses
from server.masterdata.tables import TreeNode
from tests.conftest import api_login, csrf, page_login
from tests.inventory.helpers import inbound, outbound, world
from tests.masterdata.helpers import chain, error_of, fault_reason, make_goods, refused, repair_code

KINDS = [
    ("category", "/api/v1/categories"),
    ("repair_class", "/api/v1/repair-classes"),
    ("fault_class", "/api/v1/fault-classes"),
]


def counts(found: dict) -> dict[str, int]:
    return {u.key: u.count for u in found["counts"]}


async def statuses(*ids: int) -> list[str]:
    rows = {r["id"]: r["status"] for r in await TreeNode.select(TreeNode.id, TreeNode.status)}
    return [rows[i] for i in ids]


async def draft_inbound(ctx, warehouse_id: int, goods_id: int) -> dict:
    """An inbound left as a draft: an open document using the goods and the warehouse."""
    line = {"goods_id": goods_id, "qty": 1, "cost_price": "1"}
    return await documents.create(ctx, "inbound", {"type": "purchase", "warehouse_id": warehouse_id, "lines": [line]})


async def test_a_category_delete_counts_what_hangs_under_it(tenant):
    w = await world(tenant)  # SCR and BAT under Apple › iPhone › iPhone 15; iPad under Apple
    await make_goods(tenant, "PAD", w["ipad"])
    gone = await make_goods(tenant, "OLD", w["iphone15"])
    await goods.delete(tenant, gone["id"])  # a deleted goods is not counted
    await repair_code(tenant, "R1", w["iphone15"], w["lcd"])
    await fault_reason(tenant, "F1", w["iphone15"], w["power"])  # world's "battery" is a goods
    await fault_reason(tenant, "F2", w["ipad"], w["power"])
    await inbound(tenant, w["general"], (w["screen"], 7, "10"), (w["battery"], 5, "3"))
    await inbound(tenant, w["defective"], (w["screen"], 2, "10"))

    apple = await trees.impact(tenant, "category", w["apple"])
    assert counts(apple) == {
        "subnodes": 3,  # iPhone, iPhone 15, iPad
        "goods": 3,
        "repair_codes": 1,
        "fault_reasons": 2,
        "stock_qty": 14,
        "open_docs": 0,
    }
    assert "库存 14 件" in apple["refusal"] and "Apple" in apple["refusal"]
    ipad = await trees.impact(tenant, "category", w["ipad"])
    assert counts(ipad) == {
        "subnodes": 0,
        "goods": 1,
        "repair_codes": 0,
        "fault_reasons": 1,
        "stock_qty": 0,
        "open_docs": 0,
    }
    assert ipad["refusal"] == ""

    # a class counts the codes filed under its subtree
    assert counts(await trees.impact(tenant, "repair_class", w["lcd"])) == {"subnodes": 0, "repair_codes": 1}
    assert counts(await trees.impact(tenant, "fault_class", w["power"])) == {"subnodes": 1, "fault_reasons": 2}
    assert (await trees.impact(tenant, "fault_class", w["power"]))["refusal"] == ""


async def test_stock_on_hand_refuses_the_delete_until_it_is_gone(client, admin, tenant):
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 3, "10"))
    body = error_of(await client.delete(f"/api/v1/categories/{w['iphone']}", headers=admin), 409, "in_use")
    assert body["detail"] == "【iPhone】下的货品仍有库存 3 件，不能删除"
    await refused(trees.delete(tenant, "category", w["apple"]), "in_use", 409)
    assert await statuses(w["apple"], w["iphone"], w["iphone15"]) == ["active"] * 3
    assert await goods.usable(tenant, w["screen"])  # still in every picker

    doc = await outbound(tenant, w["general"], (w["screen"], 3))
    await documents.confirm(tenant, "outbound", doc["id"])
    gone = await client.delete(f"/api/v1/categories/{w['iphone']}", headers=admin)
    assert gone.status_code == 200, gone.text


async def test_open_documents_refuse_the_delete(client, admin, tenant):
    w = await world(tenant)
    draft = await draft_inbound(tenant, w["general"], w["battery"])
    body = error_of(await client.delete(f"/api/v1/categories/{w['iphone15']}", headers=admin), 409, "in_use")
    assert "1 张未完成的出入库单" in body["detail"]
    impact = (await client.get(f"/api/v1/categories/{w['iphone15']}/impact", headers=admin)).json()
    assert impact["refusal"] == body["detail"]
    assert {c["key"]: (c["count"], c["blocking"]) for c in impact["counts"]} == {
        "subnodes": (0, False),
        "goods": (2, False),
        "repair_codes": (0, False),
        "fault_reasons": (0, False),
        "stock_qty": (0, True),
        "open_docs": (1, True),
    }
    assert impact["id"] == w["iphone15"] and impact["name"] == "iPhone 15"

    # a submitted one holds it too; once deleted (or completed) it no longer does
    submitted = await inbound(tenant, w["defective"], (w["screen"], 1, "5"), confirm=False)
    assert counts(await trees.impact(tenant, "category", w["iphone15"]))["open_docs"] == 2
    await documents.delete(tenant, "inbound", draft["id"])
    await documents.confirm(tenant, "inbound", submitted["id"])
    await documents.confirm(tenant, "outbound", (await outbound(tenant, w["defective"], (w["screen"], 1)))["id"])
    assert (await trees.impact(tenant, "category", w["iphone15"]))["refusal"] == ""
    await trees.delete(tenant, "category", w["iphone15"])


async def test_restore_brings_back_what_the_same_delete_removed(client, admin, tenant):
    apple, iphone, iphone15, pro = await chain(tenant, "category", "Apple", "iPhone", "iPhone 15", "Pro")
    ipad = await trees.create(tenant, "category", {"name": "iPad", "parent_id": apple["id"]})
    phone = await make_goods(tenant, "P1", pro["id"])
    await trees.delete(tenant, "category", ipad["id"])  # on its own, first
    await trees.delete(tenant, "category", apple["id"])
    await refused(goods.usable(tenant, phone["id"]), "node_deleted")

    # the deleted rows are listed, and a node removed with its parent waits for the parent
    listed = (await client.get("/api/v1/categories", params={"status": "deleted"}, headers=admin)).json()
    assert len(listed["items"]) == 5
    assert await trees.restorable_ids(tenant, "category") == {apple["id"]}
    error_of(await client.post(f"/api/v1/categories/{iphone['id']}/restore", headers=admin), 409, "parent_deleted")

    back = await client.post(f"/api/v1/categories/{apple['id']}/restore", headers=admin)
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "active"
    assert await statuses(apple["id"], iphone["id"], iphone15["id"], pro["id"]) == ["active"] * 4
    assert await statuses(ipad["id"]) == ["deleted"]  # deleted by an earlier delete: still deleted
    assert await goods.usable(tenant, phone["id"])
    picked, _ = await goods.pick(tenant, q="P1")
    assert [g["id"] for g in picked] == [phone["id"]]
    assert await trees.restorable_ids(tenant, "category") == {ipad["id"]}

    await trees.restore(tenant, "category", ipad["id"])
    assert await statuses(ipad["id"]) == ["active"]
    error_of(await client.post(f"/api/v1/categories/{ipad['id']}/restore", headers=admin), 409, "not_deleted")
    audit = await AuditLog.select().where((AuditLog.entity == "category") & (AuditLog.action == "restore"))
    assert [a["summary"] for a in audit] == ["恢复品类 Apple（含下级共 4 个）", "恢复品类 iPad（含下级共 1 个）"]


@pytest.mark.parametrize(("kind", "url"), KINDS)
async def test_every_tree_restores_through_the_api(client, admin, tenant, kind, url):
    root, child = await chain(tenant, kind, "甲", "乙")
    await client.delete(f"{url}/{root['id']}", headers=admin)
    back = await client.post(f"{url}/{root['id']}/restore", headers=admin)
    assert back.status_code == 200, back.text
    assert await statuses(root["id"], child["id"]) == ["active", "active"]


async def test_a_restore_never_makes_two_siblings_of_one_name(client, admin, tenant):
    apple, iphone = await chain(tenant, "category", "Apple", "iPhone")
    await trees.delete(tenant, "category", iphone["id"])
    await trees.create(tenant, "category", {"name": "iPhone", "parent_id": apple["id"]})
    body = error_of(await client.post(f"/api/v1/categories/{iphone['id']}/restore", headers=admin), 409)
    assert body["code"] == "duplicate_name" and "iPhone" in body["detail"]


async def test_another_tenant_cannot_see_or_restore(client, admin, tenant, other_tenant):
    (node,) = await chain(tenant, "category", "Apple")
    wh = await warehouses.create(tenant, {"code": "W1", "name": "一号仓", "type": "general"})
    await trees.delete(tenant, "category", node["id"])
    await warehouses.delete(tenant, wh["id"])
    other = await api_login(client, "admin@OTHER")
    for url in (
        f"/api/v1/categories/{node['id']}/restore",
        f"/api/v1/warehouses/{wh['id']}/restore",
    ):
        error_of(await client.post(url, headers=other), 404)
    for url in (f"/api/v1/categories/{node['id']}/impact", f"/api/v1/warehouses/{wh['id']}/impact"):
        error_of(await client.get(url, headers=other), 404)
    assert await statuses(node["id"]) == ["deleted"]
    assert (await warehouses.get(tenant, wh["id"]))["status"] == "deleted"


async def test_a_warehouse_delete_is_refused_while_stock_or_open_documents_use_it(client, admin, tenant):
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 4, "10"))
    found = await warehouses.impact(tenant, w["general"])
    assert counts(found) == {"orgs": 1, "stock_qty": 4, "open_docs": 0}
    body = error_of(await client.delete(f"/api/v1/warehouses/{w['general']}", headers=admin), 409, "in_use")
    assert body["detail"] == f"仓库【{found['warehouse']['name']}】仍有库存 4 件，不能删除"

    await draft_inbound(tenant, w["defective"], w["screen"])
    body = error_of(await client.delete(f"/api/v1/warehouses/{w['defective']}", headers=admin), 409, "in_use")
    assert "1 张未完成的出入库单" in body["detail"]
    impact = (await client.get(f"/api/v1/warehouses/{w['defective']}/impact", headers=admin)).json()
    assert {c["key"]: c["count"] for c in impact["counts"]} == {"orgs": 1, "stock_qty": 0, "open_docs": 1}

    # an unused one goes, is listed as deleted, and comes back usable where it was assigned
    assert (await warehouses.impact(tenant, w["unassigned"]))["refusal"] == ""
    await warehouses.assign(tenant, [w["unassigned"]], [tenant.org_id])
    gone = await client.delete(f"/api/v1/warehouses/{w['unassigned']}", headers=admin)
    assert gone.status_code == 200, gone.text
    assert w["unassigned"] not in [r["warehouse_id"] for r in await warehouses.usable_for_org(tenant, tenant.org_id)]
    listed = (await client.get("/api/v1/warehouses", params={"status": "deleted"}, headers=admin)).json()
    assert [r["id"] for r in listed["items"]] == [w["unassigned"]]
    back = await client.post(f"/api/v1/warehouses/{w['unassigned']}/restore", headers=admin)
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "active"
    assert w["unassigned"] in [r["warehouse_id"] for r in await warehouses.usable_for_org(tenant, tenant.org_id)]
    error_of(await client.post(f"/api/v1/warehouses/{w['unassigned']}/restore", headers=admin), 409, "not_deleted")
    audit = await AuditLog.select().where((AuditLog.entity == "warehouse") & (AuditLog.action == "restore"))
    assert len(audit) == 1


async def test_the_pages_confirm_in_a_dialog_and_restore(client, tenant):
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 2, "10"))
    await page_login(client, "admin@ACME")

    # the dialog is only a question: it deletes nothing, and says what hangs below
    dialog = await client.get(f"/masterdata/categories/{w['ipad']}/impact", headers={"hx-request": "true"})
    assert dialog.status_code == 200 and "<dialog" in dialog.text and "<html" not in dialog.text
    assert "删除品类【iPad】" in dialog.text and "确认删除" in dialog.text
    assert await statuses(w["ipad"]) == ["active"]
    refused_dialog = (await client.get(f"/masterdata/categories/{w['apple']}/impact")).text
    assert "【Apple】下的货品仍有库存 2 件，不能删除" in refused_dialog and "确认删除" not in refused_dialog
    assert 'data-key="goods"' in refused_dialog and '<th scope="row">货品</th>' in refused_dialog
    refused_post = await client.post(f"/masterdata/categories/{w['apple']}/delete", headers=csrf(client))
    assert refused_post.status_code == 409 and "仍有库存" in refused_post.text

    assert (await client.post(f"/masterdata/categories/{w['ipad']}/delete", headers=csrf(client))).status_code == 200
    listed = (await client.get("/masterdata/categories?show_deleted=1")).text
    assert f'hx-post="/masterdata/categories/{w["ipad"]}/restore"' in listed
    back = await client.post(f"/masterdata/categories/{w['ipad']}/restore", headers=csrf(client))
    assert back.status_code == 200 and await statuses(w["ipad"]) == ["active"]

    # a warehouse the same way
    refused_wh = (await client.get(f"/masterdata/warehouses/{w['general']}/impact")).text
    assert "仍有库存 2 件" in refused_wh and "确认删除" not in refused_wh
    assert "确认删除" in (await client.get(f"/masterdata/warehouses/{w['unassigned']}/impact")).text
    assert (await client.post(f"/masterdata/warehouses/{w['unassigned']}/delete", headers=csrf(client))).is_success
    deleted = (await client.get("/masterdata/warehouses?status=deleted")).text
    assert f'hx-post="/masterdata/warehouses/{w["unassigned"]}/restore"' in deleted
    assert (await client.post(f"/masterdata/warehouses/{w['unassigned']}/restore", headers=csrf(client))).is_success
    assert (await warehouses.get(tenant, w["unassigned"]))["status"] == "active"
