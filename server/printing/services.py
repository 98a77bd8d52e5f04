"""Print templates (SPEC 7): CRUD with soft delete, one default per document type, JSON export
and import, and printing a document with a template (HTML in the sandbox, or 套打 overlay)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape
from piccolo.query import OrderByRaw

from server.core import audit, hooks, uploads, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.printing import builtin, documents, overlay, sandbox
from server.printing.sandbox import TemplateProblem
from server.printing.states import PAPERS, Align, DocType, Mode, Status
from server.printing.tables import PrintBackground, PrintTemplate

DOC_TYPES = DocType.labels()
MODES = Mode.labels()
ALIGNS = Align.labels()
EDITABLE = (
    "name",
    "doc_type",
    "mode",
    "source",
    "paper",
    "margins_mm",
    "fields",
    "line_block",
    "offset_mm",
    "background_id",
)
MAX_FIELDS = 200


class TemplateFilters(Filters):
    doc_type: str = ""
    q: str = ""


def as_dict(row: dict) -> dict:
    layout = json.loads(row["layout"] or "{}")
    return {
        "id": row["id"],
        "name": row["name"],
        "doc_type": row["doc_type"],
        "doc_type_name": DOC_TYPES.get(row["doc_type"], row["doc_type"]),
        "mode": row["mode"],
        "paper": layout.get("paper") or dict(builtin.A4),
        "margins_mm": layout.get("margins_mm") or {"top": 0, "right": 0, "bottom": 0, "left": 0},
        "source": row["source"],
        "background_id": row["background_id"],
        "fields": layout.get("fields") or [],
        "line_block": layout.get("line_block") or {"y_mm": 0, "row_pitch_mm": 6, "max_rows": 10, "fields": []},
        "offset_mm": layout.get("offset_mm") or {"x": 0, "y": 0},
        "is_default": bool(row["is_default"]),
        "status": row["status"],
        "updated_at": row["updated_at"],
    }


# --- checking a template --------------------------------------------------------------------------


def _mm(value: Any, label: str, lo: float, hi: float, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BusinessError(f"{label}必须是数字（毫米）", code="invalid_field", field=field) from None
    if isinstance(value, bool) or not math.isfinite(number) or not lo <= number <= hi:
        raise BusinessError(f"{label}必须在 {lo:g}–{hi:g} 之间", code="out_of_range", field=field)
    return round(number, 2)


def _obj(value: Any, label: str, field: str) -> dict:
    if not isinstance(value, dict):
        raise BusinessError(f"{label}格式不正确", code="invalid_field", field=field)
    return value


def _paper(value: Any) -> dict:
    p = _obj(value, "纸张", "paper")
    if p.get("preset") in PAPERS:
        _, w, h = PAPERS[p["preset"]]
        return {"width_mm": w, "height_mm": h}
    return {
        "width_mm": _mm(p.get("width_mm"), "纸张宽度", 20, 1000, "paper.width_mm"),
        "height_mm": _mm(p.get("height_mm"), "纸张高度", 20, 2000, "paper.height_mm"),
    }


def _margins(value: Any) -> dict:
    m = _obj(value, "页边距", "margins_mm")
    return {
        s: _mm(m.get(s, 0), f"页边距（{s}）", 0, 100, f"margins_mm.{s}") for s in ("top", "right", "bottom", "left")
    }


def _field_list(value: Any, keys: set[str], where: str) -> list[dict]:
    if not isinstance(value, list):
        raise BusinessError("字段列表格式不正确", code="invalid_field", field=where)
    if len(value) > MAX_FIELDS:
        raise BusinessError(f"字段过多（最多 {MAX_FIELDS} 个）", code="too_many", field=where)
    out = []
    for i, raw in enumerate(value):
        f = _obj(raw, "字段", f"{where}[{i}]")
        key = f.get("key")
        if key not in keys:
            raise BusinessError(f"字段 {key} 不是这种单据提供的字段", code="unknown_field", field=f"{where}[{i}].key")
        out.append(
            {
                "key": key,
                "x_mm": _mm(f.get("x_mm", 0), "字段横坐标", -50, 2000, f"{where}[{i}].x_mm"),
                "y_mm": _mm(f.get("y_mm", 0), "字段纵坐标", -50, 2000, f"{where}[{i}].y_mm"),
                "width_mm": _mm(f.get("width_mm", 40), "字段宽度", 1, 2000, f"{where}[{i}].width_mm"),
                "font_size_pt": _mm(f.get("font_size_pt", 10), "字号", 4, 96, f"{where}[{i}].font_size_pt"),
                "align": validate.choice(f.get("align", "left"), "对齐方式", ALIGNS, f"{where}[{i}].align"),
                "bold": validate.boolean(f.get("bold", False), "加粗", f"{where}[{i}].bold"),
            }
        )
    return out


def _line_block(value: Any, keys: set[str]) -> dict:
    b = _obj(value, "明细行区域", "line_block")
    return {
        "y_mm": _mm(b.get("y_mm", 0), "明细起始纵坐标", 0, 2000, "line_block.y_mm"),
        "row_pitch_mm": _mm(b.get("row_pitch_mm", 6), "行距", 1, 200, "line_block.row_pitch_mm"),
        "max_rows": validate.integer(b.get("max_rows", 10), "每页行数", 1, 200, "line_block.max_rows"),
        "fields": _field_list(b.get("fields", []), keys, "line_block.fields"),
    }


def _offset(value: Any) -> dict:
    o = _obj(value, "打印偏移", "offset_mm")
    return {a: _mm(o.get(a, 0), f"打印偏移（{a}）", -50, 50, f"offset_mm.{a}") for a in ("x", "y")}


def clean(data: dict, current: dict | None = None) -> dict:
    """The template `data` asks for (over `current` when updating), every field checked, with all
    the mistakes at once; an HTML source that does not compile is refused with its line."""
    merged = {**(current or {}), **{k: data[k] for k in EDITABLE if k in data}}
    v = Fields()
    out: dict[str, Any] = {}
    out["name"] = v(validate.text, merged.get("name"), "模板名称", 100, required=True, field="name")
    doc_type = v(validate.choice, merged.get("doc_type"), "单据类型", DOC_TYPES, "doc_type")
    out["doc_type"] = doc_type
    out["mode"] = v(validate.choice, merged.get("mode", "html"), "模式", MODES, "mode")
    out["paper"] = v(_paper, merged.get("paper", builtin.A4))
    out["margins_mm"] = v(_margins, merged.get("margins_mm", {}))
    out["offset_mm"] = v(_offset, merged.get("offset_mm", {}))
    spec = documents.spec(doc_type) if doc_type else None
    head_keys = {k for k, _ in spec.fields} if spec else set()
    line_keys = {k for k, _ in spec.line_fields} if spec else set()
    out["fields"] = v(_field_list, merged.get("fields", []), head_keys, "fields")
    out["line_block"] = v(_line_block, merged.get("line_block", {}), line_keys)
    out["source"] = v(validate.text, merged.get("source", ""), "模板源码", sandbox.MAX_SOURCE, field="source")
    out["background_id"] = v(validate.optional_ident, merged.get("background_id"), "底图", "background_id")
    if out["mode"] == Mode.HTML and out["source"] is not None:
        if not out["source"]:
            v.errors.append(BusinessError("请填写模板源码", code="required", field="source"))
        else:
            try:
                sandbox.compile_source(out["source"])
            except TemplateProblem as exc:
                v.errors.append(BusinessError(str(exc), code="template_error", field="source"))
    v.done()
    return out


def _layout(t: dict) -> str:
    return json.dumps(
        {k: t[k] for k in ("paper", "margins_mm", "fields", "line_block", "offset_mm")}, ensure_ascii=False
    )


# --- reading ----------------------------------------------------------------------------------------


# the list in DocType's order (受理单 first … 排队小票 last), not by its codes' spelling: a total
# order with is_default and id, so pages neither repeat nor skip rows
DOC_TYPE_ORDER = OrderByRaw(
    'CASE "pr_template"."doc_type" '
    + " ".join(f"WHEN '{t.value}' THEN {i}" for i, t in enumerate(DocType))
    + f" ELSE {len(DocType)} END"
)


def _active(ctx: Ctx):
    return scoped(ctx, PrintTemplate) & (PrintTemplate.status == Status.ACTIVE)


async def search(ctx: Ctx, filters: TemplateFilters = TemplateFilters(), *, params: PageParams = PageParams()) -> Page:
    where = _active(ctx)
    if filters.doc_type:
        where &= PrintTemplate.doc_type == validate.choice(filters.doc_type, "单据类型", DOC_TYPES, "doc_type")
    q = validate.text(filters.q, "关键字", 50, field="q")
    if q:
        where &= contains(PrintTemplate.name, q)
    page = await paginate(
        PrintTemplate.select()
        .where(where)
        .order_by(DOC_TYPE_ORDER)
        .order_by(PrintTemplate.is_default, ascending=False)
        .order_by(PrintTemplate.id),
        PrintTemplate.count().where(where),
        params,
    )
    return page.with_items([as_dict(r) for r in page.items])


async def get(ctx: Ctx, template_id: Any) -> dict:
    tid = validate.ident(template_id, "打印模板", "template_id")
    row = await PrintTemplate.select().where(_active(ctx) & (PrintTemplate.id == tid)).first()
    if row is None:
        raise NotFound("打印模板")
    return as_dict(row)


async def choices(ctx: Ctx, doc_type: str) -> list[dict]:
    """The templates of a type, for the print page's select (default first)."""
    rows = await (
        PrintTemplate.select(PrintTemplate.id, PrintTemplate.name, PrintTemplate.is_default)
        .where(_active(ctx) & (PrintTemplate.doc_type == doc_type))
        .order_by(PrintTemplate.is_default, ascending=False)
        .order_by(PrintTemplate.id)
    )
    return rows


