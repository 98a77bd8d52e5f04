"""Every field at once (issue 15 item 7): a save of goods, a warehouse, a supplier, a repair code
or a fault reason checks every field and refuses with all of them, `errors: [{field, detail}]` in
the 400 body, instead of one mistake per round trip. Nothing is saved."""

from __future__ import annotations

import pytest

from server.masterdata.tables import FaultReason, Goods, GoodsPrice, RepairCode, Supplier, Warehouse
from tests.masterdata.helpers import LONG, basics, error_of, make_goods, warehouse


@pytest.fixture
async def world(tenant) -> dict:
    return await basics(tenant)


def fields_of(body: dict) -> dict[str, str]:
    return {e["field"]: e["detail"] for e in body["errors"]}


async def test_goods_with_five_mistakes_gets_five_errors(client, admin, tenant, world):
    body = {
        "code": "含 空格",
        "name": "",
        "category_id": 999_999,
        "purchase_cost": "abc",
        "prices": [{"level": 1, "order_price": "-1", "retail_price": "2"}],
    }
    refusal = error_of(await client.post("/api/v1/goods", json=body, headers=admin), 400)
    assert fields_of(refusal) == {
        "code": "货品编码只能包含字母、数字和 . _ / -（最多 64 位）",
        "name": "请填写货品名称",
        "category_id": "所选品类不存在",
        "purchase_cost": "采购成本格式不正确",
        "prices[0].order_price": "1 级订单价格不能为负数",
    }
    assert refusal["detail"].count("；") == 4  # the message names them all too
    assert await Goods.count() == 0 and await GoodsPrice.count() == 0


async def test_goods_update_reports_every_mistake(client, admin, tenant, world):
    made = await make_goods(tenant, "G1", world["iphone15"])
    body = {
        "code": "G2",
        "name": LONG,
        "unit": "单" * 17,
        "safety_stock": -1,
        "goods_type_id": 999_999,
        "prices": [{"level": 1, "order_price": "1", "retail_price": "1.23456"}, {"level": 9}],
        "per_store_pricing": True,
        "store_prices": [{"org_id": 999_999}],
    }
    refusal = error_of(await client.patch(f"/api/v1/goods/{made['id']}", json=body, headers=admin), 400)
    assert set(fields_of(refusal)) == {
        "code",
        "name",
        "unit",
        "safety_stock",
        "goods_type_id",
        "prices[0].retail_price",
        "prices[1].level",
        "store_prices",
    }
    assert (await client.get(f"/api/v1/goods/{made['id']}", headers=admin)).json()["name"] == "货品G1"


async def test_a_taken_code_among_other_mistakes_is_listed_with_them(client, admin, tenant, world):
    await make_goods(tenant, "G1", world["iphone15"])
    refusal = error_of(
        await client.post("/api/v1/goods", json={"code": "g1", "name": "", "category_id": 1}, headers=admin), 400
    )
    assert fields_of(refusal)["code"] == "货品编码 G1 已存在（编码不区分大小写）"
    assert "name" in fields_of(refusal)
    # alone it is the 409 it always was
    body = {"code": "g1", "name": "X", "category_id": world["iphone15"]}
    error_of(await client.post("/api/v1/goods", json=body, headers=admin), 409, "duplicate_code")


@pytest.mark.parametrize(
    ("url", "table", "body", "fields"),
    [
        ("/api/v1/warehouses", Warehouse, {"code": "", "name": LONG, "type": "freezer"}, {"code", "name", "type"}),
        ("/api/v1/suppliers", Supplier, {"code": "a b", "name": "", "contact": LONG}, {"code", "name", "contact"}),
        (
            "/api/v1/repair-codes",
            RepairCode,
            {"code": "", "name": "", "category_id": 999_999, "repair_class_id": 999_999, "labor_fee": "x"},
            {"code", "name", "category_id", "repair_class_id", "labor_fee"},
        ),
        (
            "/api/v1/fault-reasons",
            FaultReason,
            {"code": "x" * 33, "name": "", "category_id": 999_999, "fault_class_id": 999_999},
            {"code", "name", "category_id", "fault_class_id"},
        ),
    ],
)
async def test_every_coded_resource_reports_every_mistake(client, admin, tenant, world, url, table, body, fields):
    refusal = error_of(await client.post(url, json=body, headers=admin), 400)
    assert set(fields_of(refusal)) == fields
    assert await table.count() == 0


async def test_updates_of_warehouses_suppliers_and_codes_report_every_mistake(client, admin, tenant, world):
    made = await warehouse(tenant, "W1")
    body = {"code": "W2", "name": "", "type": "freezer"}
    refusal = error_of(await client.patch(f"/api/v1/warehouses/{made['id']}", json=body, headers=admin), 400)
    assert set(fields_of(refusal)) == {"code", "name", "type"}
    supplier = (await client.post("/api/v1/suppliers", json={"code": "S1", "name": "供"}, headers=admin)).json()
    body = {"name": "", "contact": LONG, "phone": LONG}
    refusal = error_of(await client.patch(f"/api/v1/suppliers/{supplier['id']}", json=body, headers=admin), 400)
    assert set(fields_of(refusal)) == {"name", "contact", "phone"}
    code = {"code": "R1", "name": "换屏", "category_id": world["iphone15"], "repair_class_id": world["lcd"]}
    made = (await client.post("/api/v1/repair-codes", json=code, headers=admin)).json()
    body = {"name": "", "labor_fee": "-1", "category_id": 999_999}
    refusal = error_of(await client.patch(f"/api/v1/repair-codes/{made['id']}", json=body, headers=admin), 400)
    assert set(fields_of(refusal)) == {"name", "labor_fee", "category_id"}
