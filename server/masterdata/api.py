"""JSON API of master data. Reads are open to every signed-in user of the tenant (branches pick
master data in their documents); each write names its permission on the route, and the
services keep the object rule (head office only)."""

from dataclasses import dataclass
from typing import Any

from litestar import Controller, MediaType, Request, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody

from server.core.api import PageNo, PageSize, given, page_of, page_type, to
from server.core.openapi import IMPORT_REFUSED, XLSX
from server.core.pagination import PageParams
from server.core.web import ctx_of
from server.core.xlsx import download, xlsx_response
from server.masterdata import permissions as P
from server.masterdata.schemas import (
    AssignIn,
    AssignmentOut,
    AssignmentPatch,
    DictItemIn,
    DictItemOut,
    DictItemPatch,
    FaultReasonIn,
    FaultReasonOut,
    FaultReasonPatch,
    GoodsIn,
    GoodsOut,
    GoodsPatch,
    GoodsTypeIn,
    GoodsTypeOut,
    ImpactOut,
    ImportOut,
    PriceOut,
    RepairCodeIn,
    RepairCodeOut,
    RepairCodePatch,
    SupplierIn,
    SupplierOut,
    SupplierPatch,
    TreeNodeIn,
    TreeNodeOut,
    TreeNodePatch,
    UsageOut,
    WarehouseIn,
    WarehouseOut,
    WarehousePatch,
)
from server.masterdata.services import codes, dictionaries, goods, goods_io, suppliers, trees, warehouses
from server.masterdata.services.codes import CodeFilters
from server.masterdata.services.goods import GoodsFilters
from server.masterdata.services.trees import TreeFilters
from server.masterdata.services.warehouses import AssignmentFilters
from server.masterdata.states import TreeKind

READ = {"signed_in": True}  # master data reads: every user of the tenant
TreeNodePage = page_type(TreeNodeOut)
GoodsPage = page_type(GoodsOut)
GoodsTypePage = page_type(GoodsTypeOut)
AssignmentPage = page_type(AssignmentOut)
DictItemPage = page_type(DictItemOut)


def impact_out(row: dict, found: dict) -> ImpactOut:
    counts = [UsageOut(u.key, u.label, u.count, u.blocking) for u in found["counts"]]
    return ImpactOut(id=row["id"], name=row["name"], counts=counts, refusal=found["refusal"])


