"""htmx pages of master data."""

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from server.core.errors import NotFound
from server.core.forms import form_data, list_query, query_string, saved
from server.core.web import ctx_of, htmx_target, render
from server.masterdata import permissions as P
from server.masterdata.services import dictionaries, suppliers, trees
from server.masterdata.services.common import STATUSES

TREE_PAGES = {
    "category": ("/masterdata/categories", "品类管理", "新增子品类"),
    "repair_class": ("/masterdata/repair-classes", "维修分类", "新增子类别"),
    "fault_class": ("/masterdata/fault-classes", "故障分类", "新增子类别"),
}


def _tree_pages(kind: str) -> type[Controller]:
    base, title, child_label = TREE_PAGES[kind]
    perms = P.TREE[kind]
    common = {"kind": kind, "base": base, "perms": perms, "child_label": child_label, "label": trees.KINDS[kind]}

    class TreePages(Controller):
        path = base

        @get("/", opt={"perm": perms["view"]}, include_in_schema=False)
        async def index(self, request: Request, show_deleted: FromQuery[str] = "") -> Response:
            nodes = await trees.listing(ctx_of(request), kind, include_deleted=bool(show_deleted))
            return render(
                request,
                "masterdata/tree.html",
                block="rows" if htmx_target(request) == "rows" else None,
                title=title,
                nodes=nodes,
                show_deleted=bool(show_deleted),
                **common,
            )

        @get("/new", opt={"perm": perms["create"]}, include_in_schema=False)
        async def new(self, request: Request, parent_id: FromQuery[int | None] = None) -> Response:
            parent = await trees.get(ctx_of(request), kind, parent_id) if parent_id else None
            return render(
                request,
                "masterdata/_tree_edit_row.html",
                node=None,
                parent=parent,
                depth=parent["depth"] + 1 if parent else 1,
                **common,
            )

        @post("/", opt={"perm": perms["create"]}, include_in_schema=False)
        async def create(self, request: Request) -> Response:
            node = await trees.create(ctx_of(request), kind, await form_data(request))
            return saved(f"已添加{trees.KINDS[kind]} {node['name']}", kind, status_code=201)

        @get("/{node_id:int}/edit", opt={"perm": perms["update"]}, include_in_schema=False)
        async def edit(self, request: Request, node_id: FromPath[int]) -> Response:
            node = await trees.get(ctx_of(request), kind, node_id)
            return render(
                request, "masterdata/_tree_edit_row.html", node=node, parent=None, depth=node["depth"], **common
            )

        @post("/{node_id:int}", opt={"perm": perms["update"]}, include_in_schema=False)
        async def update(self, request: Request, node_id: FromPath[int]) -> Response:
            data = await form_data(request)
            data.pop("parent_id", None)
            node = await trees.update(ctx_of(request), kind, node_id, data)
            return saved(f"已修改{trees.KINDS[kind]} {node['name']}", kind)

        @post("/{node_id:int}/delete", opt={"perm": perms["delete"]}, include_in_schema=False)
        async def delete(self, request: Request, node_id: FromPath[int]) -> Response:
            node = await trees.delete(ctx_of(request), kind, node_id)
            return saved(f"已删除{trees.KINDS[kind]} {node['name']}", kind)

    TreePages.__name__ = f"{kind.title().replace('_', '')}Pages"
    return TreePages


class SupplierPages(Controller):
    path = "/masterdata/suppliers"

    @get("/", opt={"perm": P.SUPPLIER["view"]}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        filters, params = list_query(request, "q", "enabled", status="active")
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


class DictionaryPages(Controller):
    path = "/masterdata/dictionaries"

    @get("/", opt={"perm": P.DICTIONARY_VIEW}, include_in_schema=False)
    async def index(self, request: Request, kind: FromQuery[str] = "service_type") -> Response:
        items = await dictionaries.items(ctx_of(request), kind)
        return render(
            request,
            "masterdata/dictionaries.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="数据字典",
            kind=kind,
            kinds=dictionaries.KINDS,
            items=items,
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


ROUTES = [*(_tree_pages(kind) for kind in TREE_PAGES), SupplierPages, DictionaryPages]
