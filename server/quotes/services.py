"""Quotes for out-of-warranty repairs (SPEC 11): 【报价】 prices an order's repair lines as
【维修完毕】 will charge them (`orders.line_charges`), the customer approves with a signature or
declines, and an order whose latest quote is not approved cannot be completed.

A quote belongs to its work order: whoever may read the order reads its quotes, and nobody else
(another tenant's, or an org outside the caller's subtree: 404). Each decision is one conditional
UPDATE on `status = 'pending'` (and not yet expired): of an approval and a refusal at once, one
wins and the other is told the true state. At most one live (pending or approved) quote per
order, held by a partial unique index: two 【报价】 at once make one quote, not two.

Work orders do not know quotes: the completion check runs on `hooks.on_work_order_status` inside
the move's transaction, and the order's page shows the quote through `hooks.adds_order_cards`;
a new quote or a decision (on the iPad, the status page or the API) is a `workorders` event of
kind `quote` for the order, on which an open order page re-reads the quote's card."""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

import realtime
from server.core import audit, db, hooks, money, uploads, validate
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.tenancy import Ctx, scoped
from server.quotes import signature
from server.quotes.states import LIVE, QuoteStatus
from server.quotes.tables import Quote
from server.workorders import permissions as WO
from server.workorders.services import orders
from server.workorders.states import WorkOrderStatus

S = QuoteStatus
LABELS = S.labels()
VALID_DAYS = 7  # the validity a new quote is offered with
MAX_VALID_DAYS = 90
SIGNATURE_OWNER = "quote_signature"

audit.ENTITIES.update({"quote": "报价"})
audit.ACTIONS.update({"approve": "客户同意", "decline": "客户拒绝"})


def today(ctx: Ctx) -> date:
    """The tenant's calendar day: a quote is valid through the whole of its last day."""
    return now().astimezone(ZoneInfo(ctx.tz)).date()


def status_of(row: dict, day: date) -> str:
    """The stored status, or 已过期 for a pending quote past its validity date."""
    if row["status"] == S.PENDING and row["valid_until"] < day:
        return S.EXPIRED
    return row["status"]


def _as_dict(ctx: Ctx, row: dict, order: dict, files: dict[int, list[dict]]) -> dict:
    status = status_of(row, today(ctx))
    sig = files.get(row["id"], [None])[-1]
    return {
        "id": row["id"],
        "work_order_id": row["work_order_id"],
        "work_order_no": order["no"],
        "status": status,
        "status_label": LABELS[status],
        "valid_until": row["valid_until"].isoformat(),
        "labor": money.fmt(row["labor"]),
        "parts": money.fmt(row["parts"]),
        "total": money.fmt(row["total"]),
        "lines": json.loads(row["lines"]) if isinstance(row["lines"], str) else row["lines"],
        "created_by_name": row["created_by_name"],
        "created_at": row["created_at"],
        "decided_by_name": row["decided_by_name"],
        "decided_at": row["decided_at"],
        "decline_reason": row["decline_reason"],
        "signature_url": sig["url"] if sig else None,
        "signature_type": sig["content_type"] if sig else None,
    }


async def _dicts(ctx: Ctx, rows: list[dict], order: dict) -> list[dict]:
    files = await uploads.files_of(ctx.tenant_id, SIGNATURE_OWNER, [r["id"] for r in rows if r["signature_id"]])
    return [_as_dict(ctx, r, order, files) for r in rows]


async def _latest(ctx: Ctx, order_id: int, lock: bool = False) -> dict | None:
    """The order's current quote (the newest; an older one is superseded or decided). `lock`: held
    until commit (PostgreSQL), so a new quote cannot supersede it under a completion."""
    query = (
        Quote.select()
        .where(scoped(ctx, Quote) & (Quote.work_order_id == order_id))
        .order_by(Quote.id, ascending=False)
        .first()
    )
    if lock and not db.is_sqlite():
        query = query.lock_rows("SHARE", of=(Quote,))
    return await query


