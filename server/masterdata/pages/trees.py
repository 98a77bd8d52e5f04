"""Pages of the three trees (品类管理, 维修分类, 故障分类): inline add/edit rows, a soft delete
confirmed in a dialog that says what it takes out of use, and 恢复 of deleted nodes."""

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from server.core.forms import form_data, saved
from server.core.web import ctx_of, render
from server.core.xlsx import xlsx_response
from server.masterdata import permissions as P
from server.masterdata.pages.common import rows_block
from server.masterdata.services import trees
from server.masterdata.services.trees import TreeFilters
from server.masterdata.states import Status, TreeKind

TREE_PAGES = {
    TreeKind.CATEGORY: ("/masterdata/categories", "品类管理", "新增子品类"),
    TreeKind.REPAIR_CLASS: ("/masterdata/repair-classes", "维修分类", "新增子类别"),
    TreeKind.FAULT_CLASS: ("/masterdata/fault-classes", "故障分类", "新增子类别"),
}


def _filters(show_deleted: str, q: str) -> TreeFilters:
    """The page's 显示已删除 is the list's status filter: every node, or the active ones."""
    return TreeFilters(q=q, status="" if show_deleted else Status.ACTIVE)


def _tree_pages(kind: str) -> type[Controller]:
    base, title, child_label = TREE_PAGES[kind]
    perms = P.TREE[kind]
    common = {
        "kind": kind,
        "base": base,
        "perms": perms,
        "child_label": child_label,
        "label": trees.KINDS[kind],
        "Status": Status,
    }

    class TreePages(Controller):
        path = base

        @get("/", opt={"perm": perms["view"]}, include_in_schema=False)
        async def index(self, request: Request, show_deleted: FromQuery[str] = "", q: FromQuery[str] = "") -> Response:
            ctx = ctx_of(request)
            nodes = await trees.search(ctx, kind, _filters(show_deleted, q))
            return render(
                request,
                "masterdata/tree.html",
                block=rows_block(request),
                title=title,
                nodes=nodes,
                show_deleted=bool(show_deleted),
                q=q,
                paths=await trees.path_labels(ctx, kind) if q else {},
                restorable=await trees.restorable_ids(ctx, kind) if show_deleted else set(),
                **common,
            )

        @get("/export", opt={"perm": perms["export"]}, include_in_schema=False)
        async def export(self, request: Request, show_deleted: FromQuery[str] = "", q: FromQuery[str] = "") -> Response:
            rows = await trees.export_rows(ctx_of(request), kind, _filters(show_deleted, q))
            return await xlsx_response(f"{title}.xlsx", title, trees.EXPORT_HEADERS, rows)

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

        @get("/{node_id:int}/impact", opt={"perm": perms["delete"]}, include_in_schema=False)
        async def confirm_delete(self, request: Request, node_id: FromPath[int]) -> Response:
            found = await trees.impact(ctx_of(request), kind, node_id)
            label = trees.KINDS[kind]
            return render(
                request,
                "masterdata/_delete_impact.html",
                action=f"{base}/{node_id}/delete",
                noun=label,
                name=found["node"]["name"],
                counts=found["counts"],
                refusal=found["refusal"],
                consequence=f"它和它的下级{label}将一并删除；其下的以下内容将不能再被选用：",
                restore_note="，它和一并删除的下级都会回来",
            )

        @post("/{node_id:int}/delete", opt={"perm": perms["delete"]}, include_in_schema=False)
        async def delete(self, request: Request, node_id: FromPath[int]) -> Response:
            node = await trees.delete(ctx_of(request), kind, node_id)
            return saved(f"已删除{trees.KINDS[kind]} {node['name']}", kind)

        @post("/{node_id:int}/restore", opt={"perm": perms["delete"]}, include_in_schema=False)
        async def restore(self, request: Request, node_id: FromPath[int]) -> Response:
            node = await trees.restore(ctx_of(request), kind, node_id)
            return saved(f"已恢复{trees.KINDS[kind]} {node['name']}（含下级共 {node['restored']} 个）", kind)

    TreePages.__name__ = f"{kind.title().replace('_', '')}Pages"
    return TreePages


ROUTES = [_tree_pages(kind) for kind in TREE_PAGES]
