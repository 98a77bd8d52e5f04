"""【库存查询】: stock by org (and its descendants), warehouse, category, goods and keyword, with value
and the below-safety marker; each row's move history in a dialog; xlsx export. The `#rows` region
refreshes on `live:stock`, keeping the filters and the page."""

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from server.core.errors import NotFound
from server.core.forms import list_query, query_string
from server.core.pagination import PageParams
from server.core.tenancy import Ctx
from server.core.web import ctx_of, htmx_target, render
from server.inventory import exports
from server.inventory import permissions as P
from server.inventory.services import documents, stock
from server.inventory.services.stock import MoveFilters, StockFilters
from server.masterdata.services import goods, trees, warehouses
from server.system.services import orgs

MOVES_PAGE_SIZE = 10
# where a move's document opens, by the move's doc_type
DOC_PAGES = {k.name: (k.label, f"/inventory/{k.topic}/", k.perms["view"]) for k in documents.KINDS.values()}


async def _labels(ctx: Ctx, filters: dict) -> dict:
    """What the pickers show for the chosen org, category and goods (a full page only). The
    filters were already validated by the search; a goods that is gone just shows empty."""
    labels = {"org": "", "category": "", "goods": ""}
    if filters["org_id"]:
        labels["org"] = (await orgs.get(ctx, filters["org_id"]))["name"]
    if filters["category_id"]:
        labels["category"] = (await trees.paths_of(ctx, {int(filters["category_id"])})).get(
            int(filters["category_id"]), ""
        )
    if filters["goods_id"]:
        try:
            row = await goods.get(ctx, filters["goods_id"])
            labels["goods"] = f"{row['code']} {row['name']}"
        except NotFound:
            pass
    return labels


class StockPages(Controller):
    path = "/inventory/stock"

    @get("/", opt={"perm": P.STOCK["view"]}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters, params = StockFilters.from_query(request.query_params), list_query(request)[1]
        page = await stock.search(ctx, filters, params=params)
        if not page.items and page.page > page.pages:  # a live refresh after rows left the last page
            page = await stock.search(ctx, filters, params=PageParams(page.pages, params.page_size))
        shown = filters.as_dict()
        fragment = htmx_target(request) == "rows"
        return render(
            request,
            "inventory/stock.html",
            block="rows" if fragment else None,
            title="库存查询",
            page=page,
            filters=shown,
            query=query_string(shown),
            labels=None if fragment else await _labels(ctx, shown),
            # every definition, deleted ones too: stock may still sit in them
            all_warehouses=[] if fragment else (await warehouses.search(ctx, params=PageParams(1, 200))).items,
        )

    @get("/export", opt={"perm": P.STOCK["export"]}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.stock_xlsx(ctx_of(request), StockFilters.from_query(request.query_params))

    @get("/{stock_id:int}/moves", opt={"perm": P.STOCK["view"]}, include_in_schema=False)
    async def moves(self, request: Request, stock_id: FromPath[int]) -> Response:
        """The history dialog of one stock row (or only its table, when paging inside the dialog)."""
        ctx = ctx_of(request)
        row = await stock.get(ctx, stock_id)  # 404 for a row the caller may not see
        params = PageParams.of(request.query_params.get("page", 1), MOVES_PAGE_SIZE)
        filters = MoveFilters(stock_id=str(row["id"]))
        page = await stock.moves(ctx, filters, params=params)
        if not page.items and page.page > page.pages:
            page = await stock.moves(ctx, filters, params=PageParams(page.pages, MOVES_PAGE_SIZE))
        return render(
            request,
            "inventory/_stock_moves.html",
            block="moves" if htmx_target(request) == "stock-moves" else None,
            row=row,
            page=page,
            doc_pages=DOC_PAGES,
        )


ROUTES = [StockPages]
