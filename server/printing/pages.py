"""Pages of printing: 【打印模板】 (list, create/edit with paper presets, margins, the HTML source
with a live preview on sample data and the list of fields, export/import as JSON, the 打印校准页),
and the print page every document's 【打印】 opens (`/print/{doc_type}/{doc_id}`: the default
template, or the one picked in its select). Rules live in server.printing.services."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from markupsafe import Markup, escape

from server.core import hooks, validate
from server.core.doc_controllers import go
from server.core.errors import BusinessError, Forbidden
from server.core.forms import form_data, saved
from server.core.pagination import PageParams
from server.core.permissions import any_of
from server.core.tenancy import Ctx
from server.core.web import ctx_of, htmx_target, render
from server.inventory import permissions as INV
from server.logistics import permissions as LG
from server.printing import builtin, services
from server.printing import permissions as P
from server.printing.api import ANY_DOC_READ, DOC_READ, html
from server.printing.states import PAPERS, DocType, Mode
from server.queue import permissions as Q
from server.workorders import permissions as WO

BASE = "/system/print-templates"
MAX_IMPORT_BYTES = 512 * 1024


def _preset_of(paper: dict) -> str:
    for code, (_, w, h) in PAPERS.items():
        if float(paper["width_mm"]) == w and float(paper["height_mm"]) == h:
            return code
    return "custom"


def _json_field(form: dict, name: str, label: str, default: Any) -> Any:
    raw = (form.get(name) or "").strip()
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BusinessError(f"{label}不是有效的 JSON（第 {exc.lineno} 行）", code="invalid_json", field=name) from None


def template_body(form: dict) -> dict:
    """The template a form describes, in the API's shape (the service checks it)."""
    preset = form.get("paper_preset") or "custom"
    paper = (
        {"preset": preset}
        if preset in PAPERS
        else {"width_mm": form.get("paper_width_mm"), "height_mm": form.get("paper_height_mm")}
    )
    body = {
        "name": form.get("name", ""),
        "doc_type": form.get("doc_type", ""),
        "mode": form.get("mode", Mode.HTML),
        "paper": paper,
        "margins_mm": {s: form.get(f"margin_{s}") or 0 for s in ("top", "right", "bottom", "left")},
        "offset_mm": {a: form.get(f"offset_{a}") or 0 for a in ("x", "y")},
        "source": form.get("source", ""),
        "fields": _json_field(form, "fields_json", "套打字段", []),
        "line_block": _json_field(form, "line_block_json", "明细行区域", {}),
        "background_id": form.get("background_id") or None,
    }
    if "is_default" in form:
        body["is_default"] = form.get("is_default") in ("1", "on", "true")
    return body


async def _edit_page(request: Request, template: dict, heading: str) -> Response:
    return render(
        request,
        "printing/template_form.html",
        title="打印模板",
        heading=heading,
        t=template,
        preset=_preset_of(template["paper"]),
        papers=PAPERS,
        papers_json=json.dumps({code: [w, h] for code, (_, w, h) in PAPERS.items()}),
        doc_types=services.DOC_TYPES,
        modes=services.MODES,
        spec=services.fields(template["doc_type"]),
        fields_json=json.dumps(template["fields"], ensure_ascii=False, indent=1),
        line_block_json=json.dumps(template["line_block"], ensure_ascii=False, indent=1),
    )


