"""Master data across tenants and org kinds, and against bad input.

- Another tenant's rows are 404 to read, edit or delete, and never change; references to them
  are unknown (400); lists never show them.
- A branch user holding every master data permission still cannot write any of it (403), and
  reads every list.
- Every write endpoint, fed oversized strings, wrong types and out-of-range numbers in each
  field, answers 400/404 with a Chinese detail and changes nothing (never 500).
"""

from __future__ import annotations

import pytest

from server.core.tables import AuditLog
from server.masterdata.services import codes, dictionaries, goods, suppliers, trees, warehouses
from server.masterdata.tables import (
    DictItem,
    FaultReason,
    Goods,
    GoodsPrice,
    GoodsStorePrice,
    GoodsType,
    OrgWarehouse,
    RepairCode,
    Supplier,
    TreeNode,
    Warehouse,
)
from tests.conftest import api_login
from tests.masterdata.helpers import (
    LONG,
    basics,
    branch_api_user,
    error_of,
    fault_reason,
    make_goods,
    refused,
    repair_code,
    warehouse,
)
from tests.system.helpers import service_org, user_with

TABLES = (
    TreeNode,
    RepairCode,
    FaultReason,
    GoodsType,
    Goods,
    GoodsPrice,
    GoodsStorePrice,
    Warehouse,
    OrgWarehouse,
    Supplier,
    DictItem,
    AuditLog,
)


async def database_state() -> dict:
    return {t._meta.tablename: await t.select().order_by(t.id) for t in TABLES}


@pytest.fixture
async def acme(tenant) -> dict:
    """One row of every master data resource in ACME (and the ids the bodies below refer to)."""
    b = await basics(tenant)
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    rc = await repair_code(tenant, "R1", b["iphone15"], b["lcd"], labor_fee="10")
    fr = await fault_reason(tenant, "F1", b["iphone15"], b["battery"])
    g = await make_goods(
        tenant,
        "G1",
        b["iphone15"],
        per_store_pricing=True,
        store_prices=[{"org_id": branch["id"], "order_price": "1", "retail_price": "2"}],
    )
    w = await warehouse(tenant, "W1")
    assignment = (await warehouses.assign(tenant, [w["id"]], [branch["id"]]))[0]
    sup = await suppliers.create(tenant, {"code": "S1", "name": "一号供应商"})
    cash = next(i for i in await dictionaries.items(tenant, "payment_method") if i["code"] == "cash")
    gtype = (await goods.goods_types(tenant))[0]
    return b | {
        "branch": branch["id"],
        "repair_code": rc["id"],
        "fault_reason": fr["id"],
        "goods": g["id"],
        "warehouse": w["id"],
        "assignment": assignment["id"],
        "supplier": sup["id"],
        "dict_item": cash["id"],
        "goods_type": gtype["id"],
    }


def resources(a: dict) -> list[tuple[str, dict]]:
    """(url of one ACME row, a valid PATCH body for it)."""
    return [
        (f"/api/v1/categories/{a['iphone15']}", {"name": "别家改的"}),
        (f"/api/v1/repair-classes/{a['lcd']}", {"name": "别家改的"}),
        (f"/api/v1/fault-classes/{a['battery']}", {"name": "别家改的"}),
        (f"/api/v1/repair-codes/{a['repair_code']}", {"name": "别家改的", "labor_fee": "0"}),
        (f"/api/v1/fault-reasons/{a['fault_reason']}", {"name": "别家改的", "enabled": False}),
        (f"/api/v1/goods/{a['goods']}", {"name": "别家改的", "prices": [], "store_prices": []}),
        (f"/api/v1/warehouses/{a['warehouse']}", {"name": "别家改的", "enabled": False}),
        (f"/api/v1/warehouse-assignments/{a['assignment']}", {"enabled": False}),
        (f"/api/v1/suppliers/{a['supplier']}", {"name": "别家改的", "enabled": False}),
    ]


async def test_another_tenants_master_data_is_not_found_and_unchanged(client, admin, acme, other_tenant):
    other = await api_login(client, "admin@OTHER")
    before = await database_state()
    for url, patch in resources(acme):
        assert (await client.get(url, headers=admin)).status_code == 200, url
        error_of(await client.get(url, headers=other), 404, "not_found")
        error_of(await client.patch(url, json=patch, headers=other), 404, "not_found")
        if "assignments" not in url:
            error_of(await client.delete(url, headers=other), 404, "not_found")
    error_of(
        await client.patch(
            f"/api/v1/dictionaries/payment_method/{acme['dict_item']}", json={"name": "X"}, headers=other
        ),
        404,
    )
    error_of(
        await client.get(f"/api/v1/goods/{acme['goods']}/price", params={"org_id": acme["branch"]}, headers=other), 404
    )
    own_org = other_tenant.org_id
    error_of(await client.get(f"/api/v1/goods/{acme['goods']}/price", params={"org_id": own_org}, headers=other), 404)
    assert await database_state() == before


