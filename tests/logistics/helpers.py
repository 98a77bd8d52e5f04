"""Helpers of the order tests: a small network with credit and orderable goods, orders built
through the services, and the invariant tying orders to the credit ledger."""

from __future__ import annotations

from server.core.tenancy import Ctx
from server.credit.tables import CreditAccount, CreditEntry, CreditFreeze
from server.logistics import permissions as P
from server.logistics.services import orders
from server.logistics.states import OrderStatus
from server.logistics.tables import Order, OrderLine
from tests.credit.helpers import recharge
from tests.masterdata.helpers import basics, make_goods, tiers
from tests.system.helpers import service_org, service_user

APPLICANT = [*P.ORDER.values()]
REVIEWER = [*P.REVIEW.values()]
# SCR and BAT are orderable at level 2 (order price 110 and 11) and 3; NOO is not at level 2
NOT_AT_2 = tiers(("1.0000", "2.0000", True), ("5.0000", "9.0000", False), ("6.0000", "9.0000", True), ("7", "9", True))
CHEAP = tiers(
    ("10.0000", "15.0000", True), ("11.0000", "16.0000", True), ("12.0000", "17.0000", True), ("13", "18", True)
)
OPEN = (OrderStatus.SUBMITTED, OrderStatus.APPROVED, OrderStatus.PARTIALLY_SHIPPED)


async def network(tenant: Ctx, credit: str | None = "1000.0000") -> dict:
    """HQ → B2 (level 2) → B3 (level 3) and a sibling S2 of B2. b2 (B2) applies and reviews B3's
    orders; s2 (S2) applies; hq (HQ) reviews. B2 gets `credit` from HQ."""
    b = await basics(tenant)
    b2 = await service_org(tenant, "B2", tenant.org_id, level=2)
    b3 = await service_org(tenant, "B3", b2["id"], level=3)
    s2 = await service_org(tenant, "S2", tenant.org_id, level=2)
    screen = await make_goods(tenant, "SCR", b["iphone15"], name="iPhone 15 屏幕")
    battery = await make_goods(tenant, "BAT", b["iphone15"], name="iPhone 15 电池", prices=CHEAP)
    closed = await make_goods(tenant, "NOO", b["iphone15"], name="停订配件", prices=NOT_AT_2)
    if credit:
        await recharge(tenant, (b2["id"], credit))
    return {
        "hq_org": tenant.org_id,
        "b2_org": b2["id"],
        "b3_org": b3["id"],
        "s2_org": s2["id"],
        "screen": screen["id"],
        "battery": battery["id"],
        "closed": closed["id"],
        "b2": await service_user(tenant, "b2user", b2["id"], "branch", APPLICANT + REVIEWER),
        "b3": await service_user(tenant, "b3user", b3["id"], "branch", APPLICANT),
        "s2": await service_user(tenant, "s2user", s2["id"], "branch", APPLICANT + REVIEWER),
        "hq": await service_user(tenant, "hqreview", tenant.org_id, "hq", REVIEWER + [P.ORDER["view"]]),
    }


async def order(ctx: Ctx, *lines: tuple[int, int], submit: bool = True) -> dict:
    """An order of (goods_id, qty) lines, submitted unless told."""
    doc = await orders.create(ctx, "order", {"lines": [{"goods_id": g, "qty": q} for g, q in lines]})
    return await orders.submit(ctx, "order", doc["id"]) if submit else doc


async def account(org_id: int) -> tuple[int, int]:
    """(balance, frozen) of an org's credit account, in units."""
    row = await CreditAccount.select().where(CreditAccount.org_id == org_id).first()
    return (row["balance"], row["frozen"]) if row else (0, 0)


async def assert_order_credit() -> None:
    """Each order's freeze holds exactly the value it has not shipped while it is open, nothing
    otherwise; each account's frozen is the sum of its open orders' freezes (orders are the only
    freezers here), and its usage the value its orders shipped."""
    freezes = {f["id"]: f for f in await CreditFreeze.select()}
    lines = await OrderLine.select()
    entries = await CreditEntry.select()
    held: dict[int, int] = {}
    shipped: dict[int, int] = {}
    for o in await Order.select():
        mine = [li for li in lines if li["doc"] == o["id"]]
        assert all(0 <= li["received_qty"] <= li["shipped_qty"] <= li["qty"] for li in mine), mine
        unshipped = sum((li["qty"] - li["shipped_qty"]) * li["price"] for li in mine)
        value = sum(li["shipped_qty"] * li["price"] for li in mine)
        shipped[o["org_id"]] = shipped.get(o["org_id"], 0) + value
        if o["freeze_id"] is None:
            assert o["status"] not in OPEN or unshipped == 0, o
            continue
        remaining = freezes[o["freeze_id"]]["remaining"]
        assert remaining == (unshipped if o["status"] in OPEN else 0), (o, remaining, unshipped)
        held[o["org_id"]] = held.get(o["org_id"], 0) + remaining
        if o["status"] == OrderStatus.SHIPPED:
            assert unshipped == 0, o
    for a in await CreditAccount.select():
        assert a["frozen"] == held.get(a["org_id"], 0), a
        used = -sum(e["amount"] for e in entries if e["account"] == a["id"] and e["kind"] in ("usage", "restore"))
        assert used == shipped.get(a["org_id"], 0), a
