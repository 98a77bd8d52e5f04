"""Pages of 【物流发货】 (the shipper's list, the shipment form with lines in a dialog, 【提交】,
【确认出库】 of ticked lines, 【撤回】, 【删除】, the A4 packing list), 【物流收货】 (the
receiver's list and 【确认收货】 into a chosen warehouse, with the menu badge of what waits) and
【在途库存】. The handlers are thin; every rule is in services.shipments."""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core import hooks
from server.core.doc_controllers import DocPages, go
from server.core.forms import form_data, form_rows, list_query, query_string, saved
from server.core.pagination import Page
from server.core.tenancy import Ctx
from server.core.web import ctx_of, htmx_target, render
from server.logistics import exports
from server.logistics import permissions as P
from server.logistics.pages.discrepancies import from_receive_form
from server.logistics.services import orders, shipments
from server.logistics.services.shipments import BADGES, STATUSES, TYPES, InTransitFilters, ShipmentFilters
from server.logistics.states import DiscrepancyKind
from server.masterdata.services import warehouses

HEADER_FIELDS = ("type", "warehouse_id", "to_org_id", "carrier", "tracking_no", "remark")
SHOWN_STATUSES = {s: n for s, n in STATUSES.items() if s != shipments.S.DELETED}


class OutgoingFilters(ShipmentFilters):
    """【物流发货】 lists what the caller's subtree ships."""

    side: str = "out"


class IncomingFilters(ShipmentFilters):
    """【物流收货】 lists what comes to the caller's subtree."""

    side: str = "in"


