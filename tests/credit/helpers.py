"""Helpers of the credit tests: a branch tree, documents built through the services, and the
ledger invariant every test ends with."""

from __future__ import annotations

from collections import Counter

from server.core.tenancy import Ctx
from server.credit.services import documents
from server.credit.tables import CreditAccount, CreditEntry, CreditFreeze
from tests.system.helpers import service_org, service_user

CREDIT_ALL = [
    *(f"credit.recharge.{a}" for a in ("view", "create", "submit", "confirm", "delete")),
    *(f"credit.adjustment.{a}" for a in ("view", "create", "submit", "confirm", "delete")),
    "credit.account.view",
    "credit.account.export",
]


async def branches(ctx: Ctx) -> dict:
    """HQ → B2 (level 2) → B3 (level 3), and a sibling S2 of B2; a credit user in B2."""
    b2 = await service_org(ctx, "B2", ctx.org_id, level=2)
    b3 = await service_org(ctx, "B3", b2["id"], level=3)
    s2 = await service_org(ctx, "S2", ctx.org_id, level=2)
    b2_user = await service_user(ctx, "b2boss", b2["id"], "branch", CREDIT_ALL)
    return {"b2": b2["id"], "b3": b3["id"], "s2": s2["id"], "b2_ctx": b2_user}


async def recharge(ctx: Ctx, *lines: tuple[int, str], confirm: bool = True) -> dict:
    doc = await documents.create(ctx, "recharge", {"lines": [{"org_id": o, "amount": a} for o, a in lines]})
    doc = await documents.submit(ctx, "recharge", doc["id"])
    return await documents.confirm(ctx, "recharge", doc["id"]) if confirm else doc


async def adjustment(ctx: Ctx, *lines: tuple[int, str, str], submit: bool = True) -> dict:
    body = {"lines": [{"org_id": o, "direction": d, "amount": a} for o, d, a in lines]}
    doc = await documents.create(ctx, "adjustment", body)
    return await documents.submit(ctx, "adjustment", doc["id"]) if submit else doc


async def balances(org_id: int) -> tuple[int, int]:
    row = await CreditAccount.select().where(CreditAccount.org_id == org_id).first()
    return (row["balance"], row["frozen"]) if row else (0, 0)


async def assert_credit_ledger() -> None:
    entries = await CreditEntry.select().order_by(CreditEntry.id)
    freezes = await CreditFreeze.select()
    for account in await CreditAccount.select():
        mine = [e for e in entries if e["account"] == account["id"]]
        assert account["balance"] == sum(e["amount"] for e in mine), account
        assert account["frozen"] == sum(e["frozen_delta"] for e in mine), account
        assert account["frozen"] == sum(f["remaining"] for f in freezes if f["account"] == account["id"]), account
        assert account["balance"] - account["frozen"] >= 0, account
        if mine:
            assert (mine[-1]["balance_after"], mine[-1]["frozen_after"]) == (account["balance"], account["frozen"])
    for f in freezes:
        assert 0 <= f["remaining"] <= f["amount"], f
        assert (f["remaining"] == 0) == (f["closed_at"] is not None), f
    # a recharge/adjustment document posts each of its lines at most once
    posted = Counter(
        (e["doc_type"], e["doc_id"], e["line_id"], e["kind"])
        for e in entries
        if e["doc_type"] in ("recharge", "adjustment") and e["kind"] in ("recharge", "increase", "decrease")
    )
    assert all(n == 1 for n in posted.values()), posted
