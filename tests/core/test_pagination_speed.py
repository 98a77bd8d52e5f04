"""The list machinery's shortcuts (issue 14) give the answers of the plain queries: pages found
by their sort key (in the page's statement, or kept for a deep page) equal OFFSET pages, and a
cached count follows this process's writes."""

from __future__ import annotations

import asyncio

import pytest

from server.core import db, pagination
from server.core.pagination import PageParams
from server.masterdata.services import goods
from tests.inventory.helpers import inbound, world
from tests.masterdata.helpers import basics, make_goods


def offset_only(monkeypatch, module) -> None:
    """`module`'s lists paginated by OFFSET alone: what the shortcuts must equal."""
    plain = pagination.paginate
    monkeypatch.setattr(module, "paginate", lambda select, count, params, **_: plain(select, count, params))


async def _pages(ctx, search, page_size: int, **filters) -> list[tuple[list, int]]:
    out, page = [], 1
    while True:
        got = await search(ctx, params=PageParams(page, page_size), **filters)
        out.append(([r["id"] for r in got.items], got.total))
        if not got.items:
            return out
        page += 1


@pytest.mark.parametrize("filters", [{}, {"q": "屏幕"}, {"status": "active"}])
async def test_pages_found_by_their_sort_key_equal_offset_pages(tenant, monkeypatch, filters):
    b = await basics(tenant)
    for i in range(12):
        await make_goods(tenant, f"K{i:02}", b["iphone15"], name=f"{'屏幕' if i % 2 else '电池'}{i}")
    with monkeypatch.context() as m:
        offset_only(m, goods)
        by_offset = await _pages(tenant, goods.search, 5, **filters)
    monkeypatch.setattr(pagination, "SEEK_FROM", 10**9)  # the first key in the page's statement
    by_key = await _pages(tenant, goods.search, 5, **filters)
    monkeypatch.setattr(pagination, "SEEK_FROM", 1)  # the first key kept (`_seek`)
    by_kept_key = await _pages(tenant, goods.search, 5, **filters)
    assert by_key == by_kept_key == by_offset and len(by_offset) >= 2


async def test_a_kept_seek_key_follows_writes_of_this_process(tenant, monkeypatch):
    """A deep page's key is kept between views (`_seek`, as a count is) and dropped by a write."""
    b = await basics(tenant)
    for i in range(6):
        await make_goods(tenant, f"K{i:02}", b["iphone15"])
    monkeypatch.setattr(pagination, "SEEK_FROM", 1)
    monkeypatch.setattr(pagination, "COUNT_TTL", 3600)

    async def codes() -> list[str]:
        return [g["code"] for g in (await goods.search(tenant, params=PageParams(2, 2))).items]

    assert await codes() == await codes() == ["K02", "K03"]
    await make_goods(tenant, "K00A", b["iphone15"])
    assert await codes() == ["K01", "K02"]


@pytest.mark.parametrize(
    "names",
    [
        ["屏幕" if i % 2 else "电池" for i in range(24)],  # a dense word: found in the window
        ["电池"] * 12 + ["屏幕"] * 12,  # dense, but bunched after the window: the index after all
        ["电池"] * 23 + ["屏幕"],  # a rare word: the index at once
    ],
)
async def test_a_search_looked_for_in_the_first_rows_equals_the_index_search(tenant, monkeypatch, names):
    """`pagination.Window` (SQLite): the first pages of a text search, read from the first rows by
    code with a plain LIKE, are the pages the trigram index gives; only a dense word is tried."""
    b = await basics(tenant)
    for i, name in enumerate(names):
        await make_goods(tenant, f"W{i:02}", b["iphone15"], name=f"{name}{i}")
    monkeypatch.setattr(pagination, "WINDOW", 10**9)  # never dense enough: the index only
    by_index = await _pages(tenant, goods.search, 1, q="屏幕")
    tried: list[int] = []
    within = pagination._within_window
    monkeypatch.setattr(pagination, "_within_window", lambda *a: tried.append(1) or within(*a))
    monkeypatch.setattr(pagination, "WINDOW", 12)
    by_window = await _pages(tenant, goods.search, 1, q="屏幕")
    assert by_window == by_index and len(by_index) >= 2
    sqlite = goods.Goods._meta.db.engine_type == "sqlite"  # PostgreSQL's planner chooses by itself
    assert bool(tried) == (sqlite and names.count("屏幕") > 1)


