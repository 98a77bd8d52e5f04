"""JSON API of credit: accounts with their entries and freezes, recharge and adjustment
documents with lines and the actions `submit` and `confirm`. Thin: rules live in the services."""

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.core.api import PageNo, PageSize, page_of, page_type, to
from server.core.doc_controllers import DocApi
from server.core.pagination import PageParams
from server.core.web import ctx_of
from server.credit import permissions as P
from server.credit.schemas import (
    AccountOut,
    AdjustmentIn,
    AdjustmentLineIn,
    AdjustmentLinePatch,
    CreditDocOut,
    CreditDocPatch,
    CreditLineOut,
    EntryOut,
    FreezeOut,
    RechargeIn,
    RechargeLineIn,
    RechargeLinePatch,
)
from server.credit.services import documents, ledger
from server.credit.services.ledger import AccountFilters, EntryFilters, FreezeFilters

AccountPage = page_type(AccountOut)
EntryPage = page_type(EntryOut)
FreezePage = page_type(FreezeOut)


class CreditDocApi(DocApi):
    service = documents
    tags = ["credit"]
    doc_out, line_out, header_patch = CreditDocOut, CreditLineOut, CreditDocPatch
    filters = documents.CreditDocFilters


class RechargeApi(CreditDocApi):
    kind = "recharge"
    path = "/api/v1/credit/recharges"
    doc_in, line_in, line_patch = RechargeIn, RechargeLineIn, RechargeLinePatch


class AdjustmentApi(CreditDocApi):
    kind = "adjustment"
    path = "/api/v1/credit/adjustments"
    doc_in, line_in, line_patch = AdjustmentIn, AdjustmentLineIn, AdjustmentLinePatch


class AccountController(Controller):
    path = "/api/v1/credit/accounts"
    tags = ["credit"]

    @get(
        "/",
        opt={"perm": P.ACCOUNT["view"]},
        dependencies={"filters": AccountFilters.provide()},
        summary="本机构（网点）及全部下级的额度",
    )
    async def list_accounts(
        self, request: Request, filters: NamedDependency[AccountFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> AccountPage:
        return page_of(AccountOut, await ledger.accounts(ctx_of(request), filters, params=PageParams(page, page_size)))

    @get("/{org_id:int}", opt={"perm": P.ACCOUNT["view"]})
    async def read(self, request: Request, org_id: FromPath[int]) -> AccountOut:
        return to(AccountOut, await ledger.account(ctx_of(request), org_id))

    @get(
        "/{org_id:int}/entries",
        opt={"perm": P.ACCOUNT["view"]},
        dependencies={"filters": EntryFilters.provide()},
        summary="变动记录（kind=usage：使用记录）",
    )
    async def entries(
        self,
        request: Request,
        org_id: FromPath[int],
        filters: NamedDependency[EntryFilters],
        page: PageNo = 1,
        page_size: PageSize = 50,
    ) -> EntryPage:
        result = await ledger.entries(ctx_of(request), org_id, filters, params=PageParams(page, page_size))
        return page_of(EntryOut, result)

    @get(
        "/{org_id:int}/freezes",
        opt={"perm": P.ACCOUNT["view"]},
        dependencies={"filters": FreezeFilters.provide()},
        summary="冻结记录（默认仅未释放的）",
    )
    async def freezes(
        self,
        request: Request,
        org_id: FromPath[int],
        filters: NamedDependency[FreezeFilters],
        page: PageNo = 1,
        page_size: PageSize = 50,
    ) -> FreezePage:
        result = await ledger.freezes(ctx_of(request), org_id, filters, params=PageParams(page, page_size))
        return page_of(FreezeOut, result)


ROUTES = [RechargeApi, AdjustmentApi, AccountController]
