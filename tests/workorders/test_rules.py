"""The rules of SPEC 5, through the services: all-or-nothing completion, material codes need
goods, codes and reasons of the product's category and enabled, the defective warehouse a 坏品库
of the org, intake frozen after repair, cancel only before, wrong transitions 409, amounts with
4 decimals, technicians of the org with the repair permission."""

from __future__ import annotations

from server.inventory.tables import StockMove
from server.workorders import permissions as P
from server.workorders.services import orders
from server.workorders.tables import WorkOrder, WorkOrderLine, WorkOrderStatusLog
from tests.inventory.helpers import on_hand
from tests.masterdata.helpers import refused
from tests.system.helpers import service_org, service_user
from tests.workorders.helpers import intake_body, repairing, wo_world


async def test_a_shortage_on_the_last_line_leaves_everything_untouched(tenant):
    w = await wo_world(tenant, stock=2)
    order = await repairing(tenant, w, (w["lcd_code"], w["battery"], 1), (w["lcd_code"], w["screen"], 3))
    before_lines = (
        await WorkOrderLine.select().where(WorkOrderLine.work_order == order["id"]).order_by(WorkOrderLine.id)
    )
    moves = await StockMove.count()
    exc = await refused(orders.complete(tenant, order["id"], {"repair_result": "repaired"}), "insufficient_stock", 409)
    assert "SCR" in exc.detail and "需要 3，库存 2" in exc.detail
    assert await StockMove.count() == moves
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 2
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 2
    assert await on_hand(tenant.org_id, w["defective"], w["battery"]) == 0
    after = await orders.get(tenant, order["id"])
    assert after["status"] == "repairing" and after["repair_result"] == "" and after["charges"]["total"] == "0.0000"
    assert (
        await WorkOrderLine.select().where(WorkOrderLine.work_order == order["id"]).order_by(WorkOrderLine.id)
        == before_lines
    )
    assert [r["to_status"] for r in await orders.history(tenant, order["id"])] == ["accepted", "repairing"]
    # with the stock there, it completes
    line = next(ln for ln in after["lines"] if ln["goods_id"] == w["screen"])
    await orders.update_line(tenant, order["id"], line["id"], {"qty": 2})
    assert (await orders.complete(tenant, order["id"], {"repair_result": "repaired"}))["status"] == "repaired"


async def test_goods_are_required_for_a_code_that_uses_material(tenant):
    w = await wo_world(tenant)
    order = await repairing(tenant, w)
    exc = await refused(orders.add_line(tenant, order["id"], {"repair_code_id": w["lcd_code"], "qty": 1}), "required")
    assert exc.field == "goods_id" and "需要用料" in exc.detail
    # goods without a warehouse is refused too; a labour-only code needs neither
    await refused(orders.add_line(tenant, order["id"], {"repair_code_id": w["lcd_code"], "goods_id": w["screen"]}))
    ok = await orders.add_line(tenant, order["id"], {"repair_code_id": w["diag_code"]})
    assert [ln["repair_code_id"] for ln in ok["lines"]] == [w["diag_code"]]


async def test_codes_and_reasons_of_the_products_category_and_enabled(tenant):
    w = await wo_world(tenant)
    order = await orders.intake(tenant, intake_body(w))
    base = {"final_service_type": "in_warranty", "defective_warehouse_id": w["defective"]}
    exc = await refused(
        orders.start_repair(tenant, order["id"], base | {"fault_reason_ids": [w["ipad_reason"]]}), "wrong_category"
    )
    assert exc.field == "fault_reason_ids"
    await refused(orders.start_repair(tenant, order["id"], base | {"fault_reason_ids": [99999]}), "unknown_code")
    assert (await orders.get(tenant, order["id"]))["status"] == "accepted"  # nothing half-applied
    order = await orders.start_repair(tenant, order["id"], base | {"fault_reason_ids": [w["reason"]]})
    await refused(orders.add_line(tenant, order["id"], {"repair_code_id": w["ipad_code"]}), "wrong_category")
    await refused(orders.add_line(tenant, order["id"], {"repair_code_id": w["off_code"]}), "code_disabled")
    # a code filed at an ancestor category (LCD at iPhone) applies to an iPhone 15
    line = {"repair_code_id": w["lcd_code"], "goods_id": w["screen"], "warehouse_id": w["general"]}
    assert len((await orders.add_line(tenant, order["id"], line))["lines"]) == 1


async def test_the_defective_warehouse_is_a_defective_warehouse_of_the_org(tenant):
    w = await wo_world(tenant)
    order = await orders.intake(tenant, intake_body(w))
    body = {"final_service_type": "in_warranty"}
    for wid in (w["general"], w["unassigned"], 99999):
        exc = await refused(
            orders.start_repair(tenant, order["id"], body | {"defective_warehouse_id": wid}), "warehouse_unusable"
        )
        assert exc.field == "defective_warehouse_id"
    # without one, repair may start, but a replaced part cannot complete
    order = await orders.start_repair(tenant, order["id"], body)
    line = {"repair_code_id": w["lcd_code"], "goods_id": w["screen"], "warehouse_id": w["general"]}
    await orders.add_line(tenant, order["id"], line)
    exc = await refused(orders.complete(tenant, order["id"], {"repair_result": "repaired"}), "required")
    assert exc.field == "defective_warehouse_id"
    assert (await orders.get(tenant, order["id"]))["status"] == "repairing"


