"""Shipments through the services: the life cycle of every type, the direction and receiving
org each type fixes, receiving warehouses by type, partial flows, recall, refunds of returns,
the order flow against a stand-in of the orders half, and the stock invariant (both orgs plus
in transit = what there was) at every step."""

from __future__ import annotations

import pytest

import realtime
from server.credit.services import ledger
from server.inventory.services import stock
from server.inventory.services.stock import StockFilters
from server.logistics.services import shipments
from server.logistics.services.shipments import InTransitFilters, ShipmentFilters
from tests.credit.helpers import balances
from tests.inventory.helpers import on_hand
from tests.logistics.shipment_helpers import assert_conserved, network, shipment
from tests.masterdata.helpers import refused

TOTAL = 40  # screens: 20 at HQ, 20 at B2


@pytest.fixture
async def n(tenant) -> dict:
    return await network(tenant)


async def test_distribution_life_cycle_partial_out_and_in(tenant, n):
    """HQ ships 5 screens and 3 batteries to B2 in two confirmations; B2 receives in two."""
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 5), (n["battery"], 3), to_org_id=n["b2"])
    assert (doc["status"], doc["status_name"], doc["no"][:2]) == ("draft", "暂存", "WL")
    assert (doc["org_id"], doc["to_org_id"], doc["to_org_name"]) == (n["hq"], n["b2"], "B2网点")
    assert doc["lines"][0]["price"] == "110.0000"  # the child's (level 2) order price
    doc = await shipments.submit(tenant, "shipment", doc["id"])
    assert doc["status_name"] == "已提交"
    screen_line, battery_line = (li["id"] for li in doc["lines"])

    doc = await shipments.confirm(tenant, "shipment", doc["id"], [screen_line])
    assert (doc["status"], doc["status_name"]) == ("partial", "部分出库")
    assert await on_hand(n["hq"], n["general"], n["screen"]) == 15
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)
    transit = await shipments.in_transit(tenant, InTransitFilters())
    assert [(r["goods_id"], r["qty"], r["from_org_id"], r["to_org_id"]) for r in transit.items] == [
        (n["screen"], 5, n["hq"], n["b2"])
    ]
    # the stock query's 在途 column: by receiving org and goods
    goods = [n["screen"], n["battery"]]
    assert await shipments.in_transit_qty(tenant, [n["hq"], n["b2"]], goods) == {(n["b2"], n["screen"]): 5}
    assert await shipments.in_transit_qty(tenant, [n["hq"]], goods) == {}
    # …which the stock query shows, through the core hook, on each of the receiver's rows only
    rows = (await stock.search(tenant, StockFilters(goods_id=str(n["screen"])))).items
    assert sorted((r["org_id"], r["qty"], r["in_transit"]) for r in rows) == [(n["hq"], 15, 0), (n["b2"], 20, 5)]
    assert [r["in_transit"] for r in (await stock.search(n["b2_ctx"], StockFilters())).items] == [0, 5]

    # the receiver sees it among its incoming shipments and can take what left already
    incoming = await shipments.search(n["b2_ctx"], "shipment", ShipmentFilters(side="in"))
    assert [d["id"] for d in incoming.items] == [doc["id"]]
    assert await shipments.waiting_count(n["b2_ctx"]) == 1
    doc = await shipments.receive(
        n["b2_ctx"], "shipment", doc["id"], {"warehouse_id": n["good"], "line_ids": [screen_line]}
    )
    assert doc["status_name"] == "部分出库"  # a line is still to ship
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 5
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)

    doc = await shipments.confirm(tenant, "shipment", doc["id"])
    assert doc["status_name"] == "部分收货"
    doc = await shipments.receive(
        n["b2_ctx"], "shipment", doc["id"], {"warehouse_id": n["general"], "line_ids": [battery_line]}
    )
    assert (doc["status"], doc["status_name"]) == ("received", "已收货") and doc["received_at"]
    assert await on_hand(n["b2"], n["general"], n["battery"]) == 23
    assert await shipments.waiting_count(n["b2_ctx"]) == 0
    assert (await shipments.in_transit(tenant, InTransitFilters())).total == 0
    await assert_conserved(n["battery"], [n["hq"], n["b2"]], TOTAL)


