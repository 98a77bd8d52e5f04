"""Suppliers and dictionaries (SPEC 2.7): unique immutable codes, disabled items unusable, the
eight dictionaries seeded for every new tenant, items added, renamed and disabled."""

from __future__ import annotations

import pytest

from server.masterdata.services import dictionaries, suppliers
from server.masterdata.tables import DictItem, Supplier
from server.system.services import tenants
from tests.masterdata.helpers import LONG, branch_api_user, branch_ctx, error_of, refused
from tests.system.helpers import service_org

URL = "/api/v1/suppliers"
DICT = "/api/v1/dictionaries"
KINDS = [
    "service_type",
    "customer_type",
    "test_result",
    "payment_method",
    "closing_method",
    "inbound_type",
    "outbound_type",
    "repair_result",
]


async def supplier_rows() -> list[dict]:
    return await Supplier.select().order_by(Supplier.id)


async def dict_rows() -> list[dict]:
    return await DictItem.select().order_by(DictItem.id)


# --- suppliers ------------------------------------------------------------------------------------


async def test_supplier_crud(client, admin, tenant):
    body = {"code": "SUP-01", "name": "深圳配件有限公司", "contact": "王经理", "phone": "0755-1234567"}
    made = await client.post(URL, json=body, headers=admin)
    assert made.status_code == 201, made.text
    sup = made.json()
    assert sup | {"id": 0} == body | {"id": 0, "enabled": True, "status": "active"}
    assert (await client.get(f"{URL}/{sup['id']}", headers=admin)).json() == sup
    await client.post(URL, json={"code": "SUP-02", "name": "广州电池厂", "enabled": False}, headers=admin)
    listed = await client.get(URL, params={"q": "王"}, headers=admin)  # contact is searched too
    assert [s["code"] for s in listed.json()["items"]] == ["SUP-01"]
    assert [s["code"] for s in (await client.get(URL, params={"enabled": "false"}, headers=admin)).json()["items"]] == [
        "SUP-02"
    ]
    changed = await client.patch(f"{URL}/{sup['id']}", json={"name": "深圳配件", "phone": ""}, headers=admin)
    assert (changed.json()["name"], changed.json()["phone"]) == ("深圳配件", "")
    gone = await client.delete(f"{URL}/{sup['id']}", headers=admin)
    assert gone.json()["status"] == "deleted"
    error_of(await client.delete(f"{URL}/{sup['id']}", headers=admin), 409, "already_deleted")
    error_of(await client.patch(f"{URL}/{sup['id']}", json={"name": "X"}, headers=admin), 409, "deleted")


async def test_supplier_duplicate_and_immutable_code(client, admin, tenant):
    sup = await suppliers.create(tenant, {"code": "S1", "name": "一号供应商"})
    before = await supplier_rows()
    error_of(await client.post(URL, json={"code": "S1", "name": "另一个"}, headers=admin), 409, "duplicate_code")
    error_of(
        await client.patch(f"{URL}/{sup['id']}", json={"code": "S2", "name": "改名"}, headers=admin), 400, "immutable"
    )
    assert await supplier_rows() == before


async def test_disabled_or_deleted_supplier_cannot_be_chosen(tenant):
    live = await suppliers.create(tenant, {"code": "LIVE", "name": "正常"})
    off = await suppliers.create(tenant, {"code": "OFF", "name": "停用", "enabled": False})
    gone = await suppliers.create(tenant, {"code": "GONE", "name": "删除"})
    await suppliers.delete(tenant, gone["id"])
    assert (await suppliers.usable(tenant, live["id"]))["code"] == "LIVE"
    for sup in (off, gone):
        await refused(suppliers.usable(tenant, sup["id"]), "supplier_disabled")
    await refused(suppliers.usable(tenant, 999_999), "unknown_supplier")