async def current(ctx: Ctx, order_id: Any) -> dict:
    """The order's current quote (404 when the order has none or the caller cannot read it)."""
    order = await orders.get(ctx, order_id)
    row = await _latest(ctx, order["id"])
    if row is None:
        raise NotFound("报价")
    return (await _dicts(ctx, [row], order))[0]


async def _row_and_order(ctx: Ctx, quote_id: Any) -> tuple[dict, dict]:
    qid = validate.ident(quote_id, "报价", "id")
    row = await Quote.select().where(scoped(ctx, Quote) & (Quote.id == qid)).first()
    if row is None:
        raise NotFound("报价")
    try:
        order = await orders.get(ctx, row["work_order_id"])
    except NotFound:  # an order outside the caller's orgs: its quotes are as absent as it is
        raise NotFound("报价") from None
    return row, order


async def get(ctx: Ctx, quote_id: Any) -> dict:
    row, order = await _row_and_order(ctx, quote_id)
    return (await _dicts(ctx, [row], order))[0]


async def with_order(ctx: Ctx, quote_id: Any) -> tuple[dict, dict]:
    """The quote and its order, as the signing page shows them."""
    row, order = await _row_and_order(ctx, quote_id)
    return (await _dicts(ctx, [row], order))[0], order


async def for_print(ctx: Ctx, quote_id: Any) -> dict:
    """The printed quote (the print template's `doc`): the quote, its order's facts and the
    signature as a `data:` URL, so the sandboxed template is handed text, never a file or a row,
    and the printed page needs no request of its own for the image."""
    row, order = await _row_and_order(ctx, quote_id)
    quote = (await _dicts(ctx, [row], order))[0]
    signature = ""
    if row["signature_id"]:
        image = await uploads.fetch(ctx, row["signature_id"])
        signature = f"data:{image['content_type']};base64,{base64.b64encode(bytes(image['data'])).decode()}"
    facts = ("goods_name", "serial_no", "fault_description")
    keep = ("id", "status", "status_label", "valid_until", "labor", "parts", "total", "lines", "created_by_name")
    return (
        {k: quote[k] for k in keep}
        | {k: order[k] for k in facts}
        | {
            "no": order["no"],
            "work_order_id": order["id"],
            "customer": {"name": order["customer"]["name"], "phone": order["customer"]["phone"]},
            "created_at": quote["created_at"],
            "decided_by_name": quote["decided_by_name"],
            "decided_at": quote["decided_at"],
            "decline_reason": quote["decline_reason"],
            "signature": signature,
        }
    )


async def _announce(ctx: Ctx, order_id: int) -> None:
    """Inside the change's transaction: the order's open pages (its org's, and the other org's of
    a sent order, and the customer's status page) hear it after commit and re-read the quote;
    nothing for a rollback."""
    orders.emit(ctx, await orders.row_of(ctx, order_id), "quote")
    realtime.emit_order(ctx.tenant_id, order_id, "quote")  # the customer's status page


def _valid_until(ctx: Ctx, value: Any) -> date:
    day = today(ctx)
    if value in (None, ""):
        return day + timedelta(days=VALID_DAYS)
    text = validate.text(value, "有效期", 10, field="valid_until")
    try:
        chosen = date.fromisoformat(text)
    except ValueError:
        raise BusinessError("有效期格式不正确（如 2026-12-31）", code="invalid_field", field="valid_until") from None
    if not day <= chosen <= day + timedelta(days=MAX_VALID_DAYS):
        raise BusinessError(
            f"有效期必须在今天到 {MAX_VALID_DAYS} 天以内（{day} 至 {day + timedelta(days=MAX_VALID_DAYS)}）",
            code="out_of_range",
            field="valid_until",
        )
    return chosen


