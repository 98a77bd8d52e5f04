"""Bases of a document kind's controllers, the JSON API (`DocApi`) and the htmx pages (`DocPages`),
over the life cycle of `server.core.documents`. A kind's controller is a declarative subclass:

    class InboundApi(StockDocApi):
        kind = "inbound"
        path = "/api/v1/inbounds"
        doc_in, doc_out, line_in, line_out, line_patch = InboundIn, InboundOut, …

Handlers are written once here and declare their access as an *action* (`opt={"action":
"confirm"}`); when a subclass names its `kind`, `__init_subclass__` gives each handler its own
copy with the kind's permission code in `opt["perm"]` (the one declaration the app's guard and its
start-up check read) and, for the API, the kind's request and response types in place of the
placeholders below, so the OpenAPI document names `InboundIn`, `OutboundOut` …
"""

import copy
import json
import types
from typing import Annotated, Any, ClassVar, TypeVar, get_args, get_origin

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody

from server.core.api import PageNo, PageSize, given, page_type, to
from server.core.documents import BADGES, DocStatus
from server.core.errors import NotFound
from server.core.forms import form_data, list_query, query_string, saved
from server.core.pagination import Page, PageParams
from server.core.tenancy import Ctx
from server.core.web import ctx_of, htmx_target, render

# placeholders a kind's subclass binds (`doc_in`, `doc_out`, …; `DocPage` is the list of `doc_out`)
DocIn = TypeVar("DocIn")
DocOut = TypeVar("DocOut")
DocPage = TypeVar("DocPage")
LineIn = TypeVar("LineIn")
LinePatch = TypeVar("LinePatch")
HeaderPatch = TypeVar("HeaderPatch")
DocFilters = TypeVar("DocFilters")


def _bind_type(annotation: Any, bound: dict) -> Any:
    if annotation in bound:
        return bound[annotation]
    if get_origin(annotation) is Annotated:
        inner, *meta = get_args(annotation)
        return Annotated[(_bind_type(inner, bound), *meta)]
    return annotation


def _bound(handler: HTTPRouteHandler, perm: str, bound: dict) -> HTTPRouteHandler:
    """A copy of `handler` for one kind: its permission, and its function re-annotated."""
    fn = handler._fn
    new_fn = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    new_fn.__kwdefaults__ = fn.__kwdefaults__
    new_fn.__doc__, new_fn.__qualname__, new_fn.__module__ = fn.__doc__, fn.__qualname__, fn.__module__
    new_fn.__annotations__ = {name: _bind_type(a, bound) for name, a in fn.__annotations__.items()}
    bound_handler = copy.copy(handler)
    bound_handler._fn = new_fn
    bound_handler.opt = {**handler.opt, "perm": perm}
    return bound_handler


class _KindController(Controller):
    """What both bases share: the kind (`kind`, its `DocType` `k` and permissions `perms`) from
    the domain's documents service (`service`, with `KINDS` and the step functions)."""

    service: ClassVar[Any]
    kind: ClassVar[str] = ""
    k: ClassVar[Any]
    perms: ClassVar[dict[str, str]]
    topic: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.kind:  # a domain's intermediate base
            return
        cls.k = cls.service.KINDS[cls.kind]
        cls.perms, cls.topic = cls.k.perms, cls.k.topic
        bound = cls._types()
        for name in dir(cls):
            handler = getattr(cls, name)
            if isinstance(handler, HTTPRouteHandler) and "action" in handler.opt:
                setattr(cls, name, _bound(handler, cls._perm(handler.opt["action"]), bound))

    @classmethod
    def _perm(cls, action: str) -> str:
        """The code guarding `action`; a kind without a submit permission submits with `create`."""
        return cls.perms.get(action) or cls.perms["create"]

    @classmethod
    def _types(cls) -> dict:
        return {}


# --- the JSON API --------------------------------------------------------------------------------