async def test_supplier_bad_input_and_branch_users(client, admin, tenant):
    sup = await suppliers.create(tenant, {"code": "S1", "name": "一号供应商"})
    before = await supplier_rows()
    for body in (
        {"code": LONG, "name": "X"},
        {"code": "中文", "name": "X"},
        {"code": "S9", "name": LONG},
        {"code": "S9", "name": ""},
        {"code": "S9", "name": "X", "contact": LONG},
        {"code": "S9", "name": "X", "phone": LONG},
        {"code": "S9", "name": "X", "enabled": "maybe"},
        {"code": "S9", "name": 12},
        {"name": "X"},
    ):
        error_of(await client.post(URL, json=body, headers=admin), 400)
    error_of(await client.patch(f"{URL}/{sup['id']}", json={"contact": LONG}, headers=admin), 400, "too_long")
    error_of(await client.patch(f"{URL}/999999", json={"name": "X"}, headers=admin), 404)
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    headers = await branch_api_user(client, admin, branch["id"])
    assert (await client.get(URL, headers=headers)).json()["total"] == 1
    error_of(await client.post(URL, json={"code": "S9", "name": "X"}, headers=headers), 403)
    error_of(await client.patch(f"{URL}/{sup['id']}", json={"name": "X"}, headers=headers), 403)
    error_of(await client.delete(f"{URL}/{sup['id']}", headers=headers), 403)
    assert await supplier_rows() == before


# --- dictionaries ---------------------------------------------------------------------------------


async def test_every_new_tenant_gets_the_eight_dictionaries(client, admin, tenant, other_tenant):
    for ctx in (tenant, other_tenant):
        for kind in KINDS:
            items = await dictionaries.items(ctx, kind)
            assert len(items) >= 2, kind
            assert all(i["enabled"] for i in items)
            assert len({i["code"] for i in items}) == len(items)
    names = {kind: [i["name"] for i in await dictionaries.items(tenant, kind)] for kind in KINDS}
    assert {"保内维修", "保外维修", "检测", "换机"} <= set(names["service_type"])
    assert {"个人", "企业", "经销商"} <= set(names["customer_type"])
    assert {"现金", "微信", "支付宝", "银行卡", "转账"} <= set(names["payment_method"])
    assert {"现场", "邮寄"} <= set(names["closing_method"])
    assert {"已修复", "无法修复", "客户放弃"} <= set(names["repair_result"])
    assert {"采购入库", "索赔入库", "其他入库"} <= set(names["inbound_type"])
    assert {"报废出库", "退供应商出库", "其他出库"} <= set(names["outbound_type"])
    assert names["test_result"]
    # the API lists them in their sort order
    listed = (await client.get(f"{DICT}/payment_method", headers=admin)).json()
    assert [i["name"] for i in listed["items"]] == ["现金", "微信", "支付宝", "银行卡", "转账"]
    assert listed["total"] == 5
    # seeding again (the demo loader, a re-run) adds nothing
    before = await dict_rows()
    await dictionaries.seed(tenant)
    assert await dict_rows() == before
    # each tenant owns its own rows
    assert {i["tenant_id"] for i in before} == {tenant.tenant_id, other_tenant.tenant_id}


async def test_a_tenant_created_later_is_seeded_too(database_url):
    ctx = await tenants.create("LATE", "后来的公司", "admin1234")
    for kind in KINDS:
        assert await dictionaries.items(ctx, kind), kind


async def test_add_rename_and_disable_items(client, admin, tenant):
    made = await client.post(
        f"{DICT}/payment_method", json={"code": "unionpay", "name": "云闪付", "sort": 5}, headers=admin
    )
    assert made.status_code == 201, made.text
    item = made.json()
    assert item | {"id": 0} == {
        "id": 0,
        "kind": "payment_method",
        "code": "unionpay",
        "name": "云闪付",
        "sort": 5,
        "enabled": True,
    }
    assert await dictionaries.require_code(tenant, "payment_method", "unionpay", "payment_method") == "unionpay"

    renamed = await client.patch(f"{DICT}/payment_method/{item['id']}", json={"name": "银联云闪付"}, headers=admin)
    assert renamed.json()["name"] == "银联云闪付" and renamed.json()["code"] == "unionpay"
    assert await dictionaries.name_of(tenant, "payment_method", "unionpay") == "银联云闪付"

    off = await client.patch(f"{DICT}/payment_method/{item['id']}", json={"enabled": False}, headers=admin)
    assert off.json()["enabled"] is False
    await refused(
        dictionaries.require_code(tenant, "payment_method", "unionpay", "payment_method"), "unknown_dict_item"
    )
    assert "unionpay" not in [i["code"] for i in await dictionaries.items(tenant, "payment_method", enabled_only=True)]
    # disabled items stay listed for the maintenance page (and old documents still show their name)
    assert "unionpay" in [
        i["code"] for i in (await client.get(f"{DICT}/payment_method", headers=admin)).json()["items"]
    ]
    # a seeded item can be disabled too
    cash = next(i for i in await dictionaries.items(tenant, "payment_method") if i["code"] == "cash")
    await dictionaries.update(tenant, "payment_method", cash["id"], {"enabled": False})
    await refused(dictionaries.require_code(tenant, "payment_method", "cash", "payment_method"), "unknown_dict_item")
    # the same code in another dictionary is another item
    other = await client.post(f"{DICT}/closing_method", json={"code": "unionpay", "name": "X"}, headers=admin)
    assert other.status_code == 201


