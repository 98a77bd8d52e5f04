"""Tenant isolation of the master data pages: another tenant's rows cannot be opened, changed,
deleted or assigned through the htmx pages (404), and stay exactly as they were."""

from server.masterdata.services import codes, dictionaries, goods, suppliers, trees, warehouses
from tests.conftest import csrf, page_login
from tests.masterdata.helpers import basics, fault_reason, make_goods, repair_code, warehouse


async def _theirs(other) -> dict:
    b = await basics(other)
    pay = next(i for i in await dictionaries.items(other, "payment_method") if i["code"] == "cash")
    wh = await warehouse(other, "W-THEIRS")
    pair = (await warehouses.assign(other, [wh["id"]], [other.org_id]))[0]
    return {
        "category": b["iphone"],
        "repair_code": (await repair_code(other, "R1", b["iphone15"], b["lcd"]))["id"],
        "fault_reason": (await fault_reason(other, "F1", b["iphone15"], b["battery"]))["id"],
        "goods": (await make_goods(other, "G1", b["iphone15"]))["id"],
        "warehouse": wh["id"],
        "assignment": pair["id"],
        "supplier": (await suppliers.create(other, {"code": "S1", "name": "别家供应商"}))["id"],
        "dict_item": pay["id"],
    }


async def _state(other, ids) -> list:
    return [
        await trees.get(other, "category", ids["category"]),
        await codes.get(other, "repair_code", ids["repair_code"]),
        await codes.get(other, "fault_reason", ids["fault_reason"]),
        await goods.get(other, ids["goods"]),
        await warehouses.get(other, ids["warehouse"]),
        await warehouses.get_assignment(other, ids["assignment"]),
        await suppliers.get(other, ids["supplier"]),
        await dictionaries.items(other, "payment_method"),
    ]


async def test_another_tenants_master_data_cannot_be_reached_through_the_pages(client, tenant, other_tenant):
    ids = await _theirs(other_tenant)
    before = await _state(other_tenant, ids)
    await page_login(client, "admin@ACME")
    h = csrf(client)
    reads = [
        f"/masterdata/categories/{ids['category']}/edit",
        f"/masterdata/categories/new?parent_id={ids['category']}",
        f"/masterdata/repair-codes/{ids['repair_code']}/edit",
        f"/masterdata/fault-reasons/{ids['fault_reason']}/edit",
        f"/masterdata/goods/{ids['goods']}/edit",
        f"/masterdata/goods/{ids['goods']}/price?org_id={tenant.org_id}",
        f"/masterdata/warehouses/{ids['warehouse']}/edit",
        f"/masterdata/suppliers/{ids['supplier']}/edit",
        f"/masterdata/dictionaries/payment_method/{ids['dict_item']}/edit",
    ]
    for url in reads:
        assert (await client.get(url)).status_code == 404, url
    writes = [
        (f"/masterdata/categories/{ids['category']}", {"name": "改名"}),
        (f"/masterdata/categories/{ids['category']}/delete", {}),
        ("/masterdata/categories", {"name": "挂到别家", "parent_id": ids["category"]}),
        (f"/masterdata/repair-codes/{ids['repair_code']}", {"name": "改名"}),
        (f"/masterdata/repair-codes/{ids['repair_code']}/delete", {}),
        (f"/masterdata/fault-reasons/{ids['fault_reason']}/delete", {}),
        (f"/masterdata/goods/{ids['goods']}", {"name": "改名"}),
        (f"/masterdata/goods/{ids['goods']}/delete", {}),
        (f"/masterdata/warehouses/{ids['warehouse']}", {"name": "改名"}),
        (f"/masterdata/warehouses/{ids['warehouse']}/delete", {}),
        (f"/masterdata/warehouse-assignments/{ids['assignment']}/enabled", {"enabled": "0"}),
        (f"/masterdata/suppliers/{ids['supplier']}", {"name": "改名"}),
        (f"/masterdata/suppliers/{ids['supplier']}/delete", {}),
        (f"/masterdata/dictionaries/payment_method/{ids['dict_item']}", {"name": "改名"}),
    ]
    for url, data in writes:
        response = await client.post(url, data=data, headers=h)
        assert response.status_code in (400, 404), (url, response.status_code, response.text)
        assert response.status_code != 400 or "不存在" in response.text, (url, response.text)
    # their warehouse cannot be assigned to our org, nor ours to their org
    mine = await warehouse(tenant, "W-MINE")
    refused = await client.post(
        "/masterdata/warehouse-assignments",
        data={"warehouse_ids": [ids["warehouse"]], "org_ids": [tenant.org_id]},
        headers=h,
    )
    assert refused.status_code in (400, 404)
    refused = await client.post(
        "/masterdata/warehouse-assignments",
        data={"warehouse_ids": [mine["id"]], "org_ids": [other_tenant.org_id]},
        headers=h,
    )
    assert refused.status_code in (400, 404)
    assert await _state(other_tenant, ids) == before
