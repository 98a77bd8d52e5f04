"""Issue 16's remaining rules: the issued goods (是否领用货品) stay editable until the repair
completes, as a set checked as at intake (`issued_lines` of PATCH); 【维修完毕】 checks again that
every line's warehouse is still an enabled one of the order's org, naming it, and posts nothing
otherwise; the names an order shows come from their domains' services."""

from __future__ import annotations

from server.inventory.tables import StockMove
from server.masterdata.services import warehouses
from server.workorders import permissions as P
from server.workorders.services import orders
from server.workorders.tables import WorkOrderLine
from tests.api_helpers import call, error_of
from tests.conftest import api_login
from tests.inventory.helpers import on_hand
from tests.masterdata.helpers import refused
from tests.system.helpers import service_org, user_with
from tests.workorders.helpers import URL, intake_body, repairing, wo_world


def issued(order: dict) -> list[tuple[int, int, int]]:
    return [(ln["warehouse_id"], ln["goods_id"], ln["qty"]) for ln in order["lines"] if ln["kind"] == "issued"]


async def test_issued_goods_are_replaced_as_a_set_until_repaired(tenant):
    w = await wo_world(tenant, stock=5)
    order = await orders.intake(
        tenant, intake_body(w, issued_lines=[{"warehouse_id": w["general"], "goods_id": w["battery"], "qty": 1}])
    )
    assert issued(order) == [(w["general"], w["battery"], 1)]
    lines = [
        {"warehouse_id": w["general"], "goods_id": w["screen"], "qty": 2},
        {"warehouse_id": w["general"], "goods_id": w["battery"], "qty": 3},
    ]
    order = await orders.update(tenant, order["id"], {"issued_lines": lines})
    assert issued(order) == [(w["general"], w["screen"], 2), (w["general"], w["battery"], 3)]
    assert order["lines"][0]["goods_name"] == "SCR iPhone 15 屏幕"
    # while repairing too; the repair lines stay
    order = await orders.start_repair(
        tenant, order["id"], {"final_service_type": "in_warranty", "defective_warehouse_id": w["defective"]}
    )
    order = await orders.add_line(tenant, order["id"], {"repair_code_id": w["diag_code"]})
    order = await orders.update(tenant, order["id"], {"issued_lines": lines[1:]})
    assert issued(order) == [(w["general"], w["battery"], 3)]
    assert [ln["repair_code_id"] for ln in order["lines"] if ln["kind"] == "repair"] == [w["diag_code"]]
    assert [ln["repair_code"] for ln in order["lines"] if ln["kind"] == "repair"][0].startswith("DIAG ")
    # they leave stock at completion
    await orders.complete(tenant, order["id"], {"repair_result": "repaired"})
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 2
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 5
    # then they are frozen
    exc = await refused(orders.update(tenant, order["id"], {"issued_lines": []}), "invalid_state", 409)
    assert "维修完毕" in exc.detail
    assert issued(await orders.get(tenant, order["id"])) == [(w["general"], w["battery"], 3)]


async def test_an_empty_set_clears_them_and_a_cancelled_order_refuses(tenant):
    w = await wo_world(tenant, stock=0)
    order = await orders.intake(
        tenant, intake_body(w, issued_lines=[{"warehouse_id": w["general"], "goods_id": w["battery"], "qty": 1}])
    )
    assert issued(await orders.update(tenant, order["id"], {"issued_lines": []})) == []
    await orders.cancel(tenant, order["id"], {"reason": "客户取回"})
    line = [{"warehouse_id": w["general"], "goods_id": w["battery"], "qty": 1}]
    await refused(orders.update(tenant, order["id"], {"issued_lines": line}), "invalid_state", 409)


async def test_bad_issued_lines_change_nothing(tenant):
    w = await wo_world(tenant, stock=0)
    first = {"warehouse_id": w["general"], "goods_id": w["battery"], "qty": 1}
    order = await orders.intake(tenant, intake_body(w, issued_lines=[first]))
    bad = [
        [first, {"warehouse_id": w["unassigned"], "goods_id": w["screen"], "qty": 1}],  # not the org's
        [first, {"warehouse_id": w["general"], "goods_id": 999_999, "qty": 1}],
        [first, {"warehouse_id": w["general"], "goods_id": w["screen"], "qty": 0}],
        [first, "x"],
        "x",
        [first] * 201,
    ]
    for lines in bad:
        await refused(orders.update(tenant, order["id"], {"issued_lines": lines, "remark": "改了"}))
    after = await orders.get(tenant, order["id"])
    assert issued(after) == [(w["general"], w["battery"], 1)] and after["remark"] == ""
    # the field names the row
    exc = await refused(orders.update(tenant, order["id"], {"issued_lines": bad[2]}))
    assert [e.field for e in exc.errors] == ["issued_lines[1].qty"]


