"""Pages of 维修代码 and 故障原因: one list with filters and a dialog form serving both kinds."""

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core.forms import form_data, saved
from server.core.web import ctx_of, render
from server.core.xlsx import xlsx_response
from server.masterdata.pages.common import list_context, list_filters, rows_block
from server.masterdata.services import codes, trees
from server.masterdata.services.codes import CodeFilters
from server.masterdata.states import Status

CODE_PAGES = {
    "repair_code": ("/masterdata/repair-codes", "/pickers/repair-classes"),
    "fault_reason": ("/masterdata/fault-reasons", "/pickers/fault-classes"),
}


def _code_pages(kind: str) -> type[Controller]:
    base, class_source = CODE_PAGES[kind]
    k = codes.KINDS[kind]
    perms, topic = k.perms, f"{kind}s"
    common = {
        "kind": kind,
        "base": base,
        "perms": perms,
        "label": k.label,
        "class_label": trees.KINDS[k.class_kind],
        "class_key": f"{k.class_field}_id",
        "class_source": class_source,
    }

    class CodePages(Controller):
        path = base

        @get("/", opt={"perm": perms["view"]}, include_in_schema=False)
        async def index(self, request: Request) -> Response:
            ctx = ctx_of(request)
            filters, params = list_filters(request, CodeFilters, status=Status.ACTIVE)
            page = await codes.search(ctx, kind, filters, params=params)
            chosen = {int(v) for v in (filters.category_id, filters.class_of(kind)) if v.isdigit()}
            return render(
                request,
                "masterdata/codes.html",
                block=rows_block(request),
                title=k.label,
                page=page.with_items(await codes.with_paths(ctx, kind, page.items)),
                filter_paths=await trees.paths_of(ctx, chosen),
                **list_context(filters),
                topic=topic,
                **common,
            )

        @get("/export", opt={"perm": perms["export"]}, include_in_schema=False)
        async def export(self, request: Request) -> Response:
            filters = list_filters(request, CodeFilters, status=Status.ACTIVE)[0]
            headers, rows = await codes.export_rows(ctx_of(request), kind, filters)
            return await xlsx_response(f"{k.label}.xlsx", k.label, headers, rows)

        @get("/new", opt={"perm": perms["create"]}, include_in_schema=False)
        async def new(self, request: Request) -> Response:
            return render(request, "masterdata/_code_form.html", item=None, **common)

        @post("/", opt={"perm": perms["create"]}, include_in_schema=False)
        async def create(self, request: Request) -> Response:
            row = await codes.create(ctx_of(request), kind, await form_data(request))
            return saved(f"已添加{k.label} {row['code']}", topic, status_code=201)

        @get("/{item_id:int}/edit", opt={"perm": perms["update"]}, include_in_schema=False)
        async def edit(self, request: Request, item_id: FromPath[int]) -> Response:
            ctx = ctx_of(request)
            item = (await codes.with_paths(ctx, kind, [codes.as_dict(kind, await codes.get(ctx, kind, item_id))]))[0]
            return render(request, "masterdata/_code_form.html", item=item, **common)

        @post("/{item_id:int}", opt={"perm": perms["update"]}, include_in_schema=False)
        async def update(self, request: Request, item_id: FromPath[int]) -> Response:
            row = await codes.update(ctx_of(request), kind, item_id, await form_data(request))
            return saved(f"已修改{k.label} {row['code']}", topic)

        @post("/{item_id:int}/delete", opt={"perm": perms["delete"]}, include_in_schema=False)
        async def delete(self, request: Request, item_id: FromPath[int]) -> Response:
            row = await codes.delete(ctx_of(request), kind, item_id)
            return saved(f"已删除{k.label} {row['code']}", topic)

    CodePages.__name__ = f"{kind.title().replace('_', '')}Pages"
    return CodePages


ROUTES = [_code_pages(kind) for kind in CODE_PAGES]
