"""Pages of 【入库管理】 and 【出库管理】: the filtered list with export, the document page (header,
lines in a dialog, submit, confirm of ticked lines, delete) and the A4 print view. One controller
factory serves both kinds; what differs between them is in `documents.KINDS`."""

import json

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core.clock import now
from server.core.errors import NotFound
from server.core.forms import form_data, list_query, query_string, saved
from server.core.pagination import PageParams
from server.core.tenancy import Ctx
from server.core.web import ctx_of, htmx_target, render
from server.inventory import exports
from server.inventory.services import documents
from server.masterdata.services import dictionaries, suppliers, warehouses

PAGES = {
    "inbound": ("/inventory/inbounds", "入库管理", "确认入库"),
    "outbound": ("/inventory/outbounds", "出库管理", "确认出库"),
}
FILTERS = ("no", "type", "status", "warehouse_id", "supplier_id", "created_by", "date_from", "date_to")
HEADER_FIELDS = ("type", "warehouse_id", "supplier_id", "remark")
# a deleted document cannot be opened, so the list does not offer to show them
LIST_STATUSES = {s: n for s, n in documents.STATUSES.items() if s != "deleted"}
BADGES = {"draft": "grey", "submitted": "blue", "partial": "amber", "completed": "green", "deleted": "grey"}
CHOICES = PageParams(1, 200)


def _header(data: dict) -> dict:
    return {f: data[f] for f in HEADER_FIELDS if f in data}


def _go(message: str, url: str, status_code: int = 200) -> Response:
    """A done action that changes the page: say so, then show `url` in place (htmx navigation)."""
    response = saved(message, None, status_code)
    location = {"path": url, "target": "main.content", "select": "main.content", "swap": "outerHTML"}
    response.headers["HX-Location"] = json.dumps(location)
    return response


def _with_current(options: list[dict], key: str, value, entry: dict) -> list[dict]:
    """The choices plus the document's current value when it is no longer among them (disabled)."""
    if value in (None, "") or any(o[key] == value for o in options):
        return options
    return [entry, *options]


async def _header_choices(ctx: Ctx, kind: str, org_id: int, doc: dict | None) -> dict:
    """The header form's selects: the dictionary's enabled types, the org's usable warehouses and
    the enabled suppliers (each keeping a draft's current value)."""
    k = documents.KINDS[kind]
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


async def _filter_choices(ctx: Ctx, kind: str) -> dict:
    """The list filters' selects: every type, warehouse and supplier (disabled ones too, as old
    documents name them) and whoever made documents here."""
    k = documents.KINDS[kind]
    return {
        "types": await dictionaries.items(ctx, k.type_kind),
        "stores": (await warehouses.search(ctx, status="active", params=CHOICES)).items,
        "vendors": (await suppliers.search(ctx, status="active", params=CHOICES)).items,
        "creators": await documents.creators(ctx, kind),
    }