async def test_another_tenants_lists_never_show_acme_rows(client, acme, other_tenant):
    other = await api_login(client, "admin@OTHER")
    for url in (
        "/api/v1/categories",
        "/api/v1/repair-classes",
        "/api/v1/fault-classes",
        "/api/v1/repair-codes",
        "/api/v1/fault-reasons",
        "/api/v1/goods",
        "/api/v1/warehouses",
        "/api/v1/warehouse-assignments",
        "/api/v1/suppliers",
    ):
        response = await client.get(url, headers=other)
        assert response.status_code == 200, url
        assert response.json()["total"] == 0, url
    # seeded lists are each tenant's own
    types = (await client.get("/api/v1/goods-types", headers=other)).json()["items"]
    assert acme["goods_type"] not in [t["id"] for t in types]
    items = (await client.get("/api/v1/dictionaries/payment_method", headers=other)).json()["items"]
    assert acme["dict_item"] not in [i["id"] for i in items]
    # filtering by an ACME node is "not found", not a peek at ACME's data
    error_of(await client.get("/api/v1/goods", params={"category_id": acme["apple"]}, headers=other), 404)


async def test_another_tenants_rows_cannot_be_referenced(client, acme, other_tenant):
    other = await api_login(client, "admin@OTHER")
    mine = await basics(other_tenant)
    my_wh = await warehouse(other_tenant, "OW")
    before = await database_state()
    for url, body in (
        ("/api/v1/categories", {"name": "X", "parent_id": acme["iphone15"]}),
        (
            "/api/v1/repair-codes",
            {"code": "X", "name": "X", "category_id": acme["iphone15"], "repair_class_id": mine["lcd"]},
        ),
        (
            "/api/v1/repair-codes",
            {"code": "X", "name": "X", "category_id": mine["iphone15"], "repair_class_id": acme["lcd"]},
        ),
        (
            "/api/v1/fault-reasons",
            {"code": "X", "name": "X", "category_id": mine["iphone15"], "fault_class_id": acme["battery"]},
        ),
        ("/api/v1/goods", {"code": "X", "name": "X", "category_id": acme["iphone15"]}),
        (
            "/api/v1/goods",
            {"code": "X", "name": "X", "category_id": mine["iphone15"], "goods_type_id": acme["goods_type"]},
        ),
        (
            "/api/v1/goods",
            {
                "code": "X",
                "name": "X",
                "category_id": mine["iphone15"],
                "per_store_pricing": True,
                "store_prices": [{"org_id": acme["branch"], "order_price": "1"}],
            },
        ),
        ("/api/v1/warehouse-assignments", {"warehouse_ids": [acme["warehouse"]], "org_ids": [other_tenant.org_id]}),
        ("/api/v1/warehouse-assignments", {"warehouse_ids": [my_wh["id"]], "org_ids": [acme["branch"]]}),
    ):
        error_of(await client.post(url, json=body, headers=other), 400)
    assert await database_state() == before
    # the services say the same to a caller of the other tenant
    for call in (
        trees.usable(other_tenant, "category", acme["iphone15"]),
        codes.usable(other_tenant, "repair_code", acme["repair_code"], "code"),
        codes.usable(other_tenant, "fault_reason", acme["fault_reason"], "code"),
        goods.usable(other_tenant, acme["goods"]),
        suppliers.usable(other_tenant, acme["supplier"]),
        warehouses.require_usable(other_tenant, acme["warehouse"], acme["branch"]),
        dictionaries.require_code(other_tenant, "payment_method", "no_such_code", "payment_method"),
    ):
        await refused(call)
    await refused(goods.price_for(other_tenant, acme["goods"], other_tenant.org_id), "not_found", 404)
    await refused(goods.get(other_tenant, acme["goods"]), "not_found", 404)


