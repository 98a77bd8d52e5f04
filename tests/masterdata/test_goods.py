"""Goods (SPEC 2.5): code unique and immutable, category immutable, 4-decimal money end to end,
four level price tiers, per-store overrides and `price_for`, goods types, usable goods."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.masterdata.services import goods, trees
from server.masterdata.tables import Goods, GoodsPrice, GoodsStorePrice, GoodsType
from tests.masterdata.helpers import (
    FOUR_TIERS,
    LONG,
    basics,
    branch_api_user,
    branch_ctx,
    error_of,
    hq_ctx,
    level_orgs,
    make_goods,
    refused,
    tiers,
)
from tests.system.helpers import service_org, user_with

URL = "/api/v1/goods"


async def state() -> tuple:
    return tuple([await t.select().order_by(t.id) for t in (Goods, GoodsPrice, GoodsStorePrice, GoodsType)])


async def goods_type_id(ctx, name: str) -> int:
    return next(t["id"] for t in await goods.goods_types(ctx) if t["name"] == name)


@pytest.fixture
async def world(tenant) -> dict:
    return await basics(tenant) | {"orgs": await level_orgs(tenant)}


async def test_create_a_goods_with_four_tiers_and_a_store_price(client, admin, tenant, world):
    body = {
        "code": "IP15-SCREEN",
        "name": "iPhone 15 屏幕总成",
        "category_id": world["iphone15"],
        "goods_type_id": await goods_type_id(tenant, "配件"),
        "unit": "片",
        "spec": "原装 6.1 寸",
        "purchase_cost": "0.1000",
        "is_intake_item": False,
        "safety_stock": 5,
        "per_store_pricing": True,
        "prices": FOUR_TIERS,
        "store_prices": [{"org_id": world["orgs"][3], "order_price": "99.5", "retail_price": "0.1000"}],
    }
    response = await client.post(URL, json=body, headers=admin)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["purchase_cost"] == "0.1000"
    assert (made["goods_type_name"], made["category_name"], made["unit"], made["spec"]) == (
        "配件",
        "iPhone 15",
        "片",
        "原装 6.1 寸",
    )
    assert made["prices"] == FOUR_TIERS
    assert made["store_prices"] == [
        {"org_id": world["orgs"][3], "order_price": "99.5000", "retail_price": "0.1000", "org_name": "L3网点"}
    ]
    assert (await client.get(f"{URL}/{made['id']}", headers=admin)).json() == made
    # stored as integer ten-thousandths
    row = await Goods.select().where(Goods.id == made["id"]).first()
    assert row["purchase_cost"] == 1000
    listed = (await client.get(URL, headers=admin)).json()
    assert listed["total"] == 1 and listed["items"][0]["prices"][0]["order_price"] == "100.0000"


async def test_money_keeps_exactly_four_decimals(client, admin, tenant, world):
    made = (
        await client.post(
            URL,
            json={
                "code": "G1",
                "name": "螺丝",
                "category_id": world["iphone15"],
                "purchase_cost": "0.1000",
                "prices": tiers(("0.1", "0.10", True), ("1.2300", "99999999999999.9999", True)),
            },
            headers=admin,
        )
    ).json()
    assert made["purchase_cost"] == "0.1000"
    assert made["prices"][0] | {"level": 1} == tiers(("0.1000", "0.1000", True))[0]
    assert made["prices"][1]["retail_price"] == "99999999999999.9999"
    price = (await client.get(f"{URL}/{made['id']}/price", params={"org_id": world["orgs"][1]}, headers=admin)).json()
    assert (price["order_price"], price["retail_price"]) == ("0.1000", "0.1000")
    assert await goods.price_for(tenant, made["id"], world["orgs"][1]) == goods.Price(
        Decimal("0.1000"), Decimal("0.1000"), True, "level"
    )

    before = await state()
    for bad in ("1.23456", "0.00001", "-1", "-0.0001", "abc", "", "1e20", "100000000000000", "NaN", "-Infinity", LONG):
        for body in (
            {"purchase_cost": bad},
            {"prices": tiers((bad, "1", True))},
            {"prices": tiers(("1", bad, True))},
            {"per_store_pricing": True, "store_prices": [{"org_id": world["orgs"][2], "order_price": bad}]},
        ):
            error_of(await client.patch(f"{URL}/{made['id']}", json=body, headers=admin), 400)
            new = {"code": "G2", "name": "新", "category_id": world["iphone15"]} | body
            error_of(await client.post(URL, json=new, headers=admin), 400)
    # JSON numbers are not money: a float has already lost its decimals
    error_of(
        await client.post(
            URL, json={"code": "G2", "name": "新", "category_id": 1, "purchase_cost": 0.1}, headers=admin
        ),
        400,
    )
    assert await state() == before
    # trailing zeros beyond 4 places are still exact and accepted
    again = await client.patch(f"{URL}/{made['id']}", json={"purchase_cost": "2.500000"}, headers=admin)
    assert again.json()["purchase_cost"] == "2.5000"


async def test_duplicate_code_is_a_conflict(client, admin, tenant, world):
    await make_goods(tenant, "G1", world["iphone15"])
    before = await state()
    body = {"code": "G1", "name": "另一个", "category_id": world["ipad"]}
    error_of(await client.post(URL, json=body, headers=admin), 409, "duplicate_code")
    await goods.delete(tenant, (await Goods.select().first())["id"])
    error_of(await client.post(URL, json=body, headers=admin), 409, "duplicate_code")  # deleted still holds it
    assert len(await Goods.select()) == 1
    assert (await state())[1:] == before[1:]


async def test_code_and_category_are_immutable(client, admin, tenant, world):
    made = await make_goods(tenant, "G1", world["iphone15"], purchase_cost="5")
    before = await state()
    for body in (
        {"code": "G2"},
        {"code": "G2", "name": "改名", "purchase_cost": "9"},
        {"category_id": world["ipad"]},
        {"category_id": world["ipad"], "name": "改名", "prices": []},
    ):
        body_error = error_of(await client.patch(f"{URL}/{made['id']}", json=body, headers=admin), 400, "immutable")
        assert "不可修改" in body_error["detail"]
    assert await state() == before
    same = await client.patch(
        f"{URL}/{made['id']}", json={"code": "G1", "category_id": world["iphone15"], "name": "新名"}, headers=admin
    )
    assert same.status_code == 200 and same.json()["name"] == "新名"


async def test_editing_prices_replaces_the_tiers_and_overrides(client, admin, tenant, world):
    made = await make_goods(tenant, "G1", world["iphone15"])
    response = await client.patch(
        f"{URL}/{made['id']}",
        json={
            "prices": tiers(("1", "2", True), ("3", "4", False)),
            "per_store_pricing": True,
            "store_prices": [
                {"org_id": world["orgs"][2], "order_price": "5", "retail_price": "6"},
                {"org_id": world["orgs"][4], "order_price": "7", "retail_price": "8"},
            ],
        },
        headers=admin,
    )
    assert response.status_code == 200, response.text
    got = response.json()
    assert [p["level"] for p in got["prices"]] == [1, 2]
    assert [s["org_id"] for s in got["store_prices"]] == [world["orgs"][2], world["orgs"][4]]
    assert await GoodsPrice.count() == 2 and await GoodsStorePrice.count() == 2
    # a PATCH without prices leaves them alone
    assert (await client.patch(f"{URL}/{made['id']}", json={"name": "X"}, headers=admin)).json()["prices"] == got[
        "prices"
    ]
    before = await state()
    for body in (
        {"prices": [{"level": 5}]},
        {"prices": [{"level": 0}]},
        {"prices": [{"level": 1}, {"level": 1}]},
        {"prices": [{"level": "x"}]},
        {"prices": "none"},
        {"store_prices": [{"org_id": world["orgs"][2]}, {"org_id": world["orgs"][2]}]},
        {"store_prices": [{"org_id": 999_999}]},
        {"store_prices": [{"org_id": 10**20}]},
        {"store_prices": [{"order_price": "1"}]},
    ):
        error_of(await client.patch(f"{URL}/{made['id']}", json=body, headers=admin), 400)
    assert await state() == before


async def price(client, headers, goods_id: int, org_id: int) -> dict:
    response = await client.get(f"{URL}/{goods_id}/price", params={"org_id": org_id}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_price_for_each_level(client, admin, tenant, world):
    made = await make_goods(tenant, "G1", world["iphone15"])
    for level, org_id in world["orgs"].items():
        tier = FOUR_TIERS[level - 1]
        assert await price(client, admin, made["id"], org_id) == {
            "goods_id": made["id"],
            "org_id": org_id,
            "order_price": tier["order_price"],
            "retail_price": tier["retail_price"],
            "orderable": tier["orderable"],  # level 4 is not orderable in FOUR_TIERS
            "source": "level",
        }
    # an org's level, not its depth, picks the tier
    flat = await service_org(tenant, "FLAT4", tenant.org_id, level=4)
    assert (await price(client, admin, made["id"], flat["id"]))["order_price"] == "130.0000"
    # a level without a tier has no price and cannot be ordered
    partial = await make_goods(tenant, "G2", world["iphone15"], prices=tiers(("1", "2", True)))
    assert (await price(client, admin, partial["id"], world["orgs"][3])) | {"goods_id": 0} == {
        "goods_id": 0,
        "org_id": world["orgs"][3],
        "order_price": "0.0000",
        "retail_price": "0.0000",
        "orderable": False,
        "source": "level",
    }


async def test_per_store_override_applies_only_when_per_store_pricing_is_on(client, admin, tenant, world):
    orgs = world["orgs"]
    overrides = [
        {"org_id": orgs[3], "order_price": "88.8800", "retail_price": "99.9900"},
        {"org_id": orgs[4], "order_price": "1", "retail_price": "2"},
    ]
    made = await make_goods(tenant, "G1", world["iphone15"], per_store_pricing=True, store_prices=overrides)
    got = await price(client, admin, made["id"], orgs[3])
    assert (got["order_price"], got["retail_price"], got["orderable"], got["source"]) == (
        "88.8800",
        "99.9900",
        True,
        "store",
    )
    # an org without an override pays its level's tier
    got = await price(client, admin, made["id"], orgs[2])
    assert (got["order_price"], got["source"]) == ("110.0000", "level")
    # the override does not make a level orderable that is not (level 4 in FOUR_TIERS)
    got = await price(client, admin, made["id"], orgs[4])
    assert (got["order_price"], got["orderable"], got["source"]) == ("1.0000", False, "store")
    # per-store pricing off: overrides are kept but ignored
    await goods.update(tenant, made["id"], {"per_store_pricing": False})
    assert len((await goods.get(tenant, made["id"]))["store_prices"]) == 2
    got = await price(client, admin, made["id"], orgs[3])
    assert (got["order_price"], got["retail_price"], got["source"]) == ("120.0000", "170.0000", "level")
    # the service is the same function
    assert await goods.price_for(tenant, made["id"], orgs[3]) == goods.Price(
        Decimal("120.0000"), Decimal("170.0000"), True, "level"
    )
    # orderable follows the tier when an override exists
    await goods.update(
        tenant,
        made["id"],
        {"per_store_pricing": True, "prices": tiers(("1", "1", True), ("1", "1", True), ("1", "1", False))},
    )
    assert (await goods.price_for(tenant, made["id"], orgs[3])).orderable is False


async def test_price_query_refuses_bad_or_foreign_ids(client, admin, tenant, other_tenant, world):
    made = await make_goods(tenant, "G1", world["iphone15"])
    for params, status in (
        ({}, 400),
        ({"org_id": "abc"}, 400),
        ({"org_id": 10**12}, 400),
        ({"org_id": 999_999}, 404),
        ({"org_id": other_tenant.org_id}, 404),
    ):
        error_of(await client.get(f"{URL}/{made['id']}/price", params=params, headers=admin), status)
    error_of(await client.get(f"{URL}/999999/price", params={"org_id": tenant.org_id}, headers=admin), 404)
    # a branch user asks for its own org's price; orgs outside its subtree are not found
    headers = await branch_api_user(client, admin, world["orgs"][3])
    assert (await price(client, headers, made["id"], world["orgs"][3]))["order_price"] == "120.0000"
    assert (await price(client, headers, made["id"], world["orgs"][4]))["order_price"] == "130.0000"
    error_of(await client.get(f"{URL}/{made['id']}/price", params={"org_id": world["orgs"][2]}, headers=headers), 404)


async def test_disabled_or_deleted_goods_cannot_be_chosen(tenant, world):
    live = await make_goods(tenant, "LIVE", world["iphone15"])
    off = await make_goods(tenant, "OFF", world["iphone15"], enabled=False)
    gone = await make_goods(tenant, "GONE", world["iphone15"])
    await goods.delete(tenant, gone["id"])
    assert (await goods.usable(tenant, live["id"]))["code"] == "LIVE"
    for item in (off, gone):
        await refused(goods.usable(tenant, item["id"]), "goods_disabled")
    await refused(goods.usable(tenant, 999_999), "unknown_goods")
    assert [g["code"] for g in (await goods.search(tenant, usable_only=True)).items] == ["LIVE"]
    await goods.update(tenant, off["id"], {"enabled": True})
    assert (await goods.usable(tenant, off["id"]))["code"] == "OFF"
    await refused(goods.update(tenant, gone["id"], {"name": "X"}), "deleted", 409)
    await refused(goods.delete(tenant, gone["id"]), "already_deleted", 409)


async def test_list_filters(client, admin, tenant, world):
    whole = await goods_type_id(tenant, "整机")
    part = await goods_type_id(tenant, "配件")
    await make_goods(tenant, "IP15", world["iphone15"], name="iPhone 15 整机", goods_type_id=whole, is_intake_item=True)
    await make_goods(tenant, "IP15-BAT", world["iphone15"], name="iPhone 15 电池", goods_type_id=part)
    await make_goods(tenant, "IPAD-SCR", world["ipad"], name="iPad 屏幕", goods_type_id=part, enabled=False)

    async def listed(**params) -> list[str]:
        response = await client.get(URL, params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [g["code"] for g in response.json()["items"]]

    assert await listed() == ["IP15", "IP15-BAT", "IPAD-SCR"]
    assert await listed(q="IP15") == ["IP15", "IP15-BAT"]  # code prefix
    assert await listed(q="电池") == ["IP15-BAT"]  # name contains
    assert await listed(category_id=world["apple"]) == ["IP15", "IP15-BAT", "IPAD-SCR"]
    assert await listed(category_id=world["ipad"]) == ["IPAD-SCR"]
    assert await listed(goods_type_id=part) == ["IP15-BAT", "IPAD-SCR"]
    assert await listed(enabled="false") == ["IPAD-SCR"]
    assert await listed(is_intake_item="true") == ["IP15"]
    assert await listed(status="active", page=2, page_size=2) == ["IPAD-SCR"]
    for params in ({"goods_type_id": "x"}, {"enabled": "x"}, {"status": "x"}, {"q": "x" * 65}, {"page": 0}):
        error_of(await client.get(URL, params=params, headers=admin), 400)


async def test_bad_goods_input_changes_nothing(client, admin, tenant, other_tenant, world):
    made = await make_goods(tenant, "G1", world["iphone15"])
    deleted_cat = await trees.create(tenant, "category", {"name": "旧款"})
    await trees.delete(tenant, "category", deleted_cat["id"])
    foreign_type = (await GoodsType.select().where(GoodsType.tenant_id == other_tenant.tenant_id).first())["id"]
    before = await state()
    base = {"code": "NEW", "name": "新货品", "category_id": world["iphone15"]}
    for body, status in (
        ({"code": LONG}, 400),
        ({"code": "含 空格"}, 400),
        ({"code": ""}, 400),
        ({"name": LONG}, 400),
        ({"name": "  "}, 400),
        ({"unit": LONG}, 400),
        ({"spec": LONG}, 400),
        ({"category_id": 999_999}, 400),
        ({"category_id": deleted_cat["id"]}, 400),
        ({"category_id": world["lcd"]}, 400),
        ({"category_id": 10**20}, 400),
        ({"goods_type_id": 999_999}, 400),
        ({"goods_type_id": foreign_type}, 400),
        ({"safety_stock": -1}, 400),
        ({"safety_stock": 10**12}, 400),
        ({"safety_stock": "many"}, 400),
        ({"is_intake_item": "maybe"}, 400),
        ({"prices": [{"level": 1, "orderable": "maybe"}]}, 400),
    ):
        error_of(await client.post(URL, json=base | body, headers=admin), status)
        if "code" not in body and "category_id" not in body:
            error_of(await client.patch(f"{URL}/{made['id']}", json=body, headers=admin), status)
    for raw in (b"{", b"[]", b"null", b'{"code": "X"}'):
        error_of(await client.post(URL, content=raw, headers=admin | {"content-type": "application/json"}), 400)
    error_of(await client.patch(f"{URL}/999999", json={"name": "X"}, headers=admin), 404, "not_found")
    error_of(await client.get(f"{URL}/0", headers=admin), 400)
    assert await state() == before


async def test_goods_types_are_seeded_and_managed_with_their_permission(client, admin, tenant, world):
    seeded = (await client.get("/api/v1/goods-types", headers=admin)).json()
    assert [t["name"] for t in seeded["items"]] == ["整机", "配件", "耗材"]
    made = await client.post("/api/v1/goods-types", json={"name": "赠品"}, headers=admin)
    assert made.status_code == 201 and made.json()["name"] == "赠品"
    error_of(await client.post("/api/v1/goods-types", json={"name": "赠品"}, headers=admin), 409, "duplicate_name")
    error_of(await client.post("/api/v1/goods-types", json={"name": LONG}, headers=admin), 400, "too_long")
    error_of(await client.post("/api/v1/goods-types", json={"name": ""}, headers=admin), 400, "required")
    # the goods form may use the new type at once
    used = await make_goods(tenant, "G1", world["iphone15"], goods_type_id=made.json()["id"])
    assert used["goods_type_name"] == "赠品"

    # a head-office user needs masterdata.goods_type.manage; goods.create alone is not enough
    _, clerk = await user_with(client, admin, "clerk", tenant.org_id, "hq", ["masterdata.goods.create"])
    error_of(await client.post("/api/v1/goods-types", json={"name": "样机"}, headers=clerk), 403, "forbidden")
    _, manager = await user_with(client, admin, "typeman", tenant.org_id, "hq", ["masterdata.goods_type.manage"])
    assert (await client.post("/api/v1/goods-types", json={"name": "样机"}, headers=manager)).status_code == 201
    # a branch user never, even with the permission; everyone reads the list
    branch = await branch_api_user(client, admin, world["orgs"][2])
    error_of(await client.post("/api/v1/goods-types", json={"name": "网点类"}, headers=branch), 403)
    assert len((await client.get("/api/v1/goods-types", headers=branch)).json()["items"]) == 5
    assert await GoodsType.count().where(GoodsType.tenant_id == tenant.tenant_id) == 5


async def test_service_keeps_the_head_office_rule(tenant, world):
    """Permission codes are the routes' (the HTTP tests); the service refuses a branch user even
    with every permission, and anyone reads."""
    made = await make_goods(tenant, "G1", world["iphone15"])
    branch = await branch_ctx(tenant)
    for call in (
        goods.create(branch, {"code": "X", "name": "X", "category_id": world["iphone15"]}),
        goods.update(branch, made["id"], {"name": "X"}),
        goods.delete(branch, made["id"]),
        goods.create_goods_type(branch, "新类"),
    ):
        await refused(call, "forbidden", 403)
    for ctx in (branch, await hq_ctx(tenant, ["masterdata.goods.view"])):
        assert (await goods.search(ctx)).total == 1
        assert (await goods.get(ctx, made["id"]))["code"] == "G1"


async def test_branch_users_read_goods_but_never_write(client, admin, tenant, world):
    made = await make_goods(tenant, "G1", world["iphone15"])
    headers = await branch_api_user(client, admin, world["orgs"][2])
    before = await state()
    assert (await client.get(URL, headers=headers)).json()["total"] == 1
    assert (await client.get(f"{URL}/{made['id']}", headers=headers)).status_code == 200
    body = {"code": "BR", "name": "X", "category_id": world["iphone15"]}
    error_of(await client.post(URL, json=body, headers=headers), 403, "forbidden")
    error_of(await client.patch(f"{URL}/{made['id']}", json={"name": "X"}, headers=headers), 403)
    error_of(await client.delete(f"{URL}/{made['id']}", headers=headers), 403)
    assert await state() == before
