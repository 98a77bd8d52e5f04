"""Pages of 数据字典: the eight kinds as tabs."""

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from server.core.errors import NotFound
from server.core.forms import form_data, saved
from server.core.web import ctx_of, render
from server.core.xlsx import xlsx_response
from server.masterdata import permissions as P
from server.masterdata.pages.common import rows_block
from server.masterdata.services import dictionaries


class DictionaryPages(Controller):
    path = "/masterdata/dictionaries"

    @get("/", opt={"perm": P.DICTIONARY_VIEW}, include_in_schema=False)
    async def index(self, request: Request, kind: FromQuery[str] = "service_type") -> Response:
        items = await dictionaries.items(ctx_of(request), kind)
        return render(
            request,
            "masterdata/dictionaries.html",
            block=rows_block(request),
            title="数据字典",
            kind=kind,
            kinds=dictionaries.KINDS,
            items=items,
        )

    @get("/export", opt={"perm": P.DICTIONARY_EXPORT}, include_in_schema=False)
    async def export(self, request: Request, kind: FromQuery[str] = "service_type") -> Response:
        rows = await dictionaries.export_rows(ctx_of(request), kind)
        return await xlsx_response(
            f"数据字典-{dictionaries.KINDS[kind]}.xlsx", "数据字典", dictionaries.EXPORT_HEADERS, rows
        )

    @get("/new", opt={"perm": P.DICTIONARY_UPDATE}, include_in_schema=False)
    async def new(self, request: Request, kind: FromQuery[str] = "service_type") -> Response:
        if kind not in dictionaries.KINDS:
            kind = "service_type"
        return render(request, "masterdata/_dict_form.html", item=None, kind=kind, kinds=dictionaries.KINDS)

    @post("/{kind:str}", opt={"perm": P.DICTIONARY_UPDATE}, include_in_schema=False)
    async def create(self, request: Request, kind: FromPath[str]) -> Response:
        item = await dictionaries.create(ctx_of(request), kind, await form_data(request))
        return saved(f"已添加 {item['name']}", "dictionaries", status_code=201)

    @get("/{kind:str}/{item_id:int}/edit", opt={"perm": P.DICTIONARY_UPDATE}, include_in_schema=False)
    async def edit(self, request: Request, kind: FromPath[str], item_id: FromPath[int]) -> Response:
        item = next((i for i in await dictionaries.items(ctx_of(request), kind) if i["id"] == item_id), None)
        if item is None:
            raise NotFound("字典项")
        return render(request, "masterdata/_dict_form.html", item=item, kind=kind, kinds=dictionaries.KINDS)

    @post("/{kind:str}/{item_id:int}", opt={"perm": P.DICTIONARY_UPDATE}, include_in_schema=False)
    async def update(self, request: Request, kind: FromPath[str], item_id: FromPath[int]) -> Response:
        item = await dictionaries.update(ctx_of(request), kind, item_id, await form_data(request))
        return saved(f"已修改 {item['name']}", "dictionaries")


ROUTES = [DictionaryPages]