async def test_dictionary_code_is_immutable_and_unique(client, admin, tenant):
    cash = next(i for i in await dictionaries.items(tenant, "payment_method") if i["code"] == "cash")
    before = await dict_rows()
    error_of(
        await client.patch(f"{DICT}/payment_method/{cash['id']}", json={"code": "money", "name": "钱"}, headers=admin),
        400,
        "immutable",
    )
    error_of(
        await client.post(f"{DICT}/payment_method", json={"code": "cash", "name": "现钞"}, headers=admin),
        409,
        "duplicate_code",
    )
    # an item is addressed within its own dictionary
    error_of(await client.patch(f"{DICT}/closing_method/{cash['id']}", json={"name": "X"}, headers=admin), 404)
    assert await dict_rows() == before
    same = await client.patch(f"{DICT}/payment_method/{cash['id']}", json={"code": "cash", "sort": 99}, headers=admin)
    assert same.status_code == 200 and same.json()["sort"] == 99


async def test_dictionary_bad_input_and_branch_users(client, admin, tenant):
    cash = next(i for i in await dictionaries.items(tenant, "payment_method") if i["code"] == "cash")
    before = await dict_rows()
    error_of(await client.get(f"{DICT}/colour", headers=admin), 400)
    error_of(await client.post(f"{DICT}/colour", json={"code": "red", "name": "红"}, headers=admin), 400)
    for body in (
        {"code": LONG, "name": "X"},
        {"code": "含中文", "name": "X"},
        {"code": "ok", "name": LONG},
        {"code": "ok", "name": ""},
        {"code": "ok", "name": "X", "sort": -1},
        {"code": "ok", "name": "X", "sort": 10**20},
        {"code": "ok", "name": "X", "enabled": "maybe"},
        {"code": "ok"},
    ):
        error_of(await client.post(f"{DICT}/payment_method", json=body, headers=admin), 400)
    error_of(await client.patch(f"{DICT}/payment_method/{cash['id']}", json={"name": LONG}, headers=admin), 400)
    error_of(await client.patch(f"{DICT}/payment_method/999999", json={"name": "X"}, headers=admin), 404)
    await refused(dictionaries.require_code(tenant, "payment_method", None, "payment_method"), "required")
    await refused(dictionaries.require_code(tenant, "payment_method", LONG, "payment_method"), "unknown_dict_item")

    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    headers = await branch_api_user(client, admin, branch["id"])
    assert (await client.get(f"{DICT}/payment_method", headers=headers)).json()["total"] == 5
    error_of(await client.post(f"{DICT}/payment_method", json={"code": "x", "name": "X"}, headers=headers), 403)
    error_of(await client.patch(f"{DICT}/payment_method/{cash['id']}", json={"name": "X"}, headers=headers), 403)
    ctx = await branch_ctx(tenant, code="BX")
    await refused(dictionaries.create(ctx, "payment_method", {"code": "x", "name": "X"}), status=403)
    assert await dict_rows() == before


@pytest.mark.parametrize("kind", KINDS)
async def test_each_dictionary_is_reachable_through_the_api(client, admin, tenant, kind):
    listed = await client.get(f"{DICT}/{kind}", headers=admin)
    assert listed.status_code == 200 and listed.json()["items"]
    made = await client.post(f"{DICT}/{kind}", json={"code": "zz_new", "name": "新项"}, headers=admin)
    assert made.status_code == 201 and made.json()["kind"] == kind