async def _priced_lines(ctx: Ctx, order: dict) -> tuple[list[dict], int, int]:
    """The order's lines priced as 【维修完毕】 will charge them: (lines, labour, parts)."""
    labor = parts = 0
    lines = []
    for ln, (fee, price) in zip(
        order["lines"], await orders.line_charges(ctx, order["org_id"], order["lines"]), strict=True
    ):
        labor, parts = labor + fee, parts + price * ln["qty"]
        lines.append(
            {
                "repair_code": ln["repair_code"],
                "goods_name": ln["goods_name"],
                "qty": ln["qty"],
                "labor_fee": money.fmt(fee),
                "price": money.fmt(price),
                "amount": money.fmt(fee + price * ln["qty"]),
            }
        )
    return lines, labor, parts


async def create(ctx: Ctx, order_id: Any, data: dict) -> dict:
    """【报价】: a new pending quote of a repairing order's lines. It supersedes a pending quote;
    an approved one only when `replace_approved` says so (the customer must then sign again)."""
    order = await orders.get(ctx, order_id)
    if order["status"] != WorkOrderStatus.REPAIRING:
        raise Conflict(
            f"工单 {order['no']} 当前为「{order['status_label']}」，只有维修中的工单可以报价", code="invalid_state"
        )
    v = validate.Fields()
    valid_until = v(_valid_until, ctx, data.get("valid_until"))
    replace = v(validate.boolean, data.get("replace_approved", False), "作废已同意的报价", "replace_approved")
    v.done()
    if not order["lines"]:
        raise BusinessError("工单还没有维修明细，请先添加维修用料或工时再报价", code="no_lines")
    lines, labor, parts = await _priced_lines(ctx, order)
    stamp = now()
    try:
        async with atomic():
            live = await Quote.select(Quote.id, Quote.status).where(
                scoped(ctx, Quote) & (Quote.work_order_id == order["id"]) & Quote.status.is_in(list(LIVE))
            )
            if any(r["status"] == S.APPROVED for r in live) and not replace:
                raise Conflict(
                    "客户已同意当前报价；重新报价会作废它，需要客户重新签字（请确认作废已同意的报价）",
                    code="quote_approved",
                )
            if live:
                await Quote.update({Quote.status: S.SUPERSEDED, Quote.superseded_at: stamp}).where(
                    scoped(ctx, Quote) & Quote.id.is_in([r["id"] for r in live])
                )
            row = (
                await Quote.insert(
                    Quote(
                        tenant_id=ctx.tenant_id,
                        work_order_id=order["id"],
                        status=S.PENDING,
                        valid_until=valid_until,
                        labor=labor,
                        parts=parts,
                        total=labor + parts,
                        lines=lines,
                        created_by=ctx.user_id,
                        created_by_name=ctx.user_name[:100],
                        created_at=stamp,
                    )
                ).returning(Quote.id)
            )[0]
            await audit.record(
                ctx,
                "create",
                "quote",
                row["id"],
                f"工单 {order['no']} 报价 {money.fmt(labor + parts)}"
                + (f"（作废 {len(live)} 份旧报价）" if live else ""),
            )
            await _announce(ctx, order["id"])
    except (asyncpg.UniqueViolationError, sqlite3.IntegrityError):  # another 【报价】 of the order committed first
        raise Conflict("该工单刚刚有人报价，请刷新后查看", code="concurrent_quote") from None
    return await get(ctx, row["id"])


def _refusal(row: dict, day: date, doing: str) -> Conflict:
    status = status_of(row, day)
    if status == S.EXPIRED:
        return Conflict(f"报价已过期（有效期至 {row['valid_until']}），请重新报价", code="quote_expired")
    return Conflict(f"报价当前为「{LABELS[status]}」，不能{doing}", code="invalid_state")


