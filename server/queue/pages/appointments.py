"""【预约管理】: an org's appointments of a day (default today, the caller's queue org), by slot,
filtered by status, service and a code / phone / name, live; 【取消预约】 gives the place back.
The same `AppointmentFilters` as the API's list."""

from __future__ import annotations

from urllib.parse import unquote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from msgspec.structs import replace

from server.core.forms import form_data, page_params, query_string, saved
from server.core.web import ctx_of, htmx_target, render
from server.queue import permissions as P
from server.queue.schemas import AppointmentFilters
from server.queue.services import appointments, setup
from server.queue.states import AppointmentStatus


def _filters(request: Request) -> AppointmentFilters:
    query = request.query_params
    return AppointmentFilters.from_query(
        {name: query.get(name, "").strip() for name in AppointmentFilters.__struct_fields__}
    )


class AppointmentPages(Controller):
    path = "/queue/appointments"

    @get("/", opt={"perm": P.APPOINTMENTS_VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        """The page, or its rows (`#rows`: a filter, a page, a live refresh)."""
        ctx = ctx_of(request)
        filters = _filters(request)
        org = await (setup.org_of(ctx, filters.org_id) if filters.org_id else setup.queue_org(ctx))
        day = filters.date or setup.today(ctx).isoformat()
        filters = replace(filters, org_id=str(org["id"]), date=day)
        page = await appointments.search(ctx, filters, page_params(request))
        return render(
            request,
            "queue/appointments.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="预约管理",
            org=org,
            filters=filters,
            query=query_string(filters.as_dict()),
            page=page,
            services=await setup.services(ctx, org["id"]),
            statuses=AppointmentStatus.labels(),
            booking=await appointments.booking(ctx, org["id"]),
        )

    @post("/{appointment_id:int}/cancel", opt={"perm": P.APPOINTMENTS_CANCEL}, include_in_schema=False, status_code=200)
    async def cancel(self, request: Request, appointment_id: FromPath[int]) -> Response:
        reason = request.headers.get("hx-prompt", "")
        if request.headers.get("hx-prompt-uri-autoencoded") == "true":  # htmx's way with non-Latin-1 text
            reason = unquote(reason)
        reason = reason or (await form_data(request)).get("reason", "")
        done = await appointments.cancel(ctx_of(request), appointment_id, {"reason": reason})
        return saved(f"预约 {done['code']} 已取消", topic="queue")


ROUTES = [AppointmentPages]
