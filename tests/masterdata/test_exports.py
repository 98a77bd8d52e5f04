"""Excel exports of the trees, suppliers and dictionaries: the rows the list shows, under its filters."""

import io

from openpyxl import load_workbook

from server.masterdata.services import suppliers, trees
from tests.conftest import page_login
from tests.masterdata.helpers import basics, branch_ctx, chain, error_of
from tests.system.helpers import PASSWORD, user_with


def sheet(response) -> list[tuple]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


async def test_tree_export_lists_nodes_with_paths_under_the_filters(client, tenant, admin):
    await basics(tenant)
    nokia = await chain(tenant, "category", "Nokia", "N95")
    await trees.delete(tenant, "category", nokia[0]["id"])
    await page_login(client, "admin@ACME")

    rows = sheet(await client.get("/masterdata/categories/export"))
    assert rows[0] == ("名称", "完整路径", "层级", "状态")
    assert ("iPhone 15", "Apple / iPhone / iPhone 15", 3, "正常") in rows
    assert not any(r[0] == "N95" for r in rows)
    with_deleted = sheet(await client.get("/masterdata/categories/export", params={"show_deleted": "1"}))
    assert ("N95", "Nokia / N95", 2, "已删除") in with_deleted
    searched = sheet(await client.get("/masterdata/categories/export", params={"q": "iphone"}))
    assert [r[1] for r in searched[1:]] == ["Apple / iPhone", "Apple / iPhone / iPhone 15"]

    api = sheet(await client.get("/api/v1/categories/export", params={"status": "deleted"}, headers=admin))
    assert [r[0] for r in api[1:]] == ["Nokia", "N95"]
    assert sheet(await client.get("/api/v1/repair-classes/export", headers=admin))[1][1] == "屏幕维修"
    error_of(await client.get("/api/v1/fault-classes/export", params={"status": "x"}, headers=admin), 400)


async def test_supplier_export_holds_only_the_filtered_rows(client, tenant, admin):
    for code, name, enabled in (("S1", "华强配件", True), ("S2", "赛格配件", False), ("S3", "顺丰物流", True)):
        await suppliers.create(tenant, {"code": code, "name": name, "enabled": enabled})
    await page_login(client, "admin@ACME")
    rows = sheet(await client.get("/masterdata/suppliers/export", params={"q": "配件", "enabled": "true"}))
    assert rows == [
        ("供应商编码", "供应商名称", "联系人", "电话", "是否启用", "状态"),
        ("S1", "华强配件", None, None, "是", "正常"),
    ]
    api = sheet(await client.get("/api/v1/suppliers/export", params={"enabled": "false"}, headers=admin))
    assert [r[0] for r in api[1:]] == ["S2"]


async def test_dictionary_export_holds_one_kind(client, tenant, admin):
    await page_login(client, "admin@ACME")
    rows = sheet(await client.get("/masterdata/dictionaries/export", params={"kind": "payment_method"}))
    assert rows[0] == ("字典类型", "编码", "名称", "排序", "是否启用")
    assert {r[2] for r in rows[1:]} == {"现金", "微信", "支付宝", "银行卡", "转账"}
    api = sheet(await client.get("/api/v1/dictionaries/closing_method/export", headers=admin))
    assert [r[2] for r in api[1:]] == ["现场", "邮寄"]
    error_of(await client.get("/api/v1/dictionaries/nope/export", headers=admin), 400)
    assert (await client.get("/masterdata/dictionaries/export", params={"kind": "nope"})).status_code == 400


async def test_export_needs_its_permission(client, tenant, admin):
    _, viewer = await user_with(
        client, admin, "viewer", tenant.org_id, "hq", ["masterdata.category.view", "masterdata.supplier.view"]
    )
    for url in ("/api/v1/categories/export", "/api/v1/suppliers/export", "/api/v1/dictionaries/cash/export"):
        assert (await client.get(url, headers=viewer)).status_code == 403
    await page_login(client, "viewer@ACME", PASSWORD)
    assert (await client.get("/masterdata/categories/export")).status_code == 403
    page = await client.get("/masterdata/categories")
    assert page.status_code == 200 and "/masterdata/categories/export" not in page.text


async def test_export_is_scoped_to_the_tenant(client, tenant, other_tenant, admin):
    await basics(other_tenant)
    await suppliers.create(other_tenant, {"code": "THEIRS", "name": "别家供应商"})
    assert len(sheet(await client.get("/api/v1/categories/export", headers=admin))) == 1
    assert len(sheet(await client.get("/api/v1/suppliers/export", headers=admin))) == 1


async def test_branch_users_may_export_what_they_may_read(client, tenant):
    await basics(tenant)
    branch = await branch_ctx(tenant)
    assert len(await trees.export_rows(branch, "category")) == 4


async def test_code_exports_through_the_api_follow_the_list_filters(client, tenant, admin):
    from tests.masterdata.helpers import fault_reason, repair_code

    b = await basics(tenant)
    await repair_code(tenant, "R1", b["iphone15"], b["lcd"], labor_fee="0.1000")
    await repair_code(tenant, "R2", b["ipad"], b["lcd"])
    await fault_reason(tenant, "F1", b["iphone15"], b["battery"])
    rows = sheet(await client.get("/api/v1/repair-codes/export", params={"category_id": b["iphone"]}, headers=admin))
    assert [r[:3] for r in rows[1:]] == [("R1", "维修R1", "0.1000")]
    by_class = sheet(
        await client.get("/api/v1/fault-reasons/export", params={"fault_class_id": b["power"]}, headers=admin)
    )
    assert [r[0] for r in by_class[1:]] == ["F1"]
    error_of(await client.get("/api/v1/repair-codes/export", params={"enabled": "maybe"}, headers=admin), 400)


async def test_warehouse_exports_through_the_api_follow_the_list_filters(client, tenant, admin):
    from server.masterdata.services import warehouses
    from tests.masterdata.helpers import warehouse
    from tests.system.helpers import service_org

    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    good = await warehouse(tenant, "W-GOOD", "good")
    await warehouse(tenant, "W-BAD", "defective")
    await warehouses.assign(tenant, [good["id"]], [branch["id"], tenant.org_id])
    rows = sheet(await client.get("/api/v1/warehouses/export", params={"type": "good"}, headers=admin))
    assert [r[0] for r in rows[1:]] == ["W-GOOD"]
    pairs = sheet(
        await client.get("/api/v1/warehouse-assignments/export", params={"org_id": branch["id"]}, headers=admin)
    )
    assert [(r[0], r[2]) for r in pairs[1:]] == [("B1", "W-GOOD")]
    error_of(await client.get("/api/v1/warehouses/export", params={"type": "nope"}, headers=admin), 400)


async def test_list_filters_are_documented_once_for_the_list_and_its_export(client, tenant):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in ("/api/v1/goods", "/api/v1/goods/export"):
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert {"q", "category_id", "goods_type_id", "status", "enabled", "is_intake_item"} <= names, path
    names = {p["name"] for p in paths["/api/v1/repair-codes/export"]["get"]["parameters"]}
    assert {"category_id", "class_id", "repair_class_id"} <= names
