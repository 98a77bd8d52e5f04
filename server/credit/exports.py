"""Excel exports of 【额度查询】 (the accounts list) and of the three record tabs of 【查看明细】,
with the filters the page currently shows. The tabs are described once here, for the page and
its export alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from litestar import Response

from server.core.clock import local
from server.core.pagination import Page, PageParams
from server.core.tenancy import Ctx
from server.core.xlsx import MAX_EXPORT_ROWS, xlsx_response
from server.credit.services import documents, ledger
from server.credit.states import EntryKind

ALL = PageParams(1, MAX_EXPORT_ROWS)
SECONDS = "%Y-%m-%d %H:%M:%S"
DOC_TYPES = {name: k.label for name, k in documents.KINDS.items()}


def doc_type_name(doc_type: str) -> str:
    return DOC_TYPES.get(doc_type, doc_type)


def _entries(ctx: Ctx, org_id: int, doc_no: str, params: PageParams) -> Awaitable[Page]:
    return ledger.entries(ctx, org_id, ledger.EntryFilters(doc_no=doc_no), params=params)


def _usage(ctx: Ctx, org_id: int, doc_no: str, params: PageParams) -> Awaitable[Page]:
    return ledger.entries(ctx, org_id, ledger.EntryFilters(kind=EntryKind.USAGE, doc_no=doc_no), params=params)


def _freezes(ctx: Ctx, org_id: int, doc_no: str, params: PageParams) -> Awaitable[Page]:
    return ledger.freezes(ctx, org_id, ledger.FreezeFilters(doc_no=doc_no), params=params)


def _entry_row(e: dict, tz: str) -> list:
    return [
        local(e["created_at"], tz, SECONDS),
        e["kind_name"],
        Decimal(e["amount"]),
        Decimal(e["frozen_delta"]),
        Decimal(e["balance_after"]),
        Decimal(e["frozen_after"]),
        doc_type_name(e["doc_type"]),
        e["doc_no"],
        e["user_name"],
        e["remark"],
    ]


def _freeze_row(f: dict, tz: str) -> list:
    return [
        local(f["created_at"], tz, SECONDS),
        Decimal(f["amount"]),
        Decimal(f["remaining"]),
        doc_type_name(f["doc_type"]),
        f["doc_no"],
        f["user_name"],
    ]


def _usage_row(e: dict, tz: str) -> list:
    """A usage is a negative change of the balance; the tab shows what was used, positive."""
    used = -Decimal(e["amount"])
    return [
        local(e["created_at"], tz, SECONDS),
        used,
        Decimal(e["balance_after"]),
        doc_type_name(e["doc_type"]),
        e["doc_no"],
        e["user_name"],
        e["remark"],
    ]


@dataclass(frozen=True)
class Tab:
    label: str
    search: Callable[[Ctx, int, str, PageParams], Awaitable[Page]]
    headers: tuple[str, ...]
    row: Callable[[dict, str], list]


TABS = {
    "entries": Tab(
        "变动记录",
        _entries,
        ("时间", "类型", "额度变动", "冻结变动", "变动后余额", "变动后冻结", "单据类型", "单号", "操作人", "备注"),
        _entry_row,
    ),
    "freezes": Tab(
        "冻结记录", _freezes, ("冻结时间", "冻结额度", "未释放额度", "单据类型", "单号", "操作人"), _freeze_row
    ),
    "usage": Tab(
        "使用记录",
        _usage,
        ("使用时间", "使用额度", "变动后余额", "单据类型", "单号", "操作人", "备注"),
        _usage_row,
    ),
}


async def records_xlsx(ctx: Ctx, org_id: int, tab: str, doc_no: str) -> Response:
    """One tab of 【查看明细】 with its document-number filter."""
    account = await ledger.account(ctx, org_id)
    t = TABS[tab]
    page = await t.search(ctx, org_id, doc_no, ALL)
    title = f"{account['org_name']}{t.label}"
    return await xlsx_response(f"{title}.xlsx", t.label, t.headers, [t.row(r, ctx.tz) for r in page.items])


async def accounts_xlsx(ctx: Ctx, filters: ledger.AccountFilters) -> Response:
    page = await ledger.accounts(ctx, filters, params=ALL)
    rows = [
        [
            a["org_code"],
            a["org_name"],
            a["level"],
            Decimal(a["balance"]),
            Decimal(a["frozen"]),
            Decimal(a["available"]),
            local(a["updated_at"], ctx.tz, SECONDS),
        ]
        for a in page.items
    ]
    headers = ["机构代码", "机构名称", "机构级别", "额度余额", "冻结额度", "可用额度", "最后变动时间"]
    return await xlsx_response("额度查询.xlsx", "额度查询", headers, rows)
