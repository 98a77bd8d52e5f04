"""The customer's status page (SPEC 11): a random token per work order opens it, the last four
digits of the customer's phone prove who is asking, and what it shows is chosen here, once, for
the page and the JSON alike: the order's number, device, status timeline, promised time, charges
once repaired, the service centre's contacts, the current quote and, once closed, the customer's
1–5 rating (`ratable`: the page's stars). No staff names, costs or internal remarks.

A wrong guess is counted per token before it is checked (`core.throttle`: one atomic increment,
shared by every process through Redis): five an hour, then a wait. A right one is given back."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import realtime
from server.core import hooks, secrets, throttle, validate
from server.core.errors import Conflict, Forbidden, NotFound
from server.core.tenancy import Ctx
from server.quotes import services as quotes
from server.quotes.states import QuoteStatus
from server.system.services import auth, orgs
from server.workorders.services import orders
from server.workorders.states import WorkOrderStatus

TRIES = 5  # wrong digits per token per window
WINDOW = 3600
PROOF = "status-page"
CHARGED = (WorkOrderStatus.REPAIRED, WorkOrderStatus.CLOSED)  # charges are final from 维修完毕 on
# what the customer reads where the staff's word is not theirs: an order taken in (as the intake
# notice says it), a device on its way between a carry-in point and its repair centre
CUSTOMER_LABELS = {
    WorkOrderStatus.ACCEPTED: "已受理",
    WorkOrderStatus.SENDING: "送修中",
    WorkOrderStatus.RETURNING: "返还中",
}
THROTTLED = "手机号后四位错误次数过多（每小时最多 5 次），请稍后再试"


async def _order(token: str) -> dict:
    """The token's order (id, tenant, org path) with `reader`: the Ctx the services read it as —
    its tenant's root org (its time zone and name), acting as nobody and holding no permission."""
    found = await orders.by_status_token(token)
    root = found and await auth.ctx_for_org(found["tenant_id"], int(found["org_path"].strip("/").split("/")[0]), "客户")
    if root is None:
        raise NotFound("查询链接")
    return found | {"reader": root}


def _reader(found: dict) -> Ctx:
    return found["reader"]


def _last4(order: dict) -> str:
    return re.sub(r"\D", "", order["customer"]["phone"])[-4:]


def _proof(token: str, last4: str) -> str:
    """What the browser keeps once the digits were right: it stops opening the page when the
    customer's phone number changes."""
    return secrets.sign(PROOF, f"{token}:{last4}")


async def prove(token: str, phone_last4: str) -> tuple[dict, str]:
    """Check the digits for the token's order; the order and the proof a browser keeps. Unknown token 404, a
    malformed value 400, wrong digits 403 and, past five wrong ones in the hour, 429."""
    found = await _order(token)
    digits = validate.phone_last4(phone_last4)
    key = f"status:{token}"
    await throttle.attempt({key: TRIES}, THROTTLED, window=WINDOW)
    order = await orders.get(_reader(found), found["id"])
    if not hmac.compare_digest(digits, _last4(order)):
        raise Forbidden("手机号后四位不正确", code="wrong_phone_digits")
    await throttle.release([key])
    return found | {"order": order}, _proof(token, digits)


async def proven(token: str, proof: str | None) -> dict | None:
    """The token's order when `proof` (kept by the browser) still holds for it, else None."""
    found = await _order(token)
    if not proof:
        return None
    order = await orders.get(_reader(found), found["id"])
    return found | {"order": order} if secrets.verify(PROOF, f"{token}:{_last4(order)}", proof) else None


def quote_shown(view: dict) -> str:
    """A short fingerprint of the quote a page shows: its progress refresh sends it back, and a
    quote made, changed or decided elsewhere since (on the front desk's iPad) reloads the page,
    whose quote section sits outside the refreshed region (a signature may be being drawn)."""
    shown = json.dumps(view["quote"], sort_keys=True, default=str) if view["quote"] else ""
    return hashlib.sha256(shown.encode()).hexdigest()[:16] if shown else ""


