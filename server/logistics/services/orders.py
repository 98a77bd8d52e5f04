"""Orders (SPEC 4.3): a branch applies 【订货申请】 to its parent, the parent reviews 【订单审核】 and
ships. Drafts live on the shared document life cycle of `server.core.documents` (lines change only
in draft, the number is claimed on create, every step audits and announces); the review steps
are this module's, each claiming the order's row by a conditional UPDATE first.

Credit moves only through the credit ledger: submit freezes the total at the branch's order
prices of that moment; withdraw, reject and close release what is still frozen; shipping turns
the shipped value into usage, a recalled shipment turns it back into the freeze.

Shipments (`server.logistics.services.shipments`) call `open_lines`, `record_shipped`,
`record_recalled` and `record_received` inside their own `atomic()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import realtime
from server.core import audit, money, validate
from server.core import documents as life
from server.core.clock import now
from server.core.db import atomic
from server.core.documents import DocFilters, DocType
from server.core.errors import BusinessError, Conflict, Forbidden, NotFound
from server.core.pagination import Page, PageParams
from server.core.tenancy import Ctx
from server.credit.services import ledger
from server.logistics import permissions as P
from server.logistics.states import SHIPPABLE, OrderStatus
from server.logistics.tables import Order, OrderLine
from server.masterdata.services import goods
from server.system.services import orgs

S = OrderStatus
TOPIC = "orders"
MAX_QTY = 100_000
MAX_LINES = 200
SIDES = {"own": "本机构的订货单", "review": "下级机构的订货单"}
# what a shipment may still touch: recalls and receipts also after the rest was closed short
SHIPPED_ANY = (S.PARTIALLY_SHIPPED, S.SHIPPED, S.CLOSED)

realtime.topic(TOPIC, P.ORDER_READ)
# the audit log's words for the order steps
for _action, _label in (
    ("withdraw", "撤回"),
    ("approve", "审核通过"),
    ("reject", "驳回"),
    ("close", "关闭"),
    ("ship", "发货"),
    ("unship", "撤回发货"),
    ("receive", "收货"),
):
    audit.ACTIONS.setdefault(_action, _label)


class OrderFilters(DocFilters):
    """The order lists' filters: `side` own (the caller's org placed them) or review (placed with
    the caller's org by its children), and the applying org."""

    side: str = ""
    org_id: str = ""


def _ref(doc: dict) -> ledger.DocRef:
    return ledger.DocRef(type="order", no=doc["no"], id=doc["id"])


def _own(ctx: Ctx, doc: dict) -> None:
    """Applicant steps (edit, submit, withdraw, delete) belong to the org that placed the order."""
    if doc["org_id"] != ctx.org_id:
        raise Forbidden("只能处理本机构的订货单", code="not_own_order")


def _reviewer(ctx: Ctx, doc: dict) -> None:
    """Review and shipping steps belong to the parent the order was placed with."""
    if doc["parent_org_id"] != ctx.org_id:
        raise Forbidden("只能审核或发货直属下级机构的订货单", code="not_parent")


async def _orderable_price(ctx: Ctx, goods_id: int, org_id: int) -> int:
    """The org's order price of a goods (units), refused when the goods is not orderable at the
    org's level."""
    price = await goods.price_for(ctx, goods_id, org_id)
    if not price.orderable:
        row = await goods.usable(ctx, goods_id)
        detail = f"货品 {row['code']} {row['name']} 不允许本机构订购"
        raise BusinessError(detail, code="not_orderable", field="goods_id")
    return money.to_units(price.order_price)


@dataclass(frozen=True)
class OrderKind(DocType):
    table = Order
    line_table = OrderLine
    line_columns = (
        *OrderLine.all_columns(),
        OrderLine.goods.code.as_alias("goods_code"),
        OrderLine.goods.name.as_alias("goods_name"),
        OrderLine.goods.unit.as_alias("unit"),
        OrderLine.goods.spec.as_alias("spec"),
    )
    statuses = tuple(OrderStatus)
    who = True
    max_lines = MAX_LINES
    resubmitted = "{}已提交"

    async def header(self, ctx: Ctx, data: dict, doc: dict, new: bool) -> dict:
        """A new order goes to the applicant's parent; the head office has none to order from."""
        out: dict[str, Any] = {}
        if new:
            org = await orgs.get(ctx, ctx.org_id)
            if org["parent"] is None:
                raise Forbidden("总部没有上级机构，不能向自己订货", code="no_parent")
            out["parent_org_id"] = org["parent"]
        else:
            _own(ctx, doc)
        if new or "remark" in data:
            out["remark"] = validate.text(data.get("remark"), "备注", 500, field="remark")
        return out

    async def line(self, ctx: Ctx, data: dict, doc: dict, current: dict | None = None) -> dict:
        """A line: usable goods orderable at the applicant's level, a quantity, and the price
        it would be ordered at now (fixed again at submit)."""
        _own(ctx, doc)
        goods_id = current["goods"] if current and "goods_id" not in data else None
        if goods_id is None:
            goods_id = validate.ident(data.get("goods_id"), "货品", "goods_id")
        await goods.usable(ctx, goods_id)
        qty = current["qty"] if current and "qty" not in data else None
        if qty is None:
            qty = validate.integer(data.get("qty"), "数量", 1, MAX_QTY, "qty")
        return {"goods": goods_id, "qty": qty, "price": await _orderable_price(ctx, goods_id, doc["org_id"])}

    async def check_lines(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """A goods appears once per order (its quantity is changed instead)."""
        seen: set[int] = set()
        for line in lines:
            if line["goods"] in seen:
                row = await goods.usable(ctx, line["goods"])
                detail = f"货品 {row['code']} {row['name']} 已在明细中，请修改其数量"
                raise BusinessError(detail, code="duplicate_goods", field="goods_id")
            seen.add(line["goods"])

    async def on_submit(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """Prices are fixed at the applicant's order prices of now, and the total is frozen on its
        credit (refused with the shortfall when its available credit is short)."""
        _own(ctx, doc)
        total = 0
        for line in lines:
            await goods.usable(ctx, line["goods"])
            price = await _orderable_price(ctx, line["goods"], doc["org_id"])
            if price != line["price"]:
                await OrderLine.update({OrderLine.price: price}).where(OrderLine.id == line["id"])
            total += price * line["qty"]
        freeze_id = await ledger.freeze(ctx, doc["org_id"], total, _ref(doc)) if total > 0 else None
        await Order.update({Order.total: total, Order.freeze_id: freeze_id}).where(Order.id == doc["id"])

    async def on_delete(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """A submitted order deleted gives its freeze back."""
        _own(ctx, doc)
        await _release(ctx, doc["id"])

    async def present(self, ctx: Ctx, docs: list[dict], lines: dict[int, list[dict]]) -> list[dict]:
        """Orders with their lines and org names; those placed with the caller's org carry the
        applicant's credit (limit, used, frozen, available) the reviewer weighs."""
        names = await orgs.names(ctx, {d["org_id"] for d in docs} | {d["parent_org_id"] for d in docs})
        children = sorted({d["org_id"] for d in docs if d["parent_org_id"] == ctx.org_id})
        credit = await ledger.standing(ctx, children) if children else {}
        return [_doc_dict(d, lines[d["id"]], names, credit.get(d["org_id"])) for d in docs]


def _line_dict(line: dict) -> dict:
    return {
        "id": line["id"],
        "goods_id": line["goods"],
        "goods_code": line["goods_code"],
        "goods_name": line["goods_name"],
        "unit": line["unit"],
        "spec": line["spec"],
        "qty": line["qty"],
        "unit_price": money.fmt(line["price"]),
        "amount": money.fmt(line["price"] * line["qty"]),
        "shipped_qty": line["shipped_qty"],
        "received_qty": line["received_qty"],
        "open_qty": line["qty"] - line["shipped_qty"],
    }


def _doc_dict(doc: dict, lines: list[dict], names: dict[int, str], credit: dict | None) -> dict:
    status = S(doc["status"])
    return {
        "id": doc["id"],
        "no": doc["no"],
        "status": doc["status"],
        "status_name": status.label,
        "org_id": doc["org_id"],
        "org_name": names.get(doc["org_id"], ""),
        "parent_org_id": doc["parent_org_id"],
        "parent_org_name": names.get(doc["parent_org_id"], ""),
        "remark": doc["remark"],
        "reason": doc["reason"],
        "total_qty": sum(li["qty"] for li in lines),
        "total_amount": money.fmt(sum(li["price"] * li["qty"] for li in lines)),
        "shipped_amount": money.fmt(sum(li["price"] * li["shipped_qty"] for li in lines)),
        "frozen": doc["freeze_id"] is not None and status in (S.SUBMITTED, *SHIPPABLE),
        "created_by": doc["created_by"],
        "created_by_name": doc["created_by_name"],
        "created_at": doc["created_at"],
        "submitted_by_name": doc["submitted_by_name"],
        "submitted_at": doc["submitted_at"],
        "reviewed_by_name": doc["reviewed_by_name"],
        "reviewed_at": doc["reviewed_at"],
        "closed_by_name": doc["closed_by_name"],
        "closed_at": doc["closed_at"],
        "credit": credit,
        "lines": [_line_dict(li) for li in lines],
    }


ORDER = OrderKind("order", "订货单", "DH", P.ORDER | {"view": P.ORDER_READ}, TOPIC)
KINDS = {"order": ORDER}
STATUSES = {s.value: s.label for s in OrderStatus if s != S.DELETED}


# --- reading -------------------------------------------------------------------------------------


def filter_where(ctx: Ctx, filters: OrderFilters):
    """The lists' filters; another org's order is listed once it was submitted (a draft, or one
    withdrawn as a draft, is the applicant's own business)."""
    where = life.list_where(ctx, ORDER, filters) & ((Order.org_id == ctx.org_id) | Order.submitted_at.is_not_null())
    if filters.side:
        side = validate.choice(filters.side, "范围", SIDES, "side")
        where &= (Order.org_id if side == "own" else Order.parent_org_id) == ctx.org_id
    if filters.org_id:
        where &= Order.org_id == validate.ident(filters.org_id, "订货机构", "org_id")
    return where


async def search(
    ctx: Ctx, kind: str = "order", filters: OrderFilters = OrderFilters(), *, params: PageParams = PageParams()
) -> Page:
    return await life.search(ctx, ORDER, filter_where(ctx, filters), params)


async def get(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await life.get(ctx, ORDER, doc_id)


async def get_draft(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await life.get_draft(ctx, ORDER, doc_id)


async def children(ctx: Ctx) -> list[dict]:
    """The orgs that order from the caller's org (the review list's org filter)."""
    return (await orgs.search(ctx, parent_id=ctx.org_id, status="active", params=PageParams(1, 500))).items


# --- the applicant's life cycle (server.core.documents) -------------------------------------------


async def create(ctx: Ctx, kind: str, data: dict) -> dict:
    return await life.create(ctx, ORDER, data)


async def update(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    return await life.update(ctx, ORDER, doc_id, data)


async def add_line(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    return await life.add_line(ctx, ORDER, doc_id, data)


async def update_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any, data: dict) -> dict:
    return await life.update_line(ctx, ORDER, doc_id, line_id, data)


async def delete_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any) -> dict:
    return await life.delete_line(ctx, ORDER, doc_id, line_id)


async def delete_lines(ctx: Ctx, kind: str, doc_id: Any, line_ids: Any) -> dict:
    return await life.delete_lines(ctx, ORDER, doc_id, line_ids)


async def submit(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """【提交】: prices are fixed and the total frozen on the applicant's credit."""
    return await life.submit(ctx, ORDER, doc_id)


async def delete(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """A draft or a submitted order can be deleted; a submitted one gives its freeze back."""
    return await life.delete(ctx, ORDER, doc_id)


# --- the review steps ------------------------------------------------------------------------------


async def _refused(doc: dict, action: str) -> Conflict:
    """The answer to a step the order's state (as it is now) does not allow."""
    status = await Order.select(Order.status).where(Order.id == doc["id"]).first()
    label = S(status["status"]).label if status else S.DELETED.label
    return Conflict(f"订货单 {doc['no']} 当前状态为【{label}】，不能{action}", code="invalid_state")


async def _claimed(doc: dict, action: str, allowed: tuple[S, ...], values: dict) -> dict:
    if not await life.claim(ORDER, doc, allowed, values):
        raise await _refused(doc, action)
    return await Order.select().where(Order.id == doc["id"]).first()


def _stamp(ctx: Ctx, step: str, status: S, **more: Any) -> dict:
    return {
        Order.status: status,
        getattr(Order, f"{step}_at"): now(),
        getattr(Order, f"{step}_by"): ctx.user_id,
        getattr(Order, f"{step}_by_name"): ctx.user_name,
        **{getattr(Order, k): v for k, v in more.items()},
    }


async def _still_frozen(order_id: int) -> int:
    """What of an order's freeze is still held: the value of what is not shipped."""
    lines = await OrderLine.select(OrderLine.qty, OrderLine.shipped_qty, OrderLine.price).where(
        OrderLine.doc == order_id
    )
    return sum((li["qty"] - li["shipped_qty"]) * li["price"] for li in lines)


async def _release(ctx: Ctx, order_id: int) -> None:
    """Give back what the order still holds frozen (withdraw, reject, close, delete)."""
    order = await Order.select().where(Order.id == order_id).first()
    left = await _still_frozen(order_id)
    if order["freeze_id"] is not None and left > 0:
        await ledger.release(ctx, order["freeze_id"], _ref(order), left)


async def withdraw(ctx: Ctx, doc_id: Any) -> dict:
    """【撤回】 a draft or a submitted order not yet reviewed; a submitted one gives its freeze back."""
    async with atomic():
        doc = await life.row(ctx, ORDER, doc_id)
        _own(ctx, doc)
        order = await _claimed(doc, "撤回", (S.DRAFT, S.SUBMITTED), {Order.status: S.WITHDRAWN})
        await _release(ctx, order["id"])
        await life.transition(ctx, ORDER, doc, "withdraw", "withdrawn", f"撤回订货单 {doc['no']}")
        return await get(ctx, "order", doc["id"])


async def approve(ctx: Ctx, doc_id: Any) -> dict:
    """【审核通过】 a child's submitted order: the parent may now ship it."""
    async with atomic():
        doc = await life.row(ctx, ORDER, doc_id)
        _reviewer(ctx, doc)
        await _claimed(doc, "审核", (S.SUBMITTED,), _stamp(ctx, "reviewed", S.APPROVED))
        await life.transition(ctx, ORDER, doc, "approve", "approved", f"审核通过订货单 {doc['no']}")
        return await get(ctx, "order", doc["id"])


async def reject(ctx: Ctx, doc_id: Any, reason: Any) -> dict:
    """【驳回】 a child's submitted order with a reason; its freeze is released."""
    why = validate.text(reason, "驳回原因", 200, required=True, field="reason")
    async with atomic():
        doc = await life.row(ctx, ORDER, doc_id)
        _reviewer(ctx, doc)
        order = await _claimed(doc, "驳回", (S.SUBMITTED,), _stamp(ctx, "reviewed", S.REJECTED, reason=why))
        await _release(ctx, order["id"])
        await life.transition(ctx, ORDER, doc, "reject", "rejected", f"驳回订货单 {doc['no']}：{why}")
        return await get(ctx, "order", doc["id"])


async def close(ctx: Ctx, doc_id: Any) -> dict:
    """【关闭订单】 short: nothing more is shipped, and what is still frozen is released."""
    async with atomic():
        doc = await life.row(ctx, ORDER, doc_id)
        _reviewer(ctx, doc)
        order = await _claimed(doc, "关闭", SHIPPABLE, _stamp(ctx, "closed", S.CLOSED))
        await _release(ctx, order["id"])
        await life.transition(ctx, ORDER, doc, "close", "closed", f"关闭订货单 {doc['no']}")
        return await get(ctx, "order", doc["id"])


# --- what shipments call, inside their own atomic() ------------------------------------------------


def _quantities(qty_by_line: Any) -> dict[int, int]:
    """{line id: quantity > 0}; quantities are whole units."""
    if not isinstance(qty_by_line, dict) or not qty_by_line:
        raise BusinessError("请选择订货单明细及数量", code="required", field="lines")
    out: dict[int, int] = {}
    for line_id, qty in qty_by_line.items():
        lid = validate.ident(line_id, "订货单明细", "order_line_id")
        if isinstance(qty, Decimal):
            if qty != qty.to_integral_value():
                raise BusinessError("数量必须是整数", code="invalid_field", field="qty")
            qty = int(qty)
        out[lid] = validate.integer(qty, "数量", 1, MAX_QTY, "qty")
    return out


async def _lines(doc: dict, wanted: dict[int, int]) -> dict[int, dict]:
    lines = {li["id"]: li for li in (await life.lines_of(ORDER, [doc["id"]]))[doc["id"]]}
    if any(lid not in lines for lid in wanted):
        raise NotFound("订货单明细")
    return lines


async def _move(doc: dict, column: str, delta_sql: str, bound_sql: str, line_id: int, qty: int) -> bool:
    """One conditional UPDATE of a line's shipped or received quantity (never past its bound)."""
    rows = await OrderLine.raw(
        f'UPDATE "lg_order_line" SET "{column}" = "{column}" {delta_sql} {{}} '
        f'WHERE "id" = {{}} AND "doc" = {{}} AND "{column}" {delta_sql} {{}} {bound_sql} RETURNING "id"',
        qty,
        line_id,
        doc["id"],
        qty,
    )
    return bool(rows)


async def _shipped(order_id: int) -> list[tuple[int, int]]:
    """(ordered, shipped) of each line, as they are now."""
    rows = await OrderLine.select(OrderLine.qty, OrderLine.shipped_qty).where(OrderLine.doc == order_id)
    return [(r["qty"], r["shipped_qty"]) for r in rows]


async def open_lines(ctx: Ctx, order_id: Any) -> list[dict]:
    """The lines of an approved (or partly shipped) order still to ship, for the parent's shipment."""
    doc = await life.row(ctx, ORDER, order_id)
    _reviewer(ctx, doc)
    if doc["status"] not in SHIPPABLE:
        raise await _refused(doc, "发货")
    lines = (await life.lines_of(ORDER, [doc["id"]]))[doc["id"]]
    return [
        {k: v for k, v in _line_dict(li).items() if k not in ("amount", "unit", "spec")}
        | {"unit_price": money.from_units(li["price"])}
        for li in lines
        if li["qty"] > li["shipped_qty"]
    ]


async def shippable(ctx: Ctx, limit: int = 200) -> list[dict]:
    """The orders the caller's org may ship now (【物流发货】's 订单 choice): its direct children's
    approved or partly shipped orders, newest first, each with its branch and open quantity."""
    rows = (
        await Order.select(Order.id, Order.no, Order.org_id, Order.status)
        .where(life.visible(ctx, ORDER) & (Order.parent_org_id == ctx.org_id) & Order.status.is_in(list(SHIPPABLE)))
        .order_by(Order.id, ascending=False)
        .limit(limit)
    )
    if not rows:
        return []
    open_qty = {r["id"]: 0 for r in rows}
    lt = OrderLine
    for li in await lt.select(lt.doc, lt.qty, lt.shipped_qty).where(lt.doc.is_in(list(open_qty))):
        open_qty[li["doc"]] += li["qty"] - li["shipped_qty"]
    names = await orgs.names(ctx, {r["org_id"] for r in rows})
    return [
        {
            "id": r["id"],
            "no": r["no"],
            "org_id": r["org_id"],
            "org_name": names.get(r["org_id"], ""),
            "status_name": S(r["status"]).label,
            "open_qty": open_qty[r["id"]],
        }
        for r in rows
    ]


async def applicant(ctx: Ctx, order_id: Any) -> int:
    """The org an approved (or partly shipped) order of the caller's child ships to."""
    doc = await life.row(ctx, ORDER, order_id)
    _reviewer(ctx, doc)
    if doc["status"] not in SHIPPABLE:
        raise await _refused(doc, "发货")
    return doc["org_id"]


async def record_shipped(ctx: Ctx, order_id: Any, qty_by_line: Any) -> None:
    """A shipment of the order confirmed out: shipped quantities rise (never past what was
    ordered), the shipped value turns from freeze into usage on the applicant's credit."""
    wanted = _quantities(qty_by_line)
    async with atomic():
        doc = await life.row(ctx, ORDER, order_id)
        _reviewer(ctx, doc)
        order = await _claimed(doc, "发货", SHIPPABLE, {})
        lines = await _lines(doc, wanted)
        value = 0
        for lid, qty in sorted(wanted.items()):
            li = lines[lid]
            if not await _move(doc, "shipped_qty", "+", '<= "qty"', lid, qty):
                raise Conflict(
                    f"货品 {li['goods_code']} {li['goods_name']} 发货数量超过订单未发数量"
                    f"（订货 {li['qty']}，已发 {li['shipped_qty']}，本次 {qty}）",
                    code="exceeds_order",
                )
            value += qty * li["price"]
        if value:
            await ledger.use(ctx, order["freeze_id"], value, _ref(doc))
        now_lines = await _shipped(doc["id"])
        status = S.SHIPPED if all(q == shipped for q, shipped in now_lines) else S.PARTIALLY_SHIPPED
        await Order.update({Order.status: status}).where(Order.id == doc["id"])
        await life.transition(ctx, ORDER, doc, "ship", "shipped", f"订货单 {doc['no']} 发货", {"lines": wanted})


async def record_recalled(ctx: Ctx, order_id: Any, qty_by_line: Any) -> None:
    """A confirmed shipment recalled before receipt: shipped quantities fall back (never below
    what was received) and the value returns from usage to the order's freeze; when the order
    was closed short meanwhile, that freeze is released at once."""
    wanted = _quantities(qty_by_line)
    async with atomic():
        doc = await life.row(ctx, ORDER, order_id)
        _reviewer(ctx, doc)
        order = await _claimed(doc, "撤回发货", SHIPPED_ANY, {})
        lines = await _lines(doc, wanted)
        value = 0
        for lid, qty in sorted(wanted.items()):
            li = lines[lid]
            if not await _move(doc, "shipped_qty", "-", '>= "received_qty"', lid, qty):
                raise Conflict(
                    f"货品 {li['goods_code']} {li['goods_name']} 撤回数量超过已发未收数量"
                    f"（已发 {li['shipped_qty']}，已收 {li['received_qty']}，本次 {qty}）",
                    code="exceeds_shipped",
                )
            value += qty * li["price"]
        if value:
            await ledger.restore(ctx, order["freeze_id"], value, _ref(doc))
        if order["status"] == S.CLOSED:
            if value:
                await ledger.release(ctx, order["freeze_id"], _ref(doc), value)
        else:
            shipped_any = any(shipped for _, shipped in await _shipped(doc["id"]))
            status = S.PARTIALLY_SHIPPED if shipped_any else S.APPROVED
            await Order.update({Order.status: status}).where(Order.id == doc["id"])
        await life.transition(ctx, ORDER, doc, "unship", "recalled", f"订货单 {doc['no']} 撤回发货", {"lines": wanted})


async def record_received(ctx: Ctx, order_id: Any, qty_by_line: Any) -> None:
    """The applicant received goods of the order: received quantities rise, never past shipped."""
    wanted = _quantities(qty_by_line)
    async with atomic():
        doc = await life.row(ctx, ORDER, order_id)
        _own(ctx, doc)
        await _claimed(doc, "收货", SHIPPED_ANY, {})
        lines = await _lines(doc, wanted)
        for lid, qty in sorted(wanted.items()):
            li = lines[lid]
            if not await _move(doc, "received_qty", "+", '<= "shipped_qty"', lid, qty):
                raise Conflict(
                    f"货品 {li['goods_code']} {li['goods_name']} 收货数量超过已发货数量"
                    f"（已发 {li['shipped_qty']}，已收 {li['received_qty']}，本次 {qty}）",
                    code="exceeds_shipped",
                )
        await life.transition(ctx, ORDER, doc, "receive", "received", f"订货单 {doc['no']} 收货", {"lines": wanted})
