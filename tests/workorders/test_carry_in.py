"""A carry-in point's order repaired at its repair centre (issue 20): 【送修】 → the centre's
receipt → repair → 【返还】 → the carry-in point's receipt (billing its credit) → closing; who may
act where, refusals, the race of two receipts, cross-tenant and out-of-scope 404, live events."""

from __future__ import annotations

import asyncio

import pytest

from server.core.errors import Conflict, Forbidden, NotFound
from server.logistics.services import shipments
from server.workorders.services import carry, orders
from tests.logistics.helpers import account
from tests.workorders.carry_helpers import SHIP, carry_world, repaired_at_centre, sent, shipment_of
from tests.workorders.helpers import intake_body

CLOSE = {"closing_method": "onsite", "amount_received": "210.0000", "payment_method": "cash"}


async def receive(ctx, shipment_id: int) -> dict:
    return await shipments.receive(ctx, "shipment", shipment_id, {})


async def test_the_golden_path_moves_the_device_and_bills_the_carry_in_point(tenant):
    w = await carry_world(tenant)
    order = await sent(w)
    assert order["status"] == "sending" and order["status_label"] == "送修在途"
    assert (order["intake_org_id"], order["repair_org_id"]) == (w["p3"]["id"], w["c2"]["id"])
    send_id = await shipment_of(order["id"], "device_send")
    doc = await shipments.get(w["centre"], "shipment", send_id)
    assert doc["type_name"] == "送修" and doc["status"] == "completed" and doc["to_org_id"] == w["c2"]["id"]
    assert doc["device"] == {
        "work_order_id": order["id"],
        "work_order_no": order["no"],
        "serial_no": "SN001",
        "goods_name": order["goods_name"],
        "accessories": "",
    }
    assert (doc["carrier"], doc["tracking_no"]) == ("顺丰", "SF1001")

    await receive(w["centre"], send_id)
    at_centre = await orders.get(w["centre"], order["id"])
    assert at_centre["status"] == "accepted" and at_centre["org_id"] == w["c2"]["id"] and at_centre["can_act"]
    assert not (await orders.get(w["point"], order["id"]))["can_act"]  # read-only where it came in

    done = await repaired_at_centre(w, at_centre)
    assert done["charges"]["total"] == "210.0000"  # the centre's retail: 50 + 160
    back = await carry.give_back(w["centre"], order["id"], SHIP)
    assert back["status"] == "returning"
    before = await account(w["p3"]["id"])
    await receive(w["point"], await shipment_of(order["id"], "device_return"))
    home = await orders.get(w["point"], order["id"])
    assert home["status"] == "repaired" and home["org_id"] == w["p3"]["id"] and home["can_act"]
    # labour 50 + the screen at P3's (level 3) order price 120, as usage on P3's credit
    assert home["carry_charge"] == "170.0000"
    assert await account(w["p3"]["id"]) == (before[0] - 1_700_000, before[1])
    closed = await orders.close(w["point"], order["id"], CLOSE)
    assert closed["status"] == "closed"
    timeline = [t["to_status"] for t in await orders.history(w["centre"], order["id"])]
    assert timeline == ["accepted", "sending", "accepted", "repairing", "repaired", "returning", "repaired", "closed"]


