"""Pages of 【入库管理】 and 【出库管理】: the filtered list with export, the document page (header,
lines in a dialog, submit, confirm of ticked lines, delete) and the A4 print view. The handlers
are `server.core.doc_controllers.DocPages`'; what stock documents show is here, and what differs
between the two kinds is in `documents.KINDS`."""

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from server.core import hooks
from server.core.doc_controllers import DocPages, go
from server.core.documents import DocStatus
from server.core.forms import form_data, saved
from server.core.pagination import Page, PageParams
from server.core.tenancy import Ctx
from server.core.web import ctx_of, render
from server.inventory import exports
from server.inventory.services import documents
from server.masterdata.services import dictionaries, suppliers, warehouses

HEADER_FIELDS = ("type", "warehouse_id", "supplier_id", "remark")
CHOICES = PageParams(1, 200)


def _with_current(options: list[dict], key: str, value, entry: dict) -> list[dict]:
    """The choices plus the document's current value when it is no longer among them (disabled)."""
    if value in (None, "") or any(o[key] == value for o in options):
        return options
    return [entry, *options]


async def _header_choices(ctx: Ctx, k: documents.Kind, org_id: int, doc: dict | None) -> dict:
    """The header form's selects: the dictionary's enabled types, the org's usable warehouses and
    the enabled suppliers (each keeping a draft's current value)."""
    types = [
        {"code": i["code"], "name": i["name"]} for i in await dictionaries.items(ctx, k.type_kind, enabled_only=True)
    ]
    stores = [
        {"id": w["warehouse_id"], "name": f"{w['warehouse_code']} {w['warehouse_name']}"}
        for w in await warehouses.usable_for_org(ctx, org_id)
    ]
    vendors = [
        {"id": s["id"], "name": s["name"]}
        for s in (await suppliers.search(ctx, status="active", enabled=True, params=CHOICES)).items
    ]
    if doc:
        types = _with_current(
            types, "code", doc["type"], {"code": doc["type"], "name": f"{doc['type_name']}（已停用）"}
        )
        stores = _with_current(
            stores, "id", doc["warehouse_id"], {"id": doc["warehouse_id"], "name": f"{doc['warehouse_name']}（不可用）"}
        )
        vendors = _with_current(
            vendors, "id", doc["supplier_id"], {"id": doc["supplier_id"], "name": f"{doc['supplier_name']}（已停用）"}
        )
    return {"types": types, "stores": stores, "vendors": vendors}


class StockDocPages(DocPages):
    """What stock documents add: the header form's choices, the line dialog, 【导出】, 【打印】 and
    【删除】 of the ticked lines."""

    service = documents
    filters = documents.StockDocFilters
    list_template = "inventory/docs.html"

    def common(self) -> dict:
        return super().common() | {"type_label": dictionaries.KINDS[self.k.type_kind]}

    async def list_extras(self, request: Request, ctx: Ctx, page: Page, filters: dict, rows: bool) -> dict:
        """The list filters' selects (a full page only): every type, warehouse and supplier
        (disabled ones too, as old documents name them) and whoever made documents here."""
        if rows:
            return {"page": page}
        return {
            "page": page,
            "types": await dictionaries.items(ctx, self.k.type_kind),
            "stores": (await warehouses.search(ctx, status="active", params=CHOICES)).items,
            "vendors": (await suppliers.search(ctx, status="active", params=CHOICES)).items,
            "creators": await documents.creators(ctx, self.kind),
        }

    def render_doc(self, request: Request, doc: dict | None, block: str | None = None, **kw: Any) -> Response:
        editable = doc is None or (doc["status"] == DocStatus.DRAFT and ctx_of(request).can(self.perms["create"]))
        return render(request, "inventory/doc.html", block=block, doc=doc, editable=editable, **kw, **self.common())

    async def render_new(self, request: Request) -> Response:
        ctx = ctx_of(request)
        return self.render_doc(request, None, **await _header_choices(ctx, self.k, ctx.org_id, None))

    async def render_page(self, request: Request, doc: dict) -> Response:
        ctx = ctx_of(request)
        editable = doc["status"] == DocStatus.DRAFT and ctx.can(self.perms["create"])
        choices = await _header_choices(ctx, self.k, doc["org_id"], doc) if editable else {}
        return self.render_doc(request, doc, **choices)

    def render_line_form(self, request: Request, doc: dict, line: dict | None) -> Response:
        return render(request, "inventory/_doc_line_form.html", doc=doc, line=line, **self.common())

    def header(self, data: dict) -> dict:
        return {f: data[f] for f in HEADER_FIELDS if f in data}

    def line_done(self, request: Request, doc: dict, line: dict, added: bool) -> Response:
        verb = "添加" if added else "修改"
        return saved(f"已{verb}明细 {line['goods_code']} {line['goods_name']}", self.topic, 201 if added else 200)

    @get("/export", opt={"action": "export"}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.documents_xlsx(ctx_of(request), self.kind, self.filters.from_query(request.query_params))

    @post("/{doc_id:int}/confirm", opt={"action": "confirm"}, include_in_schema=False)
    async def confirm(self, request: Request, doc_id: FromPath[int]) -> Response:
        line_ids = (await form_data(request, lists=("line_ids",)))["line_ids"]
        doc = await documents.confirm(ctx_of(request), self.kind, doc_id, line_ids)
        return go(f"已{self.confirm_label} {doc['no']}（{len(line_ids)} 行）", f"{self.path}/{doc['id']}")

    @get("/{doc_id:int}/print", opt={"action": "view"}, include_in_schema=False)
    async def print_view(self, request: Request, doc_id: FromPath[int]) -> Response:
        """The document printed with the tenant's template (printing)."""
        return await hooks.print_document(ctx_of(request), self.kind, doc_id, dict(request.query_params))

    @post("/{doc_id:int}/lines/delete", opt={"action": "create"}, include_in_schema=False)
    async def delete_lines(self, request: Request, doc_id: FromPath[int]) -> Response:
        line_ids = (await form_data(request, lists=("line_ids",)))["line_ids"]
        await documents.delete_lines(ctx_of(request), self.kind, doc_id, line_ids)
        return saved(f"已删除 {len(line_ids)} 行明细", self.topic)


class InboundPages(StockDocPages):
    kind = "inbound"
    path = "/inventory/inbounds"
    title = "入库管理"
    confirm_label = "确认入库"


class OutboundPages(StockDocPages):
    kind = "outbound"
    path = "/inventory/outbounds"
    title = "出库管理"
    confirm_label = "确认出库"


ROUTES = [InboundPages, OutboundPages]
