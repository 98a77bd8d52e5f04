"""Pages of 【额度充值】 and 【额度调整】: the filtered list, and the document page (the manual's line
form above the list of lines, 【暂存】, 【提交】, 【确认充值】/【确认调整】, 【删除】). One controller
factory serves both kinds.

`/new` shows an empty document that is created on its first save (【暂存】 or the first 【添加】
of a line), so opening 【新增】 and leaving leaves no empty draft behind."""

import json
from decimal import Decimal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core import money
from server.core.errors import NotFound
from server.core.forms import form_data, list_query, query_string, saved
from server.core.web import ctx_of, htmx_target, render
from server.credit.services import documents
from server.system.services import orgs

PAGES = {
    "recharge": ("/credit/recharges", "额度充值", "确认充值"),
    "adjustment": ("/credit/adjustments", "额度调整", "确认调整"),
}
FILTERS = ("no", "status", "org_id")
# a deleted document cannot be opened, so the list does not offer to show them
LIST_STATUSES = {s: n for s, n in documents.STATUSES.items() if s != "deleted"}
BADGES = {"draft": "grey", "submitted": "blue", "confirmed": "green", "deleted": "grey"}


def _go(message: str, url: str, status_code: int = 200) -> Response:
    """A done action that changes the page: say so, then show `url` in place (htmx navigation)."""
    response = saved(message, None, status_code)
    location = {"path": url, "target": "main.content", "select": "main.content", "swap": "outerHTML"}
    response.headers["HX-Location"] = json.dumps(location)
    return response


def _line(kind: str, data: dict) -> dict:
    """The line form's fields as the service names them (the form calls the line's remark
    `line_remark`, as the document's own `remark` can be posted with it)."""
    line = {"org_id": data.get("org_id"), "amount": data.get("amount"), "remark": data.get("line_remark", "")}
    if kind == "adjustment":
        line["direction"] = data.get("direction")
    return line


def _totals(doc: dict) -> dict:
    """Sums the page shows under the lines: per direction, and what the document holds frozen."""
    sums = {"increase": Decimal(0), "decrease": Decimal(0), "frozen": Decimal(0)}
    for li in doc["lines"]:
        sums[li["direction"]] += Decimal(li["amount"])
        if li["frozen"] and doc["status"] == "submitted":
            sums["frozen"] += Decimal(li["amount"])
    return {k: money.fmt(money.to_units(v)) for k, v in sums.items()}


