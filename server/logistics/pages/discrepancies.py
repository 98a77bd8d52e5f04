"""【收货差异】: the discrepancies of the caller's subtree's shipments, both sides; the shipper
answers a short with 找到补发 or 确认丢失 (an over or a damage with 已确认) in a dialog. Also
the receive form's per-line fields, turned into the service's `discrepancies`. Every rule is in
services.discrepancies and services.shipments."""

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core import uploads
from server.core.forms import form_data, list_query, query_string, saved
from server.core.web import ctx_of, htmx_target, render
from server.logistics import exports
from server.logistics import permissions as P
from server.logistics.services import discrepancies
from server.logistics.services.discrepancies import MAX_PHOTOS, SIDES, DiscrepancyFilters
from server.logistics.states import RESOLUTIONS, DiscrepancyKind, DiscrepancyStatus, Resolution

KINDS = DiscrepancyKind.labels()


def from_receive_form(data: dict, line_ids: list) -> list[dict]:
    """The receive form's 短少/多发/破损 fields of the ticked lines: a kind counts once its
    quantity is filled in."""
    out = []
    for line_id in line_ids:
        for kind in DiscrepancyKind:
            qty = str(data.get(f"{kind}_qty_{line_id}", "")).strip()
            if qty:
                reason = data.get(f"{kind}_reason_{line_id}", "")
                out.append({"line_id": line_id, "kind": kind.value, "qty": qty, "reason": reason})
    return out


class DiscrepancyPages(Controller):
    path = "/logistics/discrepancies"

    @get("/", opt={"perm": P.DISCREPANCY["view"]}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters = DiscrepancyFilters.from_query(request.query_params, status=DiscrepancyStatus.OPEN.value)
        page = await discrepancies.search(ctx, filters, params=list_query(request)[1])
        shown = filters.as_dict()
        return render(
            request,
            "logistics/discrepancies.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="收货差异",
            page=page,
            filters=shown,
            query=query_string(shown),
            kinds=KINDS,
            statuses=DiscrepancyStatus.labels(),
            sides=SIDES,
            resolutions=RESOLUTIONS,
            can_resolve=ctx.can(P.DISCREPANCY["resolve"]),
            can_add_photos=ctx.can(P.RECEIVING["receive"]),
        )

    @get("/export", opt={"perm": P.DISCREPANCY["export"]}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        filters = DiscrepancyFilters.from_query(request.query_params, status=DiscrepancyStatus.OPEN.value)
        return await exports.discrepancies_xlsx(ctx_of(request), filters)

    @get("/badge", opt={"perm": P.DISCREPANCY["view"]}, include_in_schema=False)
    async def badge(self, request: Request) -> Response:
        count = await discrepancies.open_count(ctx_of(request))
        return Response(str(count) if count else "", media_type="text/html")

    @get("/{discrepancy_id:int}/resolve", opt={"perm": P.DISCREPANCY["resolve"]}, include_in_schema=False)
    async def resolve_form(self, request: Request, discrepancy_id: FromPath[int]) -> Response:
        found = await discrepancies.get(ctx_of(request), discrepancy_id)
        chosen = request.query_params.get("resolution", "")
        resolution = Resolution(chosen) if chosen in Resolution.labels() else RESOLUTIONS[found["kind"]][0]
        return render(request, "logistics/_resolve_form.html", d=found, resolution=resolution)

    @post("/{discrepancy_id:int}/resolve", opt={"perm": P.DISCREPANCY["resolve"]}, include_in_schema=False)
    async def resolve(self, request: Request, discrepancy_id: FromPath[int]) -> Response:
        done = await discrepancies.resolve(ctx_of(request), discrepancy_id, await form_data(request))
        what = f"{done['shipment_no']} {done['goods_code']} {done['kind_name']} {done['qty']}"
        return saved(f"已处理 {what}：{done['resolution_name']}", "shipments")

    @get("/{discrepancy_id:int}/photos", opt={"perm": P.RECEIVING["receive"]}, include_in_schema=False)
    async def photos_form(self, request: Request, discrepancy_id: FromPath[int]) -> Response:
        found = await discrepancies.get(ctx_of(request), discrepancy_id)
        limit = uploads.MAX_BYTES // 1024 // 1024
        return render(request, "logistics/_photos_form.html", d=found, max_photos=MAX_PHOTOS, max_mb=limit)

    @post(
        "/{discrepancy_id:int}/photos",
        opt={"perm": P.RECEIVING["receive"]},
        include_in_schema=False,
        request_max_body_size=MAX_PHOTOS * uploads.MAX_BYTES + uploads.FRAMING,
    )
    async def add_photos(self, request: Request, discrepancy_id: FromPath[int]) -> Response:
        files = (await request.form()).getall("file", [])
        done = await discrepancies.add_photos(ctx_of(request), discrepancy_id, files)
        what = f"{done['shipment_no']} {done['goods_code']} {done['kind_name']}"
        return saved(f"已上传照片：{what}（共 {len(done['photos'])} 张）", "shipments")


ROUTES = [DiscrepancyPages]