async def test_completion_refuses_a_line_warehouse_no_longer_usable(tenant):
    w = await wo_world(tenant, stock=5)
    order = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1))
    moves = await StockMove.count()
    await warehouses.update(tenant, w["general"], {"enabled": False})
    exc = await refused(orders.complete(tenant, order["id"], {"repair_result": "repaired"}), "warehouse_unusable", 409)
    assert "W-GEN" in exc.detail and "维修完毕" in exc.detail
    assert await StockMove.count() == moves
    after = await orders.get(tenant, order["id"])
    assert (after["status"], after["repair_result"], after["charges"]["total"]) == ("repairing", "", "0.0000")
    assert [r["to_status"] for r in await orders.history(tenant, order["id"])] == ["accepted", "repairing"]
    # enabled again, it completes
    await warehouses.update(tenant, w["general"], {"enabled": True})
    assert (await orders.complete(tenant, order["id"], {"repair_result": "repaired"}))["status"] == "repaired"
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 4


async def test_completion_refuses_an_issued_warehouse_taken_from_the_org(tenant):
    """An assignment switched off for the org (the warehouse itself still enabled) counts too,
    for the intake-issued goods as for repair lines."""
    w = await wo_world(tenant, stock=5)
    body = intake_body(w, issued_lines=[{"warehouse_id": w["general"], "goods_id": w["battery"], "qty": 1}])
    order = await orders.intake(tenant, body)
    await orders.start_repair(tenant, order["id"], {"final_service_type": "in_warranty"})
    assignment = next(
        a for a in await warehouses.usable_for_org(tenant, tenant.org_id) if a["warehouse_id"] == w["general"]
    )
    await warehouses.set_assignment_enabled(tenant, assignment["id"], False)
    exc = await refused(orders.complete(tenant, order["id"], {"repair_result": "repaired"}), "warehouse_unusable", 409)
    assert "W-GEN" in exc.detail
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 5
    assert (await orders.get(tenant, order["id"]))["status"] == "repairing"


async def test_the_api_replaces_issued_lines_and_keeps_tenants_apart(client, tenant, other_tenant, admin):
    w = await wo_world(tenant, stock=0)
    order = await orders.intake(tenant, intake_body(w))
    o = f"{URL}/{order['id']}"
    line = {"warehouse_id": w["general"], "goods_id": w["screen"], "qty": 2}
    got = await call(client, "PATCH", o, admin, {"issued_lines": [line]})
    assert [(ln["kind"], ln["goods_id"], ln["qty"]) for ln in got["lines"]] == [("issued", w["screen"], 2)]
    # bad input: a Chinese 400 naming the row, nothing changed
    for body in (
        {"issued_lines": [line | {"qty": -1}]},
        {"issued_lines": [line | {"warehouse_id": w["unassigned"]}]},
        {"issued_lines": [{"goods_id": w["screen"]}]},
        {"issued_lines": "x"},
    ):
        response = await client.request("PATCH", o, json=body, headers=admin)
        assert response.status_code == 400, response.text
    assert len((await call(client, "GET", o, admin))["lines"]) == 1
    # another tenant's caller: 404, and its own warehouses are not this order's
    other = await api_login(client, "admin@OTHER")
    error_of(await client.request("PATCH", o, json={"issued_lines": []}, headers=other), 404, "not_found")
    # nor is the head office's order a branch user's
    branch = await service_org(tenant, "B9", tenant.org_id, level=2)
    _, clerk = await user_with(client, admin, "clerk9", branch["id"], "branch", [P.VIEW, P.UPDATE])
    error_of(await client.request("PATCH", o, json={"issued_lines": []}, headers=clerk), 404, "not_found")
    assert await WorkOrderLine.count().where(WorkOrderLine.work_order == order["id"]) == 1
    # cancelled, the issued goods are frozen: 409 invalid_state
    await call(client, "POST", f"{o}/cancel", admin, {"reason": "客户取回"})
    error_of(await client.request("PATCH", o, json={"issued_lines": []}, headers=admin), 409, "invalid_state")
    assert await WorkOrderLine.count().where(WorkOrderLine.work_order == order["id"]) == 1
