"""Quote pages: 【报价】 from the order's page, the iPad page the customer reads and signs (or
declines) at the front desk, and the quote's print page (the tenant's 报价单 print template).
Thin: the rules are in services."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core import hooks
from server.core.forms import form_data
from server.core.web import ctx_of, redirect, render
from server.quotes import permissions as P
from server.quotes import services
from server.workorders import permissions as WO


class OrderQuotePages(Controller):
    path = "/workorders/{order_id:int}/quote"

    @post("/", opt={"perm": P.CREATE}, include_in_schema=False)
    async def create(self, request: Request, order_id: FromPath[int]) -> Response:
        """The new quote opens on the iPad page, ready to hand to the customer."""
        quote = await services.create(ctx_of(request), order_id, await form_data(request))
        return redirect(request, f"/quotes/{quote['id']}/sign")


class QuotePages(Controller):
    path = "/quotes/{quote_id:int}"

    @get("/sign", opt={"perm": P.PRESENT}, include_in_schema=False)
    async def sign(self, request: Request, quote_id: FromPath[int]) -> Response:
        quote, order = await services.with_order(ctx_of(request), quote_id)
        return render(request, "quotes/sign.html", title=f"报价确认 {order['no']}", quote=quote, order=order)

    @post("/approve", opt={"perm": P.PRESENT}, include_in_schema=False)
    async def approve(self, request: Request, quote_id: FromPath[int]) -> Response:
        data = await form_data(request)
        quote = await services.approve(ctx_of(request), quote_id, data.get("signature"))
        return redirect(request, f"/quotes/{quote['id']}/sign")

    @post("/decline", opt={"perm": P.PRESENT}, include_in_schema=False)
    async def decline(self, request: Request, quote_id: FromPath[int]) -> Response:
        data = await form_data(request)
        quote = await services.decline(ctx_of(request), quote_id, data.get("reason"))
        return redirect(request, f"/quotes/{quote['id']}/sign")

    @get("/print", opt={"perm": WO.VIEW}, include_in_schema=False)
    async def print_page(self, request: Request, quote_id: FromPath[int]) -> Response:
        """The quote printed with the tenant's template, as every document is."""
        return await hooks.print_document(ctx_of(request), "quote", quote_id, dict(request.query_params))


ROUTES = [OrderQuotePages, QuotePages]