async def test_received_goods_enter_at_the_line_price(tenant, n):
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 2), to_org_id=n["b2"], step="confirm")
    await shipments.receive(
        n["b2_ctx"], "shipment", doc["id"], {"warehouse_id": n["good"], "line_ids": [doc["lines"][0]["id"]]}
    )
    moves = await shipments.stock.StockMove.select().where(shipments.stock.StockMove.doc_type == "shipment")
    assert sorted(m["delta"] for m in moves) == [-2, 2]


@pytest.mark.parametrize("kind", ["write_off", "defective_return", "good_return"])
async def test_upward_types_go_to_the_parent(tenant, n, kind):
    doc = await shipment(n["b2_ctx"], kind, n["general"], (n["screen"], 4))
    assert (doc["to_org_id"], doc["to_org_name"]) == (n["hq"], "艾克米维修总部")
    assert doc["lines"][0]["price"] == "110.0000"  # the child's own order price
    # naming another org is refused, and the head office has no parent
    with pytest.raises(shipments.Forbidden):
        await shipment(n["b2_ctx"], kind, n["general"], (n["screen"], 1), to_org_id=n["s2"])
    await refused(shipment(tenant, kind, n["general"], (n["screen"], 1)), "wrong_direction", 403)


@pytest.mark.parametrize("kind", ["distribution", "order"])
async def test_downward_types_go_to_a_direct_child(tenant, n, kind):
    body = {"type": kind, "warehouse_id": n["general"], "order_id": 1}
    await refused(shipments.create(tenant, "shipment", body), "required", 400)  # no receiving org
    await refused(shipments.create(tenant, "shipment", body | {"to_org_id": n["b3"]}), "wrong_direction", 403)
    # a branch cannot ship down to its parent, nor see orgs outside its subtree
    await refused(shipments.create(n["b2_ctx"], "shipment", body | {"to_org_id": n["hq"]}), "not_found", 404)
    await refused(shipments.create(n["b2_ctx"], "shipment", body | {"to_org_id": n["s2"]}), "not_found", 404)


RECEIVING = [
    ("defective_return", "bad", ("general", "good")),
    ("good_return", "good", ("general", "bad")),
    ("write_off", "general", ("bad",)),
    ("write_off", "good", ("bad",)),
]


@pytest.mark.parametrize(("kind", "into", "wrong"), RECEIVING)
async def test_receiving_warehouse_follows_the_type(tenant, n, kind, into, wrong):
    doc = await shipment(n["b2_ctx"], kind, n["general"], (n["screen"], 3), step="confirm")
    line = [doc["lines"][0]["id"]]
    for w in wrong:
        err = await refused(shipments.receive(tenant, "shipment", doc["id"], {"warehouse_id": n[w], "line_ids": line}))
        assert err.code == "warehouse_unusable" and "只能收入" in err.detail
    doc = await shipments.receive(tenant, "shipment", doc["id"], {"warehouse_id": n[into], "line_ids": line})
    assert doc["status"] == "received"
    assert await on_hand(n["hq"], n[into], n["screen"]) == 3 + (20 if into == "general" else 0)


async def test_returns_refund_the_child_at_its_order_price(tenant, n):
    before = await balances(n["b2"])
    doc = await shipment(n["b2_ctx"], "good_return", n["general"], (n["screen"], 2), (n["battery"], 1), step="confirm")
    first, second = (li["id"] for li in doc["lines"])
    await shipments.receive(tenant, "shipment", doc["id"], {"warehouse_id": n["good"], "line_ids": [first]})
    assert await balances(n["b2"]) == (before[0] + 2 * 110_0000, before[1])
    await shipments.receive(tenant, "shipment", doc["id"], {"warehouse_id": n["good"], "line_ids": [second]})
    assert await balances(n["b2"]) == (before[0] + 3 * 110_0000, before[1])
    entries = (await ledger.entries(tenant, n["b2"])).items
    assert [(e["kind"], e["doc_no"]) for e in entries][:2] == [("refund", doc["no"])] * 2
    # write-offs refund nothing
    doc = await shipment(n["b2_ctx"], "write_off", n["general"], (n["screen"], 1), step="confirm")
    await shipments.receive(
        tenant, "shipment", doc["id"], {"warehouse_id": n["general"], "line_ids": [doc["lines"][0]["id"]]}
    )
    assert await balances(n["b2"]) == (before[0] + 3 * 110_0000, before[1])


