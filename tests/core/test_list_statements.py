"""SQL statements per list request (issue 14): constant in page size and at most four, for the
goods and stock lists, API and HTML. Counts statements, never time."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from server.core import db
from tests.conftest import page_login
from tests.inventory.helpers import inbound, world
from tests.masterdata.helpers import make_goods

LIMIT = 4


@contextmanager
def statements(monkeypatch):
    """The statements the engine runs inside the block."""
    seen: list[str] = []
    monkeypatch.setattr(db, "_SQL_LOG", "counting")
    monkeypatch.setattr(db, "_log_sql", seen.append)
    yield seen
    monkeypatch.setattr(db, "_SQL_LOG", None)


async def count(client, monkeypatch, path: str, headers: dict | None = None) -> list[str]:
    await client.get(path, headers=headers)  # warm: the auth cache and per-process lookups
    with statements(monkeypatch) as seen:
        response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return list(seen)


async def more_goods(ctx, category: int, n: int) -> list[int]:
    return [(await make_goods(ctx, f"X{i:03}", category, name=f"屏幕总成{i}"))["id"] for i in range(n)]


@pytest.mark.parametrize(
    "path", ["/api/v1/goods?page=1", "/masterdata/goods/", "/api/v1/stock?page=1", "/inventory/stock/"]
)
async def test_statements_per_list_page_are_few_and_constant(client, tenant, monkeypatch, path):
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 3, "10.00"))
    if path.startswith("/api"):
        headers = await _token(client)
    else:
        await page_login(client, "admin@ACME")
        headers = None
    few = await count(
        client,
        monkeypatch,
        path.replace("page=1", "page=1&page_size=1") if "?" in path else path + "?page_size=1",
        headers,
    )
    ids = await more_goods(tenant, w["iphone15"], 60)
    await inbound(tenant, w["general"], *[(g, 1, "1.00") for g in ids])
    many = await count(client, monkeypatch, path + "?page_size=50", headers)
    print("\n".join(many))
    assert len(few) == len(many) <= LIMIT, (len(few), len(many))


async def _token(client):
    from tests.conftest import api_login

    return await api_login(client, "admin@ACME")
