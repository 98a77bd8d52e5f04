"""The credit ledger (SPEC 3): the one module that changes credit accounts. Orders, returns,
recharges and adjustments call `recharge`, `adjust`, `freeze`, `release`, `use`, `restore` and
`refund`,
each naming the document that caused it. Accounts change only by conditional UPDATE (available
never below zero), and each change writes an immutable entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import realtime
from server.core import money, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.states import RowStatus
from server.core.tenancy import Ctx, scoped
from server.credit import permissions as P
from server.credit.states import ENTRY_LABELS, Direction, EntryKind
from server.credit.tables import CreditAccount, CreditEntry, CreditFreeze
from server.system.services import orgs

realtime.topic("credit", P.ACCOUNT["view"])

ENTRY_KINDS = ENTRY_LABELS


@dataclass(frozen=True)
class DocRef:
    """The document a change is posted for."""

    type: str
    no: str
    id: int | None = None
    line_id: int | None = None


class InsufficientCredit(Conflict):
    def __init__(self, shortfall: int) -> None:
        super().__init__(f"可用额度不足：还差 {money.fmt(shortfall)}", code="insufficient_credit")
        self.shortfall = shortfall


def _amount(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise BusinessError("金额必须大于 0", code="invalid_money")
    return value


async def _ensure_account(ctx: Ctx, org: dict) -> None:
    if org["kind"] == "hq":
        raise BusinessError("总部没有额度账户", code="no_account")
    await CreditAccount.raw(
        'INSERT INTO "cr_account" ("tenant_id", "org_id", "org_path", "balance", "frozen", "updated_at") '
        'VALUES ({}, {}, {}, 0, 0, {}) ON CONFLICT ("org_id") DO NOTHING',
        ctx.tenant_id,
        org["id"],
        org["path"],
        now(),
    )


async def _post(
    ctx: Ctx, org_id: int, kind: str, balance_delta: int, frozen_delta: int, doc: DocRef, remark: str = ""
) -> dict:
    """Change one account by (balance, frozen) deltas if available stays ≥ 0 and frozen ≥ 0,
    and write the entry; otherwise refuse with the shortfall."""
    org = await orgs.get(ctx, org_id)  # the caller's own org or one below it
    await _ensure_account(ctx, org)
    stamp = now()
    rows = await CreditAccount.raw(
        'UPDATE "cr_account" SET "balance" = "balance" + {}, "frozen" = "frozen" + {}, "updated_at" = {} '
        'WHERE "org_id" = {} AND "balance" + {} - ("frozen" + {}) >= 0 AND "frozen" + {} >= 0 '
        'RETURNING "id", "balance", "frozen"',
        balance_delta,
        frozen_delta,
        stamp,
        org_id,
        balance_delta,
        frozen_delta,
        frozen_delta,
    )
    if not rows:
        current = await CreditAccount.select().where(CreditAccount.org_id == org_id).first()
        available = current["balance"] - current["frozen"]
        raise InsufficientCredit(frozen_delta - balance_delta - available)
    account = rows[0]
    await CreditEntry.insert(
        CreditEntry(
            tenant_id=ctx.tenant_id,
            account=account["id"],
            org_id=org_id,
            kind=kind,
            amount=balance_delta,
            frozen_delta=frozen_delta,
            balance_after=account["balance"],
            frozen_after=account["frozen"],
            doc_type=doc.type,
            doc_id=doc.id,
            doc_no=doc.no,
            line_id=doc.line_id,
            remark=remark[:200],
            user_id=ctx.user_id,
            user_name=ctx.user_name,
            created_at=stamp,
        )
    )
    realtime.emit(ctx.tenant_id, org["path"], "credit", kind, org_id)
    return account


async def recharge(ctx: Ctx, org_id: int, amount: int, doc: DocRef, remark: str = "") -> dict:
    """【确认充值】 of one line: balance += amount."""
    async with atomic():
        return await _post(ctx, org_id, EntryKind.RECHARGE, _amount(amount), 0, doc, remark)


async def refund(ctx: Ctx, org_id: int, amount: int, doc: DocRef, remark: str = "") -> dict:
    """A return received by the parent: the returning org gets the settlement value back."""
    async with atomic():
        return await _post(ctx, org_id, EntryKind.REFUND, _amount(amount), 0, doc, remark)


async def freeze(ctx: Ctx, org_id: int, amount: int, doc: DocRef, remark: str = "") -> int:
    """Hold `amount` of the available credit for a document; refused with the shortfall when
    available is short. Answers the freeze's id, which `release` and `use` take."""
    async with atomic():
        account = await _post(ctx, org_id, EntryKind.FREEZE, 0, _amount(amount), doc, remark)
        row = await CreditFreeze.insert(
            CreditFreeze(
                tenant_id=ctx.tenant_id,
                account=account["id"],
                org_id=org_id,
                amount=amount,
                remaining=amount,
                doc_type=doc.type,
                doc_id=doc.id,
                doc_no=doc.no,
                line_id=doc.line_id,
                user_name=ctx.user_name,
                created_at=now(),
            )
        ).returning(CreditFreeze.id)
        return row[0]["id"]


