"""Orders through the services (SPEC 4.3): the life cycle and its credit, who may do what, and
the contract shipments call (open lines, shipped, recalled, received). Each test ends with the
credit ledger and the orders' share of it proved (conftest)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from server.core import money
from server.core.errors import Conflict
from server.logistics.services import orders
from server.logistics.tables import OrderLine
from server.masterdata.services import goods
from tests.logistics.helpers import account, network, order
from tests.masterdata.helpers import refused, tiers

U = money.to_units


def units(value: str) -> int:
    return U(Decimal(value))


async def test_life_cycle_moves_credit_from_freeze_to_usage_and_releases_the_rest(tenant):
    n = await network(tenant)
    draft = await order(n["b2"], (n["screen"], 3), (n["battery"], 2), submit=False)
    assert draft["status"] == "draft" and draft["no"].startswith("DH")
    assert draft["parent_org_id"] == n["hq_org"] and draft["total_amount"] == "352.0000"
    assert [li["unit_price"] for li in draft["lines"]] == ["110.0000", "11.0000"]
    assert await account(n["b2_org"]) == (units("1000"), 0)

    doc = await orders.submit(n["b2"], "order", draft["id"])
    assert doc["status"] == "submitted" and doc["frozen"]
    assert await account(n["b2_org"]) == (units("1000"), units("352"))

    doc = await orders.approve(n["hq"], doc["id"])
    assert doc["status"] == "approved" and doc["reviewed_by_name"] == "hqreview"
    assert doc["credit"] == {
        "limit": "1000.0000",
        "used": "0.0000",
        "balance": "1000.0000",
        "frozen": "352.0000",
        "available": "648.0000",
    }

    screen, battery = doc["lines"]
    await orders.record_shipped(n["hq"], doc["id"], {screen["id"]: 2, battery["id"]: Decimal(2)})
    doc = await orders.get(n["hq"], "order", doc["id"])
    assert doc["status"] == "partially_shipped"
    assert [(li["shipped_qty"], li["open_qty"]) for li in doc["lines"]] == [(2, 1), (2, 0)]
    assert await account(n["b2_org"]) == (units("758"), units("110"))  # 242 used, 110 still frozen
    assert doc["credit"]["used"] == "242.0000" and doc["credit"]["limit"] == "1000.0000"

    await orders.record_received(n["b2"], doc["id"], {screen["id"]: 1})
    doc = await orders.close(n["hq"], doc["id"])
    assert doc["status"] == "closed" and doc["closed_by_name"] == "hqreview"
    assert [li["received_qty"] for li in doc["lines"]] == [1, 0]
    assert await account(n["b2_org"]) == (units("758"), 0)
    # closed: nothing more ships, the rest is still received
    await refused(orders.record_shipped(n["hq"], doc["id"], {screen["id"]: 1}), "invalid_state", 409)
    await orders.record_received(n["b2"], doc["id"], {screen["id"]: 1, battery["id"]: 2})


async def test_a_fully_shipped_order_is_shipped_and_its_freeze_used_up(tenant):
    n = await network(tenant)
    doc = await orders.approve(n["hq"], (await order(n["b2"], (n["screen"], 2)))["id"])
    line = doc["lines"][0]
    await orders.record_shipped(n["hq"], doc["id"], {line["id"]: 1})
    await orders.record_shipped(n["hq"], doc["id"], {line["id"]: 1})
    doc = await orders.get(n["b2"], "order", doc["id"])
    assert doc["status"] == "shipped" and doc["shipped_amount"] == "220.0000" and doc["credit"] is None
    assert await account(n["b2_org"]) == (units("780"), 0)
    await refused(orders.close(n["hq"], doc["id"]), "invalid_state", 409)


async def test_submit_short_of_credit_is_refused_with_the_shortfall_and_stays_a_draft(tenant):
    n = await network(tenant, credit="300.0000")
    draft = await order(n["b2"], (n["screen"], 3), submit=False)
    exc = await refused(orders.submit(n["b2"], "order", draft["id"]), "insufficient_credit", 409)
    assert "额度不足" in exc.detail and "30.0000" in exc.detail
    assert (await orders.get(n["b2"], "order", draft["id"]))["status"] == "draft"
    assert await account(n["b2_org"]) == (units("300"), 0)
    # without any credit account at all
    b3_draft = await order(n["b3"], (n["screen"], 1), submit=False)
    exc = await refused(orders.submit(n["b3"], "order", b3_draft["id"]), "insufficient_credit", 409)
    assert "120.0000" in exc.detail


async def test_price_is_fixed_at_submit(tenant):
    n = await network(tenant)
    draft = await order(n["b2"], (n["screen"], 1), submit=False)
    assert draft["total_amount"] == "110.0000"
    new_prices = tiers(("1", "1", True), ("200.0000", "1", True), ("1", "1", True), ("1", "1", True))
    await goods.update(tenant, n["screen"], {"prices": new_prices})
    doc = await orders.submit(n["b2"], "order", draft["id"])
    assert doc["total_amount"] == "200.0000" and doc["lines"][0]["unit_price"] == "200.0000"
    await goods.update(tenant, n["screen"], {"prices": tiers(*[("5", "5", True)] * 4)})
    assert (await orders.get(n["b2"], "order", doc["id"]))["total_amount"] == "200.0000"
    assert await account(n["b2_org"]) == (units("1000"), units("200"))


async def test_withdraw_reject_and_delete_release_the_freeze(tenant):
    n = await network(tenant)
    a = await order(n["b2"], (n["screen"], 1))
    b = await order(n["b2"], (n["screen"], 2))
    c = await order(n["b2"], (n["screen"], 3))
    d = await order(n["b2"], (n["battery"], 1), submit=False)
    assert await account(n["b2_org"]) == (units("1000"), units("660"))

    assert (await orders.withdraw(n["b2"], a["id"]))["status"] == "withdrawn"
    assert (await orders.withdraw(n["b2"], d["id"]))["status"] == "withdrawn"
    await refused(orders.reject(n["hq"], b["id"], "  "), "required")
    doc = await orders.reject(n["hq"], b["id"], "型号有误")
    assert doc["status"] == "rejected" and doc["reason"] == "型号有误"
    assert (await orders.delete(n["b2"], "order", c["id"]))["status"] == "deleted"
    assert await account(n["b2_org"]) == (units("1000"), 0)

    # each only once, and only from the states that allow it
    await refused(orders.withdraw(n["b2"], a["id"]), "invalid_state", 409)
    await refused(orders.approve(n["hq"], b["id"]), "invalid_state", 409)
    await refused(orders.submit(n["b2"], "order", b["id"]), "not_draft", 409)
    e = await orders.approve(n["hq"], (await order(n["b2"], (n["screen"], 1)))["id"])
    exc = await refused(orders.withdraw(n["b2"], e["id"]), "invalid_state", 409)
    assert "已审核" in exc.detail
    await refused(orders.delete(n["b2"], "order", e["id"]), "confirmed", 409)
    await refused(orders.add_line(n["b2"], "order", e["id"], {"goods_id": n["battery"], "qty": 1}), "not_draft", 409)


async def test_who_may_apply_review_and_see(tenant, other_tenant):
    n = await network(tenant)
    # the head office has no parent to order from
    exc = await refused(orders.create(n["hq"], "order", {}), "no_parent", 403)
    assert "总部" in exc.detail
    b3 = await order(n["b3"], (n["screen"], 1), submit=False)
    await orders.update(n["b3"], "order", b3["id"], {"remark": "急用"})
    b2 = await order(n["b2"], (n["screen"], 1))
    # only the direct parent reviews: HQ sees B3's order (its subtree) but does not approve it
    await refused(orders.approve(n["hq"], b3["id"]), "not_parent", 403)
    await refused(orders.approve(n["b2"], b2["id"]), "not_parent", 403)
    await refused(orders.close(n["s2"], b2["id"]), "not_found", 404)
    # the applicant's steps are its own: the parent neither edits nor withdraws its child's order
    await refused(
        orders.add_line(n["b2"], "order", b3["id"], {"goods_id": n["battery"], "qty": 1}), "not_own_order", 403
    )
    await refused(orders.withdraw(n["b2"], b3["id"]), "not_own_order", 403)
    # out of the subtree and another tenant: not found
    for ctx, doc_id in ((n["s2"], b2["id"]), (n["b3"], b2["id"]), (other_tenant, b2["id"])):
        await refused(orders.get(ctx, "order", doc_id), "not_found", 404)
        await refused(orders.withdraw(ctx, doc_id), "not_found", 404)
        await refused(orders.open_lines(ctx, doc_id), "not_found", 404)
    # lists: the applicant sees its own, the parent its children's to review
    own = await orders.search(n["b2"], filters=orders.OrderFilters(side="own"))
    review = await orders.search(n["b2"], filters=orders.OrderFilters(side="review"))
    assert [d["id"] for d in own.items] == [b2["id"]]
    assert review.items == []  # B3's order is a draft: the parent lists it once submitted
    hq_review = await orders.search(n["hq"], filters=orders.OrderFilters(side="review", status="submitted"))
    assert [d["id"] for d in hq_review.items] == [b2["id"]]
    assert hq_review.items[0]["credit"]["available"] == "890.0000"
    assert (await orders.search(n["s2"])).total == 0


async def test_lines_take_orderable_goods_once_with_whole_quantities(tenant):
    n = await network(tenant)
    exc = await refused(order(n["b2"], (n["closed"], 1), submit=False), "not_orderable")
    assert "NOO" in exc.detail
    # orderable at level 3 (B3) though not at level 2
    assert (await order(n["b3"], (n["closed"], 1), submit=False))["lines"][0]["unit_price"] == "6.0000"
    await refused(order(n["b2"], (n["screen"], 1), (n["screen"], 2), submit=False), "duplicate_goods")
    draft = await order(n["b2"], (n["screen"], 1), submit=False)
    for bad, code in (({"goods_id": n["battery"], "qty": 0}, "out_of_range"), ({"goods_id": "x", "qty": 1}, None)):
        await refused(orders.add_line(n["b2"], "order", draft["id"], bad), code)
    await refused(orders.add_line(n["b2"], "order", draft["id"], {"goods_id": 999999, "qty": 1}), "unknown_goods")
    await refused(orders.submit(n["b2"], "order", (await order(n["b2"], submit=False))["id"]), "no_lines")
    # the goods picker offers exactly the orderable goods
    rows, _ = await goods.pick(n["b2"], orderable_for={"id": n["b2_org"], "level": 2})
    assert {r["code"] for r in rows} == {"SCR", "BAT"}
    rows, _ = await goods.pick(n["b3"], orderable_for={"id": n["b3_org"], "level": 3})
    assert {r["code"] for r in rows} == {"SCR", "BAT", "NOO"}


async def test_contract_refuses_over_shipping_and_recall_restores_the_freeze(tenant):
    n = await network(tenant)
    doc = await order(n["b2"], (n["screen"], 3), (n["battery"], 5))
    screen, battery = doc["lines"]
    await refused(orders.open_lines(n["hq"], doc["id"]), "invalid_state", 409)
    await refused(orders.record_shipped(n["hq"], doc["id"], {screen["id"]: 1}), "invalid_state", 409)
    await orders.approve(n["hq"], doc["id"])
    opened = await orders.open_lines(n["hq"], doc["id"])
    assert [(li["goods_code"], li["open_qty"], li["unit_price"]) for li in opened] == [
        ("SCR", 3, Decimal("110.0000")),
        ("BAT", 5, Decimal("11.0000")),
    ]
    await refused(orders.open_lines(n["b2"], doc["id"]), "not_parent", 403)

    # over-shipping names the goods and changes nothing (the battery line of the same call neither)
    exc = await refused(
        orders.record_shipped(n["hq"], doc["id"], {battery["id"]: 2, screen["id"]: 4}), "exceeds_order", 409
    )
    assert "SCR" in exc.detail and "iPhone 15 屏幕" in exc.detail
    assert [li["shipped_qty"] for li in await OrderLine.select().order_by(OrderLine.id)] == [0, 0]
    await refused(orders.record_shipped(n["hq"], doc["id"], {}), "required")
    await refused(orders.record_shipped(n["hq"], doc["id"], {screen["id"]: Decimal("1.5")}), "invalid_field")
    await refused(orders.record_shipped(n["hq"], doc["id"], {999999: 1}), "not_found", 404)
    await refused(orders.record_shipped(n["b2"], doc["id"], {screen["id"]: 1}), "not_parent", 403)

    await orders.record_shipped(n["hq"], doc["id"], {screen["id"]: 3, battery["id"]: 5})
    assert (await orders.get(n["hq"], "order", doc["id"]))["status"] == "shipped"
    await refused(orders.open_lines(n["hq"], doc["id"]), "invalid_state", 409)
    assert await account(n["b2_org"]) == (units("615"), 0)
    await refused(orders.record_received(n["b2"], doc["id"], {screen["id"]: 4}), "exceeds_shipped", 409)
    await orders.record_received(n["b2"], doc["id"], {screen["id"]: 1})

    # a recalled shipment: shipped back (never below received), usage back into the freeze
    await refused(orders.record_recalled(n["hq"], doc["id"], {screen["id"]: 3}), "exceeds_shipped", 409)
    await orders.record_recalled(n["hq"], doc["id"], {screen["id"]: 2, battery["id"]: 5})
    doc = await orders.get(n["hq"], "order", doc["id"])
    assert doc["status"] == "partially_shipped"
    assert [(li["shipped_qty"], li["received_qty"]) for li in doc["lines"]] == [(1, 1), (0, 0)]
    assert await account(n["b2_org"]) == (units("890"), units("275"))
    # recalled after the order was closed short: the value comes back and is released at once
    await orders.record_shipped(n["hq"], doc["id"], {battery["id"]: 2})
    await orders.close(n["hq"], doc["id"])
    await orders.record_recalled(n["hq"], doc["id"], {battery["id"]: 2})
    assert await account(n["b2_org"]) == (units("890"), 0)
    assert (await orders.get(n["hq"], "order", doc["id"]))["status"] == "closed"


async def test_shipping_and_closing_at_once_stay_consistent(tenant):
    n = await network(tenant)
    for _ in range(3):
        doc = await orders.approve(n["hq"], (await order(n["b2"], (n["screen"], 2)))["id"])
        line = doc["lines"][0]["id"]

        async def attempt(coro):
            try:
                await coro
                return "ok"
            except Conflict as exc:
                return exc.code

        results = await asyncio.gather(
            attempt(orders.record_shipped(n["hq"], doc["id"], {line: 1})), attempt(orders.close(n["hq"], doc["id"]))
        )
        assert "ok" in results and set(results) <= {"ok", "invalid_state"}, results
        assert (await orders.get(n["hq"], "order", doc["id"]))["status"] == "closed"
    assert (await account(n["b2_org"]))[1] == 0
