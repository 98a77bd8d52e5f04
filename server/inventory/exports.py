"""Excel exports of the document lists and of 【库存查询】, with the filters the list shows.
Money goes as Decimal (a number with the 0.0000 format, see core.xlsx), quantities as int, so
Excel sums the columns."""

from __future__ import annotations

from decimal import Decimal

from litestar import Response

from server.core.clock import local
from server.core.pagination import PageParams
from server.core.tenancy import Ctx
from server.core.xlsx import MAX_EXPORT_ROWS, xlsx_response, yes_no
from server.inventory.services import documents, stock

ALL = PageParams(1, MAX_EXPORT_ROWS)


async def documents_xlsx(ctx: Ctx, kind: str, filters: documents.StockDocFilters) -> Response:
    """One row per line, with its document's header, so the sheet sums and filters in Excel."""
    k = documents.KINDS[kind]
    page = await documents.search(ctx, kind, filters, params=PageParams(1, MAX_EXPORT_ROWS // 10))
    rows = [
        [
            d["no"],
            d["type_name"],
            d["status_name"],
            d["org_name"],
            d["warehouse_name"],
            d["supplier_name"],
            d["created_by_name"],
            local(d["created_at"], ctx.tz),
            li["goods_code"],
            li["goods_name"],
            li["unit"],
            li["qty"],
            Decimal(li["price"]),
            Decimal(li["amount"]),
            yes_no(li["confirmed"]),
            d["remark"],
        ]
        for d in page.items
        for li in d["lines"]
    ]
    headers = ["单号", "类型", "状态", "机构", "仓库", "供应商", "制单人", "制单时间", "货品编码", "货品名称"]
    headers += ["单位", "数量", k.price_label, "金额", "已确认", "备注"]
    return await xlsx_response(f"{k.label}.xlsx", k.label, headers, rows)


async def stock_xlsx(ctx: Ctx, filters: stock.StockFilters) -> Response:
    page = await stock.search(ctx, filters, params=ALL)
    rows = [
        [
            s["org_name"],
            s["warehouse_name"] if s["id"] is not None else "（在途，尚未入库）",
            s["goods_code"],
            s["goods_name"],
            s["category_path"],
            s["unit"],
            s["qty"],
            s["in_transit"],
            Decimal(s["avg_cost"]),
            Decimal(s["value"]),
            s["safety_stock"],
            yes_no(s["below_safety"]),
        ]
        for s in page.items
    ]
    headers = ["机构", "仓库", "货品编码", "货品名称", "品类", "单位", "库存数量", "在途", "平均成本", "库存金额"]
    headers += ["安全库存", "低于安全库存"]
    return await xlsx_response("库存.xlsx", "库存", headers, rows)
