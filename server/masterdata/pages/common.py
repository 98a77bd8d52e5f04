"""What the master data pages share: a list's filters read from the page's query, and the pages
of a register of coded rows (仓库定义, 供应商)."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core.api import Filters
from server.core.forms import form_data, query_string, saved
from server.core.pagination import PageParams
from server.core.web import ctx_of, htmx_target, render
from server.core.xlsx import xlsx_response
from server.masterdata.services.common import STATUSES
from server.masterdata.states import Status

F = TypeVar("F", bound=Filters)


def list_filters(request: Request, filters_type: type[F], **defaults: str) -> tuple[F, PageParams]:
    """A list page's filters from its query (a page's own defaults first, such as
    `status="active"`; an empty value in the query clears one) and its page (20 rows unless asked)."""
    query = request.query_params
    filters = filters_type.from_query({**defaults, **{k: query.get(k) for k in query}})
    return filters, PageParams.of(query.get("page", 1), query.get("page_size", 20))


def rows_block(request: Request) -> str | None:
    """htmx refreshing a list asks for its rows only."""
    return "rows" if htmx_target(request) == "rows" else None


def list_context(filters: Filters) -> dict[str, Any]:
    """What every filtered list template is given beside its rows."""
    return {"filters": filters, "query": query_string(filters.as_dict()), "statuses": STATUSES, "Status": Status}


def register_pages(
    base: str,
    service: Any,
    filters_type: type[Filters],
    perms: dict[str, str],
    *,
    title: str,
    noun: str,
    template: str,
    form: tuple[str, str],
    topic: str,
    extra: dict[str, Any] | None = None,
) -> type[Controller]:
    """The pages of a register of coded rows: the filtered list (status "active" unless asked) with
    its Excel export, the add/edit dialog and the soft delete. `service` has `search`,
    `export_rows`, `EXPORT_HEADERS` and the CRUD functions; `form` is the dialog's template and
    the name it gives the row; `noun` names a row in the messages (已添加仓库 …)."""
    form_template, form_var = form
    extra = extra or {}

    class RegisterPages(Controller):
        path = base

        @get("/", opt={"perm": perms["view"]}, include_in_schema=False)
        async def index(self, request: Request) -> Response:
            filters, params = list_filters(request, filters_type, status=Status.ACTIVE)
            page = await service.search(ctx_of(request), filters, params=params)
            context = list_context(filters) | extra
            return render(request, template, block=rows_block(request), title=title, page=page, **context)

        @get("/export", opt={"perm": perms["export"]}, include_in_schema=False)
        async def export(self, request: Request) -> Response:
            filters = list_filters(request, filters_type, status=Status.ACTIVE)[0]
            rows = await service.export_rows(ctx_of(request), filters)
            return await xlsx_response(f"{title}.xlsx", title, service.EXPORT_HEADERS, rows)

        @get("/new", opt={"perm": perms["create"]}, include_in_schema=False)
        async def new(self, request: Request) -> Response:
            return render(request, form_template, **{form_var: None}, **extra)

        @post("/", opt={"perm": perms["create"]}, include_in_schema=False)
        async def create(self, request: Request) -> Response:
            row = await service.create(ctx_of(request), await form_data(request))
            return saved(f"已添加{noun} {row['name']}", topic, status_code=201)

        @get("/{item_id:int}/edit", opt={"perm": perms["update"]}, include_in_schema=False)
        async def edit(self, request: Request, item_id: FromPath[int]) -> Response:
            return render(request, form_template, **{form_var: await service.get(ctx_of(request), item_id)}, **extra)

        @post("/{item_id:int}", opt={"perm": perms["update"]}, include_in_schema=False)
        async def update(self, request: Request, item_id: FromPath[int]) -> Response:
            row = await service.update(ctx_of(request), item_id, await form_data(request))
            return saved(f"已修改{noun} {row['name']}", topic)

        @post("/{item_id:int}/delete", opt={"perm": perms["delete"]}, include_in_schema=False)
        async def delete(self, request: Request, item_id: FromPath[int]) -> Response:
            row = await service.delete(ctx_of(request), item_id)
            return saved(f"已删除{noun} {row['name']}", topic)

    RegisterPages.__name__ = f"{topic.title()}Pages"
    return RegisterPages
