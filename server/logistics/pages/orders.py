"""Pages of 【物流管理】's orders: 【订货申请】 (the branch: its orders, the order page with lines in a
dialog whose goods picker offers only what the branch may order, 【暂存】/【提交】/【撤回】/【删除】)
and 【订单审核】 (the parent: its children's orders with each child's credit beside them,
【审核通过】, 【驳回】 with a reason, 【关闭订单】). Both show each line ordered / shipped / received
and refresh live on the `orders` topic. Rules live in server.logistics.services.orders."""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from server.core.doc_controllers import DocPages, go
from server.core.forms import form_data, list_query, query_string, saved
from server.core.pagination import Page
from server.core.tenancy import Ctx
from server.core.web import ctx_of, htmx_target, render
from server.logistics import exports
from server.logistics import permissions as P
from server.logistics.services import orders
from server.logistics.states import BADGES, SHIPPABLE, OrderStatus
from server.masterdata.services import goods
from server.system.services import orgs

TEMPLATE = "logistics/order.html"


class OwnOrderFilters(orders.OrderFilters):
    """【订货申请】 lists the orders the caller's org placed."""

    side: str = "own"


class ReviewFilters(orders.OrderFilters):
    """【订单审核】 lists what the children placed, those waiting for review first."""

    side: str = "review"
    status: str = "submitted"


def _common() -> dict:
    return {"badges": BADGES, "S": OrderStatus, "statuses": orders.STATUSES, "topic": orders.TOPIC}


def _actions(ctx: Ctx, doc: dict) -> dict:
    """What the caller may do with the order as it stands (buttons)."""
    own, parent, status = doc["org_id"] == ctx.org_id, doc["parent_org_id"] == ctx.org_id, doc["status"]
    return {
        "editable": own and status == OrderStatus.DRAFT and ctx.can(P.ORDER["create"]),
        "can_submit": own and status == OrderStatus.DRAFT and ctx.can(P.ORDER["submit"]),
        "can_withdraw": own and status in (OrderStatus.DRAFT, OrderStatus.SUBMITTED) and ctx.can(P.ORDER["withdraw"]),
        "can_delete": own and status in (OrderStatus.DRAFT, OrderStatus.SUBMITTED) and ctx.can(P.ORDER["delete"]),
        "can_approve": parent and status == OrderStatus.SUBMITTED and ctx.can(P.REVIEW["approve"]),
        "can_reject": parent and status == OrderStatus.SUBMITTED and ctx.can(P.REVIEW["reject"]),
        "can_close": parent and status in SHIPPABLE and ctx.can(P.REVIEW["close"]),
        "can_ship": parent and status in SHIPPABLE and ctx.can(P.SHIPMENT["create"]),
    }


def _order_page(request: Request, doc: dict, base: str, title: str, block: str | None = None) -> Response:
    """The order page of either screen (`base`): its lines region alone for a live refresh, or a
    full reload when the order changed state meanwhile (its buttons change)."""
    if block == "lines" and request.query_params.get("shown", doc["status"]) != doc["status"]:
        return Response("", headers={"HX-Refresh": "true"})
    ctx = ctx_of(request)
    return render(request, TEMPLATE, block=block, doc=doc, base=base, title=title, **_actions(ctx, doc), **_common())


