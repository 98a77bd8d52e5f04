"""Excel exports of the logistics lists, with the filters the list shows. Values are written as
values (text, int, Decimal), never formulas (core.xlsx)."""

from __future__ import annotations

from decimal import Decimal

from litestar import Response

from server.core.clock import local
from server.core.pagination import PageParams
from server.core.tenancy import Ctx
from server.core.xlsx import MAX_EXPORT_ROWS, xlsx_response, yes_no
from server.logistics.services import discrepancies, orders, shipments

# --- orders ------------------------------------------------------------------------------------


async def orders_xlsx(ctx: Ctx, filters: orders.OrderFilters, title: str = "订货单") -> Response:
    """One row per line, with its order's header: ordered, shipped and received side by side."""
    page = await orders.search(ctx, "order", filters, params=PageParams(1, MAX_EXPORT_ROWS // 10))
    rows = [
        [
            d["no"],
            d["status_name"],
            d["org_name"],
            d["parent_org_name"],
            d["created_by_name"],
            local(d["submitted_at"], ctx.tz) if d["submitted_at"] else None,
            li["goods_code"],
            li["goods_name"],
            li["unit"],
            li["qty"],
            Decimal(li["unit_price"]),
            Decimal(li["amount"]),
            li["shipped_qty"],
            li["received_qty"],
        ]
        for d in page.items
        for li in d["lines"]
    ]
    headers = ["单号", "状态", "订货机构", "审核机构", "制单人", "提交时间"]
    headers += ["货品编码", "货品名称", "单位", "订货数量", "单价", "金额", "已发货", "已收货"]
    return await xlsx_response(f"{title}.xlsx", title, headers, rows)


# --- shipments ---------------------------------------------------------------------------------


async def shipments_xlsx(ctx: Ctx, filters: shipments.ShipmentFilters, title: str = "物流单") -> Response:
    """One row per line, with its shipment's header."""
    page = await shipments.search(ctx, "shipment", filters, params=PageParams(1, MAX_EXPORT_ROWS // 10))
    rows = [
        [
            d["no"],
            d["type_name"],
            d["status_name"],
            d["org_name"],
            d["warehouse_name"],
            d["to_org_name"],
            d["carrier"],
            d["tracking_no"],
            local(d["created_at"], ctx.tz),
            li["goods_code"],
            li["goods_name"],
            li["unit"],
            li["qty"],
            Decimal(li["price"]),
            Decimal(li["amount"]),
            yes_no(li["confirmed"]),
            yes_no(li["received"]),
        ]
        for d in page.items
        for li in d["lines"]
    ]
    headers = ["单号", "类型", "状态", "发货机构", "出库仓库", "收货机构", "物流公司", "物流单号", "制单时间"]
    headers += ["货品编码", "货品名称", "单位", "数量", "单价", "金额", "已出库", "已收货"]
    return await xlsx_response(f"{title}.xlsx", title, headers, rows)


async def in_transit_xlsx(ctx: Ctx, filters: shipments.InTransitFilters) -> Response:
    page = await shipments.in_transit(ctx, filters, params=PageParams(1, MAX_EXPORT_ROWS))
    rows = [
        [
            r["shipment_no"],
            r["type_name"],
            r["from_org_name"],
            r["to_org_name"],
            r["goods_code"],
            r["goods_name"],
            r["unit"],
            r["qty"],
            Decimal(r["amount"]),
            local(r["shipped_at"], ctx.tz),
            r["age_days"],
        ]
        for r in page.items
    ]
    headers = ["物流单号", "类型", "发货机构", "收货机构", "货品编码", "货品名称", "单位", "在途数量", "金额"]
    headers += ["出库时间", "在途天数"]
    return await xlsx_response("在途库存.xlsx", "在途库存", headers, rows)


async def discrepancies_xlsx(ctx: Ctx, filters: discrepancies.DiscrepancyFilters) -> Response:
    page = await discrepancies.search(ctx, filters, params=PageParams(1, MAX_EXPORT_ROWS))
    rows = [
        [
            r["shipment_no"],
            r["org_name"],
            r["to_org_name"],
            r["goods_code"],
            r["goods_name"],
            r["kind_name"],
            r["qty"],
            r["reason"],
            r["recorded_by_name"],
            local(r["recorded_at"], ctx.tz),
            r["status_name"],
            r["resolution_name"],
            r["remark"],
            r["resolved_by_name"],
            local(r["resolved_at"], ctx.tz) if r["resolved_at"] else "",
        ]
        for r in page.items
    ]
    headers = ["物流单号", "发货机构", "收货机构", "货品编码", "货品名称", "差异类型", "数量", "原因", "登记人"]
    headers += ["登记时间", "状态", "处理结果", "处理说明", "处理人", "处理时间"]
    return await xlsx_response("收货差异.xlsx", "收货差异", headers, rows)
