"""What credit tells system before an org is deleted: its credit line, and the open recharge or
adjustment documents it issued or is named on (registered with core's usage hooks)."""

from __future__ import annotations

from typing import Any

from server.core import hooks
from server.core.documents import DocStatus
from server.core.hooks import Usage
from server.core.tenancy import Ctx, scoped
from server.credit.tables import CreditAccount, CreditDoc, CreditDocLine

OPEN = [DocStatus.DRAFT, DocStatus.SUBMITTED]  # neither confirmed nor deleted


@hooks.counts_usage("org")
async def org_usage(ctx: Ctx, org_ids: Any) -> list[Usage]:
    accounts = await CreditAccount.count().where(scoped(ctx, CreditAccount) & CreditAccount.org_id.is_in(org_ids))
    named = CreditDocLine.select(CreditDocLine.doc).where(
        scoped(ctx, CreditDocLine) & CreditDocLine.org_id.is_in(org_ids)
    )
    docs = await CreditDoc.count().where(
        scoped(ctx, CreditDoc)
        & CreditDoc.status.is_in(OPEN)
        & (CreditDoc.org_id.is_in(org_ids) | CreditDoc.id.is_in(named))
    )
    return [
        Usage("credit_account", "额度账户", accounts),
        Usage("open_credit_docs", "未完成的额度单", docs, blocking=True, reason=f"仍被 {docs} 张未完成的额度单使用"),
    ]
