"""Excel export of 【工单处理】's list with its filters: one row per work order, money as Decimal
(a number with the 0.0000 format, see core.xlsx) so Excel sums the charges."""

from __future__ import annotations

from decimal import Decimal

from litestar import Response

from server.core.clock import local
from server.core.pagination import PageParams
from server.core.tenancy import Ctx
from server.core.xlsx import MAX_EXPORT_ROWS, xlsx_response
from server.masterdata.services import dictionaries
from server.workorders.schemas import WorkOrderFilters
from server.workorders.services import orders
from server.workorders.states import Sla

HEADERS = ["工单号", "状态", "时效", "客户", "手机号", "产品", "序列号", "服务类型", "故障描述", "维修技师"]
HEADERS += ["维修结果", "工时费", "材料费", "费用合计", "实收金额", "受理人", "受理时间", "结单时间"]


async def orders_xlsx(ctx: Ctx, filters: WorkOrderFilters) -> Response:
    page = await orders.search(ctx, filters, params=PageParams(1, MAX_EXPORT_ROWS // 10))
    names = {
        k: {i["code"]: i["name"] for i in await dictionaries.items(ctx, k)} for k in ("service_type", "repair_result")
    }
    rows = [
        [
            o["no"],
            o["status_label"],
            Sla(o["sla"]).label,
            o["customer"]["name"],
            o["customer"]["phone"],
            o["goods_name"],
            o["serial_no"],
            names["service_type"].get(o["service_type"], o["service_type"]),
            o["fault_description"],
            o["technician_name"],
            names["repair_result"].get(o["repair_result"], o["repair_result"]),
            Decimal(o["charges"]["labor"]),
            Decimal(o["charges"]["parts"]),
            Decimal(o["charges"]["total"]),
            Decimal(o["amount_received"]),
            o["created_by_name"],
            local(o["created_at"], ctx.tz),
            local(o["closed_at"], ctx.tz) if o["closed_at"] else "",
        ]
        for o in page.items
    ]
    return await xlsx_response("工单.xlsx", "工单", HEADERS, rows)
