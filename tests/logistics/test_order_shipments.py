"""An order shipped, the two halves of logistics together (issue 17): a branch applies for 3
screens, the parent approves and ships 2, recalls and ships again, the branch receives; the
shipped value turns from freeze into usage; the parent ships the rest and the order is done;
shipments stay within the open lines and go to the order's own branch."""

from __future__ import annotations

import pytest

from server.logistics.services import orders, shipments
from tests.credit.helpers import balances, recharge
from tests.inventory.helpers import on_hand
from tests.logistics.helpers import APPLICANT
from tests.logistics.shipment_helpers import assert_conserved, network
from tests.masterdata.helpers import refused
from tests.system.helpers import service_user

PRICE = 1_100_000  # 110.0000, the screen's order price at level 2, in units


@pytest.fixture
async def n(tenant) -> dict:
    n = await network(tenant)
    await recharge(tenant, (n["b2"], "1000.0000"))
    n["applicant"] = await service_user(tenant, "b2buyer", n["b2"], "branch", APPLICANT)
    return n


async def approved(tenant, n: dict, qty: int = 3) -> dict:
    doc = await orders.create(n["applicant"], "order", {"lines": [{"goods_id": n["screen"], "qty": qty}]})
    await orders.submit(n["applicant"], "order", doc["id"])
    return await orders.approve(tenant, doc["id"])


async def test_an_order_shipped_in_parts_recalled_received_and_finished(tenant, n):
    order = await approved(tenant, n)
    line = order["lines"][0]["id"]
    start = await balances(n["b2"])
    assert start[1] == 3 * PRICE  # frozen at submit
    body = {"type": "order", "warehouse_id": n["general"], "to_org_id": n["b2"], "order_id": order["id"]}

    doc = await shipments.create(tenant, "shipment", body | {"lines": [{"order_line_id": line, "qty": 2}]})
    assert (doc["lines"][0]["goods_id"], doc["lines"][0]["price"]) == (n["screen"], "110.0000")
    await shipments.submit(tenant, "shipment", doc["id"])
    doc = await shipments.confirm(tenant, "shipment", doc["id"])
    # 2 shipped: their value is used, 1 stays frozen; balance falls by what was used
    assert await balances(n["b2"]) == (start[0] - 2 * PRICE, PRICE)
    assert (await orders.get(tenant, "order", order["id"]))["status"] == "partially_shipped"
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], 40)

    # recalled before receipt: usage back to freeze, stock back home
    doc = await shipments.recall(tenant, "shipment", doc["id"])
    assert await balances(n["b2"]) == start
    assert await on_hand(n["hq"], n["general"], n["screen"]) == 20

    doc = await shipments.confirm(tenant, "shipment", doc["id"])
    await shipments.receive(
        n["b2_ctx"], "shipment", doc["id"], {"warehouse_id": n["good"], "line_ids": [doc["lines"][0]["id"]]}
    )
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 2
    got = (await orders.get(tenant, "order", order["id"]))["lines"][0]
    assert (got["shipped_qty"], got["received_qty"]) == (2, 2)

    # only what is still open may ship
    await refused(
        shipments.create(tenant, "shipment", body | {"lines": [{"order_line_id": line, "qty": 2}]}),
        "exceeds_open",
        409,
    )
    rest = await shipments.create(tenant, "shipment", body | {"lines": [{"order_line_id": line, "qty": 1}]})
    await shipments.submit(tenant, "shipment", rest["id"])
    await shipments.confirm(tenant, "shipment", rest["id"])
    assert (await orders.get(tenant, "order", order["id"]))["status"] == "shipped"
    assert await balances(n["b2"]) == (start[0] - 3 * PRICE, 0)
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], 40)


async def test_an_order_ships_only_to_its_branch_and_once_approved(tenant, n):
    order = await approved(tenant, n)
    line = order["lines"][0]["id"]
    body = {"type": "order", "warehouse_id": n["general"], "order_id": order["id"]}
    # to another child of HQ: refused
    await refused(
        shipments.create(
            tenant, "shipment", body | {"to_org_id": n["s2"], "lines": [{"order_line_id": line, "qty": 1}]}
        ),
        "invalid_field",
    )
    # an order not approved yet cannot ship
    draft = await orders.create(n["applicant"], "order", {"lines": [{"goods_id": n["screen"], "qty": 1}]})
    await orders.submit(n["applicant"], "order", draft["id"])
    await refused(
        shipments.create(tenant, "shipment", body | {"to_org_id": n["b2"], "order_id": draft["id"]}),
        "invalid_state",
        409,
    )
    # a line of the order with another goods: refused
    bad = {"order_line_id": line, "goods_id": n["battery"], "qty": 1}
    await refused(shipments.create(tenant, "shipment", body | {"to_org_id": n["b2"], "lines": [bad]}), "invalid_field")