def fields(doc_type: str) -> dict:
    doc_type = validate.choice(doc_type, "单据类型", DOC_TYPES, "doc_type")
    spec = documents.spec(doc_type)
    return {
        "doc_type": doc_type,
        "fields": [{"key": k, "label": label} for k, label in spec.fields],
        "line_fields": [{"key": k, "label": label} for k, label in spec.line_fields],
        "rows": spec.rows,
    }


# --- writing ----------------------------------------------------------------------------------------


async def _check_background(ctx: Ctx, background_id: int | None) -> None:
    if background_id is None:
        return
    found = await PrintBackground.exists().where(scoped(ctx, PrintBackground) & (PrintBackground.id == background_id))
    if not found:
        raise BusinessError("所选底图不存在", code="unknown_background", field="background_id")


async def _make_default(ctx: Ctx, template_id: int, doc_type: str) -> None:
    """The one default of its type: the others are unset in the same transaction, before (the
    partial unique index holds at every statement)."""
    await PrintTemplate.update({PrintTemplate.is_default: False}).where(
        scoped(ctx, PrintTemplate)
        & (PrintTemplate.doc_type == doc_type)
        & (PrintTemplate.is_default == True)  # noqa: E712
        & (PrintTemplate.id != template_id)
    )
    await PrintTemplate.update({PrintTemplate.is_default: True}).where(PrintTemplate.id == template_id)


