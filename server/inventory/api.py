"""JSON API of inventory: inbound and outbound documents with their lines and actions, stock
and stock moves. Thin: every rule is in server.inventory.services."""

from typing import Annotated

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from server.core.api import given, page_of, page_type, to
from server.core.openapi import XLSX
from server.core.pagination import PageParams
from server.core.web import ctx_of
from server.inventory import exports
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

PageNo = Annotated[int, QueryParameter(ge=1, le=1_000_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]
StockPage = page_type(StockOut)
StockMovePage = page_type(StockMoveOut)
Filters = NamedDependency[dict]  # a list's filters, shared by the list and its export


async def doc_filters(
    no: FromQuery[str] = "",
    type: FromQuery[str] = "",
    status: FromQuery[str] = "",
    warehouse_id: FromQuery[str] = "",
    supplier_id: FromQuery[str] = "",
    created_by: FromQuery[str] = "",
    date_from: FromQuery[str] = "",
    date_to: FromQuery[str] = "",
) -> dict:
    return {
        "no": no,
        "type": type,
        "status": status,
        "warehouse_id": warehouse_id,
        "supplier_id": supplier_id,
        "created_by": created_by,
        "date_from": date_from,
        "date_to": date_to,
    }


def _out(kind: str, doc: dict):
    out, line_out = (InboundOut, InboundLineOut) if kind == "inbound" else (OutboundOut, OutboundLineOut)
    return out(
        **{f: doc[f] for f in out.__struct_fields__ if f != "lines"}, lines=[to(line_out, li) for li in doc["lines"]]
    )


def _doc_controller(kind: str, path: str, in_s, out_s, line_in, line_patch) -> type[Controller]:
    out_page = page_type(out_s)

    class DocController(Controller):
        tags = ["inventory"]
        dependencies = {"filters": Provide(doc_filters)}

        @get("/")
        async def list_docs(
            self, request: Request, filters: Filters, page: PageNo = 1, page_size: PageSize = 50
        ) -> out_page:
            result = await documents.search(ctx_of(request), kind, params=PageParams(page, page_size), **filters)
            return result.envelope([_out(kind, d) for d in result.items])

        @get("/export", responses=XLSX, summary="导出 Excel（当前筛选条件）")
        async def export(self, request: Request, filters: Filters) -> Response:
            return await exports.documents_xlsx(ctx_of(request), kind, filters)

        @post("/", summary="新增（暂存）")
        async def create(self, request: Request, data: JSONBody[in_s]) -> out_s:
            return _out(kind, await documents.create(ctx_of(request), kind, given(data)))

        @get("/{doc_id:int}")
        async def read(self, request: Request, doc_id: FromPath[int]) -> out_s:
            return _out(kind, await documents.get(ctx_of(request), kind, doc_id))

        @patch("/{doc_id:int}", summary="修改表头（仅暂存）")
        async def update(self, request: Request, doc_id: FromPath[int], data: JSONBody[DocPatch]) -> out_s:
            return _out(kind, await documents.update(ctx_of(request), kind, doc_id, given(data)))

        @delete("/{doc_id:int}", status_code=200, summary="删除（暂存或已提交且未确认）")
        async def remove(self, request: Request, doc_id: FromPath[int]) -> out_s:
            return _out(kind, await documents.delete(ctx_of(request), kind, doc_id))

        @post("/{doc_id:int}/lines", summary="添加明细（仅暂存）")
        async def add_line(self, request: Request, doc_id: FromPath[int], data: JSONBody[line_in]) -> out_s:
            return _out(kind, await documents.add_line(ctx_of(request), kind, doc_id, given(data)))

        @patch("/{doc_id:int}/lines/{line_id:int}", summary="修改明细（仅暂存）")
        async def update_line(
            self, request: Request, doc_id: FromPath[int], line_id: FromPath[int], data: JSONBody[line_patch]
        ) -> out_s:
            return _out(kind, await documents.update_line(ctx_of(request), kind, doc_id, line_id, given(data)))

        @delete("/{doc_id:int}/lines/{line_id:int}", status_code=200, summary="删除明细（仅暂存）")
        async def delete_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> out_s:
            return _out(kind, await documents.delete_line(ctx_of(request), kind, doc_id, line_id))

        @post("/{doc_id:int}/submit", status_code=200, summary="提交")
        async def submit(self, request: Request, doc_id: FromPath[int]) -> out_s:
            return _out(kind, await documents.submit(ctx_of(request), kind, doc_id))

        @post("/{doc_id:int}/confirm", status_code=200, summary="确认（勾选的明细，可部分确认）")
        async def confirm(
            self, request: Request, doc_id: FromPath[int], data: JSONBody[ConfirmIn | None] = None
        ) -> out_s:
            line_ids = given(data).get("line_ids") if data is not None else None
            return _out(kind, await documents.confirm(ctx_of(request), kind, doc_id, line_ids))

    DocController.path = path
    DocController.__name__ = f"{kind.title()}Controller"
    return DocController


async def stock_filters(
    org_id: FromQuery[str] = "",
    warehouse_id: FromQuery[str] = "",
    goods_id: FromQuery[str] = "",
    category_id: FromQuery[str] = "",
    below_safety: FromQuery[str] = "",
    q: FromQuery[str] = "",
) -> dict:
    return {
        "org_id": org_id,
        "warehouse_id": warehouse_id,
        "goods_id": goods_id,
        "category_id": category_id,
        "below_safety": below_safety,
        "q": q,
    }


class StockController(Controller):
    path = "/api/v1/stock"
    tags = ["inventory"]
    dependencies = {"filters": Provide(stock_filters)}

    @get("/")
    async def list_stock(
        self, request: Request, filters: Filters, page: PageNo = 1, page_size: PageSize = 50
    ) -> StockPage:
        return page_of(StockOut, await stock.search(ctx_of(request), params=PageParams(page, page_size), **filters))

    @get("/export", responses=XLSX, summary="导出 Excel（当前筛选条件）")
    async def export(self, request: Request, filters: Filters) -> Response:
        return await exports.stock_xlsx(ctx_of(request), filters)

    @get("/{stock_id:int}")
    async def read(self, request: Request, stock_id: FromPath[int]) -> StockOut:
        return to(StockOut, await stock.get(ctx_of(request), stock_id))


class StockMoveController(Controller):
    path = "/api/v1/stock-moves"
    tags = ["inventory"]
    dependencies = {"filters": Provide(stock_filters)}

    @get("/")
    async def list_moves(
        self,
        request: Request,
        filters: Filters,
        stock_id: FromQuery[str] = "",
        doc_no: FromQuery[str] = "",
        page: PageNo = 1,
        page_size: PageSize = 50,
    ) -> StockMovePage:
        result = await stock.moves(
            ctx_of(request), params=PageParams(page, page_size), stock_id=stock_id, doc_no=doc_no, **filters
        )
        return page_of(StockMoveOut, result)


ROUTES = [
    _doc_controller("inbound", "/api/v1/inbounds", InboundIn, InboundOut, InboundLineIn, InboundLinePatch),
    _doc_controller("outbound", "/api/v1/outbounds", OutboundIn, OutboundOut, OutboundLineIn, OutboundLinePatch),
    StockController,
    StockMoveController,
]