async def _org_label(request: Request, org_id: str) -> str:
    """The name of the org a filter names (empty when it is not one the caller sees)."""
    if not org_id:
        return ""
    try:
        return (await orgs.get(ctx_of(request), org_id))["name"]
    except NotFound:
        return ""


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
        "badges": BADGES,
        "directions": documents.DIRECTIONS,
    }

    def page(request: Request, doc: dict | None, block: str | None = None, line: dict | None = None, **kw) -> Response:
        ctx = ctx_of(request)
        editable = (doc is None or doc["status"] == "draft") and ctx.can(perms["create"])
        url = f"{base}/{doc['id']}" if doc else base
        totals = _totals(doc) if doc else None
        return render(
            request,
            "credit/doc.html",
            block=block,
            doc=doc,
            url=url,
            line=line,
            editable=editable,
            totals=totals,
            **common,
            **kw,
        )

    class DocPages(Controller):
        path = base

        @get("/", opt={"perm": perms["view"]}, include_in_schema=False)
        async def index(self, request: Request) -> Response:
            filters, params = list_query(request, *FILTERS)
            found = await documents.search(ctx_of(request), kind, params=params, **filters)
            rows = htmx_target(request) == "rows"
            return render(
                request,
                "credit/docs.html",
                block="rows" if rows else None,
                page=found.with_items([d | {"totals": _totals(d)} for d in found.items]),
                filters=filters,
                query=query_string(filters),
                statuses=LIST_STATUSES,
                org_label="" if rows else await _org_label(request, filters["org_id"]),
                **common,
            )

        @get("/new", opt={"perm": perms["create"]}, include_in_schema=False)
        async def new(self, request: Request) -> Response:
            return page(request, None)

        @post("/", opt={"perm": perms["create"]}, include_in_schema=False)
        async def create(self, request: Request) -> Response:
            """The first save of `/new`: 【暂存】 (the remark) or 【添加】 (the remark and a line)."""
            data = await form_data(request)
            lines = [_line(kind, data)] if "org_id" in data else []
            doc = await documents.create(ctx_of(request), kind, {"remark": data.get("remark", ""), "lines": lines})
            message = f"已暂存{k.label} {doc['no']}"
            if doc["lines"]:
                message = f"已添加 {doc['lines'][0]['org_name']} {doc['lines'][0]['amount']}，{message}"
            return _go(message, f"{base}/{doc['id']}", 201)

        @get("/{doc_id:int}", opt={"perm": perms["view"]}, include_in_schema=False)
        async def read(self, request: Request, doc_id: FromPath[int]) -> Response:
            """The document page; its lines region alone when live events refresh it, or the whole
            page again when the document changed state meanwhile (its buttons change)."""
            doc = await documents.get(ctx_of(request), kind, doc_id)
            if htmx_target(request) == "lines":
                if request.query_params.get("shown", doc["status"]) != doc["status"]:
                    return Response("", headers={"HX-Refresh": "true"})
                return page(request, doc, "lines")
            return page(request, doc)

        @post("/{doc_id:int}", opt={"perm": perms["create"]}, include_in_schema=False)
        async def update(self, request: Request, doc_id: FromPath[int]) -> Response:
            """【暂存】: the remark."""
            data = await form_data(request)
            doc = await documents.update(ctx_of(request), kind, doc_id, {"remark": data.get("remark", "")})
            return saved(f"已暂存{k.label} {doc['no']}")

        @post("/{doc_id:int}/submit", opt={"perm": perms["submit"]}, include_in_schema=False)
        async def submit(self, request: Request, doc_id: FromPath[int]) -> Response:
            """【提交】 saves the remark as shown (when the form carries it), then submits."""
            ctx = ctx_of(request)
            data = await form_data(request)
            if "remark" in data:
                await documents.update(ctx, kind, doc_id, {"remark": data["remark"]})
            doc = await documents.submit(ctx, kind, doc_id)
            return _go(f"已提交{k.label} {doc['no']}", f"{base}/{doc['id']}")

        @post("/{doc_id:int}/confirm", opt={"perm": perms["confirm"]}, include_in_schema=False)
        async def confirm(self, request: Request, doc_id: FromPath[int]) -> Response:
            doc = await documents.confirm(ctx_of(request), kind, doc_id)
            return _go(f"已{confirm_label} {doc['no']}", f"{base}/{doc['id']}")

        @post("/{doc_id:int}/delete", opt={"perm": perms["delete"]}, include_in_schema=False)
        async def delete(self, request: Request, doc_id: FromPath[int]) -> Response:
            doc = await documents.delete(ctx_of(request), kind, doc_id)
            return _go(f"已删除{k.label} {doc['no']}", base)

        @get("/{doc_id:int}/lines/new", opt={"perm": perms["create"]}, include_in_schema=False)
        async def new_line(self, request: Request, doc_id: FromPath[int]) -> Response:
            """The line form, empty (【取消】 of an edit)."""
            return page(request, await documents.get_draft(ctx_of(request), kind, doc_id), "line_form")

        @post("/{doc_id:int}/lines", opt={"perm": perms["create"]}, include_in_schema=False)
        async def add_line(self, request: Request, doc_id: FromPath[int]) -> Response:
            """【添加】: the line joins the list below; the form comes back empty for the next one."""
            doc = await documents.add_line(ctx_of(request), kind, doc_id, _line(kind, await form_data(request)))
            added = doc["lines"][-1]
            done = saved(f"已添加 {added['org_name']} {added['amount']}", topic)
            return page(request, doc, "line_form", headers=dict(done.headers), status_code=201)

        @get("/{doc_id:int}/lines/{line_id:int}/edit", opt={"perm": perms["create"]}, include_in_schema=False)
        async def edit_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> Response:
            """The line form filled with one line (【修改】 of a row)."""
            doc = await documents.get_draft(ctx_of(request), kind, doc_id)
            line = next((li for li in doc["lines"] if li["id"] == line_id), None)
            if line is None:
                raise NotFound("明细")
            return page(request, doc, "line_form", line)

        @post("/{doc_id:int}/lines/{line_id:int}", opt={"perm": perms["create"]}, include_in_schema=False)
        async def update_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> Response:
            data = _line(kind, await form_data(request))
            doc = await documents.update_line(ctx_of(request), kind, doc_id, line_id, data)
            changed = next(li for li in doc["lines"] if li["id"] == line_id)
            done = saved(f"已修改 {changed['org_name']} {changed['amount']}", topic)
            return page(request, doc, "line_form", headers=dict(done.headers))

        @post("/{doc_id:int}/lines/{line_id:int}/delete", opt={"perm": perms["create"]}, include_in_schema=False)
        async def delete_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> Response:
            doc = await documents.delete_line(ctx_of(request), kind, doc_id, line_id)
            return saved(f"已删除明细（剩余 {len(doc['lines'])} 行）", topic)

    DocPages.__name__ = f"{kind.title()}Pages"
    return DocPages


ROUTES = [_doc_pages(kind) for kind in PAGES]
