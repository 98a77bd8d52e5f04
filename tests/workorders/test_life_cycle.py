"""The whole life cycle over the API: intake (customer found by phone), assign, start repair,
lines, completion (stock out, replaced parts into the 坏品库, charges), closing by mail; the
status timeline and the device history with its repeat-repair flag."""

from __future__ import annotations

from server.workorders import permissions as P
from server.workorders.services import orders
from tests.api_helpers import call
from tests.inventory.helpers import on_hand
from tests.system.helpers import service_user
from tests.workorders.helpers import URL, intake_body, refused, wo_world


async def test_the_whole_life_cycle(client, tenant, admin):
    w = await wo_world(tenant)
    tech = await service_user(tenant, "tech", tenant.org_id, "hq", [P.VIEW, P.REPAIR])

    order = await call(
        client,
        "POST",
        URL,
        admin,
        intake_body(w, issued_lines=[{"warehouse_id": w["general"], "goods_id": w["battery"], "qty": 1}]),
        status=201,
    )
    assert order["no"].startswith("GD") and len(order["no"]) == len("GD20261206-0001")
    assert order["status"] == "accepted" and order["sla"] == "green"
    assert order["charges"] == {"labor": "0.0000", "parts": "0.0000", "total": "0.0000"}
    assert order["customer"]["phone"] == "13800001234" and order["goods_name"] == "IP15 iPhone 15"
    assert [ln["kind"] for ln in order["lines"]] == ["issued"]
    # intake takes nothing out of stock yet
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 5

    # the same phone finds the same customer and brings its name up to date
    again = await call(
        client, "POST", URL, admin, intake_body(w, customer={"name": "张三丰", "phone": "13800001234"}), status=201
    )
    assert again["customer_id"] == order["customer_id"] and again["customer"]["name"] == "张三丰"
    assert again["customer"]["address"] == "上海市"  # a blank field keeps what was known
    found = await call(client, "GET", "/api/v1/customers?phone=13800001234", admin)
    assert found["total"] == 1 and found["items"][0]["name"] == "张三丰"
    await call(client, "POST", f"{URL}/{again['id']}/cancel", admin, {"reason": "客户不修了"})

    oid = order["id"]
    assigned = await call(client, "POST", f"{URL}/{oid}/assign", admin, {"technician_id": tech.user_id})
    assert assigned["technician_name"] == "tech"
    started = await call(
        client,
        "POST",
        f"{URL}/{oid}/start-repair",
        admin,
        {
            "final_service_type": "out_of_warranty",
            "fault_reason_ids": [w["reason"]],
            "defective_warehouse_id": w["defective"],
        },
    )
    assert started["status"] == "repairing" and started["fault_reason_ids"] == [w["reason"]]
    body = {"repair_code_id": w["lcd_code"], "warehouse_id": w["general"], "goods_id": w["screen"], "qty": 3}
    with_line = await call(client, "POST", f"{URL}/{oid}/lines", admin, body)
    line = next(ln for ln in with_line["lines"] if ln["kind"] == "repair")
    edited = await call(client, "PATCH", f"{URL}/{oid}/lines/{line['id']}", admin, {"qty": 2})
    assert next(ln for ln in edited["lines"] if ln["id"] == line["id"])["qty"] == 2
    extra = await call(client, "POST", f"{URL}/{oid}/lines", admin, {"repair_code_id": w["diag_code"]})
    diag = next(ln for ln in extra["lines"] if ln["repair_code_id"] == w["diag_code"])
    deleted = await call(client, "DELETE", f"{URL}/{oid}/lines/{diag['id']}", admin)
    assert diag["id"] not in [ln["id"] for ln in deleted["lines"]]
    await call(client, "POST", f"{URL}/{oid}/lines", admin, {"repair_code_id": w["diag_code"]})

    done = await call(client, "POST", f"{URL}/{oid}/complete", admin, {"repair_result": "repaired"})
    assert done["status"] == "repaired" and done["repair_result"] == "repaired"
    # labour 50 + 20.5; parts 2 screens and the issued battery at the HQ's (level 1) retail 150
    assert done["charges"] == {"labor": "70.5000", "parts": "450.0000", "total": "520.5000"}
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 3
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 4
    assert await on_hand(tenant.org_id, w["defective"], w["screen"]) == 2
    assert await on_hand(tenant.org_id, w["defective"], w["battery"]) == 0  # issued goods are not replaced parts

    await refused(client, "POST", f"{URL}/{oid}/close", admin, {"closing_method": "mail", "amount_received": "1"}, 400)
    closed = await call(
        client,
        "POST",
        f"{URL}/{oid}/close",
        admin,
        {
            "closing_method": "mail",
            "carrier": "顺丰",
            "tracking_no": "SF123",
            "amount_received": "500.1234",
            "payment_method": "wechat",
            "remark": "少收零头",
        },
    )
    assert closed["status"] == "closed" and closed["amount_received"] == "500.1234" and closed["tracking_no"] == "SF123"
    assert closed["sla"] == "green"

    timeline = await call(client, "GET", f"{URL}/{oid}/history", admin)
    assert [t["to_status"] for t in timeline] == ["accepted", "repairing", "repaired", "closed"]
    assert all(t["minutes"] is not None for t in timeline[:-1]) and timeline[-1]["minutes"] is None

    device = await call(client, "GET", "/api/v1/devices/SN001", admin)
    assert [d["id"] for d in device["items"]] == [again["id"], oid]  # newest first
    assert device["repeat_repair"] is True and device["repeat_days"] == 30
    await call(client, "PATCH", "/api/v1/work-order-settings", admin, {"repeat_days": 1})
    assert (await orders.device(tenant, "SN001"))["repeat_repair"] is True  # closed just now
    none = await call(client, "GET", "/api/v1/devices/NOPE", admin)
    assert none == {"serial_no": "NOPE", "repeat_days": 1, "last_closed_at": None, "repeat_repair": False, "items": []}

    listed = await call(client, "GET", f"{URL}?phone=13800001234&status=closed", admin)
    assert [o["id"] for o in listed["items"]] == [oid]
    assert (await call(client, "GET", f"{URL}?q=张三&serial_no=SN001", admin))["total"] == 2
    assert (await call(client, "GET", f"{URL}?no={order['no']}", admin))["total"] == 1
    assert (await call(client, "GET", f"{URL}?technician_id={tech.user_id}", admin))["total"] == 1
    assert (await call(client, "GET", f"{URL}?sla=red", admin))["total"] == 0
    assert (await call(client, "GET", f"{URL}?sla=green&sort=urgency", admin))["total"] == 0  # both finished
    mine = await call(client, "GET", f"{URL}?mine=true", admin)
    assert mine["total"] == 0


async def test_sla_colours_follow_the_time_in_status(client, tenant, admin):
    from datetime import timedelta

    from server.workorders.tables import WorkOrder

    w = await wo_world(tenant, stock=0)
    order = await orders.intake(tenant, intake_body(w))
    await call(
        client, "PATCH", "/api/v1/work-order-settings", admin, {"sla": {"accepted": {"green": 10, "yellow": 20}}}
    )
    for minutes, colour in ((5, "green"), (15, "yellow"), (25, "red")):
        await WorkOrder.update({WorkOrder.status_at: order["status_at"] - timedelta(minutes=minutes)}).where(
            WorkOrder.id == order["id"]
        )
        assert (await call(client, "GET", f"{URL}/{order['id']}", admin))["sla"] == colour
        assert [o["id"] for o in (await call(client, "GET", f"{URL}?sla={colour}", admin))["items"]] == [order["id"]]
    await refused(
        client, "PATCH", "/api/v1/work-order-settings", admin, {"sla": {"accepted": {"green": 30, "yellow": 20}}}
    )
