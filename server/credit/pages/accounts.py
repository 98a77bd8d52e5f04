"""Pages of 【额度查询】: the accounts of the own org and its descendants, live, and 【查看明细】 of
one account with three tabs (变动记录, 冻结记录, 使用记录), each filtered, paginated and exported."""

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from server.core.errors import BusinessError
from server.core.forms import list_query, query_string
from server.core.web import ctx_of, htmx_target, render
from server.credit import exports
from server.credit import permissions as P
from server.credit.services import ledger
from server.credit.services.ledger import AccountFilters

TABS = exports.TABS


def _tab(request: Request) -> str:
    tab = request.query_params.get("tab") or "entries"
    if tab not in TABS:
        raise BusinessError("没有这个明细页签", code="invalid_field")
    return tab


def _base_depth(ctx) -> int:
    """The depth shown unindented: the caller's org when it is a branch (it has an account and
    is listed), else its children."""
    depth = len(ctx.org_path.strip("/").split("/"))
    return depth if not ctx.is_hq else depth + 1


class AccountPages(Controller):
    path = "/credit/accounts"

    @get("/", opt={"perm": P.ACCOUNT["view"]}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters, params = AccountFilters.from_query(request.query_params), list_query(request)[1]
        page = await ledger.accounts(ctx, filters, params=params)
        return render(
            request,
            "credit/accounts.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="额度查询",
            page=page,
            filters=filters.as_dict(),
            query=query_string(filters.as_dict()),
            base_depth=_base_depth(ctx),
        )

    @get("/export", opt={"perm": P.ACCOUNT["export"]}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.accounts_xlsx(ctx_of(request), AccountFilters.from_query(request.query_params))

    @get("/{org_id:int}", opt={"perm": P.ACCOUNT["view"]}, include_in_schema=False)
    async def detail(self, request: Request, org_id: FromPath[int]) -> Response:
        """【查看明细】: the account's figures and one tab of its records; htmx asks for the
        figures (`summary`), the tab with its filter (`detail`) or only its rows (`rows`)."""
        ctx = ctx_of(request)
        tab = _tab(request)
        filters, params = list_query(request, "doc_no", tab="entries")
        filters["tab"] = tab
        account = await ledger.account(ctx, org_id)
        target = htmx_target(request)
        page = None if target == "summary" else await TABS[tab].search(ctx, org_id, filters["doc_no"], params)
        return render(
            request,
            "credit/account.html",
            block=target if target in ("summary", "detail", "rows") else None,
            title="额度明细",
            account=account,
            tab=tab,
            tabs=TABS,
            page=page,
            filters=filters,
            query=query_string(filters),
            base=f"/credit/accounts/{org_id}",
            doc_types=exports.DOC_TYPES,
        )

    @get("/{org_id:int}/export", opt={"perm": P.ACCOUNT["export"]}, include_in_schema=False)
    async def export_records(self, request: Request, org_id: FromPath[int]) -> Response:
        filters = list_query(request, "doc_no")[0]
        return await exports.records_xlsx(ctx_of(request), org_id, _tab(request), filters["doc_no"])


ROUTES = [AccountPages]