HQ_ONLY = "打印模板是全公司共用的，只能由总部修改"


async def create(ctx: Ctx, data: dict) -> dict:
    ctx.require_hq(HQ_ONLY)
    t = clean(data)
    async with atomic():
        await _check_background(ctx, t["background_id"])
        at = now()
        row = PrintTemplate(
            tenant_id=ctx.tenant_id,
            name=t["name"],
            doc_type=t["doc_type"],
            mode=t["mode"],
            source=t["source"],
            layout=_layout(t),
            background_id=t["background_id"],
            is_default=False,
            created_by_name=ctx.user_name,
            created_at=at,
            updated_at=at,
        )
        await row.save()
        has_default = await PrintTemplate.exists().where(
            _active(ctx) & (PrintTemplate.doc_type == t["doc_type"]) & (PrintTemplate.is_default == True)  # noqa: E712
        )
        if validate.boolean(data.get("is_default", False), "默认模板", "is_default") or not has_default:
            await _make_default(ctx, row.id, t["doc_type"])
        created = await get(ctx, row.id)
        await audit.record(ctx, "create", "print_template", row.id, f"新增打印模板 {t['name']}")
    return created


async def update(ctx: Ctx, template_id: Any, data: dict) -> dict:
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        current = await get(ctx, template_id)
        if "doc_type" in data and data["doc_type"] != current["doc_type"]:
            raise BusinessError("单据类型不可修改（请另建模板）", code="immutable", field="doc_type")
        t = clean(data, current)
        await _check_background(ctx, t["background_id"])
        await PrintTemplate.update(
            {
                PrintTemplate.name: t["name"],
                PrintTemplate.mode: t["mode"],
                PrintTemplate.source: t["source"],
                PrintTemplate.layout: _layout(t),
                PrintTemplate.background_id: t["background_id"],
                PrintTemplate.updated_at: now(),
            }
        ).where(PrintTemplate.id == current["id"])
        if data.get("is_default") not in (None, "") and validate.boolean(data["is_default"], "默认模板", "is_default"):
            await _make_default(ctx, current["id"], current["doc_type"])
        elif data.get("is_default") is False and current["is_default"]:
            raise Conflict("每种单据必须有一个默认模板：请把另一个模板设为默认", code="default_required")
        await audit.record(ctx, "update", "print_template", current["id"], f"修改打印模板 {t['name']}")
        return await get(ctx, current["id"])