async def test_a_branch_user_with_every_permission_reads_everything_and_writes_nothing(client, admin, acme):
    headers = await branch_api_user(client, admin, acme["branch"])
    before = await database_state()
    for url in (
        "/api/v1/categories",
        "/api/v1/repair-classes",
        "/api/v1/fault-classes",
        "/api/v1/repair-codes",
        "/api/v1/fault-reasons",
        "/api/v1/goods",
        "/api/v1/goods-types",
        "/api/v1/warehouses",
        "/api/v1/warehouse-assignments",
        "/api/v1/suppliers",
        "/api/v1/dictionaries/service_type",
    ):
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert response.json()["total"] >= 1, url
    for url, patch in resources(acme):
        assert (await client.get(url, headers=headers)).status_code == 200, url
        error_of(await client.patch(url, json=patch, headers=headers), 403, "forbidden")
        if "assignments" not in url:
            error_of(await client.delete(url, headers=headers), 403, "forbidden")
    for url, body in (
        ("/api/v1/categories", {"name": "X"}),
        ("/api/v1/repair-classes", {"name": "X"}),
        ("/api/v1/fault-classes", {"name": "X"}),
        (
            "/api/v1/repair-codes",
            {"code": "X", "name": "X", "category_id": acme["iphone15"], "repair_class_id": acme["lcd"]},
        ),
        (
            "/api/v1/fault-reasons",
            {"code": "X", "name": "X", "category_id": acme["iphone15"], "fault_class_id": acme["battery"]},
        ),
        ("/api/v1/goods", {"code": "X", "name": "X", "category_id": acme["iphone15"]}),
        ("/api/v1/goods-types", {"name": "X"}),
        ("/api/v1/warehouses", {"code": "X", "name": "X", "type": "general"}),
        ("/api/v1/warehouse-assignments", {"warehouse_ids": [acme["warehouse"]], "org_ids": [acme["branch"]]}),
        ("/api/v1/suppliers", {"code": "X", "name": "X"}),
        ("/api/v1/dictionaries/service_type", {"code": "x", "name": "X"}),
    ):
        error_of(await client.post(url, json=body, headers=headers), 403, "forbidden")
    error_of(
        await client.patch(
            f"/api/v1/dictionaries/payment_method/{acme['dict_item']}", json={"name": "X"}, headers=headers
        ),
        403,
    )
    assert await database_state() == before


async def test_users_without_the_permission_code_are_refused(client, admin, tenant, acme):
    """A head-office user who may only view: every write is 403 at the guard, reads work."""
    _, viewer = await user_with(client, admin, "viewer", tenant.org_id, "hq", ["masterdata.goods.view"])
    before = await database_state()
    for url, patch in resources(acme):
        error_of(await client.patch(url, json=patch, headers=viewer), 403, "forbidden")
    body = {"code": "X", "name": "X", "category_id": acme["iphone15"]}
    error_of(await client.post("/api/v1/goods", json=body, headers=viewer), 403)
    assert (await client.get("/api/v1/goods", headers=viewer)).json()["total"] == 1
    assert await database_state() == before


# --- bad input, field by field --------------------------------------------------------------------

BAD_VALUES = [LONG, 10**20, -1, {}, 1.5, [LONG]]


