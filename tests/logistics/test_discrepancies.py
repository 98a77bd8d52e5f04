"""Receipt discrepancies through the services 【收货差异】: each kind (short, over, damaged),
the shipper's resolutions (找到补发 → received later, 确认丢失 → out of transit as a loss),
the stock invariant (on hand + in transit + lost = shipped) and the in-transit figures at every
step, damaged units into the receiver's 坏品库, refunds of returns for what arrived, and bad
input refused in Chinese with nothing changed."""

from __future__ import annotations

import pytest

from server.logistics.services import discrepancies, shipments
from server.logistics.services.discrepancies import DiscrepancyFilters
from server.logistics.services.shipments import InTransitFilters
from server.logistics.tables import ShipmentDiscrepancy, ShipmentLine
from server.masterdata.services import warehouses
from tests.credit.helpers import balances
from tests.inventory.helpers import on_hand
from tests.logistics.shipment_helpers import STAFF, assert_conserved, network, shipment
from tests.masterdata.helpers import refused
from tests.system.helpers import service_org, service_user

TOTAL = 40  # screens: 20 at HQ, 20 at B2


@pytest.fixture
async def n(tenant) -> dict:
    return await network(tenant)


async def sent(tenant, n, qty: int = 5) -> tuple[dict, int]:
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], qty), to_org_id=n["b2"], step="confirm")
    return doc, doc["lines"][0]["id"]


def receipt(n, line: int, *found: tuple, warehouse: str = "good") -> dict:
    body = {"warehouse_id": n[warehouse], "line_ids": [line]}
    body["discrepancies"] = [{"line_id": line, "kind": k, "qty": q, "reason": r} for k, q, r in found]
    return body


async def transit(tenant, n) -> int:
    return (await shipments.in_transit_qty(tenant, [n["b2"]], [n["screen"]])).get((n["b2"], n["screen"]), 0)


async def test_short_stays_in_transit_until_found_and_received(tenant, n):
    doc, line = await sent(tenant, n)
    doc = await shipments.receive(n["b2_ctx"], "shipment", doc["id"], receipt(n, line, ("short", 2, "箱内少两件")))
    li = doc["lines"][0]
    assert (li["received_qty"], li["held_qty"], li["in_transit"], li["left_qty"], li["received"]) == (3, 2, 2, 0, False)
    assert doc["status_name"] == "部分收货"
    [found] = li["discrepancies"]
    assert (found["kind_name"], found["qty"], found["reason"], found["status"]) == ("短少", 2, "箱内少两件", "open")
    assert found["recorded_by_name"] and found["org_id"] == n["hq"] and found["to_org_id"] == n["b2"]
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 3
    # the in-transit query counts the open short
    assert await transit(tenant, n) == 2
    assert [r["qty"] for r in (await shipments.in_transit(tenant, InTransitFilters())).items] == [2]
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)
    # while the shipper has not answered, the line cannot be received again, nor recalled
    await refused(shipments.receive(n["b2_ctx"], "shipment", doc["id"], receipt(n, line)), "invalid_state", 409)
    await refused(shipments.recall(tenant, "shipment", doc["id"]), "invalid_state", 409)
    assert await shipments.waiting_count(n["b2_ctx"]) == 0  # the receiver has nothing to do: no badge

    # only the shipper resolves; 找到补发 keeps it in transit, receivable again
    await refused(discrepancies.resolve(n["b2_ctx"], found["id"], {"resolution": "lost"}), "not_shipper", 403)
    done = await discrepancies.resolve(tenant, found["id"], {"resolution": "found_resent", "remark": "补发同单"})
    assert (done["status_name"], done["resolution_name"], done["remark"]) == ("已处理", "找到补发", "补发同单")
    assert done["resolved_by_name"] and done["resolved_at"]
    assert await transit(tenant, n) == 2
    assert await shipments.waiting_count(n["b2_ctx"]) == 1  # receivable again
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)
    await refused(discrepancies.resolve(tenant, found["id"], {"resolution": "lost"}), "invalid_state", 409)

    doc = await shipments.receive(n["b2_ctx"], "shipment", doc["id"], receipt(n, line))
    li = doc["lines"][0]
    assert (li["received_qty"], li["in_transit"], li["received"], doc["status_name"]) == (5, 0, True, "已收货")
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 5
    await refused(shipments.receive(n["b2_ctx"], "shipment", doc["id"], receipt(n, line)), "already_received", 409)
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)


