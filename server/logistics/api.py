"""JSON API of logistics: `/api/v1/orders` with lines (drafts) and the actions `submit`,
`withdraw` (the applicant), `approve`, `reject` `{reason}` and `close` (the parent);
`/api/v1/shipments` with their lines and actions; `/api/v1/in-transit`. Thin: every rule is in
server.logistics.services."""

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, MultipartBody

from server.core import uploads
from server.core.api import PageNo, PageSize, given, page_of, page_type, to
from server.core.doc_controllers import DocApi, DocFilters, DocOut
from server.core.openapi import XLSX
from server.core.pagination import PageParams
from server.core.web import ctx_of
from server.logistics import exports
from server.logistics import permissions as P
from server.logistics.schemas import (
    ConfirmIn,
    CreditOut,
    DiscrepancyOut,
    InTransitOut,
    OrderIn,
    OrderLineIn,
    OrderLineOut,
    OrderLinePatch,
    OrderOut,
    OrderPatch,
    ReceiveIn,
    RefuseIn,
    RejectIn,
    ResolveIn,
    ShipmentDeviceOut,
    ShipmentIn,
    ShipmentLineIn,
    ShipmentLineOut,
    ShipmentLinePatch,
    ShipmentOut,
    ShipmentPatch,
)
from server.logistics.services import discrepancies, orders, shipments
from server.logistics.services.discrepancies import MAX_PHOTOS, DiscrepancyFilters
from server.logistics.services.shipments import InTransitFilters

InTransitPage = page_type(InTransitOut)
DiscrepancyPage = page_type(DiscrepancyOut)


@dataclass
class PhotoForm:
    file: UploadFile  # an image: JPEG, PNG, GIF or WebP by its bytes


# --- orders ------------------------------------------------------------------------------------


