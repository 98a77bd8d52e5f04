"""JSON API of quotes: a work order's `/api/v1/work-orders/{id}/quote` (`POST` a new one, `GET`
the current one) and `/api/v1/quotes/{id}/approve` `{signature}` and `/decline` `{reason}`.
Thin: the rules are in services."""

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from server.core.api import given
from server.core.web import ctx_of
from server.quotes import permissions as P
from server.quotes import services
from server.quotes.schemas import ApproveIn, DeclineIn, QuoteIn, QuoteOut
from server.workorders import permissions as WO


def _out(quote: dict) -> QuoteOut:
    return msgspec.convert(quote, QuoteOut)


class WorkOrderQuoteApi(Controller):
    path = "/api/v1/work-orders/{order_id:int}/quote"
    tags = ["quotes"]

    @get("/", opt={"perm": WO.VIEW}, summary="工单的当前报价")
    async def read(self, request: Request, order_id: FromPath[int]) -> QuoteOut:
        return _out(await services.current(ctx_of(request), order_id))

    @post("/", opt={"perm": P.CREATE}, status_code=201, summary="报价（按维修明细：配件零售价 + 工时费）")
    async def create(self, request: Request, order_id: FromPath[int], data: JSONBody[QuoteIn]) -> QuoteOut:
        return _out(await services.create(ctx_of(request), order_id, given(data)))


class QuoteApi(Controller):
    path = "/api/v1/quotes/{quote_id:int}"
    tags = ["quotes"]

    @get("/", opt={"perm": WO.VIEW}, summary="报价")
    async def read(self, request: Request, quote_id: FromPath[int]) -> QuoteOut:
        return _out(await services.get(ctx_of(request), quote_id))

    @post("/approve", opt={"perm": P.PRESENT}, status_code=200, summary="客户签字同意报价")
    async def approve(self, request: Request, quote_id: FromPath[int], data: JSONBody[ApproveIn]) -> QuoteOut:
        return _out(await services.approve(ctx_of(request), quote_id, data.signature))

    @post("/decline", opt={"perm": P.PRESENT}, status_code=200, summary="客户拒绝报价")
    async def decline(self, request: Request, quote_id: FromPath[int], data: JSONBody[DeclineIn]) -> QuoteOut:
        return _out(await services.decline(ctx_of(request), quote_id, data.reason))


ROUTES = [WorkOrderQuoteApi, QuoteApi]