class ShipmentPages(DocPages):
    service = shipments
    kind = "shipment"
    path = "/logistics/shipments"
    title = "物流发货"
    confirm_label = "确认出库"
    filters = OutgoingFilters
    list_template = "logistics/shipments.html"

    def common(self) -> dict:
        return super().common() | {"badges": BADGES, "statuses": SHOWN_STATUSES, "types": TYPES, "S": shipments.S}

    async def _choices(self, ctx: Ctx) -> dict:
        stores = await warehouses.usable_for_org(ctx, ctx.org_id)
        return {
            "startable": await shipments.startable(ctx),
            "stores": [
                {"id": w["warehouse_id"], "name": f"{w['warehouse_code']} {w['warehouse_name']}"} for w in stores
            ],
            "children": await shipments.children(ctx),
        }

    async def _order(self, ctx: Ctx, order_id: str) -> dict:
        """A new 订单 shipment's order: once chosen, its branch (the receiving org) and its open
        lines to prefill the shipment."""
        if not order_id:
            return {"chosen": None, "open_lines": []}
        lines = await orders.open_lines(ctx, order_id)  # 404/403/409 for an order not to ship
        return {"chosen": await orders.get(ctx, "order", order_id), "open_lines": lines}

    def render_doc(self, request: Request, doc: dict | None, block: str | None = None, **kw: Any) -> Response:
        ctx = ctx_of(request)
        editable = doc is None or (
            doc["status"] == shipments.S.DRAFT and doc["org_id"] == ctx.org_id and ctx.can(self.perms["create"])
        )
        return render(
            request, "logistics/shipment.html", block=block, doc=doc, editable=editable, **kw, **self.common()
        )

    async def render_new(self, request: Request) -> Response:
        """The new shipment's form; `?order_id=` (【发货】 of an order) opens it as 订单 with that
        order chosen. 订单 offers the children's shippable orders."""
        ctx = ctx_of(request)
        order_id = request.query_params.get("order_id", "")
        choices = await self._choices(ctx)
        shippable = await orders.shippable(ctx) if shipments.ShipmentType.ORDER in choices["startable"] else []
        flow = {"type": shipments.ShipmentType.ORDER if order_id else "", "orders": shippable}
        return self.render_doc(request, None, **choices, **flow, **await self._order(ctx, order_id))

    @get("/new/flow", opt={"action": "create"}, include_in_schema=False)
    async def flow(self, request: Request) -> Response:
        """The order part of the form again, when the order changes."""
        chosen = await self._order(ctx_of(request), request.query_params.get("order_id", ""))
        return render(request, "logistics/_shipment_flow.html", **chosen, **self.common())

    @post("/", opt={"action": "create"}, include_in_schema=False)
    async def create(self, request: Request) -> Response:
        """【暂存】 of a new shipment; an order's prefilled lines come as rows of order line and
        quantity (0: not shipped this time)."""
        data = await form_data(request)
        header = self.header(data) | {"order_id": data.get("order_id") or None}
        rows = await form_rows(request, "order_line_id", "qty", label="发货明细")
        header["lines"] = [r for r in rows if r["qty"].strip() not in ("", "0")]
        doc = await shipments.create(ctx_of(request), self.kind, header)
        return go(self.created_message(doc), f"{self.path}/{doc['id']}", 201)

    async def render_page(self, request: Request, doc: dict) -> Response:
        ctx = ctx_of(request)
        choices = await self._choices(ctx) if doc["status"] == shipments.S.DRAFT else {}
        return self.render_doc(request, doc, **choices)

    def render_line_form(self, request: Request, doc: dict, line: dict | None) -> Response:
        return render(request, "logistics/_shipment_line_form.html", doc=doc, line=line, **self.common())

    @get("/{doc_id:int}/lines/new", opt={"action": "create"}, include_in_schema=False)
    async def new_line(self, request: Request, doc_id: FromPath[int]) -> Response:
        """The line form, empty; an order's offers the order's lines still open."""
        ctx = ctx_of(request)
        doc = await shipments.get_draft(ctx, self.kind, doc_id)
        open_lines = await orders.open_lines(ctx, doc["order_id"]) if doc["order_id"] else []
        return render(
            request, "logistics/_shipment_line_form.html", doc=doc, line=None, open_lines=open_lines, **self.common()
        )

    def header(self, data: dict) -> dict:
        return {f: data[f] for f in HEADER_FIELDS if f in data}

    def line_done(self, request: Request, doc: dict, line: dict, added: bool) -> Response:
        verb = "添加" if added else "修改"
        return saved(f"已{verb}明细 {line['goods_code']} {line['goods_name']}", self.topic, 201 if added else 200)

    @get("/export", opt={"action": "export"}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        filters = self.filters.from_query(request.query_params)
        return await exports.shipments_xlsx(ctx_of(request), filters, "物流发货")

    @post("/{doc_id:int}/confirm", opt={"action": "confirm"}, include_in_schema=False)
    async def confirm(self, request: Request, doc_id: FromPath[int]) -> Response:
        line_ids = (await form_data(request, lists=("line_ids",)))["line_ids"]
        doc = await shipments.confirm(ctx_of(request), self.kind, doc_id, line_ids)
        return go(f"已确认出库 {doc['no']}（{len(line_ids)} 行）", f"{self.path}/{doc['id']}")

    @post("/{doc_id:int}/recall", opt={"action": "recall"}, include_in_schema=False)
    async def recall(self, request: Request, doc_id: FromPath[int]) -> Response:
        doc = await shipments.recall(ctx_of(request), self.kind, doc_id)
        return go(f"已撤回 {doc['no']}，货品已退回出库仓库", f"{self.path}/{doc['id']}")

    @post("/{doc_id:int}/lines/delete", opt={"action": "create"}, include_in_schema=False)
    async def delete_lines(self, request: Request, doc_id: FromPath[int]) -> Response:
        line_ids = (await form_data(request, lists=("line_ids",)))["line_ids"]
        await shipments.delete_lines(ctx_of(request), self.kind, doc_id, line_ids)
        return saved(f"已删除 {len(line_ids)} 行明细", self.topic)

    @get("/{doc_id:int}/print", opt={"action": "view"}, include_in_schema=False)
    async def print_view(self, request: Request, doc_id: FromPath[int]) -> Response:
        """The packing list (装箱单), printed with the tenant's template."""
        return await hooks.print_document(ctx_of(request), "shipment", doc_id, dict(request.query_params))


class ReceivingPages(Controller):
    """【物流收货】: the shipments coming to the caller's subtree; the receiving org opens one,
    picks the warehouse its type allows, ticks lines and 【确认收货】."""

    path = "/logistics/receiving"

    @get("/", opt={"perm": P.RECEIVING["view"]}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters, params = IncomingFilters.from_query(request.query_params), list_query(request)[1]
        page: Page = await shipments.search(ctx, "shipment", filters, params=params)
        shown, fragment = filters.as_dict(), htmx_target(request) == "rows"
        senders = await shipments.sender_orgs(ctx, filters.type) if filters.type and not fragment else []
        return render(
            request,
            "logistics/receiving.html",
            block="rows" if fragment else None,
            title="物流收货",
            page=page,
            filters=shown,
            query=query_string(shown),
            senders=senders,
            types=TYPES,
            statuses={s: n for s, n in SHOWN_STATUSES.items() if s in shipments.INCOMING},
            badges=BADGES,
        )

    @get("/senders", opt={"perm": P.RECEIVING["view"]}, include_in_schema=False)
    async def senders(self, request: Request) -> Response:
        """The shipping-org select, enabled once a type is chosen (the manual's order of filters)."""
        type_ = request.query_params.get("type", "")
        orgs = await shipments.sender_orgs(ctx_of(request), type_) if type_ else []
        return render(request, "logistics/_senders.html", senders=orgs, chosen="", enabled=bool(type_))

    @get("/badge", opt={"perm": P.RECEIVING["view"]}, include_in_schema=False)
    async def badge(self, request: Request) -> Response:
        count = await shipments.waiting_count(ctx_of(request))
        return Response(str(count) if count else "", media_type="text/html")

    @get("/export", opt={"perm": P.RECEIVING["export"]}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        filters = IncomingFilters.from_query(request.query_params)
        return await exports.shipments_xlsx(ctx_of(request), filters, "物流收货")

    @get("/{doc_id:int}", opt={"perm": P.RECEIVING["view"]}, include_in_schema=False)
    async def read(self, request: Request, doc_id: FromPath[int]) -> Response:
        ctx = ctx_of(request)
        doc = await shipments.get(ctx, "shipment", doc_id)
        receiver = doc["to_org_id"] == ctx.org_id and doc["status"] in shipments.RECEIVABLE
        stores = await shipments.receiving_warehouses(ctx, doc) if receiver and not doc["device"] else []
        return render(
            request,
            "logistics/receipt.html",
            block="lines" if htmx_target(request) == "lines" else None,
            title="物流收货",
            doc=doc,
            receiver=receiver and ctx.can(P.RECEIVING["receive"]),
            stores=stores,
            wtypes=warehouses.TYPES,
            kinds=DiscrepancyKind.labels(),
            allowed="、".join(warehouses.TYPES[t] for t in shipments.ShipmentType(doc["type"]).into),
            badges=BADGES,
        )

    @post("/{doc_id:int}/receive", opt={"perm": P.RECEIVING["receive"]}, include_in_schema=False)
    async def receive(self, request: Request, doc_id: FromPath[int]) -> Response:
        data = await form_data(request, lists=("line_ids",))
        data["discrepancies"] = from_receive_form(data, data["line_ids"])
        doc = await shipments.receive(ctx_of(request), "shipment", doc_id, data)
        what = f"工单 {doc['device']['work_order_no']}" if doc["device"] else f"{len(data['line_ids'])} 行"
        return go(f"已确认收货 {doc['no']}（{what}）", f"{self.path}/{doc['id']}")

    @post("/{doc_id:int}/refuse", opt={"perm": P.RECEIVING["receive"]}, include_in_schema=False)
    async def refuse(self, request: Request, doc_id: FromPath[int]) -> Response:
        """【拒收】 a device shipment: the device stays with the sender."""
        doc = await shipments.refuse(ctx_of(request), "shipment", doc_id, await form_data(request))
        return go(f"已拒收 {doc['no']}", f"{self.path}/{doc['id']}")


class InTransitPages(Controller):
    """【在途库存】: what is shipped and not received, to or from the caller's subtree."""

    path = "/logistics/in-transit"

    @get("/", opt={"perm": P.IN_TRANSIT["view"]}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters, params = InTransitFilters.from_query(request.query_params), list_query(request)[1]
        page = await shipments.in_transit(ctx, filters, params=params)
        shown = filters.as_dict()
        return render(
            request,
            "logistics/in_transit.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="在途库存",
            page=page,
            filters=shown,
            query=query_string(shown),
            types=TYPES,
        )

    @get("/export", opt={"perm": P.IN_TRANSIT["export"]}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.in_transit_xlsx(ctx_of(request), InTransitFilters.from_query(request.query_params))


ROUTES = [ShipmentPages, ReceivingPages, InTransitPages]
