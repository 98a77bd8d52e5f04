"""Pages of 货品管理: the filtered list with Excel export and import, the add/edit page (price
tiers, per-store prices, the inline 【自定义】 goods type) and the price preview of `price_for`."""

import json

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery

from server.core import jobs
from server.core.errors import BusinessError, Conflict
from server.core.forms import form_data, form_rows, saved
from server.core.tenancy import Ctx
from server.core.web import ctx_of, render
from server.core.xlsx import download, xlsx_response
from server.masterdata import permissions as P
from server.masterdata.pages.common import list_context, list_filters, rows_block
from server.masterdata.services import goods, goods_io, trees
from server.masterdata.services.common import HQ_ONLY
from server.masterdata.services.goods import GoodsFilters
from server.masterdata.states import Status
from server.system.services import orgs

BASE = "/masterdata/goods"
STORE_FIELDS = ("store_org_id", "store_order_price", "store_retail_price")


def _back_to_list(message: str, status_code: int = 200) -> Response:
    """A saved add/edit page: say so, then show the list in place of the form (htmx navigation)."""
    response = saved(message, "goods", status_code)
    location = {"path": BASE, "target": "main.content", "select": "main.content", "swap": "outerHTML"}
    response.headers["HX-Location"] = json.dumps(location)
    return response


async def _goods_body(request: Request) -> dict:
    """The add/edit form as the goods service's body: one price tier per level, and the per-store
    rows read position by position (`form_data` drops empty values, which would shift the rows)."""
    data = await form_data(request)
    body = {k: data[k] for k in ("code", "category_id", *goods.EDITABLE) if k in data}
    body["prices"] = [
        {
            "level": level,
            "order_price": data.get(f"order_price_{level}", ""),
            "retail_price": data.get(f"retail_price_{level}", ""),
            "orderable": data.get(f"orderable_{level}", "0"),
        }
        for level in goods.LEVELS
    ]
    body["store_prices"] = [
        {"org_id": r["store_org_id"], "order_price": r["store_order_price"], "retail_price": r["store_retail_price"]}
        for r in await form_rows(request, *STORE_FIELDS, label="按店铺单独定价")
    ]
    return body


async def _form_context(ctx: Ctx) -> dict:
    """The add/edit page under the list's menu entry, with the goods types to choose from."""
    return {"title": "货品管理", "goods_types": await goods.goods_types(ctx), "levels": goods.LEVELS}