async def _take(ctx: Ctx, freeze_id: int, amount: int | None) -> tuple[dict, int]:
    """Take `amount` (all that remains when None) off an open freeze; a freeze is taken once."""
    current = await CreditFreeze.select().where(scoped(ctx, CreditFreeze) & (CreditFreeze.id == freeze_id)).first()
    if current is None:
        raise NotFound("冻结记录")
    take = current["remaining"] if amount is None else _amount(amount)
    if take <= 0:
        raise Conflict("冻结已全部释放或使用", code="freeze_closed")
    stamp = now()
    # ELSE "closed_at" (NULL while open) types the stamp's parameter: PostgreSQL reads a CASE of a
    # bare parameter and NULL as text and refuses it for a timestamptz column.
    rows = await CreditFreeze.raw(
        'UPDATE "cr_freeze" SET "remaining" = "remaining" - {}, '
        '"closed_at" = CASE WHEN "remaining" - {} = 0 THEN {} ELSE "closed_at" END '
        'WHERE "id" = {} AND "remaining" >= {} RETURNING "id", "remaining"',
        take,
        take,
        stamp,
        freeze_id,
        take,
    )
    if not rows:
        raise Conflict("冻结余额不足或已全部释放", code="freeze_closed")
    return current, take


async def release(ctx: Ctx, freeze_id: int, doc: DocRef, amount: int | None = None) -> dict:
    """Give back what is still frozen (or `amount` of it): frozen −= amount."""
    async with atomic():
        current, take = await _take(ctx, freeze_id, amount)
        return await _post(ctx, current["org_id"], EntryKind.RELEASE, 0, -take, doc)


async def use(ctx: Ctx, freeze_id: int, amount: int, doc: DocRef, kind: str = EntryKind.USAGE) -> dict:
    """Turn frozen credit into usage (an order shipped; a decrease confirmed): frozen −= v and
    balance −= v, so available does not change."""
    async with atomic():
        current, take = await _take(ctx, freeze_id, amount)
        return await _post(ctx, current["org_id"], kind, -take, -take, doc)


async def restore(ctx: Ctx, freeze_id: int, amount: int, doc: DocRef) -> dict:
    """Undo part of a usage (an order shipment recalled before receipt): the value goes back into
    the freeze it was taken from (frozen += v, balance += v; available does not change). The
    freeze never holds more than it first froze, and reopens when it had closed."""
    async with atomic():
        take = _amount(amount)
        current = await CreditFreeze.select().where(scoped(ctx, CreditFreeze) & (CreditFreeze.id == freeze_id)).first()
        if current is None:
            raise NotFound("冻结记录")
        rows = await CreditFreeze.raw(
            'UPDATE "cr_freeze" SET "remaining" = "remaining" + {}, "closed_at" = NULL '
            'WHERE "id" = {} AND "remaining" + {} <= "amount" RETURNING "id"',
            take,
            freeze_id,
            take,
        )
        if not rows:
            raise Conflict("撤回的金额超过了该冻结已使用的金额", code="restore_exceeds")
        return await _post(ctx, current["org_id"], EntryKind.RESTORE, take, take, doc)


async def adjust(ctx: Ctx, org_id: int, direction: str, amount: int, doc: DocRef, freeze_id: int | None = None) -> dict:
    """【确认调整】 of one line: an increase adds to the balance; a decrease consumes the freeze its
    submit made."""
    if direction == Direction.INCREASE:
        async with atomic():
            return await _post(ctx, org_id, EntryKind.INCREASE, _amount(amount), 0, doc)
    if freeze_id is None:
        raise BusinessError("调整减少必须先冻结", code="not_frozen")
    return await use(ctx, freeze_id, amount, doc, kind=EntryKind.DECREASE)


# --- 【额度查询】 --------------------------------------------------------------------------------