async def test_short_confirmed_lost_leaves_transit_as_a_loss(tenant, n):
    doc, line = await sent(tenant, n)
    doc = await shipments.receive(n["b2_ctx"], "shipment", doc["id"], receipt(n, line, ("short", 2, "丢件")))
    found = doc["lines"][0]["discrepancies"][0]
    done = await discrepancies.resolve(tenant, found["id"], {"resolution": "lost", "remark": "物流公司确认丢失"})
    assert (done["resolution"], done["resolution_name"]) == ("lost", "确认丢失")
    doc = await shipments.get(tenant, "shipment", doc["id"])
    li = doc["lines"][0]
    assert (li["received_qty"], li["lost_qty"], li["held_qty"], li["in_transit"]) == (3, 2, 0, 0)
    assert li["received"] and doc["status_name"] == "已收货"
    assert await transit(tenant, n) == 0
    # no stock returns anywhere: HQ 15, B2 20 + 3, lost 2
    assert await on_hand(n["hq"], n["general"], n["screen"]) == 15
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 3
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)


async def test_a_whole_line_short_receives_nothing(tenant, n):
    doc, line = await sent(tenant, n, 2)
    doc = await shipments.receive(n["b2_ctx"], "shipment", doc["id"], receipt(n, line, ("short", 2, "整箱未到")))
    assert doc["lines"][0]["received_qty"] == 0 and doc["lines"][0]["in_transit"] == 2
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 0
    await refused(shipments.recall(tenant, "shipment", doc["id"]), "invalid_state", 409)
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)


async def test_over_is_recorded_and_the_extra_enters_no_stock(tenant, n):
    doc, line = await sent(tenant, n)
    doc = await shipments.receive(n["b2_ctx"], "shipment", doc["id"], receipt(n, line, ("over", 1, "多了一件")))
    li = doc["lines"][0]
    assert (li["received_qty"], li["received"], doc["status_name"]) == (5, True, "已收货")
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 5
    found = li["discrepancies"][0]
    assert (found["kind_name"], found["qty"], found["status"]) == ("多发", 1, "open")
    await refused(discrepancies.resolve(tenant, found["id"], {"resolution": "lost"}), "invalid_field")
    done = await discrepancies.resolve(tenant, found["id"], {"resolution": "acknowledged", "remark": "随下批冲抵"})
    assert done["resolution_name"] == "已确认"
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)


async def test_damaged_units_go_into_the_receivers_defective_warehouse(tenant, n):
    doc, line = await sent(tenant, n)
    body = receipt(n, line, ("damaged", 2, "屏幕碎裂"), ("short", 1, "少一件"))
    doc = await shipments.receive(n["b2_ctx"], "shipment", doc["id"], body)
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 2
    assert await on_hand(n["b2"], n["bad"], n["screen"]) == 2
    kinds = {d["kind"]: d for d in doc["lines"][0]["discrepancies"]}
    assert kinds["damaged"]["warehouse_id"] == n["bad"] and kinds["short"]["warehouse_id"] is None
    assert doc["lines"][0]["received_qty"] == 4 and await transit(tenant, n) == 1
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)


async def test_damage_is_refused_when_the_receiver_has_no_defective_warehouse(tenant, n):
    s3 = await service_org(tenant, "S3", tenant.org_id, level=2)
    await warehouses.assign(tenant, [n["general"]], [s3["id"]])
    s3_ctx = await service_user(tenant, "s3staff", s3["id"], "branch", STAFF)
    body = {"type": "distribution", "warehouse_id": n["general"], "to_org_id": s3["id"]}
    doc = await shipments.create(tenant, "shipment", body | {"lines": [{"goods_id": n["screen"], "qty": 2}]})
    await shipments.submit(tenant, "shipment", doc["id"])
    doc = await shipments.confirm(tenant, "shipment", doc["id"])
    line = doc["lines"][0]["id"]
    body = receipt(n, line, ("damaged", 1, "外壳破损"), warehouse="general")
    exc = await refused(shipments.receive(s3_ctx, "shipment", doc["id"], body), "no_defective_warehouse")
    assert "坏品库" in exc.detail
    assert await ShipmentDiscrepancy.count() == 0
    assert (await ShipmentLine.select(ShipmentLine.received_qty).where(ShipmentLine.id == line).first()) == {
        "received_qty": 0
    }


