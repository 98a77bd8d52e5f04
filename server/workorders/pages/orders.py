"""【工单处理】 (SPEC 5): the filtered list with SLA colours (live on `workorders`), and the work
order's page: intake data, charges, repair lines, the status timeline and the device history,
with the forms of 派工, 【直接维修】 and its lines (a line's 数量 edited in its row), 【维修完毕】,
【结单】 and 取消, and the 【编辑】 dialog of the intake data and issued goods (until repaired);
and the technician's phone repair page that 【我的维修】 opens, built from the same partials.
Each form posts to its service and reloads the page it was on; a refusal shows in the form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core import hooks
from server.core.errors import FieldErrors
from server.core.forms import form_data, page_params, query_string
from server.core.tenancy import Ctx
from server.core.web import ctx_of, htmx_target, redirect, render
from server.masterdata.services import dictionaries, trees, warehouses
from server.masterdata.states import TreeKind
from server.system.services import orgs
from server.workorders import exports
from server.workorders import permissions as P
from server.workorders.pages.intake import INTAKE_KINDS, issued_rows, on_rows
from server.workorders.schemas import WorkOrderFilters
from server.workorders.services import carry, orders
from server.workorders.states import ENDED, Sla, WorkOrderStatus

BADGES = {
    "accepted": "blue",
    "sending": "amber",
    "repairing": "amber",
    "repaired": "green",
    "returning": "amber",
    "closed": "grey",
    "cancelled": "grey",
}
SLA_BADGES = {Sla.GREEN: "green", Sla.YELLOW: "amber", Sla.RED: "red"}
EDIT_FIELDS = (
    "serial_no",
    "barcode",
    "service_type",
    "test_result",
    "fault_description",
    "appearance",
    "accessories",
    "promised_at",
    "remark",
)
KINDS = ("service_type", "customer_type", "test_result", "repair_result", "closing_method", "payment_method")


async def _forms(ctx: Ctx, order: dict, kinds: dict, stock: dict[int, int]) -> dict:
    """What the repair forms of the detail and repair pages offer (codes, reasons, warehouses,
    each line's available stock, the enabled dictionary items); nothing once the order ended."""
    if order["status"] in ENDED:
        return {"choices": {}, "stock": None, "dicts": {}}
    return {
        "choices": await orders.choices(ctx, order),
        "stock": stock,
        "dicts": {k: [i for i in rows if i["enabled"]] for k, rows in kinds.items()},
    }


async def _carry(ctx: Ctx, order: dict) -> dict:
    """What the page offers of issue 20: 【送修】 (`centre`: a carry-in point's order in 受理 at
    home) or 【返还】 (`returnable`: repaired at the centre)."""
    at_home = order["at_intake"]
    centre = None
    if order["can_act"] and at_home and order["status"] == WorkOrderStatus.ACCEPTED:
        centre = await orgs.repair_centre_of(ctx, order["org_id"])
    returnable = order["can_act"] and not at_home and order["status"] == WorkOrderStatus.REPAIRED
    return {"centre": centre, "returnable": returnable}


def _back(request: Request, order_id: int) -> Response:
    """Back to the page the form was on: the phone repair page, or the detail page."""
    current = urlsplit(request.headers.get("hx-current-url", "")).path
    page = f"/workorders/{order_id}/repair"
    return redirect(request, page if current == page else f"/workorders/{order_id}")


async def _act(request: Request, order_id: int, service: Callable[[Ctx, Any, dict], Awaitable[dict]]) -> Response:
    """A form of the order's page through its service; the page reloads with the result (a
    refusal is shown in the form)."""
    data = await form_data(request, lists=("fault_reason_ids",))
    await service(ctx_of(request), order_id, data)
    return _back(request, order_id)


class OrderPages(Controller):
    path = "/workorders"

    @get("/", opt={"perm": P.VIEW}, include_in_schema=False)
    async def list_page(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters = WorkOrderFilters.from_query(request.query_params)
        page = await orders.search(ctx, filters, params=page_params(request), brief=True)
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

    @get("/mine", opt={"perm": P.MINE}, include_in_schema=False)
    async def mine(self, request: Request) -> Response:
        """【我的维修】: the caller's unfinished assignments, longest in their status first, on a
        phone-sized page that refreshes on the personal `live:my_repairs` (emitted to the technicians
        an order concerns), not on every order of the org."""
        ctx = ctx_of(request)
        filters = WorkOrderFilters(mine=True, sort="urgency")
        page = await orders.search(ctx, filters, params=page_params(request), brief=True)
        return render(
            request,
            "workorders/mine.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="我的维修",
            page=page,
            query="",
            badges=BADGES,
            sla_badges=SLA_BADGES,
            slas=Sla.labels(),
        )

    @get("/export", opt={"perm": P.EXPORT}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.orders_xlsx(ctx_of(request), WorkOrderFilters.from_query(request.query_params))

    @get("/{order_id:int}", opt={"perm": (P.VIEW, P.INTAKE_VIEW)}, include_in_schema=False)
    async def detail(self, request: Request, order_id: FromPath[int]) -> Response:
        """The order's page; for a live refresh of its timeline, a full reload instead when the
        order moved meanwhile (as a document page does: the cards and buttons follow the status)."""
        ctx = ctx_of(request)
        order, timeline, stock = await orders.for_page(ctx, order_id)
        if (
            htmx_target(request) == "wo-timeline-card"
            and request.query_params.get("shown", order["status"]) != order["status"]
        ):
            return Response("", headers={"HX-Refresh": "true"})
        kinds = await dictionaries.by_kind(ctx, KINDS, kept=True)
        device = await orders.device(ctx, order["serial_no"], brief=True) if order["serial_no"] else None
        return render(
            request,
            "workorders/detail.html",
            title=f"工单 {order['no']}",
            order=order,
            names=dictionaries.names(kinds),
            timeline=timeline,
            device=device,
            cards=await hooks.order_cards(ctx, order),
            carry=await _carry(ctx, order),
            badges=BADGES,
            sla_badges=SLA_BADGES,
            **await _forms(ctx, order, kinds, stock),
        )

    @get("/{order_id:int}/repair", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def repair(self, request: Request, order_id: FromPath[int]) -> Response:
        """The technician's phone repair form (from 【我的维修】): the order's key facts, then
        【直接维修】 or its lines and 【维修完毕】, the detail page's partials posting to the same
        actions; its facts and lines refresh live (`block=live`)."""
        ctx = ctx_of(request)
        order, _, stock = await orders.for_page(ctx, order_id)
        kinds = await dictionaries.by_kind(ctx, ("service_type", "repair_result"), kept=True)
        return render(
            request,
            "workorders/repair.html",
            block="live" if htmx_target(request) == "wo-repair-live" else None,
            title=f"维修 {order['no']}",
            order=order,
            names=dictionaries.names(kinds),
            badges=BADGES,
            sla_badges=SLA_BADGES,
            slas=Sla.labels(),
            **await _forms(ctx, order, kinds, stock),
        )

    @get("/{order_id:int}/edit", opt={"perm": (P.UPDATE, P.INTAKE)}, include_in_schema=False)
    async def edit_form(self, request: Request, order_id: FromPath[int]) -> Response:
        """The 【编辑】 dialog of the intake data; the product only before repair starts."""
        ctx = ctx_of(request)
        order = await orders.get(ctx, order_id)
        dicts = await dictionaries.by_kind(ctx, INTAKE_KINDS, enabled_only=True)
        stores = await warehouses.usable_for_org(ctx, order["org_id"])
        return render(
            request,
            "workorders/_edit_form.html",
            order=order,
            dicts=dicts,
            category=await trees.get(ctx, TreeKind.CATEGORY, order["category_id"]) if order["category_id"] else None,
            warehouse_labels={w["warehouse_id"]: f"{w['warehouse_code']} {w['warehouse_name']}" for w in stores},
        )

    @post("/{order_id:int}/edit", opt={"perm": (P.UPDATE, P.INTAKE)}, include_in_schema=False)
    async def edit(self, request: Request, order_id: FromPath[int]) -> Response:
        """The dialog's fields through `orders.update`: the customer's type is the order's too;
        the intake product, else the category, and both boxes empty keep the product the order
        has; the issued goods rows replace the order's."""
        form = await form_data(request)
        data = {k: form.get(k, "") for k in EDIT_FIELDS}
        data["customer_type"] = form.get("customer_type", "")
        data["customer"] = {f: form.get(f"customer.{f}", "") for f in ("name", "phone", "address")}
        data["customer"]["customer_type"] = data["customer_type"]
        if form.get("goods_id"):
            data["goods_id"] = form["goods_id"]
        elif form.get("category_id"):
            data |= {"goods_id": None, "category_id": form["category_id"]}
        data["issued_lines"], kept = await issued_rows(request)
        try:
            await orders.update(ctx_of(request), order_id, data)
        except FieldErrors as exc:
            raise on_rows(exc, kept) from None
        return redirect(request, f"/workorders/{order_id}")

    @post("/{order_id:int}/assign", opt={"perm": P.ASSIGN}, include_in_schema=False)
    async def assign(self, request: Request, order_id: FromPath[int]) -> Response:
        data = await form_data(request)
        await orders.assign(ctx_of(request), order_id, data.get("technician_id") or None)
        return redirect(request, f"/workorders/{order_id}")

    @post("/{order_id:int}/start-repair", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def start_repair(self, request: Request, order_id: FromPath[int]) -> Response:
        return await _act(request, order_id, orders.start_repair)

    @post("/{order_id:int}/lines", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def add_line(self, request: Request, order_id: FromPath[int]) -> Response:
        return await _act(request, order_id, orders.add_line)

    @post("/{order_id:int}/complete", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def complete(self, request: Request, order_id: FromPath[int]) -> Response:
        return await _act(request, order_id, orders.complete)

    @post("/{order_id:int}/close", opt={"perm": P.CLOSE}, include_in_schema=False)
    async def close(self, request: Request, order_id: FromPath[int]) -> Response:
        """Closed, the order's closing receipt opens to be printed and handed over."""
        await orders.close(ctx_of(request), order_id, await form_data(request))
        return redirect(request, f"/workorders/{order_id}/closing-receipt")

    @get("/{order_id:int}/closing-receipt", opt={"perm": P.VIEW}, include_in_schema=False)
    async def closing_receipt(self, request: Request, order_id: FromPath[int]) -> Response:
        """The closing receipt (结单单), printed with the tenant's template like the intake receipt."""
        return await hooks.print_document(ctx_of(request), "closing_receipt", order_id, dict(request.query_params))

    @post("/{order_id:int}/send", opt={"perm": P.SEND}, include_in_schema=False)
    async def send(self, request: Request, order_id: FromPath[int]) -> Response:
        return await _act(request, order_id, carry.send)

    @post("/{order_id:int}/return", opt={"perm": P.SEND}, include_in_schema=False)
    async def give_back(self, request: Request, order_id: FromPath[int]) -> Response:
        return await _act(request, order_id, carry.give_back)

    @post("/{order_id:int}/cancel", opt={"perm": P.CANCEL}, include_in_schema=False)
    async def cancel(self, request: Request, order_id: FromPath[int]) -> Response:
        return await _act(request, order_id, orders.cancel)

    @post("/{order_id:int}/lines/{line_id:int}", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def update_line(self, request: Request, order_id: FromPath[int], line_id: FromPath[int]) -> Response:
        """A repair line's 数量, edited in its row."""
        await orders.update_line(ctx_of(request), order_id, line_id, await form_data(request))
        return _back(request, order_id)

    @post("/{order_id:int}/lines/{line_id:int}/delete", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def delete_line(self, request: Request, order_id: FromPath[int], line_id: FromPath[int]) -> Response:
        await orders.delete_line(ctx_of(request), order_id, line_id)
        return _back(request, order_id)


ROUTES = [OrderPages]