async def test_move_pages_found_by_id_descending_equal_offset_pages(tenant, monkeypatch):
    from server.inventory.services import stock

    w = await world(tenant)
    for qty in range(1, 8):
        await inbound(tenant, w["general"], (w["screen"], qty, "1.00"))
    with monkeypatch.context() as m:
        offset_only(m, stock)
        by_offset = await _pages(tenant, lambda ctx, params: stock.moves(ctx, params=params), 3)
    monkeypatch.setattr(pagination, "SEEK_FROM", 10**9)
    by_key = await _pages(tenant, lambda ctx, params: stock.moves(ctx, params=params), 3)
    monkeypatch.setattr(pagination, "SEEK_FROM", 1)
    by_kept_key = await _pages(tenant, lambda ctx, params: stock.moves(ctx, params=params), 3)
    assert by_key == by_kept_key == by_offset and len(by_offset) == 4


async def test_a_cached_count_follows_writes_of_this_process(tenant, monkeypatch):
    b = await basics(tenant)
    for i in range(4):
        await make_goods(tenant, f"C{i}", b["iphone15"])
    assert (await goods.search(tenant, params=PageParams(1, 2))).total == 4
    counted: list[str] = []
    monkeypatch.setattr(db, "_SQL_LOG", "counting")
    monkeypatch.setattr(db, "_log_sql", counted.append)
    assert (await goods.search(tenant, params=PageParams(1, 2))).total == 4
    assert not [q for q in counted if "COUNT(*)" in q]  # the cached count
    await make_goods(tenant, "C9", b["iphone15"])
    assert (await goods.search(tenant, params=PageParams(1, 2))).total == 5
    assert (await goods.search(tenant, params=PageParams(1, 2), status="active")).total == 5
    await goods.delete(tenant, (await goods.search(tenant, q="C9")).items[0]["id"])  # marked deleted
    assert (await goods.search(tenant, params=PageParams(1, 2), status="active")).total == 4
    monkeypatch.setattr(pagination, "COUNT_TTL", 0)  # another process's write shows after the TTL
    counted.clear()
    await goods.search(tenant, params=PageParams(1, 2))
    assert [q for q in counted if "COUNT(*)" in q]


async def test_one_count_at_a_time_per_query(tenant, monkeypatch):
    """Requests that find the count expired together run one COUNT(*): the first counts, the
    others take the count it replaces; a count begun before this process's write is not shared."""
    b = await basics(tenant)
    for i in range(4):
        await make_goods(tenant, f"S{i}", b["iphone15"])
    assert (await goods.search(tenant, params=PageParams(1, 2))).total == 4
    monkeypatch.setattr(pagination, "COUNT_TTL", 0)
    counting = pagination._produced

    async def slow(*args):  # a count of many rows: the other requests arrive while it runs
        await asyncio.sleep(0.5)
        return await counting(*args)

    monkeypatch.setattr(pagination, "_produced", slow)
    counted: list[str] = []
    monkeypatch.setattr(db, "_SQL_LOG", "counting")
    monkeypatch.setattr(db, "_log_sql", counted.append)
    pages = await asyncio.gather(*(goods.search(tenant, params=PageParams(1, 2)) for _ in range(8)))
    assert [p.total for p in pages] == [4] * 8
    assert len([q for q in counted if "COUNT(*)" in q]) == 1
    await make_goods(tenant, "S9", b["iphone15"])  # this process wrote: the next count is its own
    assert (await goods.search(tenant, params=PageParams(1, 2))).total == 5
