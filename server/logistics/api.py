"""JSON API of logistics orders: `/api/v1/orders` with lines (drafts), and the actions `submit`,
`withdraw` (the applicant), `approve`, `reject` `{reason}` and `close` (the parent). Thin: every
rule is in server.logistics.services.orders."""

from typing import Any

from litestar import Request, post
from litestar.params import FromPath, JSONBody

from server.core.api import to
from server.core.doc_controllers import DocApi
from server.core.web import ctx_of
from server.logistics import permissions as P
from server.logistics.schemas import (
    CreditOut,
    OrderIn,
    OrderLineIn,
    OrderLineOut,
    OrderLinePatch,
    OrderOut,
    OrderPatch,
    RejectIn,
)
from server.logistics.services import orders


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


ROUTES = [OrderApi]
