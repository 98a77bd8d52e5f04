"""Pages of 【仓库定义】 (definitions: list, add/edit dialog, delete) and 【仓库设置】 (org warehouses:
list with a per-row 停用/启用, and the 【仓库套用机构】 dialog assigning many warehouses to many orgs)."""

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core.forms import form_data, saved
from server.core.pagination import PageParams
from server.core.web import ctx_of, render
from server.core.xlsx import xlsx_response
from server.masterdata import permissions as P
from server.masterdata.pages.common import list_context, list_filters, register_pages, rows_block
from server.masterdata.services import warehouses
from server.masterdata.services.warehouses import AssignmentFilters
from server.system.services import orgs

TOPIC = "warehouses"

WarehousePages = register_pages(
    "/masterdata/warehouses",
    warehouses,
    warehouses.WarehouseFilters,
    P.WAREHOUSE,
    title="仓库定义",
    noun="仓库",
    template="masterdata/warehouses.html",
    form=("masterdata/_warehouse_form.html", "warehouse"),
    topic=TOPIC,
    extra={"types": warehouses.TYPES},
)


class WarehouseLifecyclePages(Controller):
    """A warehouse's delete, confirmed in a dialog that says what uses it, and its 恢复."""

    path = "/masterdata/warehouses"

    @get("/{item_id:int}/impact", opt={"perm": P.WAREHOUSE["delete"]}, include_in_schema=False)
    async def confirm_delete(self, request: Request, item_id: FromPath[int]) -> Response:
        found = await warehouses.impact(ctx_of(request), item_id)
        return render(
            request,
            "masterdata/_delete_impact.html",
            action=f"/masterdata/warehouses/{item_id}/delete",
            noun="仓库",
            name=found["warehouse"]["name"],
            counts=found["counts"],
            refusal=found["refusal"],
            consequence="删除后所有机构都不能再使用它：",
            restore_note="，它在各机构的套用也都回来",
        )

    @post("/{item_id:int}/restore", opt={"perm": P.WAREHOUSE["delete"]}, include_in_schema=False)
    async def restore(self, request: Request, item_id: FromPath[int]) -> Response:
        row = await warehouses.restore(ctx_of(request), item_id)
        return saved(f"已恢复仓库 {row['name']}", TOPIC)


class AssignmentPages(Controller):
    path = "/masterdata/warehouse-assignments"

    @get("/", opt={"perm": P.ASSIGNMENT["view"]}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters, params = list_filters(request, AssignmentFilters)
        page = await warehouses.assignments(ctx, filters, params=params)
        org = await orgs.get(ctx, filters.org_id) if filters.org_id else None
        return render(
            request,
            "masterdata/assignments.html",
            block=rows_block(request),
            title="仓库设置",
            page=page,
            **list_context(filters),
            types=warehouses.TYPES,
            org_label=org["name"] if org else "",
            # every definition, deleted ones too: their org warehouses are still listed
            all_warehouses=(await warehouses.search(ctx, params=PageParams(1, 200))).items,
        )

    @get("/export", opt={"perm": P.ASSIGNMENT["export"]}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        rows = await warehouses.assignment_export_rows(ctx_of(request), list_filters(request, AssignmentFilters)[0])
        return await xlsx_response("仓库设置.xlsx", "仓库设置", warehouses.ASSIGNMENT_EXPORT_HEADERS, rows)

    @get("/assign", opt={"perm": P.ASSIGNMENT["assign"]}, include_in_schema=False)
    async def assign_form(self, request: Request) -> Response:
        choices = await warehouses.assign_choices(ctx_of(request))
        return render(request, "masterdata/_assign_form.html", types=warehouses.TYPES, **choices)

    @post("/", opt={"perm": P.ASSIGNMENT["assign"]}, include_in_schema=False)
    async def assign(self, request: Request) -> Response:
        data = await form_data(request, lists=("warehouse_ids", "org_ids"))
        rows = await warehouses.assign(ctx_of(request), data["warehouse_ids"], data["org_ids"])
        created = sum(r["created"] for r in rows)
        message = f"仓库套用机构完成：新增 {created} 条" if created else "所选仓库已全部套用到所选机构，没有新增"
        return saved(message, TOPIC)

    @post("/{assignment_id:int}/enabled", opt={"perm": P.ASSIGNMENT["update"]}, include_in_schema=False)
    async def set_enabled(self, request: Request, assignment_id: FromPath[int]) -> Response:
        data = await form_data(request)
        row = await warehouses.set_assignment_enabled(ctx_of(request), assignment_id, data.get("enabled"))
        verb = "启用" if row["enabled"] else "停用"
        return saved(f"已{verb} {row['org_name']} 的仓库 {row['warehouse_name']}", TOPIC)


ROUTES = [WarehousePages, WarehouseLifecyclePages, AssignmentPages]