def _account_dict(org: dict, account: dict | None) -> dict:
    balance = account["balance"] if account else 0
    frozen = account["frozen"] if account else 0
    return {
        "org_id": org["id"],
        "org_code": org["code"],
        "org_name": org["name"],
        "level": org.get("level"),
        "depth": org["depth"],
        "enabled": org["enabled"],
        "balance": money.fmt(balance),
        "frozen": money.fmt(frozen),
        "available": money.fmt(balance - frozen),
        "updated_at": account["updated_at"] if account else None,
    }


class AccountFilters(Filters):
    q: str = ""


class RecordFilters(Filters):
    """The filters of an account's records (entries: `kind`; freezes: `open`)."""

    doc_no: str = ""


class EntryFilters(RecordFilters):
    kind: str = ""


class FreezeFilters(RecordFilters):
    open: bool = True


async def accounts(ctx: Ctx, filters: AccountFilters = AccountFilters(), *, params: PageParams = PageParams()) -> Page:
    """The caller's own org (when it has a credit line, i.e. is a branch) and every descendant,
    in tree order, each with balance, frozen and available (zero before the first posting)."""
    rows = [o for o in await orgs.choices(ctx, q=filters.q) if o["kind"] != "hq"]
    start = params.offset
    window = rows[start : start + params.page_size]
    found = {
        a["org_id"]: a
        for a in await CreditAccount.select().where(
            scoped(ctx, CreditAccount) & CreditAccount.org_id.is_in([o["id"] for o in window] or [0])
        )
    }
    return Page([_account_dict(o, found.get(o["id"])) for o in window], len(rows), params.page, params.page_size)


async def standing(ctx: Ctx, org_ids: list[int]) -> dict[int, dict]:
    """The credit of branches in the caller's subtree, as a reviewer weighs it: `limit` (granted:
    recharges and adjustments), `used` (usage net of recalls and refunds), `frozen` and
    `available`, each a 4-decimal string (zeros before an account's first posting)."""
    where = scoped(ctx, CreditAccount, subtree=CreditAccount.org_path)
    rows = {
        a["org_id"]: a for a in await CreditAccount.select().where(where & CreditAccount.org_id.is_in(org_ids or [0]))
    }
    granted: dict[int, int] = {}
    if rows:
        accounts = {a["id"]: org_id for org_id, a in rows.items()}
        marks = ", ".join(["{}"] * len(accounts))
        kinds = (EntryKind.RECHARGE, EntryKind.INCREASE, EntryKind.DECREASE)
        sums = await CreditEntry.raw(
            f'SELECT "account", SUM("amount") AS "granted" FROM "cr_entry" WHERE "account" IN ({marks}) '
            'AND "kind" IN ({}, {}, {}) GROUP BY "account"',
            *accounts,
            *(str(k) for k in kinds),
        )
        granted = {accounts[r["account"]]: int(r["granted"] or 0) for r in sums}
    result = {}
    for org_id in org_ids:
        account = rows.get(org_id)
        balance, frozen = (account["balance"], account["frozen"]) if account else (0, 0)
        limit = granted.get(org_id, 0)
        result[org_id] = {
            "limit": money.fmt(limit),
            "used": money.fmt(limit - balance),
            "balance": money.fmt(balance),
            "frozen": money.fmt(frozen),
            "available": money.fmt(balance - frozen),
        }
    return result


async def _account_of(ctx: Ctx, org_id: Any) -> tuple[dict, dict | None]:
    """The org of an account the caller may see (own org or a descendant) and its account row
    (None before the first posting)."""
    org = await orgs.get(ctx, org_id)
    if org["kind"] == "hq":
        raise NotFound("额度账户")
    return org, await CreditAccount.select().where(
        scoped(ctx, CreditAccount) & (CreditAccount.org_id == org["id"])
    ).first()


async def account(ctx: Ctx, org_id: Any) -> dict:
    """One account the caller may see (own org or a descendant)."""
    return _account_dict(*await _account_of(ctx, org_id))


ENTRY_COLUMNS = (
    CreditEntry.id,
    CreditEntry.org_id,
    CreditEntry.kind,
    CreditEntry.amount,
    CreditEntry.frozen_delta,
    CreditEntry.balance_after,
    CreditEntry.frozen_after,
    CreditEntry.doc_type,
    CreditEntry.doc_id,
    CreditEntry.doc_no,
    CreditEntry.remark,
    CreditEntry.user_name,
    CreditEntry.created_at,
)


def entry_dict(row: dict) -> dict:
    return row | {
        "kind_name": ENTRY_KINDS.get(row["kind"], row["kind"]),
        "amount": money.fmt(row["amount"]),
        "frozen_delta": money.fmt(row["frozen_delta"]),
        "balance_after": money.fmt(row["balance_after"]),
        "frozen_after": money.fmt(row["frozen_after"]),
    }