async def set_default(ctx: Ctx, template_id: Any) -> dict:
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        current = await get(ctx, template_id)
        await _make_default(ctx, current["id"], current["doc_type"])
        await audit.record(ctx, "update", "print_template", current["id"], f"设为默认打印模板 {current['name']}")
        return await get(ctx, current["id"])


async def delete(ctx: Ctx, template_id: Any) -> dict:
    """Soft delete; the default of its type stays until another one is made default."""
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        current = await get(ctx, template_id)
        if current["is_default"]:
            raise Conflict("默认模板不能删除：请先把另一个模板设为默认", code="default_template")
        await PrintTemplate.update({PrintTemplate.status: Status.DELETED, PrintTemplate.updated_at: now()}).where(
            PrintTemplate.id == current["id"]
        )
        await audit.record(ctx, "delete", "print_template", current["id"], f"删除打印模板 {current['name']}")
    return current | {"status": Status.DELETED}


EXPORT_FORMAT = "weifu.print_template/1"


def export(template: dict) -> dict:
    """The template as JSON another tenant can import (no ids, no default flag, no form image)."""
    return {"format": EXPORT_FORMAT} | {
        k: template[k]
        for k in ("name", "doc_type", "mode", "paper", "margins_mm", "source", "fields", "line_block", "offset_mm")
    }


async def import_(ctx: Ctx, data: dict) -> dict:
    if data.get("format") not in (None, EXPORT_FORMAT):
        raise BusinessError("不是本系统导出的打印模板（format 不符）", code="invalid_format", field="format")
    body = {k: data[k] for k in EDITABLE if k in data and k != "background_id"}
    return await create(ctx, body | {"is_default": False})


@hooks.on_tenant_created
async def seed(ctx: Ctx) -> None:
    """Every new tenant starts with the built-in templates (inside its creating transaction)."""
    at = now()
    for t in builtin.builtin_rows():
        await PrintTemplate.insert(
            PrintTemplate(
                tenant_id=ctx.tenant_id,
                name=t["name"],
                doc_type=t["doc_type"],
                mode=t["mode"],
                source=t["source"],
                layout=_layout(t | t["layout"]),
                is_default=t["is_default"],
                builtin=True,
                created_by_name="系统",
                created_at=at,
                updated_at=at,
            )
        )