class OrderPages(DocPages):
    """【订货申请】: the shared document pages (list, 【新增】, the order page, 【暂存】, 【提交】,
    【删除】, the line dialog) plus 【撤回】, 【删除】 of ticked lines and the orderable goods picker."""

    service = orders
    kind = "order"
    path = "/logistics/orders"
    title = "订货申请"
    confirm_label = ""
    filters = OwnOrderFilters
    list_template = "logistics/orders.html"
    confirm = None  # type: ignore[assignment]  (an order is approved by the parent, not confirmed)

    def common(self) -> dict:
        return super().common() | _common()

    def render_doc(self, request: Request, doc: dict | None, block: str | None = None, **kw: Any) -> Response:
        if doc is not None:
            return _order_page(request, doc, self.path, self.title, block)
        return render(request, TEMPLATE, doc=None, base=self.path, title=self.title, editable=True, **_common())

    def render_line_form(self, request: Request, doc: dict, line: dict | None) -> Response:
        return render(request, "logistics/_order_line_form.html", doc=doc, line=line, base=self.path)

    def header(self, data: dict) -> dict:
        return {"remark": data["remark"]} if "remark" in data else {}

    def created(self, data: dict) -> dict:
        return {"remark": data.get("remark", "")}

    def line(self, data: dict) -> dict:
        return {f: data[f] for f in ("goods_id", "qty") if f in data}

    def line_done(self, request: Request, doc: dict, line: dict, added: bool) -> Response:
        verb = "添加" if added else "修改"
        return saved(f"已{verb}明细 {line['goods_code']} {line['goods_name']}", orders.TOPIC, 201 if added else 200)

    @get("/export", opt={"action": "export"}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.orders_xlsx(ctx_of(request), self.filters.from_query(request.query_params), self.title)

    @post("/{doc_id:int}/withdraw", opt={"perm": P.ORDER["withdraw"]}, include_in_schema=False)
    async def withdraw(self, request: Request, doc_id: FromPath[int]) -> Response:
        doc = await orders.withdraw(ctx_of(request), doc_id)
        return go(f"已撤回订货单 {doc['no']}", f"{self.path}/{doc['id']}")

    @post("/{doc_id:int}/lines/delete", opt={"perm": P.ORDER["create"]}, include_in_schema=False)
    async def delete_lines(self, request: Request, doc_id: FromPath[int]) -> Response:
        line_ids = (await form_data(request, lists=("line_ids",)))["line_ids"]
        await orders.delete_lines(ctx_of(request), "order", doc_id, line_ids)
        return saved(f"已删除 {len(line_ids)} 行明细", orders.TOPIC)

    @get("/goods", opt={"perm": P.ORDER["create"]}, include_in_schema=False)
    async def goods_picker(
        self, request: Request, q: FromQuery[str] = "", category_id: FromQuery[str] = ""
    ) -> Response:
        """The line dialog's goods: only those the caller's org may order."""
        ctx = ctx_of(request)
        org = await orgs.get(ctx, ctx.org_id)
        rows, more = await goods.pick(ctx, q=q, category_id=category_id, orderable_for=org, limit=50)
        options = [
            {
                "value": g["id"],
                "label": f"{g['code']} {g['name']}",
                "code": g["code"],
                "text": g["name"],
                "hint": " · ".join(x for x in (g["spec"], g["category_name"]) if x),
            }
            for g in rows
        ]
        return render(request, "components/_picker_options.html", options=options, more=more)


class ReviewPages(Controller):
    """【订单审核】: the children's orders with their credit, and the review steps."""

    path = "/logistics/order-reviews"
    title = "订单审核"

    @get("/", opt={"perm": P.REVIEW["view"]}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters = ReviewFilters.from_query(request.query_params)
        page: Page = await orders.search(ctx, filters=filters, params=list_query(request)[1])
        shown = filters.as_dict()
        rows = htmx_target(request) == "rows"
        return render(
            request,
            "logistics/order_reviews.html",
            block="rows" if rows else None,
            page=page,
            filters=shown,
            query=query_string(shown),
            children=[] if rows else await orders.children(ctx),
            base=self.path,
            title=self.title,
            **_common(),
        )

    @get("/export", opt={"perm": P.REVIEW["export"]}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.orders_xlsx(ctx_of(request), ReviewFilters.from_query(request.query_params), self.title)

    @get("/{doc_id:int}", opt={"perm": P.REVIEW["view"]}, include_in_schema=False)
    async def read(self, request: Request, doc_id: FromPath[int]) -> Response:
        doc = await orders.get(ctx_of(request), "order", doc_id)
        block = "lines" if htmx_target(request) == "lines" else None
        return _order_page(request, doc, self.path, self.title, block)

    @post("/{doc_id:int}/approve", opt={"perm": P.REVIEW["approve"]}, include_in_schema=False)
    async def approve(self, request: Request, doc_id: FromPath[int]) -> Response:
        doc = await orders.approve(ctx_of(request), doc_id)
        return go(f"已审核通过订货单 {doc['no']}", f"{self.path}/{doc['id']}")

    @get("/{doc_id:int}/reject", opt={"perm": P.REVIEW["reject"]}, include_in_schema=False)
    async def reject_form(self, request: Request, doc_id: FromPath[int]) -> Response:
        doc = await orders.get(ctx_of(request), "order", doc_id)
        return render(request, "logistics/_reject_form.html", doc=doc, base=self.path)

    @post("/{doc_id:int}/reject", opt={"perm": P.REVIEW["reject"]}, include_in_schema=False)
    async def reject(self, request: Request, doc_id: FromPath[int]) -> Response:
        reason = (await form_data(request)).get("reason", "")
        doc = await orders.reject(ctx_of(request), doc_id, reason)
        return go(f"已驳回订货单 {doc['no']}，冻结额度已释放", f"{self.path}/{doc['id']}")

    @post("/{doc_id:int}/close", opt={"perm": P.REVIEW["close"]}, include_in_schema=False)
    async def close(self, request: Request, doc_id: FromPath[int]) -> Response:
        doc = await orders.close(ctx_of(request), doc_id)
        return go(f"已关闭订货单 {doc['no']}，未发货部分的冻结额度已释放", f"{self.path}/{doc['id']}")


ROUTES = [OrderPages, ReviewPages]