async def _decide(ctx: Ctx, row: dict, to: str, doing: str, values: dict) -> None:
    """Move a pending, unexpired quote to `to`; the UPDATE's WHERE decides between racers."""
    day = today(ctx)
    done = (
        await Quote.update(
            {Quote.status: to, Quote.decided_by: ctx.user_id, Quote.decided_by_name: ctx.user_name[:100]}
            | {Quote.decided_at: now()}
            | values
        )
        .where(scoped(ctx, Quote) & (Quote.id == row["id"]) & (Quote.status == S.PENDING) & (Quote.valid_until >= day))
        .returning(Quote.id)
    )
    if not done:
        fresh = await Quote.select().where(scoped(ctx, Quote) & (Quote.id == row["id"])).first()
        raise _refusal(fresh, day, doing)


async def approve(ctx: Ctx, quote_id: Any, signed: Any) -> dict:
    """The customer agrees, with their signature (PNG data URL or SVG). `ctx` is the staff who
    presented the iPad, or the status page's caller: its name is kept as who took the decision."""
    ready = await signature.parse(signed)
    row, order = await _row_and_order(ctx, quote_id)
    async with atomic():
        stored = await uploads.save(ctx, ready, owner=SIGNATURE_OWNER, owner_id=row["id"])
        await _decide(ctx, row, S.APPROVED, "同意", {Quote.signature_id: stored["id"]})
        await audit.record(ctx, "approve", "quote", row["id"], f"工单 {order['no']} 报价 客户签字同意")
        await _announce(ctx, order["id"])
    return await get(ctx, row["id"])


async def decline(ctx: Ctx, quote_id: Any, reason: Any) -> dict:
    text = validate.text(reason, "拒绝原因", 200, field="reason")
    row, order = await _row_and_order(ctx, quote_id)
    async with atomic():
        await _decide(ctx, row, S.DECLINED, "拒绝", {Quote.decline_reason: text})
        await audit.record(
            ctx, "decline", "quote", row["id"], f"工单 {order['no']} 报价 客户拒绝" + (f"：{text}" if text else "")
        )
        await _announce(ctx, order["id"])
    return await get(ctx, row["id"])


@hooks.on_work_order_status
async def _require_approval(ctx: Ctx, order: dict, to: str) -> None:
    """【维修完毕】 of an order whose current quote is not approved is refused (the whole move
    rolls back); an order without a quote completes as before."""
    if to != WorkOrderStatus.REPAIRED:
        return
    row = await _latest(ctx, order["id"], lock=True)
    if row is None or row["status"] == S.APPROVED:
        return
    status = status_of(row, today(ctx))
    if status == S.DECLINED:
        detail = "客户已拒绝报价，不能维修完毕（可修改维修明细后重新报价，或取消工单）"
    elif status == S.EXPIRED:
        detail = f"报价已过期（有效期至 {row['valid_until']}），请重新报价并经客户签字同意后再维修完毕"
    else:
        detail = "报价还在等待客户确认，客户签字同意后才能维修完毕"
    raise Conflict(detail, code="quote_not_approved")


# the order's page reads the id of its current quote with the order (the newest: `_latest`)
hooks.reads_with_order_page(
    "quote_id", f'(SELECT max(q."id") FROM "{Quote._meta.tablename}" q WHERE q."work_order_id" = "wo_order"."id")'
)


@hooks.adds_order_cards
async def _card(ctx: Ctx, order: dict) -> dict | None:
    """The quote's card on the order's page: the current quote, and 【报价】 while repairing. An
    order not yet being repaired has none, and one never quoted costs no statement."""
    if order["status"] == WorkOrderStatus.ACCEPTED:
        return None
    row = await _latest(ctx, order["id"]) if order["quote_id"] else None
    if row is None and order["status"] != WorkOrderStatus.REPAIRING:
        return None
    return {
        "template": "quotes/_card.html",
        "quote": (await _dicts(ctx, [row], order))[0] if row else None,
        "default_valid_until": (today(ctx) + timedelta(days=VALID_DAYS)).isoformat(),
    }


@uploads.readable(SIGNATURE_OWNER, perm=WO.VIEW)
async def _signature_readable(ctx: Ctx, quote_id: int) -> bool:
    try:
        await _row_and_order(ctx, quote_id)
    except NotFound:
        return False
    return True
