"""Helpers of the inventory API tests: calls that must succeed, error answers, documents built
over HTTP, requests sent truly at once, a snapshot of every row an inventory write could touch,
and xlsx sheets."""

from __future__ import annotations

import io
import re

from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from server.core.tables import AuditLog, DocSequence
from server.inventory import permissions as P
from server.inventory.tables import GoodsCost, Stock, StockDoc, StockDocLine, StockMove
from tests.api_helpers import CJK, InFlight, call, concurrently, error_of, refused  # noqa: F401  (shared)

MONEY = re.compile(r"^\d+\.\d{4}$")
URL = {"inbound": "/api/v1/inbounds", "outbound": "/api/v1/outbounds"}
ALL_INVENTORY = sorted({*P.INBOUND.values(), *P.OUTBOUND.values(), *P.STOCK.values()})
TABLES = (StockDoc, StockDocLine, Stock, StockMove, GoodsCost, DocSequence, AuditLog)


async def create_doc(
    client: AsyncTestClient,
    headers: dict,
    kind: str,
    warehouse_id: int,
    *lines: tuple,
    submit: bool = False,
    confirm: bool = False,
) -> dict:
    """A document of (goods_id, qty[, price]) lines, created over HTTP, then submitted/confirmed."""
    price = "cost_price" if kind == "inbound" else "unit_price"
    body = {
        "type": "purchase" if kind == "inbound" else "scrap",
        "warehouse_id": warehouse_id,
        "lines": [{"goods_id": li[0], "qty": li[1]} | ({price: li[2]} if len(li) > 2 else {}) for li in lines],
    }
    doc = await call(client, "POST", URL[kind], headers, body, 201)
    if submit or confirm:
        doc = await call(client, "POST", f"{URL[kind]}/{doc['id']}/submit", headers)
    if confirm:
        doc = await call(client, "POST", f"{URL[kind]}/{doc['id']}/confirm", headers)
    return doc


async def database_state() -> dict:
    """Every row an inventory write could touch (a refused call must leave all of them alone)."""
    return {t._meta.tablename: await t.select().order_by(t.id) for t in TABLES}


def sheet(response) -> list[tuple]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
