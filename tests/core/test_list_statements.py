"""SQL statements per list request (issue 14): the same for 1 row as for 50, and at most four,
for the goods and stock lists, API and HTML. Counts statements, never time."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from server.core import authcache, db, pagination
from tests.conftest import api_login, page_login
from tests.inventory.helpers import inbound, world
from tests.masterdata.helpers import make_goods

LIMIT = 4


@contextmanager
def statements(monkeypatch):
    """The statements the engine runs inside the block."""
    seen: list[str] = []
    with monkeypatch.context() as m:
        m.setattr(db, "_SQL_LOG", "counting")
        m.setattr(db, "_log_sql", seen.append)
        yield seen


async def count(client, monkeypatch, path: str, headers: dict | None) -> list[str]:
    # the first request fills the per-process caches (the caller, the list's count) as any
    # earlier request of the user would have; their TTLs are lengthened meanwhile, so a loaded
    # machine that takes seconds between the two requests does not empty them (writes still do)
    with monkeypatch.context() as m:
        m.setattr(authcache, "TTL", 600.0)
        m.setattr(pagination, "COUNT_TTL", 600.0)
        assert (await client.get(path, headers=headers)).status_code == 200
        with statements(monkeypatch) as seen:
            response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return list(seen)


@pytest.mark.parametrize("path", ["/api/v1/goods", "/masterdata/goods/", "/api/v1/stock", "/inventory/stock/"])
async def test_statements_per_list_page_are_few_and_constant(client, tenant, monkeypatch, path):
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 3, "10.00"))
    if path.startswith("/api"):
        headers = await api_login(client, "admin@ACME")
    else:
        headers = None
        await page_login(client, "admin@ACME")
    one = await count(client, monkeypatch, f"{path}?page_size=1", headers)
    made = [(await make_goods(tenant, f"X{i:03}", w["iphone15"], name=f"屏幕总成{i}"))["id"] for i in range(60)]
    await inbound(tenant, w["general"], *[(g, 1, "1.00") for g in made])
    fifty = await count(client, monkeypatch, f"{path}?page_size=50", headers)
    # the stock page also reads its warehouse filter's choices, and (logistics present) what is
    # in transit to the rows' orgs: one more statement for the page; its live refresh (rows) and
    # the API stay within the limit
    limit = LIMIT + 1 if path == "/inventory/stock/" else LIMIT
    assert len(one) == len(fifty) <= limit, "\n".join(fifty)