class DocApi(_KindController):
    """`/api/v1/<kind>`: the list, one document, header and line edits (draft only), submit,
    confirm and delete. Thin: every rule is in the service."""

    doc_in: ClassVar[type]
    doc_out: ClassVar[type]
    line_in: ClassVar[type]
    line_out: ClassVar[type]
    line_patch: ClassVar[type]
    header_patch: ClassVar[type]
    filters: ClassVar[type]

    @classmethod
    def _types(cls) -> dict:
        cls.dependencies = {"filters": cls.filters.provide()}
        return {
            DocIn: cls.doc_in,
            DocOut: cls.doc_out,
            DocPage: page_type(cls.doc_out),
            LineIn: cls.line_in,
            LinePatch: cls.line_patch,
            HeaderPatch: cls.header_patch,
            DocFilters: cls.filters,
        }

    def out(self, doc: dict) -> Any:
        header = {f: doc[f] for f in self.doc_out.__struct_fields__ if f != "lines"}
        return self.doc_out(**header, lines=[to(self.line_out, li) for li in doc["lines"]])

    @get("/", opt={"action": "view"})
    async def list_docs(
        self, request: Request, filters: NamedDependency[DocFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> DocPage:
        result = await self.service.search(ctx_of(request), self.kind, filters, params=PageParams(page, page_size))
        return result.envelope([self.out(d) for d in result.items])

    @post("/", opt={"action": "create"}, summary="新增（暂存）")
    async def create(self, request: Request, data: JSONBody[DocIn]) -> DocOut:
        return self.out(await self.service.create(ctx_of(request), self.kind, given(data)))

    @get("/{doc_id:int}", opt={"action": "view"})
    async def read(self, request: Request, doc_id: FromPath[int]) -> DocOut:
        return self.out(await self.service.get(ctx_of(request), self.kind, doc_id))

    @patch("/{doc_id:int}", opt={"action": "create"}, summary="修改表头（仅暂存）")
    async def update(self, request: Request, doc_id: FromPath[int], data: JSONBody[HeaderPatch]) -> DocOut:
        return self.out(await self.service.update(ctx_of(request), self.kind, doc_id, given(data)))

    @delete("/{doc_id:int}", opt={"action": "delete"}, status_code=200, summary="删除（暂存或已提交且未确认）")
    async def remove(self, request: Request, doc_id: FromPath[int]) -> DocOut:
        return self.out(await self.service.delete(ctx_of(request), self.kind, doc_id))

    @post("/{doc_id:int}/lines", opt={"action": "create"}, summary="添加明细（仅暂存）")
    async def add_line(self, request: Request, doc_id: FromPath[int], data: JSONBody[LineIn]) -> DocOut:
        return self.out(await self.service.add_line(ctx_of(request), self.kind, doc_id, given(data)))

    @patch("/{doc_id:int}/lines/{line_id:int}", opt={"action": "create"}, summary="修改明细（仅暂存）")
    async def update_line(
        self, request: Request, doc_id: FromPath[int], line_id: FromPath[int], data: JSONBody[LinePatch]
    ) -> DocOut:
        doc = await self.service.update_line(ctx_of(request), self.kind, doc_id, line_id, given(data))
        return self.out(doc)

    @delete(
        "/{doc_id:int}/lines/{line_id:int}", opt={"action": "create"}, status_code=200, summary="删除明细（仅暂存）"
    )
    async def delete_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> DocOut:
        return self.out(await self.service.delete_line(ctx_of(request), self.kind, doc_id, line_id))

    @post("/{doc_id:int}/submit", opt={"action": "submit"}, status_code=200, summary="提交")
    async def submit(self, request: Request, doc_id: FromPath[int]) -> DocOut:
        return self.out(await self.service.submit(ctx_of(request), self.kind, doc_id))

    @post("/{doc_id:int}/confirm", opt={"action": "confirm"}, status_code=200, summary="确认")
    async def confirm(self, request: Request, doc_id: FromPath[int]) -> DocOut:
        return self.out(await self.service.confirm(ctx_of(request), self.kind, doc_id))


# --- the htmx pages ------------------------------------------------------------------------------


def go(message: str, url: str, status_code: int = 200) -> Response:
    """A done action that changes the page: say so, then show `url` in place (htmx navigation)."""
    response = saved(message, None, status_code)
    location = {"path": url, "target": "main.content", "select": "main.content", "swap": "outerHTML"}
    response.headers["HX-Location"] = json.dumps(location)
    return response


class DocPages(_KindController):
    """`/<domain>/<kind>s`: the filtered list, 【新增】, the document page (its lines region alone for
    live refreshes), 【暂存】, 【提交】, 【确认】, 【删除】 and the line form. A domain's base says how
    its pages look (the `render_*` and form hooks); a kind's subclass names the kind and its
    screen (`path`, `title`, `confirm_label`)."""

    title: ClassVar[str]
    confirm_label: ClassVar[str]
    filters: ClassVar[type]
    list_template: ClassVar[str]

    def common(self) -> dict:
        """What every template of the kind is given."""
        statuses = self.k.status_names
        return {
            "kind": self.kind,
            "k": self.k,
            "base": self.path,
            "title": self.title,
            "perms": self.perms,
            "topic": self.topic,
            "confirm_label": self.confirm_label,
            "badges": BADGES,
            "S": DocStatus,
            # a deleted document cannot be opened, so the list does not offer to show them
            "statuses": {s: n for s, n in statuses.items() if s != DocStatus.DELETED},
        }

    # hooks of a domain's pages
    async def list_extras(self, request: Request, ctx: Ctx, page: Page, filters: dict, rows: bool) -> dict:
        """What the list template needs beyond the page of documents (filter choices …)."""
        return {"page": page}

    def render_doc(self, request: Request, doc: dict | None, block: str | None = None, **kw: Any) -> Response:
        raise NotImplementedError

    async def render_new(self, request: Request) -> Response:
        return self.render_doc(request, None)

    def render_line_form(self, request: Request, doc: dict, line: dict | None) -> Response:
        raise NotImplementedError

    def created(self, data: dict) -> dict:
        """The service's data of a new document from the form."""
        return self.header(data)

    def created_message(self, doc: dict) -> str:
        return f"已暂存{self.k.label} {doc['no']}"

    def header(self, data: dict) -> dict:
        """The header fields a form carries (【暂存】, and 【提交】 saves them first)."""
        raise NotImplementedError

    def line(self, data: dict) -> dict:
        """The line form's fields as the service names them."""
        return data

    def line_done(self, request: Request, doc: dict, line: dict, added: bool) -> Response:
        raise NotImplementedError

    # handlers
    @get("/", opt={"action": "view"}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters = self.filters.from_query(request.query_params)
        page = await self.service.search(ctx, self.kind, filters, params=list_query(request)[1])
        shown, rows = filters.as_dict(), htmx_target(request) == "rows"
        return render(
            request,
            self.list_template,
            block="rows" if rows else None,
            filters=shown,
            query=query_string(shown),
            **await self.list_extras(request, ctx, page, shown, rows),
            **self.common(),
        )

    @get("/new", opt={"action": "create"}, include_in_schema=False)
    async def new(self, request: Request) -> Response:
        return await self.render_new(request)

    @post("/", opt={"action": "create"}, include_in_schema=False)
    async def create(self, request: Request) -> Response:
        doc = await self.service.create(ctx_of(request), self.kind, self.created(await form_data(request)))
        return go(self.created_message(doc), f"{self.path}/{doc['id']}", 201)

    @get("/{doc_id:int}", opt={"action": "view"}, include_in_schema=False)
    async def read(self, request: Request, doc_id: FromPath[int]) -> Response:
        """The document page; its lines region alone when live events refresh it, or the whole
        page again when the document changed state meanwhile (its buttons change)."""
        doc = await self.service.get(ctx_of(request), self.kind, doc_id)
        if htmx_target(request) == "lines":
            if request.query_params.get("shown", doc["status"]) != doc["status"]:
                return Response("", headers={"HX-Refresh": "true"})
            return self.render_doc(request, doc, "lines")
        return await self.render_page(request, doc)

    async def render_page(self, request: Request, doc: dict) -> Response:
        return self.render_doc(request, doc)

    @post("/{doc_id:int}", opt={"action": "create"}, include_in_schema=False)
    async def update(self, request: Request, doc_id: FromPath[int]) -> Response:
        doc = await self.service.update(ctx_of(request), self.kind, doc_id, self.header(await form_data(request)))
        return saved(f"已暂存{self.k.label} {doc['no']}")

    @post("/{doc_id:int}/submit", opt={"action": "submit"}, include_in_schema=False)
    async def submit(self, request: Request, doc_id: FromPath[int]) -> Response:
        """【提交】 saves the header as shown (when the form carries it), then submits."""
        ctx = ctx_of(request)
        header = self.header(await form_data(request))
        if header:
            await self.service.update(ctx, self.kind, doc_id, header)
        doc = await self.service.submit(ctx, self.kind, doc_id)
        return go(f"已提交{self.k.label} {doc['no']}", f"{self.path}/{doc['id']}")

    @post("/{doc_id:int}/confirm", opt={"action": "confirm"}, include_in_schema=False)
    async def confirm(self, request: Request, doc_id: FromPath[int]) -> Response:
        doc = await self.service.confirm(ctx_of(request), self.kind, doc_id)
        return go(f"已{self.confirm_label} {doc['no']}", f"{self.path}/{doc['id']}")

    @post("/{doc_id:int}/delete", opt={"action": "delete"}, include_in_schema=False)
    async def delete(self, request: Request, doc_id: FromPath[int]) -> Response:
        doc = await self.service.delete(ctx_of(request), self.kind, doc_id)
        return go(f"已删除{self.k.label} {doc['no']}", self.path)

    @get("/{doc_id:int}/lines/new", opt={"action": "create"}, include_in_schema=False)
    async def new_line(self, request: Request, doc_id: FromPath[int]) -> Response:
        """The line form, empty."""
        return self.render_line_form(request, await self.service.get_draft(ctx_of(request), self.kind, doc_id), None)

    @post("/{doc_id:int}/lines", opt={"action": "create"}, include_in_schema=False)
    async def add_line(self, request: Request, doc_id: FromPath[int]) -> Response:
        data = self.line(await form_data(request))
        doc = await self.service.add_line(ctx_of(request), self.kind, doc_id, data)
        return self.line_done(request, doc, doc["lines"][-1], True)

    @get("/{doc_id:int}/lines/{line_id:int}/edit", opt={"action": "create"}, include_in_schema=False)
    async def edit_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> Response:
        """The line form filled with one line (【修改】 of a row)."""
        doc = await self.service.get_draft(ctx_of(request), self.kind, doc_id)
        line = next((li for li in doc["lines"] if li["id"] == line_id), None)
        if line is None:
            raise NotFound("明细")
        return self.render_line_form(request, doc, line)

    @post("/{doc_id:int}/lines/{line_id:int}", opt={"action": "create"}, include_in_schema=False)
    async def update_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> Response:
        data = self.line(await form_data(request))
        doc = await self.service.update_line(ctx_of(request), self.kind, doc_id, line_id, data)
        return self.line_done(request, doc, next(li for li in doc["lines"] if li["id"] == line_id), False)