class GoodsPages(Controller):
    path = BASE

    @get("/", opt={"perm": P.GOODS["view"]}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters, params = list_filters(request, GoodsFilters, status=Status.ACTIVE)
        page = await goods.search(ctx, filters, params=params, with_prices=False)
        chosen = {int(filters.category_id)} if filters.category_id.isdigit() else set()
        paths = await trees.paths_of(ctx, {g["category_id"] for g in page.items} | chosen)
        return render(
            request,
            "masterdata/goods.html",
            block=rows_block(request),
            title="货品管理",
            page=page,
            paths=paths,
            **list_context(filters),
            goods_types=await goods.goods_types(ctx, kept=True),
        )

    @get("/export", opt={"perm": P.GOODS["export"]}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        filters = list_filters(request, GoodsFilters, status=Status.ACTIVE)[0]
        rows = await goods_io.export_rows(ctx_of(request), filters)
        return await xlsx_response("货品.xlsx", "货品", goods_io.COLUMNS, rows)

    @get("/import", opt={"perm": P.GOODS["import"]}, include_in_schema=False)
    async def import_dialog(self, request: Request) -> Response:
        return render(request, "masterdata/_goods_import.html", job=None, result=None)

    @get("/import-template", opt={"perm": P.GOODS["import"]}, include_in_schema=False)
    async def import_template(self) -> Response:
        return await download("货品导入模板.xlsx", goods_io.template_bytes)

    @post("/import", opt={"perm": P.GOODS["import"]}, include_in_schema=False)
    async def import_file(self, request: Request) -> Response:
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile):
            raise BusinessError("请选择要导入的 Excel 文件", code="import_empty")
        job = await goods_io.start_import(ctx_of(request), await upload.read())
        return render(request, "masterdata/_goods_import.html", block="report", job=job, result=None)

    @get("/import/{job_id:int}", opt={"perm": P.GOODS["import"]}, include_in_schema=False)
    async def import_progress(self, request: Request, job_id: FromPath[int]) -> Response:
        """Polled by the dialog while the import job runs: its progress, then its outcome."""
        job = await jobs.get(ctx_of(request), job_id, name=goods_io.IMPORT_JOB)
        result = job["result"] if job["status"] == jobs.JobStatus.DONE else None
        if result and result["imported"]:
            return saved(f"已导入 {result['imported']} 条货品", "goods")
        # still running, failed (a file that cannot be read), or refused rows: the dialog says which
        return render(request, "masterdata/_goods_import.html", block="report", job=job, result=result)

    @get("/new", opt={"perm": P.GOODS["create"]}, include_in_schema=False)
    async def new(self, request: Request) -> Response:
        ctx = ctx_of(request)
        ctx.require_hq(HQ_ONLY)
        return render(request, "masterdata/goods_form.html", heading="添加货品", goods=None, **await _form_context(ctx))

    @post("/", opt={"perm": P.GOODS["create"]}, include_in_schema=False)
    async def create(self, request: Request) -> Response:
        row = await goods.create(ctx_of(request), await _goods_body(request))
        return _back_to_list(f"已添加货品 {row['code']} {row['name']}", 201)

    @get("/{goods_id:int}/edit", opt={"perm": P.GOODS["update"]}, include_in_schema=False)
    async def edit(self, request: Request, goods_id: FromPath[int]) -> Response:
        ctx = ctx_of(request)
        ctx.require_hq(HQ_ONLY)
        row = await goods.get(ctx, goods_id)
        if row["status"] != Status.ACTIVE:
            raise Conflict("货品已删除，不能修改", code="deleted")
        context = await _form_context(ctx)
        return render(
            request,
            "masterdata/goods_form.html",
            heading=f"修改货品 {row['code']}",
            goods=row,
            category_path=(await trees.paths_of(ctx, {row["category_id"]}))[row["category_id"]],
            **context,
        )

    @post("/{goods_id:int}", opt={"perm": P.GOODS["update"]}, include_in_schema=False)
    async def update(self, request: Request, goods_id: FromPath[int]) -> Response:
        row = await goods.update(ctx_of(request), goods_id, await _goods_body(request))
        return _back_to_list(f"已修改货品 {row['code']} {row['name']}")

    @post("/{goods_id:int}/delete", opt={"perm": P.GOODS["delete"]}, include_in_schema=False)
    async def delete(self, request: Request, goods_id: FromPath[int]) -> Response:
        row = await goods.delete(ctx_of(request), goods_id)
        return saved(f"已删除货品 {row['code']} {row['name']}", "goods")

    @get("/{goods_id:int}/price", opt={"perm": P.GOODS["view"]}, include_in_schema=False)
    async def price(self, request: Request, goods_id: FromPath[int], org_id: FromQuery[str] = "") -> Response:
        ctx = ctx_of(request)
        if not org_id:
            return render(request, "masterdata/_goods_price.html", price=None, org=None)
        price = await goods.price_for(ctx, goods_id, org_id)
        return render(request, "masterdata/_goods_price.html", price=price, org=await orgs.get(ctx, org_id))

    @get("/store-price-row", opt={"perm": P.GOODS["view"]}, include_in_schema=False)
    async def store_price_row(self, request: Request) -> Response:
        return render(request, "masterdata/_goods_store_price_row.html", row=None)

    @get("/types/new", opt={"perm": P.GOODS_TYPE_MANAGE}, include_in_schema=False)
    async def new_type(self, request: Request) -> Response:
        return render(request, "masterdata/_goods_type_add.html")

    @post("/types", opt={"perm": P.GOODS_TYPE_MANAGE}, include_in_schema=False)
    async def create_type(self, request: Request) -> Response:
        ctx = ctx_of(request)
        made = await goods.create_goods_type(ctx, (await form_data(request)).get("goods_type_name", ""))
        return render(
            request,
            "masterdata/goods_form.html",
            block="goods_type",
            goods={"goods_type_id": made["id"]},
            goods_types=await goods.goods_types(ctx),
            headers={"HX-Trigger": json.dumps({"weifu:saved": {"message": f"已添加货品分类 {made['name']}"}})},
        )


ROUTES = [GoodsPages]