async def test_only_the_org_holding_the_device_acts_on_it(tenant):
    w = await carry_world(tenant)
    order = await sent(w)
    # in transit: neither org acts (the sender 409 by state, the centre 403: not its device yet)
    with pytest.raises(Conflict):
        await orders.cancel(w["point"], order["id"], {"reason": "x"})
    with pytest.raises(Forbidden) as refused:
        await orders.start_repair(w["centre"], order["id"], {"final_service_type": "in_warranty"})
    assert "设备所在的机构" in refused.value.detail
    await receive(w["centre"], await shipment_of(order["id"], "device_send"))
    # at the centre: the carry-in point edits nothing, adds no repair line, cancels nothing
    for act in (
        orders.update(w["point"], order["id"], {"remark": "x"}),
        orders.start_repair(w["point"], order["id"], {"final_service_type": "in_warranty"}),
        orders.cancel(w["point"], order["id"], {"reason": "x"}),
        carry.send(w["point"], order["id"], SHIP),
    ):
        with pytest.raises(Forbidden):
            await act
    with pytest.raises(Conflict):  # the centre cancels only once the device went back
        await orders.cancel(w["centre"], order["id"], {"reason": "x"})
    done = await repaired_at_centre(w, order)
    with pytest.raises(Forbidden):
        await orders.add_line(w["point"], done["id"], {"repair_code_id": w["diag_code"]})
    with pytest.raises(Forbidden):  # the carry-in point closes only once the device is back
        await orders.close(w["point"], done["id"], CLOSE)
    with pytest.raises(Conflict):  # nor does the centre, which holds it: it returns it first
        await orders.close(w["centre"], done["id"], CLOSE)
    await carry.give_back(w["centre"], order["id"], SHIP)
    await receive(w["point"], await shipment_of(order["id"], "device_return"))
    with pytest.raises(Forbidden):  # the centre (P3's parent) does not close with the customer
        await orders.close(w["centre"], order["id"], CLOSE)
    with pytest.raises(NotFound):  # an org of neither side does not see it
        await orders.close(w["other"], order["id"], CLOSE)
    with pytest.raises(NotFound):
        await carry.give_back(w["other"], order["id"], SHIP)


async def test_send_and_return_refusals(tenant):
    w = await carry_world(tenant)
    plain = await orders.intake(w["centre"], intake_body(w))
    with pytest.raises(Conflict) as refused:  # the centre is no carry-in point
        await carry.send(w["centre"], plain["id"], SHIP)
    assert refused.value.code == "not_carry_in"
    with pytest.raises(Conflict):  # a plain order is not returned anywhere
        await carry.give_back(w["centre"], plain["id"], SHIP)
    order = await orders.intake(w["point"], intake_body(w))
    for body in ({}, {"carrier": "顺丰"}, {"carrier": "", "tracking_no": "1"}):
        with pytest.raises(Exception) as bad:
            await carry.send(w["point"], order["id"], body)
        assert getattr(bad.value, "status_code", None) == 400 and bad.value.detail
    assert (await orders.get(w["point"], order["id"]))["status"] == "accepted"  # nothing half done
    await carry.send(w["point"], order["id"], SHIP)
    with pytest.raises(Conflict):
        await carry.send(w["point"], order["id"], SHIP)


async def test_a_device_shipment_is_received_once(tenant):
    w = await carry_world(tenant)
    order = await sent(w)
    send_id = await shipment_of(order["id"], "device_send")
    results = await asyncio.gather(receive(w["centre"], send_id), receive(w["centre"], send_id), return_exceptions=True)
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], Conflict) and lost[0].code in ("already_received", "invalid_state"), lost
    timeline = [t["to_status"] for t in await orders.history(w["centre"], order["id"])]
    assert timeline == ["accepted", "sending", "accepted"]
    with pytest.raises(Conflict):
        await shipments.refuse(w["centre"], "shipment", send_id, {"reason": "晚了"})
    with pytest.raises(Forbidden):  # only the receiver receives
        await receive(w["point"], send_id)
    # one order per device shipment: the database refuses a second device on it
    from server.logistics.tables import ShipmentDevice

    other = await orders.intake(w["point"], intake_body(w, serial_no="SN009"))
    with pytest.raises(Exception, match="(?i)unique"):
        await ShipmentDevice.insert(
            ShipmentDevice(
                tenant_id=tenant.tenant_id, shipment=send_id, work_order_id=other["id"], work_order_no=other["no"]
            )
        )