def _tree_controller(kind: str, path: str) -> type[Controller]:
    perms = P.TREE[kind]

    class TreeController(Controller):
        tags = ["masterdata"]
        dependencies = {"filters": TreeFilters.provide()}

        @get("/", opt=READ)
        async def list_nodes(
            self, request: Request, filters: NamedDependency[TreeFilters], page: PageNo = 1, page_size: PageSize = 200
        ) -> TreeNodePage:
            rows = await trees.search(ctx_of(request), kind, filters)
            start = (page - 1) * page_size
            return {
                "items": [to(TreeNodeOut, trees.as_dict(r)) for r in rows[start : start + page_size]],
                "total": len(rows),
                "page": page,
                "page_size": page_size,
            }

        @get("/export", opt={"perm": perms["export"]}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
        async def export(self, request: Request, filters: NamedDependency[TreeFilters]) -> Response:
            rows = await trees.export_rows(ctx_of(request), kind, filters)
            title = trees.KINDS[kind]
            return await xlsx_response(f"{title}.xlsx", title, trees.EXPORT_HEADERS, rows)

        @post("/", opt={"perm": perms["create"]})
        async def create(self, request: Request, data: JSONBody[TreeNodeIn]) -> TreeNodeOut:
            return to(TreeNodeOut, trees.as_dict(await trees.create(ctx_of(request), kind, given(data))))

        @get("/{node_id:int}", opt=READ)
        async def read(self, request: Request, node_id: FromPath[int]) -> TreeNodeOut:
            return to(TreeNodeOut, trees.as_dict(await trees.get(ctx_of(request), kind, node_id)))

        @patch("/{node_id:int}", opt={"perm": perms["update"]})
        async def update(self, request: Request, node_id: FromPath[int], data: JSONBody[TreeNodePatch]) -> TreeNodeOut:
            return to(TreeNodeOut, trees.as_dict(await trees.update(ctx_of(request), kind, node_id, given(data))))

        @delete("/{node_id:int}", opt={"perm": perms["delete"]}, status_code=200)
        async def remove(self, request: Request, node_id: FromPath[int]) -> TreeNodeOut:
            return to(TreeNodeOut, trees.as_dict(await trees.delete(ctx_of(request), kind, node_id)))

        @get("/{node_id:int}/impact", opt={"perm": perms["delete"]}, summary="删除前：其下有什么、是否拒绝删除")
        async def impact(self, request: Request, node_id: FromPath[int]) -> ImpactOut:
            found = await trees.impact(ctx_of(request), kind, node_id)
            return impact_out(found["node"], found)

        # restoring undoes a delete: whoever may delete may restore (no separate code to grant)
        @post(
            "/{node_id:int}/restore",
            opt={"perm": perms["delete"]},
            status_code=200,
            summary="恢复（连同一并删除的下级）",
        )
        async def restore(self, request: Request, node_id: FromPath[int]) -> TreeNodeOut:
            return to(TreeNodeOut, trees.as_dict(await trees.restore(ctx_of(request), kind, node_id)))

    TreeController.path = path
    TreeController.__name__ = f"{kind.title().replace('_', '')}Controller"
    return TreeController


def _code_controller(kind: str, path: str, in_s, patch_s, out_s) -> type[Controller]:
    perms = codes.KINDS[kind].perms
    out_page = page_type(out_s)

    class CodeController(Controller):
        tags = ["masterdata"]
        dependencies = {"filters": CodeFilters.provide()}

        @get("/", opt=READ)
        async def list_items(
            self, request: Request, filters: NamedDependency[CodeFilters], page: PageNo = 1, page_size: PageSize = 50
        ) -> out_page:
            return page_of(
                out_s, await codes.search(ctx_of(request), kind, filters, params=PageParams(page, page_size))
            )

        @get("/export", opt={"perm": perms["export"]}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
        async def export(self, request: Request, filters: NamedDependency[CodeFilters]) -> Response:
            headers, rows = await codes.export_rows(ctx_of(request), kind, filters)
            label = codes.KINDS[kind].label
            return await xlsx_response(f"{label}.xlsx", label, headers, rows)

        @post("/", opt={"perm": perms["create"]})
        async def create(self, request: Request, data: JSONBody[in_s]) -> out_s:
            return to(out_s, await codes.create(ctx_of(request), kind, given(data)))

        @get("/{item_id:int}", opt=READ)
        async def read(self, request: Request, item_id: FromPath[int]) -> out_s:
            return to(out_s, codes.as_dict(kind, await codes.get(ctx_of(request), kind, item_id)))

        @patch("/{item_id:int}", opt={"perm": perms["update"]})
        async def update(self, request: Request, item_id: FromPath[int], data: JSONBody[patch_s]) -> out_s:
            return to(out_s, await codes.update(ctx_of(request), kind, item_id, given(data)))

        @delete("/{item_id:int}", opt={"perm": perms["delete"]}, status_code=200)
        async def remove(self, request: Request, item_id: FromPath[int]) -> out_s:
            return to(out_s, await codes.delete(ctx_of(request), kind, item_id))

    CodeController.path = path
    CodeController.__name__ = f"{kind.title().replace('_', '')}Controller"
    return CodeController


def _register_controller(path: str, service: Any, noun: str, schemas: tuple, perms: dict, title: str):
    """A register of coded rows (仓库定义, 供应商): the filtered list and its export, add, read,
    update and soft delete. `service` has `search`, `export_rows`, `EXPORT_HEADERS` and the CRUD
    functions; `noun` names the path parameter (`warehouse_id`)."""
    in_s, patch_s, out_s, filters_type = schemas
    out_page = page_type(out_s)
    item = f"/{{{noun}_id:int}}"
    plural = f"{noun.title()}s"

    def item_id(request: Request) -> int:
        return request.path_params[f"{noun}_id"]

    class RegisterController(Controller):
        tags = ["masterdata"]
        dependencies = {"filters": filters_type.provide()}

        # the summary and operation id its own handler had (`list_warehouses`)
        @get("/", opt=READ, operation_id=f"ApiV1{plural}List{plural}", summary=f"List{plural}")
        async def list_items(
            self, request: Request, filters: NamedDependency[filters_type], page: PageNo = 1, page_size: PageSize = 50
        ) -> out_page:
            return page_of(out_s, await service.search(ctx_of(request), filters, params=PageParams(page, page_size)))

        @get("/export", opt={"perm": perms["export"]}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
        async def export(self, request: Request, filters: NamedDependency[filters_type]) -> Response:
            rows = await service.export_rows(ctx_of(request), filters)
            return await xlsx_response(f"{title}.xlsx", title, service.EXPORT_HEADERS, rows)

        @post("/", opt={"perm": perms["create"]})
        async def create(self, request: Request, data: JSONBody[in_s]) -> out_s:
            return to(out_s, await service.create(ctx_of(request), given(data)))

        @get(item, opt=READ)
        async def read(self, request: Request) -> out_s:
            return to(out_s, await service.get(ctx_of(request), item_id(request)))

        @patch(item, opt={"perm": perms["update"]})
        async def update(self, request: Request, data: JSONBody[patch_s]) -> out_s:
            return to(out_s, await service.update(ctx_of(request), item_id(request), given(data)))

        @delete(item, opt={"perm": perms["delete"]}, status_code=200)
        async def remove(self, request: Request) -> out_s:
            return to(out_s, await service.delete(ctx_of(request), item_id(request)))

    RegisterController.path = path
    RegisterController.__name__ = f"{noun.title()}Controller"
    return RegisterController


class WarehouseLifecycleController(Controller):
    """A warehouse's delete check and restore, beside the register's routes (suppliers have none)."""

    path = "/api/v1/warehouses"
    tags = ["masterdata"]

    @get("/{warehouse_id:int}/impact", opt={"perm": P.WAREHOUSE["delete"]}, summary="删除前：库存、未完成单据")
    async def impact(self, request: Request, warehouse_id: FromPath[int]) -> ImpactOut:
        found = await warehouses.impact(ctx_of(request), warehouse_id)
        return impact_out(found["warehouse"], found)

    # restoring undoes a delete: whoever may delete may restore (no separate code to grant)
    @post("/{warehouse_id:int}/restore", opt={"perm": P.WAREHOUSE["delete"]}, status_code=200, summary="恢复")
    async def restore(self, request: Request, warehouse_id: FromPath[int]) -> WarehouseOut:
        return to(WarehouseOut, await warehouses.restore(ctx_of(request), warehouse_id))


@dataclass
class ImportForm:
    file: UploadFile


class GoodsController(Controller):
    path = "/api/v1/goods"
    tags = ["masterdata"]
    dependencies = {"filters": GoodsFilters.provide()}

    @get("/export", opt={"perm": P.GOODS["export"]}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
    async def export(self, request: Request, filters: NamedDependency[GoodsFilters]) -> Response:
        rows = await goods_io.export_rows(ctx_of(request), filters)
        return await xlsx_response("货品.xlsx", "货品", goods_io.COLUMNS, rows)

    @get("/import-template", opt={"perm": P.GOODS["import"]}, responses=XLSX, summary="货品导入模板")
    async def import_template(self) -> Response:
        return await download("货品导入模板.xlsx", goods_io.template_bytes)

    @post(
        "/import",
        opt={"perm": P.GOODS["import"]},
        status_code=200,
        responses=IMPORT_REFUSED,
        summary="从 Excel 导入货品（全部或全不）",
    )
    async def import_file(self, request: Request, data: MultipartBody[ImportForm]) -> Response[ImportOut]:
        result = await goods_io.import_goods(ctx_of(request), await data.file.read())
        if not result.ok:
            body = {
                "detail": f"导入失败：共 {result.error_rows} 行有错误，未导入任何数据",
                "code": "import_invalid",
                "errors": result.errors,
            }
            return Response(body, status_code=400, media_type=MediaType.JSON)
        return Response({"imported": result.imported}, status_code=200, media_type=MediaType.JSON)

    @get("/", opt=READ)
    async def list_goods(
        self, request: Request, filters: NamedDependency[GoodsFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> GoodsPage:
        return page_of(GoodsOut, await goods.search(ctx_of(request), filters, params=PageParams(page, page_size)))

    @post("/", opt={"perm": P.GOODS["create"]})
    async def create(self, request: Request, data: JSONBody[GoodsIn]) -> GoodsOut:
        return to(GoodsOut, await goods.create(ctx_of(request), given(data)))

    @get("/{goods_id:int}", opt=READ)
    async def read(self, request: Request, goods_id: FromPath[int]) -> GoodsOut:
        return to(GoodsOut, await goods.get(ctx_of(request), goods_id))

    @patch("/{goods_id:int}", opt={"perm": P.GOODS["update"]})
    async def update(self, request: Request, goods_id: FromPath[int], data: JSONBody[GoodsPatch]) -> GoodsOut:
        return to(GoodsOut, await goods.update(ctx_of(request), goods_id, given(data)))

    @delete("/{goods_id:int}", opt={"perm": P.GOODS["delete"]}, status_code=200)
    async def remove(self, request: Request, goods_id: FromPath[int]) -> GoodsOut:
        return to(GoodsOut, await goods.delete(ctx_of(request), goods_id))

    @get("/{goods_id:int}/price", opt=READ, summary="某机构的结算价格（price_for）")
    async def price(self, request: Request, goods_id: FromPath[int], org_id: FromQuery[int]) -> PriceOut:
        price = await goods.price_for(ctx_of(request), goods_id, org_id)
        return PriceOut(
            goods_id=goods_id,
            org_id=org_id,
            order_price=str(price.order_price),
            retail_price=str(price.retail_price),
            orderable=price.orderable,
            source=price.source,
        )


class GoodsTypeController(Controller):
    path = "/api/v1/goods-types"
    tags = ["masterdata"]

    @get("/", opt=READ)
    async def list_types(self, request: Request) -> GoodsTypePage:
        rows = await goods.goods_types(ctx_of(request))
        return {
            "items": [to(GoodsTypeOut, r) for r in rows],
            "total": len(rows),
            "page": 1,
            "page_size": max(len(rows), 1),
        }

    @post("/", opt={"perm": P.GOODS_TYPE_MANAGE})
    async def create(self, request: Request, data: JSONBody[GoodsTypeIn]) -> GoodsTypeOut:
        return to(GoodsTypeOut, await goods.create_goods_type(ctx_of(request), data.name))


class AssignmentController(Controller):
    path = "/api/v1/warehouse-assignments"
    tags = ["masterdata"]
    dependencies = {"filters": AssignmentFilters.provide()}

    @get("/", opt=READ)
    async def list_assignments(
        self, request: Request, filters: NamedDependency[AssignmentFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> AssignmentPage:
        page_ = await warehouses.assignments(ctx_of(request), filters, params=PageParams(page, page_size))
        return page_of(AssignmentOut, page_)

    @get("/export", opt={"perm": P.ASSIGNMENT["export"]}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
    async def export(self, request: Request, filters: NamedDependency[AssignmentFilters]) -> Response:
        rows = await warehouses.assignment_export_rows(ctx_of(request), filters)
        return await xlsx_response("仓库设置.xlsx", "仓库设置", warehouses.ASSIGNMENT_EXPORT_HEADERS, rows)

    @post("/", opt={"perm": P.ASSIGNMENT["assign"]}, summary="仓库套用机构（幂等）")
    async def assign(self, request: Request, data: JSONBody[AssignIn]) -> AssignmentPage:
        rows = await warehouses.assign(ctx_of(request), data.warehouse_ids, data.org_ids)
        return {
            "items": [to(AssignmentOut, r) for r in rows],
            "total": len(rows),
            "page": 1,
            "page_size": max(len(rows), 1),
        }

    @get("/{assignment_id:int}", opt=READ)
    async def read(self, request: Request, assignment_id: FromPath[int]) -> AssignmentOut:
        return to(AssignmentOut, await warehouses.get_assignment(ctx_of(request), assignment_id))

    @patch("/{assignment_id:int}", opt={"perm": P.ASSIGNMENT["update"]})
    async def update(
        self, request: Request, assignment_id: FromPath[int], data: JSONBody[AssignmentPatch]
    ) -> AssignmentOut:
        return to(AssignmentOut, await warehouses.set_assignment_enabled(ctx_of(request), assignment_id, data.enabled))


class DictionaryController(Controller):
    path = "/api/v1/dictionaries"
    tags = ["masterdata"]

    @get("/{kind:str}", opt=READ)
    async def list_items(self, request: Request, kind: FromPath[str]) -> DictItemPage:
        rows = await dictionaries.items(ctx_of(request), kind)
        return {
            "items": [to(DictItemOut, r) for r in rows],
            "total": len(rows),
            "page": 1,
            "page_size": max(len(rows), 1),
        }

    @get("/{kind:str}/export", opt={"perm": P.DICTIONARY_EXPORT}, responses=XLSX, summary="导出 Excel")
    async def export(self, request: Request, kind: FromPath[str]) -> Response:
        rows = await dictionaries.export_rows(ctx_of(request), kind)
        return await xlsx_response(
            f"数据字典-{dictionaries.KINDS[kind]}.xlsx", "数据字典", dictionaries.EXPORT_HEADERS, rows
        )

    @post("/{kind:str}", opt={"perm": P.DICTIONARY_UPDATE})
    async def create(self, request: Request, kind: FromPath[str], data: JSONBody[DictItemIn]) -> DictItemOut:
        return to(DictItemOut, await dictionaries.create(ctx_of(request), kind, given(data)))

    @patch("/{kind:str}/{item_id:int}", opt={"perm": P.DICTIONARY_UPDATE})
    async def update(
        self, request: Request, kind: FromPath[str], item_id: FromPath[int], data: JSONBody[DictItemPatch]
    ) -> DictItemOut:
        return to(DictItemOut, await dictionaries.update(ctx_of(request), kind, item_id, given(data)))


ROUTES = [
    _tree_controller(TreeKind.CATEGORY, "/api/v1/categories"),
    _tree_controller(TreeKind.REPAIR_CLASS, "/api/v1/repair-classes"),
    _tree_controller(TreeKind.FAULT_CLASS, "/api/v1/fault-classes"),
    _code_controller("repair_code", "/api/v1/repair-codes", RepairCodeIn, RepairCodePatch, RepairCodeOut),
    _code_controller("fault_reason", "/api/v1/fault-reasons", FaultReasonIn, FaultReasonPatch, FaultReasonOut),
    GoodsController,
    GoodsTypeController,
    _register_controller(
        "/api/v1/warehouses",
        warehouses,
        "warehouse",
        (WarehouseIn, WarehousePatch, WarehouseOut, warehouses.WarehouseFilters),
        P.WAREHOUSE,
        "仓库定义",
    ),
    WarehouseLifecycleController,
    AssignmentController,
    _register_controller(
        "/api/v1/suppliers",
        suppliers,
        "supplier",
        (SupplierIn, SupplierPatch, SupplierOut, suppliers.SupplierFilters),
        P.SUPPLIER,
        "供应商",
    ),
    DictionaryController,
]