def _doc_pages(kind: str) -> type[Controller]:
    base, title, confirm_label = PAGES[kind]
    k = documents.KINDS[kind]
    perms, topic = k.perms, k.topic
    common = {
        "kind": kind,
        "k": k,
        "base": base,
        "title": title,
        "perms": perms,
        "topic": topic,
        "confirm_label": confirm_label,
        "type_label": dictionaries.KINDS[k.type_kind],
        "badges": BADGES,
    }

    class DocPages(Controller):
        path = base

        @get("/", opt={"perm": perms["view"]}, include_in_schema=False)
        async def index(self, request: Request) -> Response:
            ctx = ctx_of(request)
            filters, params = list_query(request, *FILTERS)
            page = await documents.search(ctx, kind, params=params, **filters)
            rows = htmx_target(request) == "rows"
            return render(
                request,
                "inventory/docs.html",
                block="rows" if rows else None,
                page=page,
                filters=filters,
                query=query_string(filters),
                statuses=LIST_STATUSES,
                **({} if rows else await _filter_choices(ctx, kind)),
                **common,
            )

        @get("/export", opt={"perm": perms["export"]}, include_in_schema=False)
        async def export(self, request: Request) -> Response:
            return await exports.documents_xlsx(ctx_of(request), kind, list_query(request, *FILTERS)[0])

        @get("/new", opt={"perm": perms["create"]}, include_in_schema=False)
        async def new(self, request: Request) -> Response:
            ctx = ctx_of(request)
            choices = await _header_choices(ctx, kind, ctx.org_id, None)
            return render(request, "inventory/doc.html", doc=None, editable=True, **choices, **common)

        @post("/", opt={"perm": perms["create"]}, include_in_schema=False)
        async def create(self, request: Request) -> Response:
            doc = await documents.create(ctx_of(request), kind, _header(await form_data(request)))
            return _go(f"已暂存{k.label} {doc['no']}", f"{base}/{doc['id']}", 201)

        @get("/{doc_id:int}", opt={"perm": perms["view"]}, include_in_schema=False)
        async def read(self, request: Request, doc_id: FromPath[int]) -> Response:
            """The document page; its lines region alone when live events refresh it, or the whole
            page again when the document changed state meanwhile (its buttons change)."""
            ctx = ctx_of(request)
            doc = await documents.get(ctx, kind, doc_id)
            editable = doc["status"] == "draft" and ctx.can(perms["create"])
            if htmx_target(request) == "lines":
                if request.query_params.get("shown", doc["status"]) != doc["status"]:
                    return Response("", headers={"HX-Refresh": "true"})
                return render(request, "inventory/doc.html", block="lines", doc=doc, editable=editable, **common)
            choices = await _header_choices(ctx, kind, doc["org_id"], doc) if editable else {}
            return render(request, "inventory/doc.html", doc=doc, editable=editable, **choices, **common)

        @post("/{doc_id:int}", opt={"perm": perms["create"]}, include_in_schema=False)
        async def update(self, request: Request, doc_id: FromPath[int]) -> Response:
            doc = await documents.update(ctx_of(request), kind, doc_id, _header(await form_data(request)))
            return saved(f"已暂存{k.label} {doc['no']}")

        @post("/{doc_id:int}/submit", opt={"perm": perms["create"]}, include_in_schema=False)
        async def submit(self, request: Request, doc_id: FromPath[int]) -> Response:
            """【提交】 saves the header as shown, then submits."""
            ctx = ctx_of(request)
            header = _header(await form_data(request))
            if header:
                await documents.update(ctx, kind, doc_id, header)
            doc = await documents.submit(ctx, kind, doc_id)
            return _go(f"已提交{k.label} {doc['no']}", f"{base}/{doc['id']}")

        @post("/{doc_id:int}/confirm", opt={"perm": perms["confirm"]}, include_in_schema=False)
        async def confirm(self, request: Request, doc_id: FromPath[int]) -> Response:
            line_ids = (await form_data(request, lists=("line_ids",)))["line_ids"]
            doc = await documents.confirm(ctx_of(request), kind, doc_id, line_ids)
            return _go(f"已{confirm_label} {doc['no']}（{len(line_ids)} 行）", f"{base}/{doc['id']}")

        @post("/{doc_id:int}/delete", opt={"perm": perms["delete"]}, include_in_schema=False)
        async def delete(self, request: Request, doc_id: FromPath[int]) -> Response:
            doc = await documents.delete(ctx_of(request), kind, doc_id)
            return _go(f"已删除{k.label} {doc['no']}", base)

        @get("/{doc_id:int}/print", opt={"perm": perms["view"]}, include_in_schema=False)
        async def print_view(self, request: Request, doc_id: FromPath[int]) -> Response:
            doc = await documents.get(ctx_of(request), kind, doc_id)
            return render(request, "inventory/print.html", doc=doc, printed_at=now(), **common)

        @get("/{doc_id:int}/lines/new", opt={"perm": perms["create"]}, include_in_schema=False)
        async def new_line(self, request: Request, doc_id: FromPath[int]) -> Response:
            doc = await documents.get_draft(ctx_of(request), kind, doc_id)
            return render(request, "inventory/_doc_line_form.html", doc=doc, line=None, **common)

        @post("/{doc_id:int}/lines", opt={"perm": perms["create"]}, include_in_schema=False)
        async def add_line(self, request: Request, doc_id: FromPath[int]) -> Response:
            doc = await documents.add_line(ctx_of(request), kind, doc_id, await form_data(request))
            line = doc["lines"][-1]
            return saved(f"已添加明细 {line['goods_code']} {line['goods_name']}", topic, 201)

        @post("/{doc_id:int}/lines/delete", opt={"perm": perms["create"]}, include_in_schema=False)
        async def delete_lines(self, request: Request, doc_id: FromPath[int]) -> Response:
            line_ids = (await form_data(request, lists=("line_ids",)))["line_ids"]
            await documents.delete_lines(ctx_of(request), kind, doc_id, line_ids)
            return saved(f"已删除 {len(line_ids)} 行明细", topic)

        @get("/{doc_id:int}/lines/{line_id:int}/edit", opt={"perm": perms["create"]}, include_in_schema=False)
        async def edit_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> Response:
            doc = await documents.get_draft(ctx_of(request), kind, doc_id)
            line = next((li for li in doc["lines"] if li["id"] == line_id), None)
            if line is None:
                raise NotFound("明细")
            return render(request, "inventory/_doc_line_form.html", doc=doc, line=line, **common)

        @post("/{doc_id:int}/lines/{line_id:int}", opt={"perm": perms["create"]}, include_in_schema=False)
        async def update_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> Response:
            doc = await documents.update_line(ctx_of(request), kind, doc_id, line_id, await form_data(request))
            line = next(li for li in doc["lines"] if li["id"] == line_id)
            return saved(f"已修改明细 {line['goods_code']} {line['goods_name']}", topic)

    DocPages.__name__ = f"{kind.title()}Pages"
    return DocPages


ROUTES = [_doc_pages(kind) for kind in PAGES]