async def test_a_return_refunds_only_what_arrived(tenant, n):
    body = {"type": "defective_return", "warehouse_id": n["general"], "lines": [{"goods_id": n["screen"], "qty": 2}]}
    doc = await shipments.create(n["b2_ctx"], "shipment", body)
    await shipments.submit(n["b2_ctx"], "shipment", doc["id"])
    doc = await shipments.confirm(n["b2_ctx"], "shipment", doc["id"])
    line = doc["lines"][0]["id"]
    before = (await balances(n["b2"]))[0]
    body = receipt(n, line, ("short", 1, "少一件"), warehouse="bad")
    doc = await shipments.receive(tenant, "shipment", doc["id"], body)
    assert (await balances(n["b2"]))[0] - before == 110 * 10_000
    # the branch shipped it: the branch resolves
    found = doc["lines"][0]["discrepancies"][0]
    await refused(discrepancies.resolve(tenant, found["id"], {"resolution": "found_resent"}), "not_shipper", 403)
    await discrepancies.resolve(n["b2_ctx"], found["id"], {"resolution": "found_resent"})
    await shipments.receive(tenant, "shipment", doc["id"], receipt(n, line, warehouse="bad"))
    assert (await balances(n["b2"]))[0] - before == 220 * 10_000
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], TOTAL)


async def test_the_list_filters_and_sides(tenant, n):
    doc, line = await sent(tenant, n)
    body = receipt(n, line, ("short", 1, "少"), ("damaged", 1, "坏"))
    await shipments.receive(n["b2_ctx"], "shipment", doc["id"], body)
    everything = await discrepancies.search(tenant)
    assert everything.total == 2 and (await discrepancies.search(n["b2_ctx"])).total == 2
    assert (await discrepancies.search(tenant, DiscrepancyFilters(kind="short"))).items[0]["qty"] == 1
    assert (await discrepancies.search(tenant, DiscrepancyFilters(status="resolved"))).total == 0
    assert (await discrepancies.search(tenant, DiscrepancyFilters(no=doc["no"][-4:]))).total == 2
    assert (await discrepancies.search(tenant, DiscrepancyFilters(org_id=str(n["s2"])))).total == 0
    assert (await discrepancies.search(n["b2_ctx"], DiscrepancyFilters(side="out"))).total == 0
    assert (await discrepancies.search(n["b2_ctx"], DiscrepancyFilters(side="in"))).total == 2
    assert await discrepancies.open_count(tenant) == 2 and await discrepancies.open_count(n["b2_ctx"]) == 0
    assert (await discrepancies.search(n["b3_ctx"])).total == 0  # below the receiver: not its business
    await refused(discrepancies.get(n["b3_ctx"], everything.items[0]["id"]), "not_found", 404)


@pytest.mark.parametrize(
    "found, code",
    [
        ([("short", 6, "多报")], "invalid_field"),  # more than is left
        ([("short", 3, "少"), ("damaged", 3, "坏")], "invalid_field"),
        ([("short", 1, "少"), ("over", 1, "多")], "invalid_field"),
        ([("short", 1, "少"), ("short", 1, "少")], "invalid_field"),
        ([("short", 1, "")], "required"),
        ([("lost", 1, "丢")], "invalid_field"),
        ([("short", 0, "少")], None),
        ([("short", "一", "少")], None),
    ],
)
async def test_bad_discrepancies_are_refused_and_change_nothing(tenant, n, found, code):
    doc, line = await sent(tenant, n)
    await refused(shipments.receive(n["b2_ctx"], "shipment", doc["id"], receipt(n, line, *found)), code)
    body = receipt(n, line) | {"discrepancies": [{"line_id": line + 1, "kind": "short", "qty": 1, "reason": "少"}]}
    await refused(shipments.receive(n["b2_ctx"], "shipment", doc["id"], body), "invalid_field")
    await refused(shipments.receive(n["b2_ctx"], "shipment", doc["id"], receipt(n, line) | {"discrepancies": "x"}))
    assert await ShipmentDiscrepancy.count() == 0
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 0
    assert (await shipments.get(tenant, "shipment", doc["id"]))["lines"][0]["received_qty"] == 0