# --- printing ---------------------------------------------------------------------------------------


async def template_for(ctx: Ctx, doc_type: str, template_id: Any = None) -> dict:
    """The template to print `doc_type` with: the one asked for (of that type), else the type's
    default, else the built-in one (a tenant made before printing existed)."""
    validate.choice(doc_type, "单据类型", DOC_TYPES, "doc_type")
    if template_id not in (None, ""):
        t = await get(ctx, template_id)
        if t["doc_type"] != doc_type:
            raise BusinessError("所选模板不是这种单据的模板", code="wrong_doc_type", field="template_id")
        return t
    row = (
        await PrintTemplate.select()
        .where(
            _active(ctx) & (PrintTemplate.doc_type == doc_type) & (PrintTemplate.is_default == True)  # noqa: E712
        )
        .first()
    )
    if row is not None:
        return as_dict(row)
    first = next(t for t in builtin.builtin_rows() if t["doc_type"] == doc_type and t["is_default"])
    return {"id": None, "background_id": None, "status": Status.ACTIVE, **first, **first["layout"]}


async def slip_for_width(ctx: Ctx, width_mm: int) -> int | None:
    """The queue slip template for a roll `width_mm` wide (the default when it is that wide)."""
    rows = await PrintTemplate.select().where(_active(ctx) & (PrintTemplate.doc_type == DocType.QUEUE_TICKET))
    fitting = [as_dict(r) for r in rows if float(as_dict(r)["paper"]["width_mm"]) == width_mm]
    fitting.sort(key=lambda t: (not t["is_default"], t["id"]))
    return fitting[0]["id"] if fitting else None


def background_url(template: dict) -> str | None:
    bid = template.get("background_id")
    return f"/system/print-templates/backgrounds/{bid}" if bid else None


async def render_body(template: dict, data: dict) -> Markup:
    """The printed content of `template` with `data`; TemplateProblem when an HTML one fails."""
    if template["mode"] == Mode.OVERLAY:
        spec = documents.spec(template["doc_type"])
        return overlay.render(template, data, spec.rows, background_url(template), spec.images)
    return Markup(await sandbox.render(template["source"], data))


PAGE_CSS = "/static/css/print_page.css"


def page(template: dict, body: Markup, title: str, toolbar: Markup = Markup(""), fit: bool = False) -> str:
    """The whole print page: `@page` size and margins in mm (the browser prints it at true
    scale; an overlay's sheet has no margin, its fields carry their own positions). `fit`: a
    preview, scaled on screen to the width of its frame (print.js)."""
    p, m = template["paper"], template["margins_mm"]
    overlay_mode = template["mode"] == Mode.OVERLAY
    margins = "0" if overlay_mode else " ".join(f"{overlay._num(m[s])}mm" for s in ("top", "right", "bottom", "left"))
    size = f"{overlay._num(p['width_mm'])}mm {overlay._num(p['height_mm'])}mm"
    screen_width = f"{overlay._num(p['width_mm'])}mm"
    pad = "0" if overlay_mode else margins
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="{PAGE_CSS}"><script src="/static/js/print.js" defer></script>'
        f"<style>@page {{ size: {size}; margin: {margins}; }}"
        f" .pr-paper {{ width: {screen_width}; min-height: {overlay._num(p['height_mm'])}mm; padding: {pad}; }}"
        " @media print { .pr-paper { width: auto; min-height: 0; padding: 0; } }</style>"
        f'</head><body class="pr-page pr-mode-{escape(template["mode"])}"{" data-fit" if fit else ""}>{toolbar}'
        f'<main class="pr-paper" data-width-mm="{overlay._num(p["width_mm"])}">{body}</main></body></html>'
    )


