"""Helpers of the credit API tests: calls that must succeed, error answers, documents built over
HTTP, the users of the branch tree with their bearer headers, and a snapshot of every row a
credit write could touch."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

from server.core.tables import AuditLog, DocSequence
from server.credit.tables import CreditAccount, CreditDoc, CreditDocLine, CreditEntry, CreditFreeze
from tests.api_helpers import CJK, InFlight, call, concurrently, error_of, refused  # noqa: F401  (shared)
from tests.conftest import api_login
from tests.credit.helpers import CREDIT_ALL, branches
from tests.system.helpers import PASSWORD, service_user

MONEY = re.compile(r"^-?\d+\.\d{4}$")
URL = {"recharge": "/api/v1/credit/recharges", "adjustment": "/api/v1/credit/adjustments"}
ACCOUNTS = "/api/v1/credit/accounts"
TABLES = (CreditAccount, CreditEntry, CreditFreeze, CreditDoc, CreditDocLine, DocSequence, AuditLog)


async def make_doc(
    client: AsyncTestClient,
    headers: dict,
    kind: str,
    *lines: tuple,
    submit: bool = False,
    confirm: bool = False,
) -> dict:
    """A document of (org_id, amount) recharge lines or (org_id, direction, amount) adjustment
    lines, created over HTTP, then submitted/confirmed when told."""
    keys = ("org_id", "amount") if kind == "recharge" else ("org_id", "direction", "amount")
    doc = await call(
        client, "POST", URL[kind], headers, {"lines": [dict(zip(keys, li, strict=True)) for li in lines]}, 201
    )
    if submit or confirm:
        doc = await call(client, "POST", f"{URL[kind]}/{doc['id']}/submit", headers)
    if confirm:
        doc = await call(client, "POST", f"{URL[kind]}/{doc['id']}/confirm", headers)
    return doc


async def account_of(client: AsyncTestClient, headers: dict, org_id: int) -> tuple[str, str, str]:
    body = await call(client, "GET", f"{ACCOUNTS}/{org_id}", headers)
    return body["balance"], body["frozen"], body["available"]


async def database_state() -> dict:
    """Every row a credit write could touch (a refused call must leave all of them alone)."""
    return {t._meta.tablename: await t.select().order_by(t.id) for t in TABLES}


async def api_world(client: AsyncTestClient, tenant) -> dict:
    """HQ → B2 → B3 and the sibling S2 (tests.credit.helpers.branches), with bearer headers of
    admin@ACME (head office), of b2boss (B2, every credit code) and of a B3 user (every credit code)."""
    t = await branches(tenant)
    await service_user(tenant, "b3boss", t["b3"], "branch", CREDIT_ALL)
    return t | {
        "hq": tenant.org_id,
        "admin": await api_login(client, "admin@ACME"),
        "b2_api": await api_login(client, "b2boss@ACME", PASSWORD),
        "b3_api": await api_login(client, "b3boss@ACME", PASSWORD),
    }