async def test_a_line_confirms_once_and_is_received_once(tenant, n):
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 2), to_org_id=n["b2"], step="confirm")
    line = doc["lines"][0]["id"]
    await refused(shipments.confirm(tenant, "shipment", doc["id"], [line]), "already_confirmed", 409)
    body = {"warehouse_id": n["general"], "line_ids": [line]}
    await shipments.receive(n["b2_ctx"], "shipment", doc["id"], body)
    await refused(shipments.receive(n["b2_ctx"], "shipment", doc["id"], body), "already_received", 409)
    await refused(shipments.recall(tenant, "shipment", doc["id"]), "invalid_state", 409)
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)


async def test_only_the_receiving_org_receives_and_only_what_left(tenant, n):
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 2), (n["battery"], 1), to_org_id=n["b2"])
    body = {"warehouse_id": n["general"], "line_ids": [doc["lines"][0]["id"]]}
    await refused(shipments.receive(n["b2_ctx"], "shipment", doc["id"], body), "not_found", 404)  # a draft is not its
    await shipments.submit(tenant, "shipment", doc["id"])
    await shipments.confirm(tenant, "shipment", doc["id"], [doc["lines"][0]["id"]])
    await refused(shipments.receive(tenant, "shipment", doc["id"], body), "not_receiver", 403)
    await refused(shipments.receive(n["b3_ctx"], "shipment", doc["id"], body), "not_found", 404)
    unshipped = body | {"line_ids": [doc["lines"][1]["id"]]}
    await refused(shipments.receive(n["b2_ctx"], "shipment", doc["id"], unshipped), "invalid_state", 409)
    await refused(shipments.receive(n["b2_ctx"], "shipment", doc["id"], body | {"line_ids": []}), "required")
    await refused(
        shipments.receive(n["b2_ctx"], "shipment", doc["id"], body | {"line_ids": [999_999]}), "not_found", 404
    )
    # the shipper's steps are not the receiver's
    await refused(shipments.recall(n["b2_ctx"], "shipment", doc["id"]), "not_found", 404)
    await refused(shipments.confirm(n["b2_ctx"], "shipment", doc["id"]), "not_found", 404)


async def test_recall_puts_the_stock_back_before_anything_is_received(tenant, n):
    doc = await shipment(
        tenant, "distribution", n["general"], (n["screen"], 6), (n["battery"], 2), to_org_id=n["b2"], step="submit"
    )
    await refused(shipments.recall(tenant, "shipment", doc["id"]), "invalid_state", 409)  # nothing left yet
    doc = await shipments.confirm(tenant, "shipment", doc["id"])
    assert await on_hand(n["hq"], n["general"], n["screen"]) == 14
    doc = await shipments.recall(tenant, "shipment", doc["id"])
    assert doc["status_name"] == "已提交" and not any(li["confirmed"] for li in doc["lines"])
    assert await on_hand(n["hq"], n["general"], n["screen"]) == 20
    assert await shipments.waiting_count(n["b2_ctx"]) == 0
    # it can be confirmed again, or deleted
    doc = await shipments.confirm(tenant, "shipment", doc["id"])
    doc = await shipments.recall(tenant, "shipment", doc["id"])
    await shipments.delete(tenant, "shipment", doc["id"])
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)