class TemplatePages(Controller):
    path = BASE

    @get("/", opt={"perm": P.TEMPLATE["view"]}, include_in_schema=False)
    async def index(self, request: Request, doc_type: FromQuery[str] = "", page: FromQuery[str] = "1") -> Response:
        ctx = ctx_of(request)
        found = await services.search(ctx, services.TemplateFilters(doc_type=doc_type), params=PageParams.of(page))
        return render(
            request,
            "printing/templates.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="打印模板",
            page=found,
            filters={"doc_type": doc_type},
            query=f"doc_type={doc_type}",
            doc_types=services.DOC_TYPES,
            modes=services.MODES,
        )

    @get("/new", opt={"perm": P.TEMPLATE["create"]}, include_in_schema=False)
    async def new(self, request: Request, doc_type: FromQuery[str] = "intake_receipt") -> Response:
        doc_type = validate.choice(doc_type, "单据类型", services.DOC_TYPES, "doc_type")
        start = next(t for t in builtin.builtin_rows() if t["doc_type"] == doc_type)
        template = {**start, **start["layout"], "id": None, "name": "", "is_default": False, "background_id": None}
        return await _edit_page(request, template, f"新增打印模板 · {services.DOC_TYPES[doc_type]}")

    @post("/", opt={"perm": P.TEMPLATE["create"]}, include_in_schema=False)
    async def create(self, request: Request) -> Response:
        t = await services.create(ctx_of(request), template_body(await form_data(request)))
        return go(f"已新增打印模板 {t['name']}", f"{BASE}/{t['id']}/edit")

    @post("/preview", opt={"perm": P.TEMPLATE["view"]}, include_in_schema=False)
    async def preview(self, request: Request) -> Response:
        """The template as the form has it, on its type's sample data: a whole print page for
        the preview frame, or the error with its line."""
        try:
            body = template_body(await form_data(request))
        except BusinessError as exc:
            return html(services.problem_page(exc.detail, author=True), 422)
        page, status = await services.preview(ctx_of(request), body)
        return html(page, status)

    @get("/{template_id:int}/edit", opt={"perm": P.TEMPLATE["view"]}, include_in_schema=False)
    async def edit(self, request: Request, template_id: FromPath[int]) -> Response:
        t = await services.get(ctx_of(request), template_id)
        return await _edit_page(request, t, f"修改打印模板 · {t['name']}")

    @post("/{template_id:int}", opt={"perm": P.TEMPLATE["create"]}, include_in_schema=False)
    async def update(self, request: Request, template_id: FromPath[int]) -> Response:
        body = template_body(await form_data(request))
        body.pop("doc_type", None)
        t = await services.update(ctx_of(request), template_id, body)
        return saved(f"已保存打印模板 {t['name']}")

    @post("/{template_id:int}/default", opt={"perm": P.TEMPLATE["create"]}, include_in_schema=False)
    async def make_default(self, request: Request, template_id: FromPath[int]) -> Response:
        t = await services.set_default(ctx_of(request), template_id)
        return go(f"已将 {t['name']} 设为{t['doc_type_name']}的默认模板", BASE)

    @post("/{template_id:int}/delete", opt={"perm": P.TEMPLATE["delete"]}, include_in_schema=False)
    async def delete(self, request: Request, template_id: FromPath[int]) -> Response:
        t = await services.delete(ctx_of(request), template_id)
        return go(f"已删除打印模板 {t['name']}", BASE)

    @get("/{template_id:int}/export", opt={"perm": P.TEMPLATE["import"]}, include_in_schema=False)
    async def export(self, request: Request, template_id: FromPath[int]) -> Response:
        t = await services.get(ctx_of(request), template_id)
        body = json.dumps(services.export(t), ensure_ascii=False, indent=1)
        name = f"print-template-{t['doc_type']}-{t['id']}.json"
        return Response(
            body, media_type="application/json", headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    @post("/import", opt={"perm": P.TEMPLATE["import"]}, include_in_schema=False)
    async def import_file(self, request: Request) -> Response:
        """A template exported from this or another tenant (a small JSON file)."""
        form = await request.form()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise BusinessError("请选择要导入的模板文件（.json）", code="required", field="file")
        raw = await upload.read(MAX_IMPORT_BYTES + 1)
        if len(raw) > MAX_IMPORT_BYTES:
            raise BusinessError("模板文件过大（最多 512 KB）", code="too_large", field="file")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise BusinessError("模板文件不是有效的 JSON", code="invalid_json", field="file") from None
        if not isinstance(data, dict):
            raise BusinessError("模板文件格式不正确", code="invalid_json", field="file")
        t = await services.import_(ctx_of(request), data)
        return go(f"已导入打印模板 {t['name']}", f"{BASE}/{t['id']}/edit")

    @post("/backgrounds", opt={"perm": P.TEMPLATE["create"]}, include_in_schema=False)
    async def upload_background(self, request: Request) -> Response:
        """The designer's form image (a PNG or JPEG scan): its id and URL as JSON."""
        upload = (await request.form()).get("file")
        return Response(await services.save_background(ctx_of(request), upload), status_code=201)

    # shown behind an overlay on the print page too: whoever may print may see it
    @get("/backgrounds/{background_id:int}", opt={"perm": (P.TEMPLATE["view"], *ANY_DOC_READ)}, include_in_schema=False)
    async def background(self, request: Request, background_id: FromPath[int]) -> Response:
        content_type, data = await services.background(ctx_of(request), background_id)
        return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=86400"})

    @get("/{template_id:int}/calibration", opt={"perm": P.TEMPLATE["view"]}, include_in_schema=False)
    async def calibration(self, request: Request, template_id: FromPath[int]) -> Response:
        return html(await services.calibration_page(ctx_of(request), template_id))


# the print page's way back (SPEC 7): the page of the document printed, as the caller reaches it
BACK_LABELS = {
    DocType.INTAKE_RECEIPT: "返回工单",
    DocType.CLOSING_RECEIPT: "返回工单",
    DocType.SHIPMENT: "返回物流单",
    DocType.ORDER: "返回订货单",
    DocType.INBOUND: "返回单据",
    DocType.OUTBOUND: "返回单据",
    DocType.QUEUE_TICKET: "返回叫号",
    DocType.QUOTE: "返回工单",
}
# `?from=intake`: the intake receipt opened by saving 【工单受理】 (it offers 【继续受理】)
FROM_INTAKE = "intake"
# query parameters the bar's template select keeps when it reloads the page
KEPT = ("from", "width")


def back_url(ctx: Ctx, doc_type: str, doc: dict) -> str | None:
    """Where the document printed is shown to the caller: the page its permissions open (an
    order: the branch's 【订货申请】 or the parent's 【订单审核】; a shipment: the sender's
    【物流发货】 or the receiver's 【物流收货】; a quote: its work order's), None when no page
    of it is theirs."""
    did = doc.get("id")
    if doc_type in (DocType.INTAKE_RECEIPT, DocType.CLOSING_RECEIPT):
        return f"/workorders/{did}" if ctx.can(WO.VIEW) or ctx.can(WO.INTAKE_VIEW) else None
    if doc_type == DocType.SHIPMENT:
        incoming = doc.get("to_org_id") == ctx.org_id and doc.get("org_id") != ctx.org_id
        if ctx.can(LG.RECEIVING["view"]) and (incoming or not ctx.can(LG.SHIPMENT["view"])):
            return f"/logistics/receiving/{did}"
        return f"/logistics/shipments/{did}" if ctx.can(LG.SHIPMENT["view"]) else None
    if doc_type == DocType.ORDER:
        own = doc.get("org_id") == ctx.org_id
        if ctx.can(LG.REVIEW["view"]) and (not own or not ctx.can(LG.ORDER["view"])):
            return f"/logistics/order-reviews/{did}"
        return f"/logistics/orders/{did}" if ctx.can(LG.ORDER["view"]) else None
    if doc_type == DocType.INBOUND:
        return f"/inventory/inbounds/{did}" if ctx.can(INV.INBOUND["view"]) else None
    if doc_type == DocType.OUTBOUND:
        return f"/inventory/outbounds/{did}" if ctx.can(INV.OUTBOUND["view"]) else None
    if doc_type == DocType.QUOTE:  # a quote is shown on its order's page
        return f"/workorders/{doc.get('work_order_id')}" if ctx.can(WO.VIEW) else None
    return "/queue/counter" if ctx.can(Q.COUNTER_VIEW) else None


def _toolbar(ctx: Ctx, doc_type: str, query: dict, chosen: Any, options: list[dict]) -> Callable[[dict], Markup]:
    """The print page's bar (screen only: print_page.css hides it on paper): the way back to the
    document, the template select and 【打印】, and after an intake 【继续受理】."""

    def option(o: dict) -> str:
        selected = str(o["id"]) == str(chosen) or (not chosen and o["is_default"])
        label = f"{o['name']}（默认）" if o["is_default"] else o["name"]
        return f'<option value="{o["id"]}"{" selected" if selected else ""}>{escape(label)}</option>'

    def bar(data: dict) -> Markup:
        doc = data.get("doc") or {}
        back = back_url(ctx, doc_type, doc)
        back_link = (
            f'<a class="pr-back" id="pr-back" href="{escape(back)}">‹ {BACK_LABELS[doc_type]}</a>' if back else ""
        )
        more = ""
        if doc_type == DocType.INTAKE_RECEIPT and query.get("from") == FROM_INTAKE and ctx.can(WO.INTAKE_VIEW):
            more = '<a class="pr-next" id="pr-continue" href="/workorders/intake">继续受理</a>'
        kept = "".join(f'<input type="hidden" name="{k}" value="{escape(query[k])}">' for k in KEPT if query.get(k))
        opts = "".join(option(o) for o in options)
        return Markup(
            '<form class="pr-toolbar bar" method="get" action="">'
            f"{back_link}{kept}"
            f'<label>打印模板 <select name="template_id" id="pr-template" data-submit-on-change>{opts}</select></label>'
            '<noscript><button type="submit">切换</button></noscript>'
            f'<button type="button" class="pr-print" data-print-page>打印</button>{more}</form>'
        )

    return bar


@hooks.prints_documents
async def print_answer(ctx: Ctx, doc_type: str, doc_id: int, query: dict) -> Response:
    """A document's print page (its own print URL, or /print/…): the template asked for, else for
    a queue slip the one of the roll's `width`, else the type's default; people get the bar with
    the way back, the template select and 【打印】, a kiosk (printing from a hidden frame) only
    the paper."""
    template_id = query.get("template_id") or None
    if doc_type == DocType.QUEUE_TICKET and not template_id and query.get("width"):
        template_id = await services.slip_for_width(ctx, validate.integer(query["width"], "小票宽度", 20, 300, "width"))
    toolbar: Callable[[dict], Markup] | Markup = Markup("")
    if ctx.device_id is None:
        toolbar = _toolbar(ctx, doc_type, query, template_id, await services.choices(ctx, doc_type))
    body, status = await services.print_document(ctx, doc_type, doc_id, template_id, toolbar)
    return html(body, status)


@get("/print/{doc_type:str}/{doc_id:int}", opt={"perm": ANY_DOC_READ}, include_in_schema=False)
async def print_page(request: Request, doc_type: FromPath[str], doc_id: FromPath[int]) -> Response:
    """A document's print page by type (the order's 【打印】; every type answers here)."""
    ctx = ctx_of(request)
    doc_type = validate.choice(doc_type, "单据类型", services.DOC_TYPES, "doc_type")
    if not any_of(DOC_READ[doc_type], ctx.permissions):
        raise Forbidden()
    return await print_answer(ctx, doc_type, doc_id, dict(request.query_params))


ROUTES = [TemplatePages, print_page]