async def view(found: dict) -> dict:
    """What the customer sees of the order (the JSON's keys; the page renders the same), from the
    order its proof was checked on."""
    reader = _reader(found)
    order = found["order"]
    centre = await orgs.get(reader, order["intake_org_id"] or order["org_id"])
    timeline = [e for e in await orders.history(reader, found["id"]) if e["kind"] == "status"]
    charged = order["status"] in CHARGED
    tz = ZoneInfo(reader.tz)

    def local(at: datetime | None) -> datetime | None:
        return at.astimezone(tz) if at else None

    return {
        "no": order["no"],
        "status": order["status"],
        "status_label": CUSTOMER_LABELS.get(order["status"], order["status_label"]),
        # goods read as "<code> <name>": the customer sees the name, not the internal code
        "device": order["goods_name"].split(" ", 1)[-1] if order["goods_name"] else "",
        "serial_no": order["serial_no"],
        "fault_description": order["fault_description"],
        "created_at": local(order["created_at"]),
        "promised_at": local(order["promised_at"]),
        "timeline": [
            {
                "status": e["to_status"],
                "label": CUSTOMER_LABELS.get(e["to_status"], e["to_label"]),
                "at": local(e["at"]),
            }
            for e in timeline
        ],
        "charges": order["charges"] if charged else None,
        "centre": {"name": centre["name"], "address": centre["address"], "phone": centre["phone"]},
        "company": reader.tenant_name,
        "quote": _customer_quote(await _quote(found)),
        "rating": order["rating"],
        "ratable": order["status"] == WorkOrderStatus.CLOSED and order["rating"] is None,
    }


# --- the order's quote, decided by the customer on this page ---------------------------------------


async def _quote(found: dict) -> dict | None:
    """The order's current quote (as staff read it), or None when it has none."""
    try:
        return await quotes.current(_reader(found), found["id"])
    except NotFound:
        return None


def _line_name(line: dict) -> str:
    """A quote line as the customer reads it: repair code and goods by their names, without the
    internal codes (both read "<code> <name>")."""
    return " · ".join(n.split(" ", 1)[-1] for n in (line["repair_code"], line["goods_name"]) if n)


def _customer_quote(q: dict | None) -> dict | None:
    """What the customer sees of a quote: per line its name, quantity, the part's unit price and
    the labour (the printed quote's 配件单价 and 工时费; amount = labour + unit price × qty), the
    totals, validity, status and their own reason for a refusal. No ids, staff or costs."""
    if q is None:
        return None
    lines = [
        {
            "name": _line_name(ln),
            "qty": ln["qty"],
            "unit_price": ln["price"],
            "labor_fee": ln["labor_fee"],
            "amount": ln["amount"],
        }
        for ln in q["lines"]
    ]
    keep = ("status", "status_label", "valid_until", "labor", "parts", "total", "decline_reason")
    return {k: q[k] for k in keep} | {"lines": lines}


def _customer(found: dict) -> Ctx:
    """Who decides on this page: the customer, as the quote's record names them."""
    return dataclasses.replace(_reader(found), user_name="客户（进度查询页）")


async def _pending(found: dict) -> dict:
    q = await _quote(found)
    if q is None or q["status"] != QuoteStatus.PENDING:
        raise Conflict("该报价已处理或已过期，请刷新页面查看最新状态", code="invalid_state")
    return q


async def approve_quote(found: dict, signature: Any) -> dict:
    """The customer agrees to the order's pending quote with their signature, from their phone."""
    q = await _pending(found)
    return await quotes.approve(_customer(found), q["id"], signature)


async def decline_quote(found: dict, reason: Any) -> dict:
    q = await _pending(found)
    return await quotes.decline(_customer(found), q["id"], reason)


# --- the customer's rating once the order is closed ------------------------------------------------


async def rate(found: dict, rating: Any) -> dict:
    """The customer's 1–5 for their closed order, once (the work-order service's rule); the
    order as the customer sees it afterwards."""
    order = await orders.rate(_customer(found), found["id"], rating)
    return await view(found | {"order": order})


@hooks.on_work_order_status
async def _moved(ctx: Ctx, order: dict, to: str) -> None:
    """The order's status page hears its own moves, after commit, on its own channel only."""
    realtime.emit_order(ctx.tenant_id, order["id"], to)
