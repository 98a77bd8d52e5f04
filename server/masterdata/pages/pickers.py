"""Option lists behind the `picker` macro: categories and classes, goods, orgs of the caller's
subtree, and an org's usable warehouses. Reads are open to every user of the tenant, as master
data is (branches pick it in their documents)."""

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery

from server.core.web import ctx_of, render
from server.masterdata.services import goods, trees, warehouses
from server.masterdata.states import TreeKind
from server.system.services import orgs

TREE_SOURCES = {
    "categories": TreeKind.CATEGORY,
    "repair-classes": TreeKind.REPAIR_CLASS,
    "fault-classes": TreeKind.FAULT_CLASS,
}
LIMIT = 50
READ = {"signed_in": True}


def _options(request: Request, options: list[dict], more: bool) -> Response:
    return render(request, "components/_picker_options.html", options=options, more=more)


class PickerPages(Controller):
    path = "/pickers"

    @get("/{source:str}", opt=READ, include_in_schema=False)
    async def tree(self, request: Request, source: FromPath[str], q: FromQuery[str] = "") -> Response:
        kind = TREE_SOURCES.get(source)
        if kind is None:
            return Response("没有这个选择器", status_code=404)
        nodes, more = await trees.choices(ctx_of(request), kind, q, LIMIT)
        return _options(request, [{"value": n["id"], "label": n["label"]} for n in nodes], more)

    @get("/goods", opt=READ, include_in_schema=False)
    async def goods(
        self,
        request: Request,
        q: FromQuery[str] = "",
        category_id: FromQuery[str] = "",
        is_intake_item: FromQuery[str] = "",
    ) -> Response:
        rows, more = await goods.pick(ctx_of(request), q=q, category_id=category_id, is_intake_item=is_intake_item)
        options = [
            {
                "value": g["id"],
                "label": f"{g['code']} {g['name']}",
                "code": g["code"],
                "text": g["name"],
                "hint": " · ".join(x for x in (g["spec"], g["category_name"]) if x),
            }
            for g in rows
        ]
        return _options(request, options, more)

    @get("/orgs", opt=READ, include_in_schema=False)
    async def orgs(self, request: Request, q: FromQuery[str] = "", below: FromQuery[bool] = False) -> Response:
        rows = await orgs.choices(ctx_of(request), q=q, enabled_only=True, below=below)
        options = [
            {"value": o["id"], "label": o["name"], "code": o["code"], "text": o["name"], "depth": o["depth"]}
            for o in rows[:LIMIT]
        ]
        return _options(request, options, len(rows) > LIMIT)

    @get("/warehouses", opt=READ, include_in_schema=False)
    async def warehouses(
        self, request: Request, org_id: FromQuery[str] = "", types: FromQuery[str] = "", q: FromQuery[str] = ""
    ) -> Response:
        ctx = ctx_of(request)
        org = await orgs.get(ctx, org_id or ctx.org_id, active_only=True)
        wanted = tuple(t for t in types.split(",") if t)
        rows = await warehouses.usable_for_org(ctx, org["id"], wanted)
        q = q.strip().lower()
        options = [
            {
                "value": w["warehouse_id"],
                "label": w["warehouse_name"],
                "code": w["warehouse_code"],
                "text": w["warehouse_name"],
                "hint": warehouses.TYPES[w["warehouse_type"]],
            }
            for w in rows
            if not q or q in w["warehouse_code"].lower() or q in w["warehouse_name"].lower()
        ]
        return _options(request, options, False)


ROUTES = [PickerPages]
