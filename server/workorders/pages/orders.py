"""【工单处理】 (SPEC 5): the filtered list with SLA colours (live on `workorders`), and the work
order's page: intake data, charges, repair lines, the status timeline and the device history.
The actions on it (edit, repair, complete, close) are the JSON API's for now."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from server.core.forms import page_params, query_string
from server.core.web import ctx_of, htmx_target, render
from server.masterdata.services import dictionaries
from server.workorders import exports
from server.workorders import permissions as P
from server.workorders.schemas import WorkOrderFilters
from server.workorders.services import orders
from server.workorders.states import Sla, WorkOrderStatus

BADGES = {"accepted": "blue", "repairing": "amber", "repaired": "green", "closed": "grey", "cancelled": "grey"}
SLA_BADGES = {Sla.GREEN: "green", Sla.YELLOW: "amber", Sla.RED: "red"}
KINDS = ("service_type", "customer_type", "test_result", "repair_result", "closing_method", "payment_method")


class OrderPages(Controller):
    path = "/workorders"

    @get("/", opt={"perm": P.VIEW}, include_in_schema=False)
    async def list_page(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters = WorkOrderFilters.from_query(request.query_params)
        page = await orders.search(ctx, filters, params=page_params(request))
        return render(
            request,
            "workorders/list.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="工单处理",
            page=page,
            filters=filters,
            query=query_string({k: v for k, v in filters.as_dict().items() if v}),
            statuses=WorkOrderStatus.labels(),
            slas=Sla.labels(),
            badges=BADGES,
            sla_badges=SLA_BADGES,
        )

    @get("/export", opt={"perm": P.EXPORT}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.orders_xlsx(ctx_of(request), WorkOrderFilters.from_query(request.query_params))

    @get("/{order_id:int}", opt={"perm": (P.VIEW, P.INTAKE_VIEW)}, include_in_schema=False)
    async def detail(self, request: Request, order_id: FromPath[int]) -> Response:
        ctx = ctx_of(request)
        order = await orders.get(ctx, order_id)
        names = {kind: {i["code"]: i["name"] for i in await dictionaries.items(ctx, kind)} for kind in KINDS}
        device = await orders.device(ctx, order["serial_no"]) if order["serial_no"] else None
        return render(
            request,
            "workorders/detail.html",
            title=f"工单 {order['no']}",
            order=order,
            names=names,
            timeline=await orders.history(ctx, order["id"]),
            device=device,
            badges=BADGES,
            sla_badges=SLA_BADGES,
        )


ROUTES = [OrderPages]