async def test_a_refused_return_bills_nothing_and_the_next_receipt_bills_once(tenant):
    w = await carry_world(tenant)
    order = await sent(w)
    await receive(w["centre"], await shipment_of(order["id"], "device_send"))
    await repaired_at_centre(w, order)
    await carry.give_back(w["centre"], order["id"], SHIP)
    before = await account(w["p3"]["id"])
    refused = await shipments.refuse(
        w["point"], "shipment", await shipment_of(order["id"], "device_return"), {"reason": "外壳划伤"}
    )
    assert refused["status"] == "refused" and refused["status_name"] == "已拒收"
    again = await orders.get(w["centre"], order["id"])
    assert again["status"] == "repaired" and again["org_id"] == w["c2"]["id"] and again["carry_charge"] == "0.0000"
    assert await account(w["p3"]["id"]) == before
    await carry.give_back(w["centre"], order["id"], {"carrier": "EMS", "tracking_no": "E2"})
    await receive(w["point"], await shipment_of(order["id"], "device_return"))
    assert await account(w["p3"]["id"]) == (before[0] - 1_700_000, before[1])


async def test_a_return_is_refused_for_want_of_credit_with_nothing_moved(tenant):
    w = await carry_world(tenant, credit="100.0000")
    order = await sent(w)
    await receive(w["centre"], await shipment_of(order["id"], "device_send"))
    await repaired_at_centre(w, order)
    await carry.give_back(w["centre"], order["id"], SHIP)
    return_id = await shipment_of(order["id"], "device_return")
    with pytest.raises(Conflict) as short:
        await receive(w["point"], return_id)
    assert short.value.code == "insufficient_credit" and "70.0000" in short.value.detail
    assert (await orders.get(w["point"], order["id"]))["status"] == "returning"
    assert (await shipments.get(w["point"], "shipment", return_id))["status"] == "completed"


async def test_a_refused_send_is_the_carry_in_points_plain_order_again(tenant):
    w = await carry_world(tenant)
    order = await sent(w)
    await shipments.refuse(w["centre"], "shipment", await shipment_of(order["id"], "device_send"), {"reason": "不收"})
    back = await orders.get(w["point"], order["id"])
    assert back["status"] == "accepted" and back["repair_org_id"] == w["p3"]["id"] and back["can_act"]
    assert back["sent_at"] is None
    await carry.send(w["point"], order["id"], SHIP)  # and may be sent again


async def test_the_board_counts_devices_out_for_repair_and_their_age(tenant):
    from datetime import timedelta

    from server.dashboard import services as dashboard
    from server.workorders.schemas import WorkOrderFilters
    from server.workorders.services import figures
    from server.workorders.tables import WorkOrder

    w = await carry_world(tenant)
    assert (await figures.out_for_repair(w["point"]))["count"] == 0
    first, second = await sent(w), await sent(w, serial_no="SN002")
    await orders.intake(w["point"], intake_body(w, serial_no="SN003"))  # never sent
    stamp = first["sent_at"] - timedelta(days=3)
    await WorkOrder.update({WorkOrder.sent_at: stamp}).where(WorkOrder.id == first["id"])
    await receive(w["centre"], await shipment_of(first["id"], "device_send"))
    for ctx in (w["point"], w["centre"], tenant):  # the carry-in point, the centre, the head office
        out = await figures.out_for_repair(ctx)
        assert out["count"] == 2 and out["oldest_days"] == 3, out
        assert [o["no"] for o in out["longest"]] == [first["no"], second["no"]]
    assert (await figures.out_for_repair(w["other"]))["count"] == 0
    listed = await orders.search(w["point"], WorkOrderFilters(away=True))  # the card's list
    assert sorted(o["id"] for o in listed.items) == sorted([first["id"], second["id"]])
    board = await dashboard.board(tenant)
    assert board["out_for_repair"]["count"] == 2
    statuses = {s["status"]: s["count"] for s in board["by_status"]}
    assert (statuses["sending"], statuses["accepted"]) == (1, 2) and "returning" not in statuses
    await shipments.refuse(w["centre"], "shipment", await shipment_of(second["id"], "device_send"), {"reason": "满了"})
    assert (await figures.out_for_repair(w["point"]))["count"] == 1
