"""A hypothesis-driven random sequence over three accounts (A, its child B, and C): recharge and
adjustment documents (increase/decrease lines) created, submitted, confirmed and deleted through
the document service, and direct ledger freeze/release/use/refund calls as orders and returns make
them. After every step the ledger invariant holds (tests.credit.helpers.assert_credit_ledger) and
each account equals an in-test model kept in exact Decimal arithmetic. The model decides first
whether a step must be refused; a refused step answers the model's error code (and shortfall) and
changes no row."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core.errors import BusinessError
from server.credit.services import documents, ledger
from server.credit.tables import CreditAccount
from tests.credit.api_helpers import database_state
from tests.credit.helpers import assert_credit_ledger
from tests.system.helpers import service_org

UNIT = Decimal("0.0001")
ORG = st.integers(0, 2)
AMOUNT = st.integers(1, 3_000_000).map(lambda units: units * UNIT)  # 0.0001 … 300.0000
NAMES = ("recharge", "adjustment", "submit", "confirm", "delete", "freeze", "release", "use", "refund")


class Op(NamedTuple):
    """One step: documents are created with `lines`; submit/confirm/delete and release/use `pick`
    a document or a freeze counting back from the newest; freeze and refund take `org` and
    `amount`. `edge` "all" makes a freeze, use or release take exactly what is available or
    remaining, "over" one ten-thousandth more (release/use freeze while there is no freeze)."""

    name: str
    lines: list[tuple[int, str, Decimal]]
    pick: int
    org: int
    amount: Decimal
    edge: str


OPS = st.builds(
    Op,
    st.sampled_from(("recharge", "adjustment", "submit", "confirm", "delete", "freeze", "release", "use", "refund")),
    st.lists(st.tuples(ORG, st.sampled_from(["increase", "decrease"]), AMOUNT), min_size=1, max_size=2),
    st.integers(0, 3),
    ORG,
    AMOUNT,
    st.sampled_from(["", "", "all", "over"]),
)
_codes = itertools.count(1)
TRANSITIONS = {"submit": ("draft",), "confirm": ("submitted",), "delete": ("draft", "submitted")}


class Refused(Exception):
    """The model refuses the step: the service must answer `code` (and this shortfall)."""

    def __init__(self, code: str, shortfall: Decimal | None = None) -> None:
        super().__init__(code)
        self.code, self.shortfall = code, shortfall


@dataclass
class Doc:
    id: int
    kind: str
    lines: list[tuple[int, str, Decimal]]  # (org index, direction, amount)
    status: str = "draft"


@dataclass
class Model:
    """Balances and frozen amounts per account, open freezes, documents: what the ledger must show."""

    balance: list[Decimal] = field(default_factory=lambda: [Decimal(0)] * 3)
    frozen: list[Decimal] = field(default_factory=lambda: [Decimal(0)] * 3)
    freezes: list[tuple[int, int, Decimal]] = field(default_factory=list)  # (freeze id, org index, remaining)
    docs: list[Doc] = field(default_factory=list)

    def available(self, org: int) -> Decimal:
        return self.balance[org] - self.frozen[org]

    def hold(self, org: int, amount: Decimal) -> None:
        if self.available(org) < amount:
            raise Refused("insufficient_credit", amount - self.available(org))
        self.frozen[org] += amount

    def pick(self, back: int, statuses: tuple[str, ...]) -> Doc:
        """`back` 0: the newest document the action applies to (the newest of all when none does);
        otherwise the one `back` places before the newest, whatever its status."""
        if back == 0:
            return next((d for d in reversed(self.docs) if d.status in statuses), self.docs[-1])
        return self.docs[-1 - back % len(self.docs)]

    def transition(self, name: str, doc: Doc) -> Model:
        """The balances after submit/confirm/delete of `doc`, or Refused."""
        if doc.status == "deleted":
            raise Refused("not_found")
        if doc.status not in TRANSITIONS[name]:
            codes = {"submit": "not_draft", "delete": "confirmed"}
            raise Refused(codes.get(name) or ("not_submitted" if doc.status == "draft" else "already_confirmed"))
        after = Model(list(self.balance), list(self.frozen))
        for o, direction, amount in doc.lines:
            if direction == "decrease" and name == "submit":
                after.hold(o, amount)
            elif direction == "decrease" and doc.status == "submitted":  # its freeze is used or released
                after.frozen[o] -= amount
                after.balance[o] -= amount if name == "confirm" else 0
            elif name == "confirm":
                after.balance[o] += amount
        return after


async def must_refuse(call, refusal: Refused) -> None:
    """The service refuses `call` as the model said, and not one row changes."""
    before = await database_state()
    try:
        await call
    except BusinessError as exc:
        assert exc.code == refusal.code, (exc.code, exc.detail, refusal.code)
        if refusal.shortfall is not None:
            assert exc.detail == f"可用额度不足：还差 {refusal.shortfall}", (exc.detail, refusal.shortfall)
    else:
        raise AssertionError(f"not refused, the model expected {refusal.code}")
    assert await database_state() == before


async def step(ctx, orgs: list[int], model: Model, op: Op) -> None:
    """Run one operation against the services and the model side by side."""
    name = op.name
    if name in ("recharge", "adjustment"):
        lines = [(o, "increase", a) for o, _, a in op.lines] if name == "recharge" else op.lines
        body = {"lines": [{"org_id": orgs[o], "direction": d, "amount": str(a)} for o, d, a in lines]}
        doc = await documents.create(ctx, name, body)
        model.docs.append(Doc(doc["id"], name, lines))
    elif name in ("submit", "confirm", "delete"):
        doc = model.pick(op.pick, TRANSITIONS[name])
        call = getattr(documents, name)(ctx, doc.kind, doc.id)
        try:
            after = model.transition(name, doc)
        except Refused as refusal:
            return await must_refuse(call, refusal)
        await call
        model.balance, model.frozen = after.balance, after.frozen
        doc.status = {"submit": "submitted", "confirm": "confirmed", "delete": "deleted"}[name]
    elif name == "refund":
        await ledger.refund(ctx, orgs[op.org], int(op.amount / UNIT), ledger.DocRef("return", "TH-PROP"))
        model.balance[op.org] += op.amount
    elif name == "freeze" or not model.freezes:  # release/use freeze while there is nothing to take from
        amount = {"all": model.available(op.org), "over": model.available(op.org) + UNIT}.get(op.edge, op.amount)
        call = ledger.freeze(ctx, orgs[op.org], int(amount / UNIT), ledger.DocRef("order", "DD-PROP"))
        try:
            if amount <= 0:
                raise Refused("invalid_money")
            model.hold(op.org, amount)
        except Refused as refusal:
            return await must_refuse(call, refusal)
        model.freezes.append((await call, op.org, amount))
    else:
        index = -1 - op.pick % len(model.freezes)
        freeze_id, org, remaining = model.freezes[index]
        take = {"all": remaining, "over": remaining + UNIT}.get(op.edge, op.amount)
        units = None if name == "release" and op.edge == "all" else int(take / UNIT)  # None: all that remains
        ref = ledger.DocRef("order", "DD-PROP")
        call = (
            ledger.release(ctx, freeze_id, ref, units) if name == "release" else ledger.use(ctx, freeze_id, units, ref)
        )
        if take <= 0 and units is not None:
            return await must_refuse(call, Refused("invalid_money"))
        if remaining == 0 or take > remaining:
            return await must_refuse(call, Refused("freeze_closed"))
        await call
        model.freezes[index] = (freeze_id, org, remaining - take)
        model.frozen[org] -= take
        model.balance[org] -= take if name == "use" else 0


async def assert_model(orgs: list[int], model: Model) -> None:
    rows = {r["org_id"]: r for r in await CreditAccount.select().where(CreditAccount.org_id.is_in(orgs))}
    for i, org in enumerate(orgs):
        row = rows.get(org, {"balance": 0, "frozen": 0})
        assert (row["balance"] * UNIT, row["frozen"] * UNIT) == (model.balance[i], model.frozen[i]), (i, row, model)
        assert model.available(i) >= 0
        open_doc_freezes = sum(
            a for d in model.docs if d.status == "submitted" for o, direction, a in d.lines
            if o == i and direction == "decrease"
        )  # fmt: skip
        assert model.frozen[i] == sum(r for _, o, r in model.freezes if o == i) + open_doc_freezes


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(start=st.lists(st.tuples(ORG, AMOUNT), min_size=2, max_size=3), ops=st.lists(OPS, min_size=4, max_size=12))
async def test_random_operations_keep_the_ledger_and_the_model(tenant, start, ops):
    """Each example works on three new accounts (the database is the test's, shared by examples),
    which a first recharge of `start` fills, then runs `ops`."""
    n = next(_codes)
    a = await service_org(tenant, f"PA{n}", tenant.org_id, level=2)
    b = await service_org(tenant, f"PB{n}", a["id"], level=3)
    c = await service_org(tenant, f"PC{n}", tenant.org_id, level=2)
    orgs = [a["id"], b["id"], c["id"]]
    model = Model()
    first = [Op("recharge", [(o, "increase", a) for o, a in start], 0, 0, UNIT, ""), Op("submit", [], 0, 0, UNIT, "")]
    for op in [*first, Op("confirm", [], 0, 0, UNIT, ""), *ops]:
        await step(tenant, orgs, model, op)
        await assert_model(orgs, model)
        await assert_credit_ledger()
