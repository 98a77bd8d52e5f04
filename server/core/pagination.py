"""Page parameters and the list envelope `{"items", "total", "page", "page_size"}`."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.query.methods.select import Select

from server.core import db
from server.core.errors import BusinessError

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class PageParams:
    page: int = 1
    page_size: int = 50

    @classmethod
    def of(cls, page: Any = 1, page_size: Any = 50) -> PageParams:
        try:
            p = 1 if page in (None, "") else int(page)
            s = 50 if page_size in (None, "") else int(page_size)
        except (TypeError, ValueError):
            raise BusinessError("分页参数必须是整数", code="invalid_page") from None
        if p < 1 or p > 1_000_000 or s < 1 or s > MAX_PAGE_SIZE:
            raise BusinessError(f"分页参数超出范围（每页 1–{MAX_PAGE_SIZE} 条）", code="invalid_page")
        return cls(p, s)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def with_items(self, items: list) -> Page:
        return Page(items, self.total, self.page, self.page_size)

    def envelope(self, items: list | None = None) -> dict:
        return {
            "items": self.items if items is None else items,
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
        }


# Counts of a list's rows, by count query (its SQL and arguments: tenant, filters), for a few
# seconds: an exact COUNT(*) walks every matching row, on every page view. A write this process
# makes to a table the count read drops it at once (`db.writes`); another process's write is seen
# after at most COUNT_TTL (and the time one count takes). What the rows of a page prove (a short
# page ends the list) wins over it.
#
# One count at a time per query and process: when it expires, the first request counts again and
# the others meanwhile take the count it replaces (a million rows take 0.1–1 s to count; sixteen
# requests counting at once, each slower for the others, halved the list's rate at 1,000,000
# work orders). Without a count yet, they wait for that one. Not inside a transaction, whose
# connection is its own.
COUNT_TTL = 3.0
COUNT_CACHE_SIZE = 2000
_counts: dict[tuple, tuple[Any, float, int, tuple[str, ...]]] = {}
_counting: dict[tuple, tuple[asyncio.Task, int]] = {}
_TABLES = re.compile(r'(?:FROM|JOIN)\s+"(\w+)"', re.I)
# From this offset a page seeks its first row by its sort key instead of walking OFFSET rows of
# the full select (joins and all): the key is found by a scan of the key's index, then `LIMIT n`.
SEEK_FROM = 1000
# A text search's first pages are looked for among the list's first WINDOW rows by its sort key
# before the trigram index is asked, when its hits are dense enough to fill the page there
# (`Window`).
WINDOW = 5_000


@dataclass(frozen=True)
class Window:
    """A text search's short way to its first pages. `select` is the list's select with the text
    as a plain per-row LIKE; `scope` holds every row the list may show (the tenant's rows).

    A word that many rows hold (屏幕总成 in a tenth of 110,000 goods) has its first hits among the
    first rows by the sort key: walking the key's index and testing each row stops after a page
    (1 ms), where the trigram index hands over every hit (10,000 rows) to be fetched and sorted
    (12 ms). The hits among the first WINDOW rows of `scope` are the first hits of all, so a full
    page found there is the page. The counts (cached) decide: only when the hits are dense enough
    to fill the page four times over in the window is it tried; a rare word goes to the index
    at once, and a full page not found there (hits bunched further on) goes to it after."""

    select: Any
    scope: Any


async def _count(count) -> int:
    query, args = count.querystrings[0].compile_string(engine_type=count.engine_type)
    key = (query, tuple(args))
    cached = _counts.get(key)
    tables = cached[3] if cached else tuple(set(_TABLES.findall(query)))
    return await remembered(key, tables, lambda: count)


async def cached_read(query) -> Any:
    """A read a list repeats on every page view over its whole scope (an aggregate beside its
    count, such as the stock query's 在途 sums), kept and refreshed exactly as counts are: by its
    SQL and arguments, for COUNT_TTL, dropped by this process's writes to the tables it reads."""
    return await _count(query)


async def remembered(key: tuple, tables: tuple[str, ...], produce: Callable[[], Awaitable[Any]]) -> Any:
    """What `produce()` answers, kept under `key` and refreshed exactly as counts are: for
    COUNT_TTL, dropped by this process's writes to `tables` (the names of the tables it reads),
    one run at a time. For what a page builds from several reads that change a few times a year
    (a work order's repair form choices), where even building the queries of `cached_read`
    costs more than the page's own rows. The answer is shared: its readers must not change it."""
    cached = _counts.get(key)
    writes = db.writes(tables)
    running = _counting.get(key)
    if running is not None and (running[0].done() or running[0].get_loop() is not asyncio.get_running_loop()):
        running = None  # of a loop that ended (tests run one loop a test)
    if cached is not None and cached[2] == writes:
        if time.monotonic() - cached[1] < COUNT_TTL or running is not None:
            return cached[0]
    if db.in_transaction():
        return _keep(key, await produce(), time.monotonic(), writes, tables)
    if running is None or running[1] != writes:  # none, or begun before this process's last write
        task = asyncio.ensure_future(_produced(key, produce, writes, tables))
        _counting[key] = running = (task, writes)
        task.add_done_callback(lambda done: _forget(key, done))
    return await asyncio.shield(running[0])


def _forget(key: tuple, done: asyncio.Task) -> None:
    if key in _counting and _counting[key][0] is done:
        del _counting[key]


async def _produced(key: tuple, produce: Callable[[], Awaitable[Any]], writes: int, tables: tuple[str, ...]) -> Any:
    at = time.monotonic()
    return _keep(key, await produce(), at, writes, tables)


def _keep(key: tuple, total: Any, at: float, writes: int, tables: tuple[str, ...]) -> Any:
    if len(_counts) >= COUNT_CACHE_SIZE:
        _counts.clear()
    _counts[key] = (total, at, writes, tables)
    return total


def _key_at(column: Column, where, ascending: bool, offset: int):
    """The select of the sort key's value at `offset` among the rows `where` holds (an index-only
    scan of `offset` entries)."""
    return column._meta.table.select(column).where(where).order_by(column, ascending=ascending).limit(1).offset(offset)


def _from_key(select, column: Column, ascending: bool, key) -> Any:
    """`select` from the sort key `key` on (down from it, descending); `key` a value or a
    `_key_at` select, written into the statement."""
    if not isinstance(key, Select):
        return select.where(column >= key if ascending else column <= key)
    name = column._meta.get_full_name(with_alias=False)
    return select.where(WhereRaw(f"{name} {'>=' if ascending else '<='} ({{}})", key.querystrings[0]))


async def _seek(select, column: Column, ascending: bool, offset: int, size: int) -> list:
    """The page of `select` at a deep `offset`: its key found by `_key_at` and kept as a count is
    (`cached_read`): the page's next views (and a crowd reading it) read `size` rows by the index,
    not the scan again."""
    found = await cached_read(_key_at(column, select.where_delegate._where, ascending, offset))
    if not found:
        return []
    return await _from_key(select, column, ascending, found[0][column._meta.name]).limit(size)


async def _window_rows(window: Window, column: Column, count, params: PageParams) -> int | None:
    """How many rows of `window.scope` there are, when its hits (`count`) are dense enough to
    fill the page four times over among the first WINDOW of them; else None. SQLite only:
    PostgreSQL's planner makes that choice itself from its statistics (pg_trgm's index for a rare
    word, the key's index for a common one)."""
    wanted = params.offset + params.page_size
    if wanted * 4 > WINDOW or column._meta.engine_type != "sqlite":
        return None
    hits = await _count(count)
    rows = await _count(column._meta.table.count().where(window.scope))
    return rows if hits * min(rows, WINDOW) >= 4 * wanted * rows else None


def _within_window(window: Window, column: Column, ascending: bool, rows: int):
    """`window.select` restricted to the first WINDOW rows of `window.scope` by `column` (all of
    them when there are no more)."""
    if rows <= WINDOW:
        return window.select
    # the window's last key as its upper bound: `_from_key`, the other way round
    return _from_key(window.select, column, not ascending, _key_at(column, window.scope, ascending, WINDOW - 1))


async def paginate(
    select, count, params: PageParams, seek: Column | None = None, ascending: bool = True, window: Window | None = None
) -> Page:
    """Run a Piccolo select (already filtered and ordered) and, unless the rows already tell the
    total (a short page that is not past the end), its matching count query (cached briefly): a
    search with few hits, on a large table, then scans once instead of twice.

    `seek`: the select's sort key when it is ordered by one unique column (`ascending` or not);
    deep pages then seek their first row by it. `window`: a text search's short way to its first
    pages (with `seek`)."""
    items = None
    rows = None if window is None or seek is None else await _window_rows(window, seek, count, params)
    if rows is not None:
        found = await _within_window(window, seek, ascending, rows).limit(params.page_size).offset(params.offset)
        items = found if len(found) == params.page_size else None
    if items is None and seek is not None and params.offset >= SEEK_FROM:
        items = await _seek(select, seek, ascending, params.offset, params.page_size)
    elif items is None and seek is not None and params.offset:
        # the first key in the statement: the rows before it are skipped on the key's index, not
        # built (joins, names, JSON columns) to be thrown away as OFFSET does
        start = _key_at(seek, select.where_delegate._where, ascending, params.offset)
        items = await _from_key(select, seek, ascending, start).limit(params.page_size)
    elif items is None:
        items = await select.limit(params.page_size).offset(params.offset)
    seen = params.offset + len(items)
    if len(items) < params.page_size and (items or not params.offset):
        return Page(items, seen, params.page, params.page_size)
    total = await _count(count)
    if items and total < seen:  # rows were added since the count: at least what this page shows
        total = seen
    return Page(items, total, params.page, params.page_size)