def problem_page(message: str, author: bool = False) -> str:
    """What the person printing sees when the template is broken (plain Chinese, whom to ask), or
    its author in the preview (the error and its line)."""
    title = "模板有错误" if author else "无法打印"
    advice = "" if author else "<p>请联系管理员在【系统管理 › 打印模板】中修正这个模板，或选择另一个模板打印。</p>"
    return (
        f'<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="stylesheet" href="{PAGE_CSS}"></head><body class="pr-page">'
        f'<main class="pr-problem"><h1>{title}</h1><p>{escape(message)}</p>{advice}</main></body></html>'
    )


async def print_document(
    ctx: Ctx,
    doc_type: str,
    doc_id: Any,
    template_id: Any = None,
    toolbar: Callable[[dict], Markup] | Markup = Markup(""),
) -> tuple[str, int]:
    """The print page of a document and its HTTP status: 200, or 422 with a plain error page
    when the template cannot render (the document's NotFound is raised as such). `toolbar`: the
    screen-only bar above the paper, or what makes it from the document's data."""
    validate.choice(doc_type, "单据类型", DOC_TYPES, "doc_type")
    did = validate.ident(doc_id, "单据", "doc_id")
    template = await template_for(ctx, doc_type, template_id)
    data = await documents.data_for(ctx, doc_type, did)
    try:
        body = await render_body(template, data)
    except TemplateProblem as exc:
        return problem_page(f"打印模板「{template['name']}」有错误（{exc}）。"), 422
    title = f"{DOC_TYPES[doc_type]} {documents.lookup(data, 'doc.no')}"
    bar = toolbar if isinstance(toolbar, Markup) else toolbar(data)
    return page(template, body, title, bar), 200


async def preview(ctx: Ctx, data: dict) -> tuple[str, int]:
    """A template being edited, rendered on its type's sample data: the page, or the error with
    its line for the author (status 422)."""
    try:
        t = clean({"name": "预览"} | {k: v for k, v in data.items() if k != "name" or v})
    except BusinessError as exc:
        return problem_page(exc.detail, author=True), 422
    t |= {"id": None, "is_default": False}
    try:
        body = await render_body(t, documents.spec(t["doc_type"]).sample)
    except TemplateProblem as exc:
        return problem_page(str(exc), author=True), 422
    return page(t, body, f"预览 · {t['name']}", fit=True), 200


async def calibration_page(ctx: Ctx, template_id: Any) -> str:
    t = await get(ctx, template_id)
    return page(
        t | {"mode": Mode.OVERLAY}, overlay.calibration(t["paper"], t["offset_mm"]), f"打印校准页 · {t['name']}"
    )


# --- form images (套打 backgrounds) ---------------------------------------------------------------

BACKGROUND_KINDS = ("image/png", "image/jpeg")  # no SVG: it can carry script


async def save_background(ctx: Ctx, upload: Any) -> dict:
    """A scan or photo of a pre-printed form, checked as every upload is (`uploads.prepare`: size
    before reading, type from the bytes, header parsed off the event loop)."""
    ctx.require_hq(HQ_ONLY)
    ready = await uploads.prepare(upload, kinds=BACKGROUND_KINDS)
    async with atomic():
        row = PrintBackground(
            tenant_id=ctx.tenant_id,
            content_type=ready.sniffed.content_type,
            width_px=ready.sniffed.width,
            height_px=ready.sniffed.height,
            data=ready.data,
            created_at=now(),
        )
        await row.save()
        await audit.record(ctx, "create", "print_background", row.id, "上传套打底图")
    width, height = ready.sniffed.width, ready.sniffed.height
    return {"id": row.id, "url": background_url({"background_id": row.id}), "width_px": width, "height_px": height}


async def background(ctx: Ctx, background_id: Any) -> tuple[str, bytes]:
    bid = validate.ident(background_id, "底图", "background_id")
    row = await (
        PrintBackground.select(PrintBackground.content_type, PrintBackground.data)
        .where(scoped(ctx, PrintBackground) & (PrintBackground.id == bid))
        .first()
    )
    if row is None:
        raise NotFound("底图")
    return row["content_type"], bytes(row["data"])
