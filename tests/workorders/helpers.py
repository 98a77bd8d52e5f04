"""Helpers of the work order tests: a world to repair in (an intake phone, parts in stock, repair
codes and fault reasons of its category, a 坏品库) and the API's URLs."""

from __future__ import annotations

from server.core.tenancy import Ctx
from server.workorders.services import orders
from tests.inventory.helpers import inbound, world
from tests.masterdata.helpers import error_of, fault_reason, make_goods, repair_code

URL = "/api/v1/work-orders"


async def wo_world(ctx: Ctx, stock: int = 5) -> dict:
    """inventory's world (screen and battery parts under iPhone 15, a 通用库 and a 坏品库 of the
    caller's org) plus an intake phone, repair codes (LCD uses material, filed at iPhone; DIAG
    labour only; one disabled; one of iPad), fault reasons, and `stock` screens in the 通用库."""
    w = await world(ctx)
    phone = await make_goods(ctx, "IP15", w["iphone15"], name="iPhone 15", is_intake_item=True)
    lcd = await repair_code(ctx, "LCD", w["iphone"], w["lcd"], uses_material=True, labor_fee="50.0000")
    diag = await repair_code(ctx, "DIAG", w["iphone15"], w["lcd"], labor_fee="20.5000")
    off = await repair_code(ctx, "OFF", w["iphone15"], w["lcd"], enabled=False)
    ipad = await repair_code(ctx, "IPAD", w["ipad"], w["lcd"])
    reason = await fault_reason(ctx, "BAT", w["iphone15"], w["power"])
    ipad_reason = await fault_reason(ctx, "IPADR", w["ipad"], w["power"])
    if stock:
        await inbound(ctx, w["general"], (w["screen"], stock, "100"), (w["battery"], stock, "30"))
    return w | {
        "phone": phone["id"],
        "lcd_code": lcd["id"],
        "diag_code": diag["id"],
        "off_code": off["id"],
        "ipad_code": ipad["id"],
        "reason": reason["id"],
        "ipad_reason": ipad_reason["id"],
    }


def intake_body(w: dict, phone: str = "13800001234", **fields) -> dict:
    return {
        "customer": {"name": "张三", "phone": phone, "address": "上海市", "customer_type": "personal"},
        "goods_id": w["phone"],
        "serial_no": "SN001",
        "service_type": "in_warranty",
        "fault_description": "屏幕碎裂",
    } | fields


async def repairing(ctx: Ctx, w: dict, *lines: tuple[int, int | None, int], **fields) -> dict:
    """An order taken in and being repaired, with (repair code, goods, qty) lines from the 通用库."""
    order = await orders.intake(ctx, intake_body(w, **fields))
    order = await orders.start_repair(
        ctx,
        order["id"],
        {
            "final_service_type": "in_warranty",
            "fault_reason_ids": [w["reason"]],
            "defective_warehouse_id": w["defective"],
        },
    )
    for code, goods_id, qty in lines:
        body = {"repair_code_id": code, "qty": qty}
        if goods_id:
            body |= {"goods_id": goods_id, "warehouse_id": w["general"]}
        order = await orders.add_line(ctx, order["id"], body)
    return order


async def refused(client, method: str, url: str, headers: dict, body=None, status: int = 400, code=None) -> dict:
    """A refusal in the API's error shape (with `errors` when fields were checked)."""
    return error_of(await client.request(method, url, json=body, headers=headers), status, code)
