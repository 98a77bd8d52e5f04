"""JSON API of credit: accounts with their entries and freezes, recharge and adjustment
documents with lines and the actions `submit` and `confirm`. Thin: rules live in the services."""

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from server.core.api import given, page_of, page_type, to
from server.core.pagination import PageParams
from server.core.web import ctx_of
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

PageNo = Annotated[int, QueryParameter(ge=1, le=1_000_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]
CreditDocPage = page_type(CreditDocOut)
AccountPage = page_type(AccountOut)
EntryPage = page_type(EntryOut)
FreezePage = page_type(FreezeOut)


def _out(doc: dict) -> CreditDocOut:
    header = {f: doc[f] for f in CreditDocOut.__struct_fields__ if f != "lines"}
    return CreditDocOut(**header, lines=[to(CreditLineOut, li) for li in doc["lines"]])


def _doc_controller(kind: str, path: str, in_s, line_in, line_patch) -> type[Controller]:
    class DocController(Controller):
        tags = ["credit"]

        @get("/")
        async def list_docs(
            self,
            request: Request,
            no: FromQuery[str] = "",
            status: FromQuery[str] = "",
            org_id: FromQuery[str] = "",
            page: PageNo = 1,
            page_size: PageSize = 50,
        ) -> CreditDocPage:
            result = await documents.search(
                ctx_of(request), kind, no=no, status=status, org_id=org_id, params=PageParams(page, page_size)
            )
            return result.envelope([_out(d) for d in result.items])

        @post("/", summary="新增（暂存）")
        async def create(self, request: Request, data: JSONBody[in_s]) -> CreditDocOut:
            return _out(await documents.create(ctx_of(request), kind, given(data)))

        @get("/{doc_id:int}")
        async def read(self, request: Request, doc_id: FromPath[int]) -> CreditDocOut:
            return _out(await documents.get(ctx_of(request), kind, doc_id))

        @patch("/{doc_id:int}", summary="修改备注（仅暂存）")
        async def update(self, request: Request, doc_id: FromPath[int], data: JSONBody[CreditDocPatch]) -> CreditDocOut:
            return _out(await documents.update(ctx_of(request), kind, doc_id, given(data)))

        @delete("/{doc_id:int}", status_code=200, summary="删除（暂存或已提交；已提交的调整释放冻结）")
        async def remove(self, request: Request, doc_id: FromPath[int]) -> CreditDocOut:
            return _out(await documents.delete(ctx_of(request), kind, doc_id))

        @post("/{doc_id:int}/lines", summary="添加明细（仅暂存）")
        async def add_line(self, request: Request, doc_id: FromPath[int], data: JSONBody[line_in]) -> CreditDocOut:
            return _out(await documents.add_line(ctx_of(request), kind, doc_id, given(data)))

        @patch("/{doc_id:int}/lines/{line_id:int}", summary="修改明细（仅暂存）")
        async def update_line(
            self, request: Request, doc_id: FromPath[int], line_id: FromPath[int], data: JSONBody[line_patch]
        ) -> CreditDocOut:
            return _out(await documents.update_line(ctx_of(request), kind, doc_id, line_id, given(data)))

        @delete("/{doc_id:int}/lines/{line_id:int}", status_code=200, summary="删除明细（仅暂存）")
        async def delete_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> CreditDocOut:
            return _out(await documents.delete_line(ctx_of(request), kind, doc_id, line_id))

        @post("/{doc_id:int}/submit", status_code=200, summary="提交（调整减少的明细冻结额度）")
        async def submit(self, request: Request, doc_id: FromPath[int]) -> CreditDocOut:
            return _out(await documents.submit(ctx_of(request), kind, doc_id))

        @post("/{doc_id:int}/confirm", status_code=200, summary="确认")
        async def confirm(self, request: Request, doc_id: FromPath[int]) -> CreditDocOut:
            return _out(await documents.confirm(ctx_of(request), kind, doc_id))

    DocController.path = path
    DocController.__name__ = f"{kind.title()}Controller"
    return DocController


class AccountController(Controller):
    path = "/api/v1/credit/accounts"
    tags = ["credit"]

    @get("/", summary="本机构（网点）及全部下级的额度")
    async def list_accounts(
        self, request: Request, q: FromQuery[str] = "", page: PageNo = 1, page_size: PageSize = 50
    ) -> AccountPage:
        return page_of(AccountOut, await ledger.accounts(ctx_of(request), q=q, params=PageParams(page, page_size)))

    @get("/{org_id:int}")
    async def read(self, request: Request, org_id: FromPath[int]) -> AccountOut:
        return to(AccountOut, await ledger.account(ctx_of(request), org_id))

    @get("/{org_id:int}/entries", summary="变动记录（kind=usage：使用记录）")
    async def entries(
        self,
        request: Request,
        org_id: FromPath[int],
        kind: FromQuery[str] = "",
        doc_no: FromQuery[str] = "",
        page: PageNo = 1,
        page_size: PageSize = 50,
    ) -> EntryPage:
        result = await ledger.entries(
            ctx_of(request), org_id, kind=kind, doc_no=doc_no, params=PageParams(page, page_size)
        )
        return page_of(EntryOut, result)

    @get("/{org_id:int}/freezes", summary="冻结记录（默认仅未释放的）")
    async def freezes(
        self,
        request: Request,
        org_id: FromPath[int],
        open: FromQuery[bool] = True,
        doc_no: FromQuery[str] = "",
        page: PageNo = 1,
        page_size: PageSize = 50,
    ) -> FreezePage:
        result = await ledger.freezes(
            ctx_of(request), org_id, open_only=open, doc_no=doc_no, params=PageParams(page, page_size)
        )
        return page_of(FreezeOut, result)


ROUTES = [
    _doc_controller("recharge", "/api/v1/credit/recharges", RechargeIn, RechargeLineIn, RechargeLinePatch),
    _doc_controller("adjustment", "/api/v1/credit/adjustments", AdjustmentIn, AdjustmentLineIn, AdjustmentLinePatch),
    AccountController,
]
