"""【库存查询】's 在途 for goods an org holds no stock of yet (issue 17): after every stock row, a
row per (org, goods) on its way with no warehouse, quantity 0 and its 在途 — in the service, the
API, the page and the export alike; pagination counts it, the filters narrow it (a warehouse
filter leaves it out), it goes once received, the subtree decides who sees it, and the
statements stay few and constant."""

from __future__ import annotations

import pytest

from server.core.pagination import PageParams
from server.inventory.services import stock
from server.inventory.services.stock import StockFilters
from server.logistics.services import shipments
from tests.conftest import api_login, page_login
from tests.core.test_list_statements import count
from tests.inventory.api_helpers import sheet
from tests.logistics.shipment_helpers import network, shipment


async def coming(tenant) -> dict:
    """HQ holds and B2 holds screens and batteries; HQ ships 3 screens to S2, B2 ships 2 batteries
    to B3: neither S2 nor B3 has any stock row."""
    n = await network(tenant)
    to_s2 = await shipment(tenant, "distribution", n["general"], (n["screen"], 3), to_org_id=n["s2"], step="confirm")
    to_b3 = await shipment(
        n["b2_ctx"], "distribution", n["general"], (n["battery"], 2), to_org_id=n["b3"], step="confirm"
    )
    return n | {"to_s2": to_s2, "to_b3": to_b3}


def shown(page) -> list[tuple]:
    return [(r["org_id"], r["goods_code"], r["warehouse_id"], r["qty"], r["in_transit"]) for r in page.items]


async def test_goods_on_their_way_show_after_the_stock_rows(tenant):
    n = await coming(tenant)
    everything = await stock.search(tenant, StockFilters())
    hq, b2, b3, s2 = n["hq"], n["b2"], n["b3"], n["s2"]
    gen = n["general"]
    assert shown(everything) == [
        (hq, "BAT", gen, 20, 0),
        (hq, "SCR", gen, 17, 0),
        (b2, "BAT", gen, 18, 0),
        (b2, "SCR", gen, 20, 0),
        (b3, "BAT", None, 0, 2),
        (s2, "SCR", None, 0, 3),
    ]
    assert everything.total == 6
    row = everything.items[4]
    assert row["id"] is None and row["org_name"] == "B3网点" and row["value"] == "0.0000" and row["category_path"]
    # pages neither repeat nor skip the rows that have no stock yet
    pages = [await stock.search(tenant, StockFilters(), params=PageParams(p, 4)) for p in (1, 2)]
    assert [len(p.items) for p in pages] == [4, 2] and {p.total for p in pages} == {6}
    assert shown(pages[1]) == shown(everything)[4:]
    pages = [await stock.search(tenant, StockFilters(), params=PageParams(p, 5)) for p in (1, 2)]
    assert [r[0] for r in shown(pages[0])][-1] == b3 and shown(pages[1]) == [(s2, "SCR", None, 0, 3)]
    assert (await stock.search(tenant, StockFilters(), params=PageParams(3, 5))).items == []


@pytest.mark.parametrize(
    "filters,expected",
    [
        ({"goods_id": "screen"}, ["SCR", "SCR", "SCR"]),
        ({"q": "电池"}, ["BAT", "BAT", "BAT"]),
        ({"org_id": "b2"}, ["BAT", "SCR", "BAT"]),  # B2 and below: B3's coming batteries
        ({"org_id": "s2"}, ["SCR"]),
        ({"warehouse_id": "general"}, ["BAT", "SCR", "BAT", "SCR"]),  # in no warehouse yet
        ({"below_safety": "1"}, []),  # held stock below safety stock only: nothing is held here
    ],
)
async def test_the_filters_narrow_it(tenant, filters, expected):
    n = await coming(tenant)
    given = {k: (str(n[v]) if v in n else v) for k, v in filters.items()}
    assert [r["goods_code"] for r in (await stock.search(tenant, StockFilters(**given))).items] == expected


