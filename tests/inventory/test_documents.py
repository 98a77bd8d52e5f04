"""The document life cycle of SPEC 4 on inbound and outbound: draft, lines, submit, partial
confirmation, delete; stock and the moving average cost follow."""

import pytest

from server.inventory.services import documents, stock
from tests.inventory.helpers import inbound, on_hand, outbound, world
from tests.masterdata.helpers import refused


async def test_inbound_life_cycle_raises_stock_and_keeps_the_moving_average(tenant):
    w = await world(tenant)
    doc = await documents.create(
        tenant, "inbound", {"type": "purchase", "warehouse_id": w["general"], "remark": "首批"}
    )
    assert doc["status"] == "draft" and doc["no"].startswith("RK") and doc["lines"] == []
    doc = await documents.add_line(
        tenant, "inbound", doc["id"], {"goods_id": w["screen"], "qty": 10, "cost_price": "100"}
    )
    doc = await documents.add_line(
        tenant, "inbound", doc["id"], {"goods_id": w["battery"], "qty": 4, "cost_price": "0.1000"}
    )
    assert [(li["qty"], li["cost_price"]) for li in doc["lines"]] == [(10, "100.0000"), (4, "0.1000")]
    assert doc["total_qty"] == 14 and doc["total_amount"] == "1000.4000"
    line = doc["lines"][1]
    doc = await documents.update_line(tenant, "inbound", doc["id"], line["id"], {"qty": 5})
    assert doc["lines"][1]["qty"] == 5 and doc["lines"][1]["cost_price"] == "0.1000"
    doc = await documents.submit(tenant, "inbound", doc["id"])
    assert doc["status"] == "submitted"
    await refused(
        documents.add_line(tenant, "inbound", doc["id"], {"goods_id": w["screen"], "qty": 1, "cost_price": "1"}),
        "not_draft",
        409,
    )
    await refused(documents.delete_line(tenant, "inbound", doc["id"], line["id"]), "not_draft", 409)

    first = doc["lines"][0]["id"]
    doc = await documents.confirm(tenant, "inbound", doc["id"], [first])
    assert doc["status"] == "partial" and [li["confirmed"] for li in doc["lines"]] == [True, False]
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 10
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 0
    await refused(documents.delete(tenant, "inbound", doc["id"]), "confirmed", 409)
    await refused(documents.confirm(tenant, "inbound", doc["id"], [first]), "already_confirmed", 409)
    doc = await documents.confirm(tenant, "inbound", doc["id"])
    assert doc["status"] == "completed" and doc["completed_at"] is not None
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 5

    # a second purchase at another cost moves the average: (10×100 + 10×130) / 20 = 115
    await inbound(tenant, w["defective"], (w["screen"], 10, "130"))
    row = (
        await stock.search(tenant, stock.StockFilters(goods_id=str(w["screen"]), warehouse_id=str(w["general"])))
    ).items[0]
    assert row["qty"] == 10 and row["avg_cost"] == "115.0000" and row["value"] == "1150.0000"


async def test_outbound_price_defaults_to_the_orgs_price_and_stock_must_cover_it(tenant):
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 10, "100"))
    doc = await documents.create(tenant, "outbound", {"type": "scrap", "warehouse_id": w["general"]})
    doc = await documents.add_line(tenant, "outbound", doc["id"], {"goods_id": w["screen"], "qty": 3})
    assert doc["lines"][0]["unit_price"] == "100.0000"  # level 1's order price (helpers' FOUR_TIERS)
    exc = await refused(
        documents.add_line(tenant, "outbound", doc["id"], {"goods_id": w["screen"], "qty": 8}),
        "insufficient_stock",
        409,
    )
    assert "需要 11，库存 10" in exc.detail
    await refused(
        documents.add_line(tenant, "outbound", doc["id"], {"goods_id": w["battery"], "qty": 1}),
        "insufficient_stock",
        409,
    )
    doc = await documents.submit(tenant, "outbound", doc["id"])
    doc = await documents.confirm(tenant, "outbound", doc["id"], [doc["lines"][0]["id"]])
    assert doc["status"] == "completed" and await on_hand(tenant.org_id, w["general"], w["screen"]) == 7
    # the average cost stays; the quantity it averages over drops
    row = (await stock.search(tenant, stock.StockFilters(goods_id=str(w["screen"])))).items[0]
    assert row["avg_cost"] == "100.0000" and row["value"] == "700.0000"