def endpoints(a: dict) -> list[tuple[str, str, dict]]:
    """(method, url, a body it accepts): each field of the body is then spoiled in turn."""
    goods_body = {
        "code": "NEWG",
        "name": "新货品",
        "category_id": a["iphone15"],
        "goods_type_id": a["goods_type"],
        "unit": "个",
        "spec": "规格",
        "purchase_cost": "1.0000",
        "is_intake_item": False,
        "enabled": True,
        "safety_stock": 1,
        "per_store_pricing": True,
        "prices": [{"level": 1, "order_price": "1", "retail_price": "2", "orderable": True}],
        "store_prices": [{"org_id": a["branch"], "order_price": "1", "retail_price": "2"}],
    }
    return [
        ("POST", "/api/v1/categories", {"name": "新", "parent_id": a["apple"], "sort": 1}),
        ("PATCH", f"/api/v1/categories/{a['iphone15']}", {"name": "新", "sort": 1, "parent_id": a["iphone"]}),
        ("POST", "/api/v1/repair-classes", {"name": "新", "parent_id": a["screen"]}),
        ("PATCH", f"/api/v1/fault-classes/{a['battery']}", {"name": "新", "sort": 2}),
        (
            "POST",
            "/api/v1/repair-codes",
            {
                "code": "NEWR",
                "name": "新",
                "category_id": a["iphone15"],
                "repair_class_id": a["lcd"],
                "labor_fee": "1",
                "uses_material": True,
                "enabled": True,
            },
        ),
        (
            "PATCH",
            f"/api/v1/repair-codes/{a['repair_code']}",
            {"code": "R1", "name": "新", "category_id": a["ipad"], "labor_fee": "2", "uses_material": False},
        ),
        (
            "POST",
            "/api/v1/fault-reasons",
            {"code": "NEWF", "name": "新", "category_id": a["iphone15"], "fault_class_id": a["battery"]},
        ),
        ("PATCH", f"/api/v1/fault-reasons/{a['fault_reason']}", {"name": "新", "fault_class_id": a["power"]}),
        ("POST", "/api/v1/goods", goods_body),
        (
            "PATCH",
            f"/api/v1/goods/{a['goods']}",
            {k: v for k, v in goods_body.items() if k not in ("code", "category_id")},
        ),
        ("POST", "/api/v1/goods-types", {"name": "新类"}),
        ("POST", "/api/v1/warehouses", {"code": "NEWW", "name": "新仓", "type": "good", "enabled": True}),
        ("PATCH", f"/api/v1/warehouses/{a['warehouse']}", {"code": "W1", "name": "新", "type": "repair"}),
        ("POST", "/api/v1/warehouse-assignments", {"warehouse_ids": [a["warehouse"]], "org_ids": [a["branch"]]}),
        ("PATCH", f"/api/v1/warehouse-assignments/{a['assignment']}", {"enabled": False}),
        ("POST", "/api/v1/suppliers", {"code": "NEWS", "name": "新", "contact": "李", "phone": "1", "enabled": True}),
        ("PATCH", f"/api/v1/suppliers/{a['supplier']}", {"name": "新", "contact": "李", "enabled": False}),
        ("POST", "/api/v1/dictionaries/payment_method", {"code": "newp", "name": "新", "sort": 1, "enabled": True}),
        ("PATCH", f"/api/v1/dictionaries/payment_method/{a['dict_item']}", {"name": "新", "sort": 3, "enabled": False}),
    ]


def spoiled(body: dict):
    """Each field of `body` (and of the first item of its lists of objects) set to each bad value."""
    for key, value in body.items():
        for bad in BAD_VALUES:
            yield key, body | {key: bad}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for sub in value[0]:
                for bad in BAD_VALUES:
                    yield f"{key}.{sub}", body | {key: [value[0] | {sub: bad}]}


async def test_every_write_refuses_bad_fields_in_chinese_and_changes_nothing(client, admin, acme):
    before = await database_state()
    seen = 0
    for method, url, body in endpoints(acme):
        for field, bad_body in spoiled(body):
            response = await client.request(method, url, json=bad_body, headers=admin)
            assert response.status_code in (400, 404), (method, url, field, response.status_code, response.text[:300])
            error_of(response, response.status_code)
            seen += 1
        for raw in (b"{", b"[]", b"null", b'"text"', b"", b"\xff\xfe"):
            response = await client.request(
                method, url, content=raw, headers=admin | {"content-type": "application/json"}
            )
            error_of(response, 400)
    assert seen > 300
    assert await database_state() == before
    # and the valid bodies are indeed accepted (the spoiling, not the body, was refused)
    for method, url, body in endpoints(acme):
        response = await client.request(method, url, json=body, headers=admin)
        assert response.status_code in (200, 201), (method, url, response.text)


async def test_unknown_and_oversized_ids_in_paths(client, admin, acme):
    before = await database_state()
    for base in (
        "/api/v1/categories",
        "/api/v1/repair-classes",
        "/api/v1/fault-classes",
        "/api/v1/repair-codes",
        "/api/v1/fault-reasons",
        "/api/v1/goods",
        "/api/v1/warehouses",
        "/api/v1/warehouse-assignments",
        "/api/v1/suppliers",
    ):
        error_of(await client.get(f"{base}/999999", headers=admin), 404, "not_found")
        error_of(await client.patch(f"{base}/999999", json={"name": "X", "enabled": True}, headers=admin), 404)
        for huge in ("99999999999", "99999999999999999999999", "0"):
            response = await client.get(f"{base}/{huge}", headers=admin)
            assert response.status_code in (400, 404), (base, huge, response.text)
            error_of(response, response.status_code)
        response = await client.get(f"{base}/abc", headers=admin)
        assert response.status_code in (400, 404), response.text
    error_of(await client.get(f"/api/v1/goods/{acme['goods']}/price", params={"org_id": 10**30}, headers=admin), 400)
    assert await database_state() == before