class OrderApi(DocApi):
    """Orders on the shared document API (list, read, drafts and their lines, submit, delete);
    an order has no 【确认】: the parent approves, ships and may close it short."""

    service = orders
    kind = "order"
    path = "/api/v1/orders"
    tags = ["logistics"]
    doc_in, doc_out, line_in, line_out, line_patch, header_patch = (
        OrderIn,
        OrderOut,
        OrderLineIn,
        OrderLineOut,
        OrderLinePatch,
        OrderPatch,
    )
    filters = orders.OrderFilters
    confirm = None  # type: ignore[assignment]

    def out(self, doc: dict) -> Any:
        header = {f: doc[f] for f in OrderOut.__struct_fields__ if f not in ("lines", "credit")}
        credit = to(CreditOut, doc["credit"]) if doc["credit"] else None
        return OrderOut(**header, credit=credit, lines=[to(OrderLineOut, li) for li in doc["lines"]])

    @get("/export", opt={"action": "export"}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
    async def export(self, request: Request, filters: NamedDependency[DocFilters]) -> Response:
        return await exports.orders_xlsx(ctx_of(request), filters)

    @post(
        "/{doc_id:int}/withdraw",
        opt={"perm": P.ORDER["withdraw"]},
        status_code=200,
        summary="撤回（暂存或已提交未审核）",
    )
    async def withdraw(self, request: Request, doc_id: FromPath[int]) -> OrderOut:
        return self.out(await orders.withdraw(ctx_of(request), doc_id))

    @post("/{doc_id:int}/approve", opt={"perm": P.REVIEW["approve"]}, status_code=200, summary="审核通过（上级机构）")
    async def approve(self, request: Request, doc_id: FromPath[int]) -> OrderOut:
        return self.out(await orders.approve(ctx_of(request), doc_id))

    @post("/{doc_id:int}/reject", opt={"perm": P.REVIEW["reject"]}, status_code=200, summary="驳回并释放冻结额度")
    async def reject(self, request: Request, doc_id: FromPath[int], data: JSONBody[RejectIn]) -> OrderOut:
        return self.out(await orders.reject(ctx_of(request), doc_id, data.reason))

    @post(
        "/{doc_id:int}/close",
        opt={"perm": P.REVIEW["close"]},
        status_code=200,
        summary="关闭订单（释放未发货部分的冻结）",
    )
    async def close(self, request: Request, doc_id: FromPath[int]) -> OrderOut:
        return self.out(await orders.close(ctx_of(request), doc_id))


# --- shipments ---------------------------------------------------------------------------------


class ShipmentApi(DocApi):
    """`/api/v1/shipments`: the shipper's life cycle (drafts, lines, submit, 【确认出库】 of ticked
    lines, 【撤回】), and the receiver's 【确认收货】. The list holds both sides (`side`)."""

    service = shipments
    kind = "shipment"
    path = "/api/v1/shipments"
    tags = ["logistics"]
    doc_in, doc_out, line_in, line_out, line_patch = (
        ShipmentIn,
        ShipmentOut,
        ShipmentLineIn,
        ShipmentLineOut,
        ShipmentLinePatch,
    )
    header_patch = ShipmentPatch
    filters = shipments.ShipmentFilters

    def out(self, doc: dict) -> Any:
        header = {f: doc[f] for f in ShipmentOut.__struct_fields__ if f not in ("lines", "device")}
        header["device"] = to(ShipmentDeviceOut, doc["device"]) if doc["device"] else None
        lines = [
            to(ShipmentLineOut, li | {"discrepancies": [to(DiscrepancyOut, d) for d in li["discrepancies"]]})
            for li in doc["lines"]
        ]
        return ShipmentOut(**header, lines=lines)

    @get("/export", opt={"action": "export"}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
    async def export(self, request: Request, filters: NamedDependency[DocFilters]) -> Response:
        return await exports.shipments_xlsx(ctx_of(request), filters)

    @post(
        "/{doc_id:int}/confirm",
        opt={"action": "confirm"},
        status_code=200,
        summary="确认出库（勾选的明细，可部分出库）",
    )
    async def confirm(self, request: Request, doc_id: FromPath[int], data: JSONBody[ConfirmIn | None] = None) -> DocOut:
        line_ids = given(data).get("line_ids") if data is not None else None
        return self.out(await shipments.confirm(ctx_of(request), self.kind, doc_id, line_ids))

    @post("/{doc_id:int}/recall", opt={"action": "recall"}, status_code=200, summary="撤回（尚未收货）")
    async def recall(self, request: Request, doc_id: FromPath[int]) -> DocOut:
        return self.out(await shipments.recall(ctx_of(request), self.kind, doc_id))

    @post("/{doc_id:int}/receive", opt={"perm": P.RECEIVING["receive"]}, status_code=200, summary="确认收货")
    async def receive(self, request: Request, doc_id: FromPath[int], data: JSONBody[ReceiveIn]) -> ShipmentOut:
        return self.out(await shipments.receive(ctx_of(request), self.kind, doc_id, given(data)))

    @post(
        "/{doc_id:int}/refuse",
        opt={"perm": P.RECEIVING["receive"]},
        status_code=200,
        summary="拒收（送修、送修返还：设备留在发货机构，不计费）",
    )
    async def refuse(self, request: Request, doc_id: FromPath[int], data: JSONBody[RefuseIn]) -> ShipmentOut:
        return self.out(await shipments.refuse(ctx_of(request), self.kind, doc_id, given(data)))


class InTransitController(Controller):
    path = "/api/v1/in-transit"
    tags = ["logistics"]
    dependencies = {"filters": InTransitFilters.provide()}

    @get("/", opt={"perm": P.IN_TRANSIT["view"]})
    async def list_in_transit(
        self, request: Request, filters: NamedDependency[InTransitFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> InTransitPage:
        result = await shipments.in_transit(ctx_of(request), filters, params=PageParams(page, page_size))
        return page_of(InTransitOut, result)

    @get("/export", opt={"perm": P.IN_TRANSIT["export"]}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
    async def export(self, request: Request, filters: NamedDependency[InTransitFilters]) -> Response:
        return await exports.in_transit_xlsx(ctx_of(request), filters)


class DiscrepancyController(Controller):
    """`/api/v1/shipment-discrepancies` 【收货差异】: both sides read them, the shipper resolves."""

    path = "/api/v1/shipment-discrepancies"
    tags = ["logistics"]
    dependencies = {"filters": DiscrepancyFilters.provide()}

    @get("/", opt={"perm": P.DISCREPANCY["view"]})
    async def list_discrepancies(
        self, request: Request, filters: NamedDependency[DiscrepancyFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> DiscrepancyPage:
        result = await discrepancies.search(ctx_of(request), filters, params=PageParams(page, page_size))
        return page_of(DiscrepancyOut, result)

    @get("/export", opt={"perm": P.DISCREPANCY["export"]}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
    async def export(self, request: Request, filters: NamedDependency[DiscrepancyFilters]) -> Response:
        return await exports.discrepancies_xlsx(ctx_of(request), filters)

    @get("/{discrepancy_id:int}", opt={"perm": P.DISCREPANCY["view"]})
    async def read(self, request: Request, discrepancy_id: FromPath[int]) -> DiscrepancyOut:
        return to(DiscrepancyOut, await discrepancies.get(ctx_of(request), discrepancy_id))

    @post(
        "/{discrepancy_id:int}/resolve",
        opt={"perm": P.DISCREPANCY["resolve"]},
        status_code=200,
        summary="处理收货差异（发货机构：找到补发、确认丢失；多发、破损：已确认）",
    )
    async def resolve(
        self, request: Request, discrepancy_id: FromPath[int], data: JSONBody[ResolveIn]
    ) -> DiscrepancyOut:
        return to(DiscrepancyOut, await discrepancies.resolve(ctx_of(request), discrepancy_id, given(data)))

    @post(
        "/{discrepancy_id:int}/photos",
        opt={"perm": P.RECEIVING["receive"]},
        status_code=200,
        # the body is refused (413) before it is read past one photo and its multipart framing
        request_max_body_size=uploads.MAX_BYTES + uploads.FRAMING,
        summary=f"上传收货差异的照片（收货机构，差异未处理时；每次一张，每条最多 {MAX_PHOTOS} 张，"
        f"JPEG/PNG/GIF/WebP，单张最大 {uploads.MAX_BYTES // 1024 // 1024} MB）",
    )
    async def add_photo(
        self, request: Request, discrepancy_id: FromPath[int], data: MultipartBody[PhotoForm]
    ) -> DiscrepancyOut:
        return to(DiscrepancyOut, await discrepancies.add_photos(ctx_of(request), discrepancy_id, [data.file]))


ROUTES = [OrderApi, ShipmentApi, InTransitController, DiscrepancyController]