async def test_intake_frozen_after_repaired_and_cancel_refused(tenant):
    w = await wo_world(tenant)
    order = await repairing(tenant, w)
    edited = await orders.update(tenant, order["id"], {"fault_description": "不开机", "serial_no": "SN002"})
    assert edited["fault_description"] == "不开机" and edited["serial_no"] == "SN002"
    await refused(orders.update(tenant, order["id"], {"category_id": w["ipad"]}))  # the product stays once repairing
    await orders.complete(tenant, order["id"], {"repair_result": "repaired"})
    for call in (
        orders.update(tenant, order["id"], {"fault_description": "x"}),
        orders.cancel(tenant, order["id"], {"reason": "不修了"}),
        orders.start_repair(tenant, order["id"], {"final_service_type": "in_warranty"}),
        orders.add_line(tenant, order["id"], {"repair_code_id": w["diag_code"]}),
        orders.complete(tenant, order["id"], {"repair_result": "repaired"}),
    ):
        await refused(call, "invalid_state", 409)
    assert (await orders.get(tenant, order["id"]))["fault_description"] == "不开机"


async def test_cancel_before_repair_posts_nothing(tenant):
    w = await wo_world(tenant)
    issued = [{"warehouse_id": w["general"], "goods_id": w["battery"], "qty": 2}]
    order = await orders.intake(tenant, intake_body(w, issued_lines=issued))
    moves = await StockMove.count()
    await refused(orders.cancel(tenant, order["id"], {"reason": ""}), "required")
    cancelled = await orders.cancel(tenant, order["id"], {"reason": "客户取回"})
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "客户取回"
    assert await StockMove.count() == moves and await on_hand(tenant.org_id, w["general"], w["battery"]) == 5
    await refused(orders.close(tenant, order["id"], {"closing_method": "onsite"}), "invalid_state", 409)
    await refused(orders.assign(tenant, order["id"], None), "invalid_state", 409)


async def test_closing_amounts_and_payment_method(tenant):
    w = await wo_world(tenant)
    order = await repairing(tenant, w)
    await refused(orders.close(tenant, order["id"], {"closing_method": "onsite"}), "invalid_state", 409)
    await orders.complete(tenant, order["id"], {"repair_result": "repaired"})
    oid = order["id"]
    await refused(
        orders.close(tenant, oid, {"closing_method": "onsite", "amount_received": "1.23456"}), "invalid_money"
    )
    await refused(orders.close(tenant, oid, {"closing_method": "onsite", "amount_received": "-1"}), "invalid_money")
    await refused(orders.close(tenant, oid, {"closing_method": "onsite", "amount_received": "abc"}), "invalid_money")
    await refused(
        orders.close(tenant, oid, {"closing_method": "onsite", "amount_received": "0", "payment_method": "cash"})
    )
    await refused(orders.close(tenant, oid, {"closing_method": "pigeon"}), "unknown_dict_item")
    free = await orders.close(tenant, oid, {"closing_method": "onsite", "amount_received": "0"})
    assert free["amount_received"] == "0.0000" and free["payment_method"] == "" and free["carrier"] == ""
    await refused(orders.close(tenant, oid, {"closing_method": "onsite"}), "invalid_state", 409)
    assert len([r for r in await WorkOrderStatusLog.select() if r["to_status"] == "closed"]) == 1


async def test_technician_of_the_org_with_the_repair_permission(tenant):
    w = await wo_world(tenant, stock=0)
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    viewer = await service_user(tenant, "viewer", tenant.org_id, "hq", [P.VIEW])
    elsewhere = await service_user(tenant, "far", branch["id"], "branch", [P.VIEW, P.REPAIR])
    tech = await service_user(tenant, "tech", tenant.org_id, "hq", [P.VIEW, P.REPAIR])
    order = await orders.intake(tenant, intake_body(w))
    await refused(orders.assign(tenant, order["id"], viewer.user_id), "invalid_technician")
    await refused(orders.assign(tenant, order["id"], elsewhere.user_id), "invalid_technician")
    await refused(orders.assign(tenant, order["id"], 999999), "unknown_technician")
    assert (await orders.assign(tenant, order["id"], tech.user_id))["technician_id"] == tech.user_id
    assert (await orders.assign(tenant, order["id"], None))["technician_id"] is None
    # at intake the same rule
    await refused(orders.intake(tenant, intake_body(w, technician_id=viewer.user_id)), "invalid_technician")
    # the technician sees it as theirs once assigned, and only orders of orgs they belong to
    await orders.assign(tenant, order["id"], tech.user_id)
    from server.workorders.schemas import WorkOrderFilters

    mine = await orders.search(tech, WorkOrderFilters(mine=True))
    assert [o["id"] for o in mine.items] == [order["id"]]
    assert (await orders.search(elsewhere, WorkOrderFilters())).total == 0


async def test_bad_intake_lists_every_field(tenant):
    w = await wo_world(tenant, stock=0)
    exc = await refused(
        orders.intake(
            tenant,
            {
                "customer": {"name": "", "phone": "abc"},
                "goods_id": w["screen"],  # a part, not an intake item
                "service_type": "nope",
                "serial_no": "S" * 65,
                "issued_lines": [{"warehouse_id": w["unassigned"], "goods_id": w["screen"], "qty": 0}],
                "promised_at": "tomorrow",
            },
        )
    )
    fields = {e.field for e in exc.errors}
    assert {"customer.name", "customer.phone", "goods_id", "service_type", "serial_no", "promised_at"} <= fields
    assert {"issued_lines[0].warehouse_id", "issued_lines[0].qty"} <= fields
    assert await WorkOrder.count() == 0
    # a category instead of a goods is a product too
    order = await orders.intake(tenant, intake_body(w, goods_id=None, category_id=w["iphone15"]))
    assert order["goods_id"] is None and order["category_id"] == w["iphone15"]
