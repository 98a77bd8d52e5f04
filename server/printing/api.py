"""JSON API of printing: `/api/v1/print-templates` (CRUD, export, import, the fields of a
document type) and `/api/v1/print/{doc_type}/{doc_id}` answering the printed HTML. Thin: every
rule is in server.printing.services."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody

from server.core import validate
from server.core.api import PageNo, PageSize, given, page_type
from server.core.errors import Forbidden
from server.core.pagination import PageParams
from server.core.permissions import any_of
from server.core.web import ctx_of
from server.inventory import permissions as INV
from server.logistics import permissions as LG
from server.printing import permissions as P
from server.printing import services
from server.printing.schemas import FieldsOut, TemplateExport, TemplateIn, TemplateOut, TemplatePatch
from server.printing.services import TemplateFilters
from server.printing.states import DocType
from server.queue import permissions as Q
from server.workorders import permissions as WO

TemplatePage = page_type(TemplateOut)

# who may print a document: whoever may read it (its service then scopes it to the caller's subtree)
DOC_READ: dict[str, tuple[str, ...]] = {
    DocType.INTAKE_RECEIPT: (WO.VIEW, WO.INTAKE_VIEW),
    DocType.CLOSING_RECEIPT: (WO.VIEW,),
    DocType.SHIPMENT: (LG.SHIPMENT["view"], LG.RECEIVING["view"]),
    DocType.ORDER: LG.ORDER_READ,
    DocType.INBOUND: (INV.INBOUND["view"],),
    DocType.OUTBOUND: (INV.OUTBOUND["view"],),
    DocType.QUEUE_TICKET: (Q.COUNTER_VIEW,),
    DocType.QUOTE: (WO.VIEW,),
}
ANY_DOC_READ = tuple(sorted({c for codes in DOC_READ.values() for c in codes}))
# a print page holds the template's own CSS (inline <style>, style= positions); scripts stay ours
PRINT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
HTML_PAGE = {
    200: ResponseSpec(data_container=str, media_type="text/html", description="打印页面（HTML，@page 纸张尺寸）"),
    422: ResponseSpec(data_container=str, media_type="text/html", description="模板有错误：说明原因的页面"),
}


def out(t: dict) -> TemplateOut:
    return msgspec.convert({k: t[k] for k in TemplateOut.__struct_fields__}, TemplateOut, from_attributes=False)


def html(body: str, status: int = 200) -> Response:
    return Response(
        body, media_type="text/html; charset=utf-8", status_code=status, headers={"Content-Security-Policy": PRINT_CSP}
    )


class TemplateApi(Controller):
    path = "/api/v1/print-templates"
    tags = ["printing"]
    dependencies = {"filters": TemplateFilters.provide()}

    @get("/", opt={"perm": P.TEMPLATE["view"]}, summary="打印模板列表")
    async def list_templates(
        self, request: Request, filters: NamedDependency[TemplateFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> TemplatePage:
        found = await services.search(ctx_of(request), filters, params=PageParams(page, page_size))
        return found.envelope([out(t) for t in found.items])

    @get("/fields", opt={"perm": P.TEMPLATE["view"]}, summary="单据类型提供的字段")
    async def fields(self, doc_type: Annotated[str, FromQuery]) -> FieldsOut:
        return msgspec.convert(services.fields(doc_type), FieldsOut)

    @post("/", opt={"perm": P.TEMPLATE["create"]}, summary="新增打印模板")
    async def create(self, request: Request, data: JSONBody[TemplateIn]) -> TemplateOut:
        return out(await services.create(ctx_of(request), msgspec.to_builtins(data)))

    @post("/import", opt={"perm": P.TEMPLATE["import"]}, summary="导入打印模板（JSON，见导出）")
    async def import_template(self, request: Request, data: JSONBody[TemplateExport]) -> TemplateOut:
        return out(await services.import_(ctx_of(request), msgspec.to_builtins(data)))

    @get("/{template_id:int}", opt={"perm": P.TEMPLATE["view"]})
    async def read(self, request: Request, template_id: FromPath[int]) -> TemplateOut:
        return out(await services.get(ctx_of(request), template_id))

    @get("/{template_id:int}/export", opt={"perm": P.TEMPLATE["import"]}, summary="导出打印模板（JSON）")
    async def export(self, request: Request, template_id: FromPath[int]) -> TemplateExport:
        return msgspec.convert(services.export(await services.get(ctx_of(request), template_id)), TemplateExport)

    @patch("/{template_id:int}", opt={"perm": P.TEMPLATE["create"]})
    async def update(self, request: Request, template_id: FromPath[int], data: JSONBody[TemplatePatch]) -> TemplateOut:
        return out(await services.update(ctx_of(request), template_id, given(data)))

    @delete(
        "/{template_id:int}", opt={"perm": P.TEMPLATE["delete"]}, status_code=200, summary="删除（默认模板不能删除）"
    )
    async def remove(self, request: Request, template_id: FromPath[int]) -> TemplateOut:
        return out(await services.delete(ctx_of(request), template_id))


@get(
    "/api/v1/print/{doc_type:str}/{doc_id:int}",
    opt={"perm": ANY_DOC_READ},
    tags=["printing"],
    summary="打印单据（HTML）",
    responses=HTML_PAGE,
)
async def print_document(
    request: Request,
    doc_type: FromPath[str],
    doc_id: FromPath[int],
    template_id: Annotated[int | None, FromQuery] = None,
) -> Response[str]:
    """The document printed with its type's default template, or `template_id`; a template that
    fails to render answers 422 with a plain page saying so."""
    ctx = ctx_of(request)
    doc_type = validate.choice(doc_type, "单据类型", services.DOC_TYPES, "doc_type")
    if not any_of(DOC_READ[doc_type], ctx.permissions):
        raise Forbidden()
    body, status = await services.print_document(ctx, doc_type, doc_id, template_id)
    return html(body, status)


ROUTES: list[Any] = [TemplateApi, print_document]
