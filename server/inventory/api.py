"""JSON API of inventory: inbound and outbound documents with their lines and actions, stock
and stock moves. Thin: every rule is in server.inventory.services."""

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.core.api import PageNo, PageSize, given, page_of, page_type, to
from server.core.doc_controllers import DocApi, DocFilters, DocOut
from server.core.openapi import XLSX
from server.core.pagination import PageParams
from server.core.web import ctx_of
from server.inventory import exports
from server.inventory import permissions as P
from server.inventory.schemas import (
    ConfirmIn,
    DocPatch,
    InboundIn,
    InboundLineIn,
    InboundLineOut,
    InboundLinePatch,
    InboundOut,
    OutboundIn,
    OutboundLineIn,
    OutboundLineOut,
    OutboundLinePatch,
    OutboundOut,
    StockMoveOut,
    StockOut,
)
from server.inventory.services import documents, stock
from server.inventory.services.stock import MoveFilters, StockFilters

StockPage = page_type(StockOut)
StockMovePage = page_type(StockMoveOut)


class StockDocApi(DocApi):
    """Stock documents: an export of the list, and confirmation of the ticked lines."""

    service = documents
    tags = ["inventory"]
    header_patch = DocPatch
    filters = documents.StockDocFilters

    @get("/export", opt={"action": "export"}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
    async def export(self, request: Request, filters: NamedDependency[DocFilters]) -> Response:
        return await exports.documents_xlsx(ctx_of(request), self.kind, filters)

    @post("/{doc_id:int}/confirm", opt={"action": "confirm"}, status_code=200, summary="确认（勾选的明细，可部分确认）")
    async def confirm(self, request: Request, doc_id: FromPath[int], data: JSONBody[ConfirmIn | None] = None) -> DocOut:
        line_ids = given(data).get("line_ids") if data is not None else None
        return self.out(await documents.confirm(ctx_of(request), self.kind, doc_id, line_ids))


class InboundApi(StockDocApi):
    kind = "inbound"
    path = "/api/v1/inbounds"
    doc_in, doc_out, line_in, line_out, line_patch = (
        InboundIn,
        InboundOut,
        InboundLineIn,
        InboundLineOut,
        InboundLinePatch,
    )


class OutboundApi(StockDocApi):
    kind = "outbound"
    path = "/api/v1/outbounds"
    doc_in, doc_out = OutboundIn, OutboundOut
    line_in, line_out, line_patch = OutboundLineIn, OutboundLineOut, OutboundLinePatch


class StockController(Controller):
    path = "/api/v1/stock"
    tags = ["inventory"]
    dependencies = {"filters": StockFilters.provide()}

    @get("/", opt={"perm": P.STOCK["view"]})
    async def list_stock(
        self, request: Request, filters: NamedDependency[StockFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> StockPage:
        return page_of(StockOut, await stock.search(ctx_of(request), filters, params=PageParams(page, page_size)))

    @get("/export", opt={"perm": P.STOCK["export"]}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
    async def export(self, request: Request, filters: NamedDependency[StockFilters]) -> Response:
        return await exports.stock_xlsx(ctx_of(request), filters)

    @get("/{stock_id:int}", opt={"perm": P.STOCK["view"]})
    async def read(self, request: Request, stock_id: FromPath[int]) -> StockOut:
        return to(StockOut, await stock.get(ctx_of(request), stock_id))


class StockMoveController(Controller):
    path = "/api/v1/stock-moves"
    tags = ["inventory"]
    dependencies = {"filters": MoveFilters.provide()}

    @get("/", opt={"perm": P.STOCK["view"]})
    async def list_moves(
        self, request: Request, filters: NamedDependency[MoveFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> StockMovePage:
        return page_of(StockMoveOut, await stock.moves(ctx_of(request), filters, params=PageParams(page, page_size)))


ROUTES = [InboundApi, OutboundApi, StockController, StockMoveController]
