"""Helpers of the inventory API tests: calls that must succeed, error answers, documents built
over HTTP, requests sent truly at once, a snapshot of every row an inventory write could touch,
and xlsx sheets."""

from __future__ import annotations

import asyncio
import io
import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx
from litestar.testing import AsyncTestClient
from litestar.testing.transport import TestClientTransport
from openpyxl import load_workbook

from server.core.tables import AuditLog, DocSequence
from server.inventory import permissions as P
from server.inventory.tables import GoodsCost, Stock, StockDoc, StockDocLine, StockMove

MONEY = re.compile(r"^\d+\.\d{4}$")
CJK = re.compile(r"[\u4e00-\u9fff]")
URL = {"inbound": "/api/v1/inbounds", "outbound": "/api/v1/outbounds"}
ALL_INVENTORY = sorted({*P.INBOUND.values(), *P.OUTBOUND.values(), *P.STOCK.values()})
TABLES = (StockDoc, StockDocLine, Stock, StockMove, GoodsCost, DocSequence, AuditLog)


async def call(client: AsyncTestClient, method: str, url: str, headers: dict, body=None, status: int = 200):
    """A request that must answer `status`; its JSON."""
    response = await client.request(method, url, json=body, headers=headers)
    assert response.status_code == status, f"{method} {url}: {response.status_code} {response.text}"
    return response.json()


def error_of(response, status: int, code: str | None = None) -> dict:
    """The API error shape: exactly {"detail", "code"}, a Chinese detail, the status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "code"}, body
    assert CJK.search(body["detail"]), body
    if code is not None:
        assert body["code"] == code, body
    return body


async def refused(
    client: AsyncTestClient, method: str, url: str, headers: dict, body=None, status: int = 400, code=None
) -> dict:
    return error_of(await client.request(method, url, json=body, headers=headers), status, code)


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


async def concurrently(client: AsyncTestClient, requests: list[tuple[str, str, dict, object]]) -> list:
    """Send (method, url, headers, json) requests all at once; their responses in order.

    AsyncTestClient hands each request to the app through a blocking portal call, so
    asyncio.gather over it runs them one after the other. A plain httpx.Client on the same kind
    of transport, one thread per request, puts them all in flight together in the app's event
    loop, as a real server would."""
    sync = httpx.Client(transport=TestClientTransport(client), base_url=str(client.base_url))
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(len(requests)) as pool:
        calls = [
            partial(sync.request, method, url, headers=headers, json=body) for method, url, headers, body in requests
        ]
        return list(await asyncio.gather(*(loop.run_in_executor(pool, call) for call in calls)))


class InFlight:
    """Counts the calls of a service function running at the same time (all in the app's event
    loop), so a concurrency test can prove that its requests really overlapped."""

    def __init__(self, monkeypatch, module, name: str) -> None:
        self.now = self.most = 0
        real = getattr(module, name)

        async def counting(*args, **kwargs):
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                return await real(*args, **kwargs)
            finally:
                self.now -= 1

        monkeypatch.setattr(module, name, counting)