async def test_confirm_is_authoritative_when_stock_went_away_after_submit(tenant):
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 5, "100"))
    first = await outbound(tenant, w["general"], (w["screen"], 4))
    second = await outbound(tenant, w["general"], (w["screen"], 3))
    await documents.confirm(tenant, "outbound", first["id"])
    exc = await refused(documents.confirm(tenant, "outbound", second["id"]), "insufficient_stock", 409)
    assert "需要 3，库存 1" in exc.detail
    again = await documents.get(tenant, "outbound", second["id"])
    assert again["status"] == "submitted" and not again["lines"][0]["confirmed"]  # nothing half-applied
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"goods_id": None, "qty": 1, "cost_price": "1"}, "required"),
        ({"goods_id": "x", "qty": 1, "cost_price": "1"}, "invalid_field"),
        ({"goods_id": 999999, "qty": 1, "cost_price": "1"}, "unknown_goods"),
        ({"qty": 0, "cost_price": "1"}, "out_of_range"),
        ({"qty": -2, "cost_price": "1"}, "out_of_range"),
        ({"qty": "1.5", "cost_price": "1"}, "invalid_field"),
        ({"qty": 1.5, "cost_price": "1"}, "invalid_field"),
        ({"qty": 1, "cost_price": "1.00001"}, "invalid_money"),
        ({"qty": 1, "cost_price": "-1"}, "invalid_money"),
        ({"qty": 1, "cost_price": ""}, "required"),
        ({"qty": 1, "cost_price": "abc"}, "invalid_money"),
    ],
)
async def test_bad_lines_are_refused_with_a_message(tenant, data, code):
    w = await world(tenant)
    doc = await documents.create(tenant, "inbound", {"type": "purchase", "warehouse_id": w["general"]})
    body = {"goods_id": w["screen"]} | data
    await refused(documents.add_line(tenant, "inbound", doc["id"], body), code)
    assert (await documents.get(tenant, "inbound", doc["id"]))["lines"] == []


async def test_disabled_goods_and_unusable_warehouses_are_refused(tenant):
    from server.masterdata.services import goods, warehouses

    w = await world(tenant)
    await goods.update(tenant, w["battery"], {"enabled": False})
    doc = await documents.create(tenant, "inbound", {"type": "purchase", "warehouse_id": w["general"]})
    await refused(
        documents.add_line(tenant, "inbound", doc["id"], {"goods_id": w["battery"], "qty": 1, "cost_price": "1"}),
        "goods_disabled",
    )
    await refused(
        documents.create(tenant, "inbound", {"type": "purchase", "warehouse_id": w["unassigned"]}), "warehouse_unusable"
    )
    await refused(documents.create(tenant, "inbound", {"type": "nope", "warehouse_id": w["general"]}))
    await refused(
        documents.create(tenant, "inbound", {"type": "scrap", "warehouse_id": w["general"]})
    )  # an outbound type
    # a warehouse disabled after submit stops the confirmation, and nothing is posted
    doc = await documents.add_line(tenant, "inbound", doc["id"], {"goods_id": w["screen"], "qty": 1, "cost_price": "1"})
    doc = await documents.submit(tenant, "inbound", doc["id"])
    await warehouses.update(tenant, w["general"], {"enabled": False})
    await refused(documents.confirm(tenant, "inbound", doc["id"]), "warehouse_unusable")
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 0


async def test_delete_rules(tenant):
    w = await world(tenant)
    draft = await documents.create(tenant, "inbound", {"type": "purchase", "warehouse_id": w["general"]})
    assert (await documents.delete(tenant, "inbound", draft["id"]))["status"] == "deleted"
    await refused(documents.get(tenant, "inbound", draft["id"]), "not_found", 404)
    submitted = await inbound(tenant, w["general"], (w["screen"], 1, "1"), confirm=False)
    assert (await documents.delete(tenant, "inbound", submitted["id"]))["status"] == "deleted"
    done = await inbound(tenant, w["general"], (w["screen"], 1, "1"))
    await refused(documents.delete(tenant, "inbound", done["id"]), "confirmed", 409)
    listed = await documents.search(tenant, "inbound")
    assert [d["no"] for d in listed.items] == [done["no"]]
    assert [
        d["no"] for d in (await documents.search(tenant, "inbound", documents.StockDocFilters(status="deleted"))).items
    ] == [
        submitted["no"],
        draft["no"],
    ]


async def test_submit_needs_lines_and_confirm_needs_a_submitted_document(tenant):
    w = await world(tenant)
    doc = await documents.create(tenant, "inbound", {"type": "purchase", "warehouse_id": w["general"]})
    await refused(documents.submit(tenant, "inbound", doc["id"]), "no_lines")
    await refused(documents.confirm(tenant, "inbound", doc["id"]), "not_submitted", 409)
    doc = await inbound(tenant, w["general"], (w["screen"], 1, "1"), confirm=False)
    await refused(documents.confirm(tenant, "inbound", doc["id"], []), "required")
    await refused(documents.confirm(tenant, "inbound", doc["id"], [987654]), "not_found", 404)
    await refused(documents.submit(tenant, "inbound", doc["id"]), "not_draft", 409)