async def entries(
    ctx: Ctx, org_id: Any, filters: EntryFilters = EntryFilters(), *, params: PageParams = PageParams()
) -> Page:
    """【查看明细】: the change records of an account (newest first); `kind=usage` for usage records.
    Filtered by the account alone (it is the tenant's: `_account_of` found it in the caller's
    subtree), so the (account, id) and (account, kind, id) indexes cover the rows and the count of
    a ledger of millions of rows."""
    _, row = await _account_of(ctx, org_id)
    where = CreditEntry.account == (row["id"] if row else 0)
    if filters.kind:
        where &= CreditEntry.kind == validate.choice(filters.kind, "记录类型", ENTRY_KINDS, "kind")
    doc_no = validate.text(filters.doc_no, "单号", 24)
    if doc_no:
        where &= contains(CreditEntry.doc_no, doc_no)
    # the page's ids first (an index-only scan however deep the page), then those rows: PostgreSQL
    # otherwise reads every skipped row of a deep page from the table
    page = await paginate(
        CreditEntry.select(CreditEntry.id).where(where).order_by(CreditEntry.id, ascending=False),
        CreditEntry.count().where(where),
        params,
    )
    rows = await (
        CreditEntry.select(*ENTRY_COLUMNS)
        .where(CreditEntry.id.is_in([r["id"] for r in page.items] or [0]))
        .order_by(CreditEntry.id, ascending=False)
    )
    return page.with_items([entry_dict(r) for r in rows])


def freeze_dict(row: dict) -> dict:
    return {
        "id": row["id"],
        "org_id": row["org_id"],
        "amount": money.fmt(row["amount"]),
        "remaining": money.fmt(row["remaining"]),
        "doc_type": row["doc_type"],
        "doc_id": row["doc_id"],
        "doc_no": row["doc_no"],
        "user_name": row["user_name"],
        "created_at": row["created_at"],
        "closed_at": row["closed_at"],
    }


async def freezes(
    ctx: Ctx, org_id: Any, filters: FreezeFilters = FreezeFilters(), *, params: PageParams = PageParams()
) -> Page:
    """Frozen records: only freezes still open unless asked (a released freeze leaves the list).
    Open is `closed_at IS NULL` (closed exactly when nothing remains), which the partial index
    cr_freeze_account_id_open_idx serves however long the account's history."""
    _, row = await _account_of(ctx, org_id)
    where = CreditFreeze.account == (row["id"] if row else 0)  # the tenant's, as in `entries`
    if filters.open:
        where &= CreditFreeze.closed_at.is_null()
    doc_no = validate.text(filters.doc_no, "单号", 24)
    if doc_no:
        where &= contains(CreditFreeze.doc_no, doc_no)
    page = await paginate(
        CreditFreeze.select().where(where).order_by(CreditFreeze.id, ascending=False),
        CreditFreeze.count().where(where),
        params,
    )
    return page.with_items([freeze_dict(r) for r in page.items])


def parse_amount(value: Any, field: str = "amount") -> int:
    """A user-given amount in ten-thousandths: > 0, at most 4 decimals, within NUMERIC(18,4)."""
    amount = money.parse(value, "金额")
    if amount <= 0:
        raise BusinessError("金额必须大于 0", code="invalid_money", field=field)
    return money.to_units(amount)


LOW_SHARE = (1, 10)  # available under a tenth of the limit is low (【看板】 shows it red)
MAX_CHILDREN = 200


async def children_standing(ctx: Ctx) -> list[dict]:
    """【看板】: the credit of the caller's direct child orgs (its own when it has none and is a
    branch): `limit` and `available` as 【额度查询】 and the account page show them, and `low`
    when available is under a tenth of a positive limit. Sums by the database (`standing`)."""
    children = (
        await orgs.search(ctx, parent_id=ctx.org_id, status=RowStatus.ACTIVE, params=PageParams(1, MAX_CHILDREN))
    ).items
    shown = [o for o in children if o["kind"] != "hq"]
    if not shown and not ctx.is_hq:
        shown = [{"id": ctx.org_id, "name": ctx.org_name}]
    figures = await standing(ctx, [o["id"] for o in shown])
    out = []
    for o in shown:
        f = figures[o["id"]]
        limit, available = money.parse(f["limit"]), money.parse(f["available"])
        out.append(
            {
                "org_id": o["id"],
                "org_name": o["name"],
                "limit": f["limit"],
                "available": f["available"],
                "low": limit > 0 and available * LOW_SHARE[1] < limit * LOW_SHARE[0],
            }
        )
    return out
