"""Pages of 供应商: list, add/edit dialog, delete."""

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core.forms import form_data, list_query, query_string, saved
from server.core.web import ctx_of, htmx_target, render
from server.core.xlsx import xlsx_response
from server.masterdata import permissions as P
from server.masterdata.services import suppliers
from server.masterdata.services.common import STATUSES

FILTERS = ("q", "enabled")


class SupplierPages(Controller):
    path = "/masterdata/suppliers"

    @get("/", opt={"perm": P.SUPPLIER["view"]}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        filters, params = list_query(request, *FILTERS, status="active")
        page = await suppliers.search(ctx_of(request), params=params, **filters)
        return render(
            request,
            "masterdata/suppliers.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="供应商",
            page=page,
            filters=filters,
            query=query_string(filters),
            statuses=STATUSES,
        )

    @get("/export", opt={"perm": P.SUPPLIER["export"]}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        filters, _ = list_query(request, *FILTERS, status="active")
        rows = await suppliers.export_rows(ctx_of(request), filters)
        return await xlsx_response("供应商.xlsx", "供应商", suppliers.EXPORT_HEADERS, rows)

    @get("/new", opt={"perm": P.SUPPLIER["create"]}, include_in_schema=False)
    async def new(self, request: Request) -> Response:
        return render(request, "masterdata/_supplier_form.html", supplier=None)

    @post("/", opt={"perm": P.SUPPLIER["create"]}, include_in_schema=False)
    async def create(self, request: Request) -> Response:
        row = await suppliers.create(ctx_of(request), await form_data(request))
        return saved(f"已添加供应商 {row['name']}", "suppliers", status_code=201)

    @get("/{supplier_id:int}/edit", opt={"perm": P.SUPPLIER["update"]}, include_in_schema=False)
    async def edit(self, request: Request, supplier_id: FromPath[int]) -> Response:
        return render(
            request, "masterdata/_supplier_form.html", supplier=await suppliers.get(ctx_of(request), supplier_id)
        )

    @post("/{supplier_id:int}", opt={"perm": P.SUPPLIER["update"]}, include_in_schema=False)
    async def update(self, request: Request, supplier_id: FromPath[int]) -> Response:
        row = await suppliers.update(ctx_of(request), supplier_id, await form_data(request))
        return saved(f"已修改供应商 {row['name']}", "suppliers")

    @post("/{supplier_id:int}/delete", opt={"perm": P.SUPPLIER["delete"]}, include_in_schema=False)
    async def delete(self, request: Request, supplier_id: FromPath[int]) -> Response:
        row = await suppliers.delete(ctx_of(request), supplier_id)
        return saved(f"已删除供应商 {row['name']}", "suppliers")


ROUTES = [SupplierPages]