async def test_stock_is_checked_at_every_step(tenant, n):
    await refused(
        shipment(tenant, "distribution", n["general"], (n["screen"], 21), to_org_id=n["b2"]), "insufficient_stock", 409
    )
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 15), to_org_id=n["b2"], step="submit")
    other = await shipment(tenant, "distribution", n["general"], (n["screen"], 10), to_org_id=n["b2"], step="submit")
    await shipments.confirm(tenant, "shipment", doc["id"])
    await refused(shipments.confirm(tenant, "shipment", other["id"]), "insufficient_stock", 409)
    assert (await shipments.get(tenant, "shipment", other["id"]))["status"] == "submitted"  # nothing half-applied
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)


async def test_lines_change_only_in_draft(tenant, n):
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 1), to_org_id=n["b2"])
    doc = await shipments.add_line(tenant, "shipment", doc["id"], {"goods_id": n["battery"], "qty": 2})
    doc = await shipments.update_line(tenant, "shipment", doc["id"], doc["lines"][0]["id"], {"qty": 3})
    doc = await shipments.delete_line(tenant, "shipment", doc["id"], doc["lines"][1]["id"])
    assert [(li["goods_id"], li["qty"]) for li in doc["lines"]] == [(n["screen"], 3)]
    doc = await shipments.update(tenant, "shipment", doc["id"], {"carrier": "顺丰", "tracking_no": "SF123"})
    assert (doc["carrier"], doc["tracking_no"]) == ("顺丰", "SF123")
    await shipments.submit(tenant, "shipment", doc["id"])
    await refused(
        shipments.add_line(tenant, "shipment", doc["id"], {"goods_id": n["battery"], "qty": 1}), "not_draft", 409
    )


async def test_bad_input_is_refused_in_chinese(tenant, n):
    base = {"type": "distribution", "warehouse_id": n["general"], "to_org_id": n["b2"]}
    for body, code in (
        (base | {"type": "gift"}, "invalid_field"),
        ({"type": "distribution"}, "required"),
        (base | {"warehouse_id": "x"}, "invalid_field"),
        (base | {"order_id": 5}, "invalid_field"),
        (base | {"lines": [{"goods_id": n["screen"], "qty": 0}]}, "out_of_range"),
        (base | {"lines": [{"goods_id": n["screen"], "qty": "三"}]}, "invalid_field"),
        (base | {"carrier": "长" * 101}, None),
    ):
        err = await refused(shipments.create(tenant, "shipment", body), code)
        assert any("\u4e00" <= c <= "\u9fff" for c in err.detail), err.detail


async def test_other_tenants_and_other_subtrees_see_nothing(tenant, other_tenant, n):
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 1), to_org_id=n["b2"], step="confirm")
    for ctx in (other_tenant, n["b3_ctx"]):
        await refused(shipments.get(ctx, "shipment", doc["id"]), "not_found", 404)
        assert (await shipments.search(ctx, "shipment", ShipmentFilters())).total == 0
        assert (await shipments.in_transit(ctx, InTransitFilters())).total == 0
    # B2 sees it as receiver, and in transit
    assert (await shipments.get(n["b2_ctx"], "shipment", doc["id"]))["no"] == doc["no"]
    assert (await shipments.in_transit(n["b2_ctx"], InTransitFilters())).total == 1
    assert (await shipments.search(n["b2_ctx"], "shipment", ShipmentFilters(side="out"))).total == 0


async def test_confirming_out_tells_the_receiver_with_a_note(tenant, n, monkeypatch):
    """【确认出库】 publishes the incoming shipment to the receiver with a note naming it (a toast
    for the receiving org's own members beside their badge) and refreshes its stock query."""
    published: list[realtime.Event] = []
    monkeypatch.setattr(realtime, "_publish", lambda event, channels: published.append(event))
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 1), to_org_id=n["b2"], step="confirm")
    incoming = next(e for e in published if (e.topic, e.kind) == ("shipments", "incoming"))
    assert (incoming.note, incoming.org) == (f"新的物流发货 {doc['no']} 待收货", n["b2"])
    assert f'data-note="新的物流发货 {doc["no"]} 待收货" data-org="{n["b2"]}"' in incoming.render()
    assert any((e.topic, e.kind) == ("stock", "in_transit") for e in published)
