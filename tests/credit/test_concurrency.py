"""Concurrency on one credit account, on SQLite and on PostgreSQL (TEST_DATABASE_URL): many
requests in flight at once on one AsyncTestClient, or many service calls at once.

- 50 adjustments whose decrease lines together want more than the account's available, submitted
  at once: exactly the ones that fit freeze, every other one is 409 `insufficient_credit` naming
  its shortfall and stays a draft; the same with 50 direct `ledger.freeze` calls (what orders do);
- what was frozen is used and released at once, each freeze twice: taken once;
- 20 confirmations of the same recharge (and of the same adjustment) post once: one 200, the rest
  409 `already_confirmed`; confirmations racing deletions of one document: one of them wins.
The ledger invariant (tests.credit.helpers.assert_credit_ledger) is checked after each.
"""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

from server.core import money
from server.core.errors import Conflict
from server.credit.services import ledger
from server.credit.tables import CreditDocLine, CreditEntry, CreditFreeze
from tests.api_helpers import concurrently
from tests.credit.api_helpers import ACCOUNTS, URL, account_of, call, error_of, make_doc
from tests.credit.helpers import adjustment, assert_credit_ledger, balances, branches, recharge

SHORTFALL = re.compile(r"^可用额度不足：还差 (\d+\.\d{4})$")
START = "1000.0001"


def wanted(i: int) -> Decimal:
    """Amounts of 20.0001 … 50.0001 (50 of them want ~1,750, far more than START)."""
    return Decimal("20.0001") + Decimal("7.5") * (i * 7 % 5)


def check_refusals(amounts: list[Decimal], outcomes: list[Decimal | None], available: Decimal) -> None:
    """`outcomes[i]` is None for a success, else the shortfall it was refused with. Exactly those
    that fit succeed: every shortfall is real (what was available then was less than wanted, and
    at least what is available now), and nothing refused would fit into what is left at the end."""
    assert any(o is None for o in outcomes) and any(o is not None for o in outcomes)
    for amount, shortfall in zip(amounts, outcomes, strict=True):
        if shortfall is not None:
            assert shortfall > 0 and available <= amount - shortfall < amount, (amount, shortfall, available)
            assert amount > available


async def test_concurrent_decreases_freeze_exactly_what_fits(client, tenant, admin):
    t = await branches(tenant)
    await recharge(tenant, (t["b2"], START))
    amounts = [wanted(i) for i in range(50)]
    assert sum(amounts) > Decimal(START)
    docs = [await adjustment(tenant, (t["b2"], "decrease", str(a)), submit=False) for a in amounts]

    responses = await concurrently(
        client, [("POST", f"{URL['adjustment']}/{d['id']}/submit", admin, None) for d in docs]
    )

    outcomes: list[Decimal | None] = []
    for response in responses:
        if response.status_code == 200:
            outcomes.append(None)
        else:
            body = error_of(response, 409, "insufficient_credit")
            match = SHORTFALL.match(body["detail"])
            assert match, body
            outcomes.append(Decimal(match[1]))
    frozen = sum((a for a, o in zip(amounts, outcomes, strict=True) if o is None), Decimal(0))
    balance, available = Decimal(START), Decimal(START) - frozen
    assert await account_of(client, admin, t["b2"]) == (str(balance), money.fmt(money.to_units(frozen)), str(available))
    check_refusals(amounts, outcomes, available)
    # the refused stay drafts without a freeze; the others are submitted with their line frozen
    for doc, response, outcome in zip(docs, responses, outcomes, strict=True):
        now = await call(client, "GET", f"{URL['adjustment']}/{doc['id']}", admin)
        assert now["status"] == ("submitted" if outcome is None else "draft"), now
        assert now["lines"][0]["frozen"] == (outcome is None)
        if outcome is None:
            assert response.json() == now
    succeeded = sum(o is None for o in outcomes)
    assert (await call(client, "GET", f"{ACCOUNTS}/{t['b2']}/freezes", admin))["total"] == succeeded
    assert await CreditEntry.count().where(CreditEntry.kind == "freeze") == succeeded
    await assert_credit_ledger()