async def test_gone_once_received_and_each_org_sees_its_subtree(tenant):
    n = await coming(tenant)
    assert shown(await stock.search(n["b3_ctx"], StockFilters())) == [(n["b3"], "BAT", None, 0, 2)]
    b2_rows = shown(await stock.search(n["b2_ctx"], StockFilters()))
    assert [r[0] for r in b2_rows] == [n["b2"], n["b2"], n["b3"]]  # not S2's: outside its subtree
    line = n["to_b3"]["lines"][0]["id"]
    await shipments.receive(n["b3_ctx"], "shipment", n["to_b3"]["id"], {"warehouse_id": n["good"], "line_ids": [line]})
    assert shown(await stock.search(n["b3_ctx"], StockFilters())) == [(n["b3"], "BAT", n["good"], 2, 0)]


async def test_api_page_and_export_show_the_same(client, tenant):
    n = await coming(tenant)
    admin = await api_login(client, "admin@ACME")
    listed = (await client.get("/api/v1/stock", params={"page_size": 50}, headers=admin)).json()
    assert listed["total"] == 6
    last = listed["items"][-1]
    assert (last["id"], last["warehouse_id"], last["updated_at"], last["qty"], last["in_transit"]) == (
        None,
        None,
        None,
        0,
        3,
    )
    rows = sheet(await client.get("/api/v1/stock/export", headers=admin))
    assert rows[0][6:8] == ("库存数量", "在途")
    assert [(r[0], r[1], r[2], r[6], r[7]) for r in rows[1:]][-2:] == [
        ("B3网点", "（在途，尚未入库）", "BAT", 0, 2),
        ("S2网点", "（在途，尚未入库）", "SCR", 0, 3),
    ]
    await page_login(client, "admin@ACME")
    page = await client.get("/inventory/stock/")
    assert page.text.count('class="stock-row coming-row"') == 2 and "尚未入库" in page.text
    assert f'data-coming="{n["s2"]}-{n["screen"]}"' in page.text


@pytest.mark.parametrize("path", ["/api/v1/stock", "/inventory/stock/"])
async def test_statements_stay_constant(client, tenant, monkeypatch, path):
    n = await coming(tenant)
    headers = await api_login(client, "admin@ACME") if path.startswith("/api") else None
    if headers is None:
        await page_login(client, "admin@ACME")
    few = await count(client, monkeypatch, f"{path}?page_size=50", headers)
    for _ in range(3):  # more pairs on their way: batteries to S2, screens to B3
        await shipment(tenant, "distribution", n["general"], (n["battery"], 1), to_org_id=n["s2"], step="confirm")
        await shipment(n["b2_ctx"], "distribution", n["general"], (n["screen"], 1), to_org_id=n["b3"], step="confirm")
    more = await count(client, monkeypatch, f"{path}?page_size=50", headers)
    assert len(few) == len(more), "\n".join(more)
    # the stock rows' statements (what is in transit among them), then one for which of it has
    # rows, one for its goods and one for its orgs' names
    assert len(more) <= (4 if path.startswith("/api") else 5) + 3, "\n".join(more)


async def test_the_whole_subtrees_sums_are_kept_per_subtree_until_a_write(tenant, monkeypatch):
    """The unfiltered list's 在途 sums are kept under the caller's subtree (no SQL is written to
    look them up), as a count is: read again after a write, never another subtree's."""
    from server.core import pagination
    from tests.core.test_list_statements import statements

    monkeypatch.setattr(pagination, "COUNT_TTL", 3600)
    n = await coming(tenant)

    async def transit_reads(ctx) -> tuple[int, list[tuple]]:
        with statements(monkeypatch) as seen:
            rows = shown(await stock.search(ctx, StockFilters()))
        return sum('"lg_shipment_line"' in sql and "sum(" in sql.lower() for sql in seen), rows

    first, rows = await transit_reads(n["b3_ctx"])
    assert first == 1 and await transit_reads(n["b3_ctx"]) == (0, rows)
    assert (await transit_reads(n["b2_ctx"]))[0] == 1  # B2's own subtree, not B3's kept sums
    await shipment(n["b2_ctx"], "distribution", n["general"], (n["screen"], 1), to_org_id=n["b3"], step="confirm")
    again, rows = await transit_reads(n["b3_ctx"])
    assert again == 1 and (n["b3"], "SCR", None, 0, 1) in rows
