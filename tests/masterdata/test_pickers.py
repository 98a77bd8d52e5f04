"""The pickers behind every master data field: only usable rows are offered, scoped to the
caller's tenant and subtree, with full paths as labels."""

import re

from server.masterdata.services import goods, trees, warehouses
from tests.conftest import page_login
from tests.masterdata.helpers import basics, chain, make_goods, warehouse
from tests.system.helpers import PASSWORD, service_org, service_user

OPTION = re.compile(r'data-value="(\d+)" data-label="([^"]*)"')


def options(response) -> dict[int, str]:
    assert response.status_code == 200, response.text
    assert "<html" not in response.text
    return {int(v): label for v, label in OPTION.findall(response.text)}


async def test_tree_picker_offers_usable_nodes_with_their_paths(client, tenant):
    ids = await basics(tenant)
    gone = await chain(tenant, "category", "Nokia", "N95")
    await trees.delete(tenant, "category", gone[0]["id"])
    await page_login(client, "admin@ACME")

    found = options(await client.get("/pickers/categories"))
    assert found[ids["iphone15"]] == "Apple / iPhone / iPhone 15"
    assert found[ids["ipad"]] == "Apple / iPad"
    assert gone[0]["id"] not in found and gone[1]["id"] not in found  # deleted, and under a deleted node

    narrowed = options(await client.get("/pickers/categories", params={"q": "iphone 1"}))
    assert list(narrowed) == [ids["iphone15"]]
    assert options(await client.get("/pickers/repair-classes"))[ids["lcd"]] == "屏幕维修 / 换屏"
    assert options(await client.get("/pickers/fault-classes"))[ids["battery"]] == "电源故障 / 电池"
    assert (await client.get("/pickers/nothing")).status_code == 404
    assert "无匹配结果" in (await client.get("/pickers/categories", params={"q": "zzz"})).text


async def test_tree_picker_says_when_it_shows_only_the_first_matches(client, tenant):
    for i in range(55):
        await trees.create(tenant, "category", {"name": f"型号{i:02d}"})
    await page_login(client, "admin@ACME")
    response = await client.get("/pickers/categories", params={"q": "型号"})
    assert len(options(response)) == 50 and "仅显示前 50 条" in response.text


async def test_goods_picker_searches_usable_goods_within_a_category(client, tenant):
    ids = await basics(tenant)
    screen = await make_goods(tenant, "IP15-SCR", ids["iphone15"], name="iPhone 15 屏幕", spec="6.1 寸")
    battery = await make_goods(tenant, "IP15-BAT", ids["iphone15"], name="iPhone 15 电池")
    pad = await make_goods(tenant, "IPAD-SCR", ids["ipad"], name="iPad 屏幕")
    await make_goods(tenant, "IP15-OFF", ids["iphone15"], enabled=False)
    dropped = await make_goods(tenant, "IP15-DEL", ids["iphone15"])
    await goods.delete(tenant, dropped["id"])
    await page_login(client, "admin@ACME")

    everything = options(await client.get("/pickers/goods"))
    assert set(everything) == {screen["id"], battery["id"], pad["id"]}
    assert everything[screen["id"]] == "IP15-SCR iPhone 15 屏幕"
    by_name = options(await client.get("/pickers/goods", params={"q": "屏幕"}))
    assert set(by_name) == {screen["id"], pad["id"]}
    in_iphone = options(await client.get("/pickers/goods", params={"q": "屏幕", "category_id": ids["iphone"]}))
    assert set(in_iphone) == {screen["id"]}
    by_code = options(await client.get("/pickers/goods", params={"q": "ip15-b"}))
    assert set(by_code) == {battery["id"]}
    bad = await client.get("/pickers/goods", params={"category_id": "x"})
    assert bad.status_code == 400 and re.search(r"[\u4e00-\u9fff]", bad.text)


async def test_goods_picker_leaves_out_goods_of_a_deleted_category(client, tenant):
    ids = await basics(tenant)
    item = await make_goods(tenant, "IPAD-BAT", ids["ipad"])
    await trees.delete(tenant, "category", ids["ipad"])
    await page_login(client, "admin@ACME")
    assert item["id"] not in options(await client.get("/pickers/goods"))


async def test_org_picker_is_limited_to_the_callers_subtree(client, tenant):
    north = await service_org(tenant, "NORTH", tenant.org_id, level=2)
    north_shop = await service_org(tenant, "NORTH1", north["id"], level=3)
    south = await service_org(tenant, "SOUTH", tenant.org_id, level=2)
    closed = await service_org(tenant, "NORTH2", north["id"], level=3, enabled=False)
    await service_user(tenant, "northman", north["id"], "branch", [])
    await page_login(client, "northman@ACME", PASSWORD)

    found = options(await client.get("/pickers/orgs"))
    assert set(found) == {north["id"], north_shop["id"]}
    assert south["id"] not in found and closed["id"] not in found
    assert set(options(await client.get("/pickers/orgs", params={"q": "north1"}))) == {north_shop["id"]}
    # a credit line names an org below the caller's: the picker offers only those
    assert set(options(await client.get("/pickers/orgs", params={"below": "1"}))) == {north_shop["id"]}


async def test_warehouse_picker_offers_an_orgs_enabled_warehouses_of_the_types_asked(client, tenant):
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    good = await warehouse(tenant, "W-GOOD", "good")
    bad = await warehouse(tenant, "W-BAD", "defective")
    off = await warehouse(tenant, "W-OFF", "good")
    elsewhere = await warehouse(tenant, "W-HQ", "good")
    pairs = await warehouses.assign(tenant, [good["id"], bad["id"], off["id"]], [branch["id"]])
    await warehouses.assign(tenant, [elsewhere["id"]], [tenant.org_id])
    off_pair = next(p for p in pairs if p["warehouse_id"] == off["id"])
    await warehouses.set_assignment_enabled(tenant, off_pair["id"], False)
    await page_login(client, "admin@ACME")

    found = options(await client.get("/pickers/warehouses", params={"org_id": branch["id"]}))
    assert set(found) == {good["id"], bad["id"]}
    only_good = options(await client.get("/pickers/warehouses", params={"org_id": branch["id"], "types": "good"}))
    assert set(only_good) == {good["id"]}
    assert set(options(await client.get("/pickers/warehouses"))) == {elsewhere["id"]}  # the caller's own org

    await service_user(tenant, "b1man", branch["id"], "branch", [])
    await page_login(client, "b1man@ACME", PASSWORD)
    assert (await client.get("/pickers/warehouses", params={"org_id": tenant.org_id})).status_code == 404


async def test_pickers_never_show_another_tenants_rows(client, tenant, other_tenant):
    ids = await basics(other_tenant)
    theirs = await make_goods(other_tenant, "THEIRS", ids["iphone15"])
    await page_login(client, "admin@ACME")
    assert options(await client.get("/pickers/categories")) == {}
    assert theirs["id"] not in options(await client.get("/pickers/goods"))
    other_orgs = {other_tenant.org_id}
    assert not other_orgs & set(options(await client.get("/pickers/orgs")))
    assert (await client.get("/pickers/warehouses", params={"org_id": other_tenant.org_id})).status_code == 404
    refused = await client.get("/pickers/goods", params={"category_id": ids["iphone"]})
    assert refused.status_code == 404


async def test_pickers_need_a_login(client, tenant):
    response = await client.get("/pickers/categories", follow_redirects=False)
    assert response.status_code in (302, 303, 401)