async def test_concurrent_ledger_freezes_then_uses_and_releases_take_each_freeze_once(tenant):
    """What orders will do: freeze at once, then ship (use) and cancel (release) at once — every
    freeze is handed to a use and a release together, and only one of them takes it."""
    t = await branches(tenant)
    await recharge(tenant, (t["b2"], START))
    amounts = [wanted(i) for i in range(50)]

    async def freeze(i: int) -> int | Decimal:
        ref = ledger.DocRef("order", f"DD{i:04d}", id=i)
        try:
            return await ledger.freeze(tenant, t["b2"], money.to_units(amounts[i]), ref)
        except ledger.InsufficientCredit as exc:
            return money.from_units(exc.shortfall)

    results = await asyncio.gather(*(freeze(i) for i in range(50)))
    outcomes = [None if isinstance(r, int) else r for r in results]
    freeze_ids = {i: r for i, r in enumerate(results) if isinstance(r, int)}
    frozen = sum(money.to_units(amounts[i]) for i in freeze_ids)
    start = money.to_units(Decimal(START))
    assert await balances(t["b2"]) == (start, frozen)
    check_refusals(amounts, outcomes, money.from_units(start - frozen))
    await assert_credit_ledger()

    async def take(i: int, fid: int, how: str) -> str:
        ref = ledger.DocRef("order", f"DD{i:04d}", id=i)
        try:
            if how == "use":
                await ledger.use(tenant, fid, money.to_units(amounts[i]), ref)
            else:
                await ledger.release(tenant, fid, ref)
        except Conflict as exc:
            assert exc.code == "freeze_closed", exc.detail
            return "refused"
        return how

    calls = [(i, fid, how) for i, fid in freeze_ids.items() for how in ("use", "release")]
    calls = [calls[j] for j in sorted(range(len(calls)), key=lambda j: j * 37 % len(calls))]
    taken = await asyncio.gather(*(take(*c) for c in calls))
    by_freeze: dict[int, list[str]] = {}
    for (_, fid, _), result in zip(calls, taken, strict=True):
        by_freeze.setdefault(fid, []).append(result)
    assert all(sorted(r) in (["refused", "use"], ["refused", "release"]) for r in by_freeze.values()), by_freeze
    used = sum(money.to_units(amounts[i]) for (i, fid, how), r in zip(calls, taken, strict=True) if r == "use")
    assert await balances(t["b2"]) == (start - used, 0)
    assert await CreditFreeze.count().where(CreditFreeze.remaining > 0) == 0
    await assert_credit_ledger()


async def test_confirming_the_same_recharge_at_once_posts_it_once(client, tenant, admin):
    t = await branches(tenant)
    doc = await make_doc(client, admin, "recharge", (t["b2"], "100.0001"), (t["b3"], "1"), submit=True)
    url = f"{URL['recharge']}/{doc['id']}/confirm"

    responses = await concurrently(client, [("POST", url, admin, None)] * 20)

    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    assert all(error_of(r, 409, "already_confirmed") for r in responses if r.status_code == 409)
    assert await account_of(client, admin, t["b2"]) == ("100.0001", "0.0000", "100.0001")
    assert await account_of(client, admin, t["b3"]) == ("1.0000", "0.0000", "1.0000")
    posted = await CreditEntry.select(CreditEntry.line_id).where(CreditEntry.doc_id == doc["id"])
    assert sorted(e["line_id"] for e in posted) == sorted(li["id"] for li in doc["lines"])
    await assert_credit_ledger()


async def test_confirming_the_same_adjustment_at_once_applies_it_once(client, tenant, admin):
    t = await branches(tenant)
    await recharge(tenant, (t["b2"], "100"))
    doc = await make_doc(
        client, admin, "adjustment", (t["b2"], "decrease", "30.5"), (t["b2"], "increase", "1"), submit=True
    )
    url = f"{URL['adjustment']}/{doc['id']}/confirm"

    responses = await concurrently(client, [("POST", url, admin, None)] * 20)

    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    assert all(error_of(r, 409, "already_confirmed") for r in responses if r.status_code == 409)
    assert await account_of(client, admin, t["b2"]) == ("70.5000", "0.0000", "70.5000")
    await assert_credit_ledger()


async def test_confirmations_racing_deletions_of_one_adjustment_let_one_win(client, tenant, admin):
    """Two documents: on one the confirmations are sent first, on the other the deletions."""
    t = await branches(tenant)
    await recharge(tenant, (t["b2"], "100"))
    docs = [await adjustment(tenant, (t["b2"], "decrease", "40")) for _ in range(2)]
    assert await balances(t["b2"]) == (1_000_000, 800_000)
    requests = []
    for doc, order in zip(docs, (("POST", "DELETE"), ("DELETE", "POST")), strict=True):
        url = f"{URL['adjustment']}/{doc['id']}"
        requests += [(doc["id"], m, f"{url}/confirm" if m == "POST" else url) for m in order] * 10

    responses = await concurrently(client, [(m, u, admin, None) for _, m, u in requests])

    expected_balance = 1_000_000
    for doc in docs:
        mine = [(m, r) for (d, m, _), r in zip(requests, responses, strict=True) if d == doc["id"]]
        winners = [(m, r.json()["status"]) for m, r in mine if r.status_code == 200]
        assert len(winners) == 1, [r.text for _, r in mine]
        assert winners[0] in (("POST", "confirmed"), ("DELETE", "deleted")), winners
        for _, response in mine:
            if response.status_code != 200:
                # deleted meanwhile: not found, as inventory answers (never "already confirmed")
                expected = 404 if winners[0][0] == "DELETE" else 409
                error_of(response, expected)
        line = await CreditDocLine.select().where(CreditDocLine.doc == doc["id"]).first()
        freeze = await CreditFreeze.select().where(CreditFreeze.id == line["freeze_id"]).first()
        assert freeze["remaining"] == 0 and freeze["closed_at"] is not None
        expected_balance -= 400_000 if winners[0][0] == "POST" else 0
    assert await balances(t["b2"]) == (expected_balance, 0)
    await assert_credit_ledger()
