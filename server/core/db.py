"""Engine configuration and the one way to open a write transaction.

SQLite has no row locks and fails concurrent read-then-write transactions with "database is
locked", so writes open an IMMEDIATE transaction there (writers queue on the busy timeout);
PostgreSQL uses an ordinary transaction. Balances change only by conditional UPDATE inside it.

Once started, the SQLite engine keeps a few long-lived connections (WAL, synchronous=NORMAL)
instead of Piccolo's new connection and thread per query, and the process's writers take an
`asyncio.Lock` before BEGIN IMMEDIATE: they queue in order instead of polling SQLite's busy
handler (which sleeps up to 100 ms between tries). Between processes (the server's workers) the
lock's holder also holds a file lock beside the database (`_WritersLock`), tried every
millisecond, so the next worker's writer starts as soon as a COMMIT ends. Migrations keep the
plain engine.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import fcntl
import logging
import operator
import os
import re
import sqlite3
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import msgspec
from piccolo.columns import Column
from piccolo.columns import column_types as piccolo_column_types
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.combination import And, Or, Undefined, Where
from piccolo.columns.reference import LazyTableReference
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.query.functions.aggregate import Count as CountFunction
from piccolo.query.methods.count import Count
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString
from piccolo.table import Table

# WEIFU_SQL_LOG=<file>: every statement is appended to the file, one line each (bench/http.py
# counts statements per request with it). Off unless set: it costs a write per statement.
_SQL_LOG = os.environ.get("WEIFU_SQL_LOG")


def _log_sql(query: str) -> None:
    if _SQL_LOG:
        with open(_SQL_LOG, "a", encoding="utf-8") as f:
            f.write(" ".join(query.split())[:300] + "\n")


# Writes this process made, by table ("": every table — another database was configured).
# The list count cache (server/core/pagination.py) trusts a count only while the tables it read
# stay unwritten here; other processes' writes reach it through its TTL.
_writes: collections.Counter[str] = collections.Counter()
_WRITE = re.compile(r'(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.I)
# tables written by the current atomic() block: noted again once it commits, as a count read
# meanwhile still saw the rows before the write
_tx_written: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("tx_written", default=None)


def _note_write(sql: str) -> None:
    sql = sql.lstrip()
    # a statement writes when it starts so; a CTE when it says so somewhere
    match = _WRITE.search(sql) if sql[:4].upper() == "WITH" else _WRITE.match(sql)
    if match is None:
        return  # a SELECT, PRAGMA, DDL…
    table = match.group(1)
    _writes[table] += 1
    written = _tx_written.get()
    if written is not None:
        written.add(table)


def writes(tables) -> int:
    """How many writes to `tables` this process has seen (and databases configured): a cache of
    data read from them is fresh while this number stays."""
    return _writes[""] + sum(_writes[t] for t in tables)


# SQLite's LIKE is already case-insensitive for ASCII; Piccolo warns on every ILIKE there.
warnings.filterwarnings("ignore", message=".*SQLite doesn't support ILIKE")

_engine: Engine | None = None
# Callbacks queued by the current outermost transaction, run after it commits.
_after_commit: contextvars.ContextVar[list[Callable[[], object]] | None] = contextvars.ContextVar(
    "after_commit", default=None
)


def sqlite_path(url: str) -> str | None:
    """The file of a `sqlite:///path` URL (absolute with four slashes), or None for other engines."""
    return url[len("sqlite:///") :] if url.startswith("sqlite:///") else None


@dataclass(frozen=True)
class Timeouts:
    """How long a request may wait on the database, in seconds; 0 is no limit. A frozen or
    unreachable database must turn into a quick 503, not requests hanging for minutes and writes
    committing after their client gave up."""

    connect: float = 5  # opening a PostgreSQL connection
    acquire: float = 5  # waiting for a free connection of the pool
    statement: float = 15  # one statement (PostgreSQL statement_timeout, and the client's own limit)
    idle_in_transaction: float = 30  # PostgreSQL ends a transaction whose client went quiet
    busy: float = 5  # SQLite: waiting for another writer's lock


class _SQLiteWrite(SQLiteTransaction):
    """Piccolo's transaction leaves its connection, and aiosqlite's thread, open when BEGIN (a
    busy timeout), COMMIT or ROLLBACK fails or the task is cancelled there: this one always
    closes it — or, with the pool, keeps the pool's writer connection when it ended cleanly and
    closes it otherwise. With the pool it holds the process's write lock from before BEGIN to
    after COMMIT/ROLLBACK."""

    async def __aenter__(self) -> _SQLiteWrite:
        pool: _SQLitePool | None = self.engine.pool
        if pool is None:
            self.connection = await self.get_connection()
        else:
            await pool.lock_for_write()
            try:
                self.connection = await pool.writer()
            except BaseException:
                pool.unlock_for_write()
                raise
        try:
            await self.begin()
        except BaseException:
            await self._finish(clean=False)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        clean = False
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
            clean = True
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._finish(clean)
        return exception is None

    async def _finish(self, clean: bool) -> None:
        pool: _SQLitePool | None = self.engine.pool
        if pool is None:
            await _close(self.connection)
            return
        try:
            if not clean:  # a transaction may still be open on it: closing rolls it back
                await pool.discard_writer()
        finally:
            pool.unlock_for_write()


async def _close(connection) -> None:
    # shielded: a second cancellation must not stop the close half-way and keep the thread alive
    await asyncio.shield(connection.close())


class _WritersLock:
    """An exclusive `flock` on `<database>-writers.lock`, held by one process's writer from before
    BEGIN IMMEDIATE to after COMMIT. Without it a second worker's writer meets SQLite's lock and
    its busy handler, which sleeps 1, 2, 5… up to 100 ms between tries: call-next's p99 on SQLite
    was half a second at 16 clients. Tried every millisecond (a non-blocking try costs a system
    call; a blocking one would need a thread, and a thread cancelled while it waits would take
    the lock for nobody). SQLite's own locking stays the guard of correctness: a process without
    this lock (the CLI, migrations) still waits on the busy timeout."""

    TRY_EVERY = 0.001

    def __init__(self, database: str) -> None:
        self.path = None if database in ("", ":memory:") else f"{database}-writers.lock"
        self._file = None

    async def acquire(self) -> None:
        if self.path is None:
            return
        if self._file is None:
            self._file = open(self.path, "a+b")  # noqa: SIM115 - open while the pool lives
        while True:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                await asyncio.sleep(self.TRY_EVERY)

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class _SQLitePool:
    """A few long-lived aiosqlite connections (one thread each) of one event loop for reads,
    opened on demand, and the process's write lock with a connection of its own: a writer holding
    the lock never waits for a reader to give a connection back."""

    def __init__(self, engine: _SQLiteEngine, size: int, acquire_timeout: float, busy_timeout: float) -> None:
        self.engine, self.size = engine, size
        self.acquire_timeout, self.busy_timeout = acquire_timeout or None, busy_timeout or None
        self.write_lock = asyncio.Lock()
        self.writers = _WritersLock(engine.path)
        self._idle: asyncio.Queue = asyncio.Queue()
        self._opened = 0
        self._closed = False
        self._writer = None
        self._opening_writer: asyncio.Future | None = None

    async def writer(self):
        """The write connection; only the holder of `write_lock` calls this."""
        if self._closed:
            raise RuntimeError("the database pool is closed")
        if self._writer is None:
            if self._opening_writer is None:
                # shielded: a request cancelled while it opens must not lose its thread; the
                # next writer takes it over
                self._opening_writer = asyncio.ensure_future(self.engine.pooled_connection())
            try:
                self._writer = await asyncio.shield(self._opening_writer)
            finally:
                if self._opening_writer.done():
                    self._opening_writer = None
        return self._writer

    async def discard_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            await _close(writer)

    async def lock_for_write(self) -> None:
        """The process's write lock, then the writers' file lock shared with the other processes."""
        try:
            async with asyncio.timeout(self.busy_timeout):
                await self.write_lock.acquire()
                try:
                    await self.writers.acquire()
                except BaseException:
                    self.write_lock.release()
                    raise
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked (waited for the other writers)") from None

    def unlock_for_write(self) -> None:
        try:
            self.writers.release()
        finally:
            self.write_lock.release()

    async def acquire(self):
        if self._closed:
            raise RuntimeError("the database pool is closed")
        if self._idle.empty() and self._opened < self.size:
            self._opened += 1
            opening = asyncio.ensure_future(self.engine.pooled_connection())
            try:
                # shielded: a request cancelled while the connection opens must not lose its thread
                return await asyncio.shield(opening)
            except asyncio.CancelledError:
                opening.add_done_callback(self._adopt)
                raise
            except BaseException:
                self._opened -= 1
                raise
        try:
            async with asyncio.timeout(self.acquire_timeout):
                return await self._idle.get()
        except TimeoutError:
            raise sqlite3.OperationalError("database is busy: no free connection") from None

    def _adopt(self, opening: asyncio.Future) -> None:
        if opening.cancelled() or opening.exception() is not None:
            self._opened -= 1
        else:
            self.release(opening.result())

    def release(self, connection) -> None:
        if self._closed:
            self._opened -= 1
            asyncio.ensure_future(_close(connection))
        else:
            self._idle.put_nowait(connection)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator:
        connection = await self.acquire()
        try:
            yield connection
        finally:
            # A cancelled statement still runs to its end in the connection's thread; the next
            # user's statement queues behind it there, so the connection can go back at once.
            self.release(connection)

    async def close(self) -> None:
        self._closed = True
        self.writers.close()
        if self._opening_writer is not None:  # opened for a writer that was cancelled meanwhile
            with contextlib.suppress(Exception):
                self._writer = await asyncio.shield(self._opening_writer)
            self._opening_writer = None
        await self.discard_writer()
        while not self._idle.empty():
            self._opened -= 1
            await _close(self._idle.get_nowait())


# Piccolo registers process-wide converters by declared column type. Its INTEGER one turns every
# integer SQLite already returns as an int into text, then a Decimal, then an int again (to
# accept text or REAL values in an INTEGER column, which this schema never stores: INTEGER
# affinity stores numbers as integers); its BOOLEAN one decodes the text before comparing.
# Together they were a third of the CPU of reading a page of rows (goods: 1.5 ms of 50 rows and
# their 200 prices). Without the first, the ints come straight from SQLite; the second compares
# the bytes in C. Same values and types as Piccolo's.
sqlite3.converters.pop("INTEGER", None)
sqlite3.register_converter("BOOLEAN", b"1".__eq__)


class _Everything:
    def __contains__(self, name: object) -> bool:
        return True


_EVERYTHING = _Everything()


def _fk_dir(*args):
    """`dir` as Piccolo's `ForeignKey.__getattribute__` sees it (its one use in that module).
    It lists `dir(self)` (~15 µs) on every public attribute read, only to learn whether a lazily
    referenced table's columns must be set up first, which matters only while they are not: a
    list's select with two joins paid it some 25 times a request. Otherwise the answer it needs
    ("the name is known") comes at once; the rest of Piccolo's method runs unchanged."""
    if len(args) == 1 and isinstance(args[0], ForeignKey):
        meta = args[0].__dict__.get("_foreign_key_meta")
        if meta is not None and not (meta.proxy_columns == [] and isinstance(meta.references, LazyTableReference)):
            return _EVERYTHING
    return dir(*args)


piccolo_column_types.dir = _fk_dir


class _SelectHead:
    """`SELECT <columns> FROM <table> <joins>` of one list of column objects, built once.

    Piccolo builds a select's column list and its joins anew each time the query runs: for the
    work order's ~60 joined columns 1–2 ms of a page's 5–6. Services select the same column
    objects every time (module-level tuples, the table's own columns), so the part that depends
    only on them is kept, keyed by the objects' identities and checked against the objects
    themselves (held here, so an id is never reused while its entry lives). The WHERE, ORDER BY,
    LIMIT… parts are built as Piccolo builds them, from the values of each run. A list of column
    objects is kept on its second sighting: columns made anew on each call (`Table.fk.name`
    inline) would only churn the cache. Anything Piccolo treats specially (M2M, readables,
    DISTINCT ON, AS OF, HAVING, FOR UPDATE) takes Piccolo's own path. The compiled SQL is
    Piccolo's, to the character (tests/core/test_piccolo_joins.py)."""

    LIMIT = 512

    def __init__(self) -> None:
        self.kept: collections.OrderedDict[tuple, tuple] = collections.OrderedDict()
        self.seen: set[tuple] = set()

    def get(self, query: Select) -> tuple[list[str], QueryString] | None:
        selected = query.columns_delegate.selected_columns or query.table._meta.columns
        engine_type = query.table._meta.db.engine_type
        key = (query.table, engine_type, query.exclude_secrets, *map(id, selected))
        hit = self.kept.get(key)
        if hit is not None and all(map(operator.is_, hit[0], selected)):
            self.kept.move_to_end(key)
            return hit[1], hit[2]
        if not all(isinstance(c, Column | QueryString) for c in selected):
            return None
        if key not in self.seen:
            if len(self.seen) > 4 * self.LIMIT:
                self.seen.clear()
            self.seen.add(key)
            return None
        held = tuple(selected)
        query._check_valid_call_chain(selected)
        joins = query._get_joins(selected)
        if query.exclude_secrets:
            selected = [c for c in selected if not isinstance(c, Column) or not c._meta.secret]
        strings = [c.get_select_string(engine_type=engine_type) for c in selected]
        columns = QueryString(", ".join("{}" for _ in strings), *strings)
        _, fragments, args = columns.bundle(start_index=1, bundled=[], combined_args=[])
        if not args:  # one literal: nothing left to bundle on each run
            text = "".join(f.prefix for f in fragments)
            columns = QueryString(text.replace("{", "{{").replace("}", "}}"))
        self.kept[key] = (held, joins, columns)
        if len(self.kept) > self.LIMIT:
            self.kept.popitem(last=False)
        return joins, columns


_select_heads = _SelectHead()
_COMBINED = {And: " AND ", Or: " OR "}


def _where_querystring(where) -> QueryString:
    """A select's WHERE as one flat template over its values, as Piccolo would compile it.

    Piccolo makes a QueryString per condition and per AND/OR, writes each column's name through
    a QueryString's `__str__`, and bundles the tree again when compiling: ~40 µs for a scoped
    lookup's three conditions, on every statement. Plain conditions (a column of its own kind
    against values) are written here in one pass; anything else (a raw clause, a column or a
    subquery as the value) keeps Piccolo's QueryString, nested. tests/core/test_piccolo_joins.py
    compares the SQL with Piccolo's."""
    parts: list[str] = []
    args: list = []
    _flatten(where, parts, args)
    return QueryString("".join(parts), *args)


def _flatten(node, parts: list[str], args: list) -> None:
    joined = _COMBINED.get(type(node))
    if joined is not None:
        parts.append("(")
        _flatten(node.first, parts, args)
        parts.append(joined)
        _flatten(node.second, parts, args)
        parts.append(")")
        return
    if type(node) is Where and type(node.column).get_select_string is Column.get_select_string:
        value, values = node.value, node.values
        given = [] if isinstance(value, Undefined) else [value]
        listed = isinstance(values, list)
        if listed:
            given += values
        if (listed or isinstance(values, Undefined)) and not any(isinstance(v, Column | QueryString) for v in given):
            name = node.column._meta.get_full_name(with_alias=False).replace("{", "{{").replace("}", "}}")
            placeholders = ", ".join("{}" for _ in values) if listed else "{}"
            parts.append(node.operator.template.format(name=name, value="{}", values=placeholders))
            args += given
            return
    parts.append("{}")
    args.append(node.querystring)


_piccolo_select_querystrings = Select.default_querystrings.fget


def _select_querystrings(self: Select) -> list[QueryString]:
    """Piccolo's `Select.default_querystrings` with its column list and joins from
    `_SelectHead`; the rest as Piccolo writes it (piccolo 1.38)."""
    if (
        self.distinct_delegate._distinct.on
        or self.as_of_delegate._as_of
        or self.having_delegate._where
        or self.lock_rows_delegate._lock_rows
        or (head := _select_heads.get(self)) is None
    ):
        return _piccolo_select_querystrings(self)
    select_joins, columns = head
    joins = select_joins + self._get_joins(self.where_delegate.get_where_columns())
    joins += self._get_joins(self.order_by_delegate.get_order_by_columns())
    if not self.columns_delegate.selected_columns:
        self.columns_delegate.selected_columns = self.table._meta.columns
    if self.exclude_secrets:
        self.columns_delegate.remove_secret_columns()
    query = "SELECT{} {} FROM " + self.table._meta.get_formatted_tablename()
    args: list = [self.distinct_delegate._distinct.querystring, columns]
    for join in collections.OrderedDict.fromkeys(joins):
        query += f" {join}"
    if self.offset_delegate._offset and not self.limit_delegate._limit and self.engine_type == "sqlite":
        raise ValueError("A limit clause must be provided when doing an offset with SQLite.")
    order_by = self.order_by_delegate._order_by
    if self.where_delegate._where:
        query += " WHERE {}"
        args.append(_where_querystring(self.where_delegate._where))
    clauses = (
        ("{}", self.group_by_delegate._group_by),
        ("{}", order_by if order_by.order_by_items else None),
        ("{}", self.limit_delegate._limit),
        ("{}", self.offset_delegate._offset),
    )
    for template, clause in clauses:
        if clause:
            query += template
            args.append(clause.querystring)
    return [QueryString(query, *args)]


Select.default_querystrings = property(_select_querystrings)
_COUNT_ALL = CountFunction()


def _count_querystrings(self: Count) -> list[QueryString]:
    """Piccolo's `Count.default_querystrings`, with one `COUNT(*)` object for every count of all
    rows, so its select's head is kept like any other (every list page counts)."""
    function = _COUNT_ALL if self.column is None and self._distinct is None else None
    query = self.table.select(function or CountFunction(column=self.column, distinct=self._distinct))
    query.where_delegate._where = self.where_delegate._where
    return query.querystrings


Count.default_querystrings = property(_count_querystrings)


class _SQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, plus the pool once `start()` made one (without it, Piccolo's own
    connection per query: tests calling services directly, the CLI's short jobs)."""

    def __init__(self, path: str, timeouts: Timeouts) -> None:
        super().__init__(path=path, timeout=timeouts.busy or 3600)
        self.timeouts = timeouts
        self.pool: _SQLitePool | None = None

    async def pooled_connection(self):
        connection = await self.get_connection()  # row factory, foreign_keys = 1
        await connection.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable at checkpoints
        return connection

    async def _run_in_existing_connection(self, connection, query, args=None, query_type="generic", table=None):
        # Piccolo sends "PRAGMA foreign_keys = 1" before every statement of a transaction;
        # every connection got it when it opened. RETURNING needs SQLite ≥ 3.35 (checked at start).
        return await connection.execute_fetchall(query, args or [])

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False):
        query, args = querystring.compile_string(engine_type=self.engine_type)
        _log_sql(query)
        _note_write(query)
        transaction = self.current_transaction.get()
        if transaction is not None:
            return await self._run_in_existing_connection(transaction.connection, query, args)
        if self.pool is None:
            return await self._run_in_new_connection(query, args, querystring.query_type, querystring.table)
        async with self.pool.connection() as connection:
            # one call into the thread: a cancelled request leaves no cursor half-read
            return await connection.execute_fetchall(query, args)

    async def start_pool(self, size: int) -> None:
        if sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError("SQLite ≥ 3.35 is needed (RETURNING)")
        self.pool = _SQLitePool(self, size, self.timeouts.acquire, self.timeouts.busy)
        async with self.pool.connection() as connection:
            if (await connection.execute_fetchall("PRAGMA journal_mode"))[0]["journal_mode"] != "wal":
                # Kept in the file: only the first start switches. Switching needs the database
                # to itself; when another process holds it (a second worker starting at the same
                # time), that one switches, or the next start does.
                try:
                    await connection.execute_fetchall("PRAGMA journal_mode = WAL")
                except sqlite3.OperationalError:
                    logging.getLogger(__name__).warning("SQLite: could not switch to WAL now", exc_info=True)

    async def close_pool(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            await pool.close()


class _PostgresTransaction(PostgresTransaction):
    async def get_connection(self):
        if self.engine.pool:
            return await self.engine.pool.acquire(timeout=self.engine.acquire_timeout)
        return await self.engine.get_new_connection()


class _PostgresEngine(PostgresEngine):
    """Waits for a pooled connection at most `acquire_timeout` seconds (Piccolo waits for ever)."""

    def __init__(self, config: dict, acquire_timeout: float | None) -> None:
        super().__init__(config=config)
        self.acquire_timeout = acquire_timeout

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True):
        if _SQL_LOG or not querystring.template.startswith("SELECT"):
            query = querystring.compile_string(engine_type=self.engine_type)[0]
            _log_sql(query)
            _note_write(query)
        return await super().run_querystring(querystring, in_pool=in_pool)

    async def _run_in_pool(self, query: str, args=None):
        if not self.pool:
            raise ValueError("A pool isn't currently running.")
        # With a timeout asyncpg waits through asyncio's wait_for, a timer and more per statement
        # (a fifth of its cost in the pool); when a connection is free there is no wait to bound
        # (opening it is bounded by the connect timeout).
        timeout = None if self.pool._queue.qsize() else self.acquire_timeout
        async with self.pool.acquire(timeout=timeout) as connection:
            return await connection.fetch(query, *(args or []))

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PostgresTransaction(engine=self, allow_nested=allow_nested)


def engine_from_url(url: str, timeouts: Timeouts = Timeouts(), app: bool = False) -> Engine:
    """The engine for `url`; `app` is the server's own (SQLite: poolable, see `start()`), while
    migrations (piccolo_conf) keep Piccolo's plain SQLite engine."""
    parsed = urlparse(url)
    path = sqlite_path(url)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if app:
            return _SQLiteEngine(path, timeouts)
        return SQLiteEngine(path=path, timeout=timeouts.busy or 3600)
    if parsed.scheme in ("postgres", "postgresql"):
        # no JIT: the app's statements are short, and compiling one the planner costs high (an
        # aggregate over a large tenant) took 170 ms, far longer than running it
        settings = {"jit": "off"}
        if timeouts.statement:
            settings["statement_timeout"] = str(int(timeouts.statement * 1000))
        if timeouts.idle_in_transaction:
            settings["idle_in_transaction_session_timeout"] = str(int(timeouts.idle_in_transaction * 1000))
        config = {
            "dsn": url.replace("postgres://", "postgresql://", 1),
            "timeout": timeouts.connect or 60,
            # the client gives up a little after the server would have cancelled the statement
            "command_timeout": timeouts.statement + 5 if timeouts.statement else None,
            "server_settings": settings,
        }
        return _PostgresEngine(config, timeouts.acquire or None)
    raise ValueError(f"不支持的 DATABASE_URL: {url}")


_tables: list[type[Table]] = []


def register_tables(tables: list[type[Table]]) -> None:
    """Called once by `server.domains` with every app's tables: core knows no domain."""
    _tables[:] = tables


def all_tables() -> list[type[Table]]:
    return list(_tables)


def configure(url: str, timeouts: Timeouts = Timeouts()) -> Engine:
    """Point every table at the engine for `url` (tests switch databases this way)."""
    global _engine
    _engine = engine_from_url(url, timeouts, app=True)
    _writes[""] += 1  # another database: nothing cached from the last one holds
    for table in all_tables():
        table._meta.db = _engine
    return _engine


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database not configured")
    return _engine


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


_json_decode = msgspec.json.Decoder().decode


def json_rows(fields: dict[str, str], source: str, alias: str) -> QueryString:
    """A column of a select: the rows of `source` (`FROM … WHERE …`, correlated to the selected
    row) as one JSON array of objects, `fields` naming their keys' SQL. Rows of another table
    come with their parent in its own statement instead of a second one (a page's lines, a
    goods' prices); `json_list` reads it back. No order is kept (SQLite aggregates none)."""
    pairs = ", ".join(f"'{k}', {v}" for k, v in fields.items())
    array = f"json_group_array(json_object({pairs}))" if is_sqlite() else f"json_agg(json_build_object({pairs}))"
    return QueryString(f"(SELECT {array} {source})").as_alias(alias)


def json_list(value: str | None, *order: str) -> list[dict]:
    """A `json_rows` column's objects, sorted by the keys `order` (NULL: PostgreSQL aggregated
    no row)."""
    return sorted(_json_decode(value), key=operator.itemgetter(*order)) if value else []


_pooled = False
SQLITE_POOL_SIZE = 4  # read connections (threads) per process, beside the writer: reads run in parallel under WAL
PG_POOL_SIZE = 5  # PostgreSQL connections per process at most (DB_POOL_SIZE), see `start`


async def _keep_session(connection) -> None:
    """What the PostgreSQL pool runs on a connection given back, after asyncpg's own rollback of
    a transaction left open: nothing. asyncpg's default also sends `pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL` — one more round trip for every statement outside a transaction,
    for session state this app never sets (its locks are row locks and conditional UPDATEs inside
    transactions, its pub/sub is Redis, its settings come with the connection)."""


async def start(pg_pool_size: int = PG_POOL_SIZE) -> None:
    """Pools for the server: PostgreSQL's per process, SQLite's connections and write lock.

    A request holds a PostgreSQL connection for one statement (a transaction: its statements),
    about a millisecond, so a worker, which spends several milliseconds of CPU per request,
    keeps few busy at once; more connections than the database's cores can run only add
    backends that compete for them (bench/http.py on the 2-core box, PostgreSQL on the same
    machine, granian × 2, c=16: 5 per worker did as well as or better than 20 on every line,
    README "Production server"). workers × DB_POOL_SIZE must stay below max_connections."""
    global _pooled
    if isinstance(_engine, PostgresEngine) and not _pooled:
        # no connection opened up front: the server starts while PostgreSQL is down and is ready
        # (/readyz) once it answers
        await _engine.start_connection_pool(min_size=0, max_size=pg_pool_size, reset=_keep_session)
        _pooled = True
    elif isinstance(_engine, _SQLiteEngine) and _engine.pool is None:
        await _engine.start_pool(SQLITE_POOL_SIZE)


async def stop() -> None:
    global _pooled
    if isinstance(_engine, PostgresEngine) and _pooled:
        await _engine.close_connection_pool()
        _pooled = False
    elif isinstance(_engine, _SQLiteEngine):
        await _engine.close_pool()


def in_transaction() -> bool:
    return engine().current_transaction.get() is not None


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """A write transaction; nested calls join the outer one.

    Callbacks registered with `after_commit` run once the outermost transaction commits and
    are dropped if it rolls back (live events are published this way).
    """
    eng = engine()
    if eng.current_transaction.get() is not None:
        yield
        return
    callbacks: list[Callable[[], object]] = []
    token = _after_commit.set(callbacks)
    written: set[str] = set()
    written_token = _tx_written.set(written)
    try:
        if isinstance(eng, SQLiteEngine):
            tx = _SQLiteWrite(eng, transaction_type=TransactionType.immediate)
        else:
            tx = eng.transaction()
        async with tx:
            yield
    finally:
        _after_commit.reset(token)
        _tx_written.reset(written_token)
        _writes.update(written)
    for callback in callbacks:
        result = callback()
        if hasattr(result, "__await__"):
            await result


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` after the current transaction commits; outside atomic() it is an error."""
    callbacks = _after_commit.get()
    if callbacks is None:
        raise RuntimeError("after_commit() needs an atomic() block")
    callbacks.append(callback)


async def ping() -> None:
    """One trivial query: does the database answer now?"""
    await engine().run_querystring(QueryString("SELECT 1"))


async def bulk_insert(table: type[Table], columns: tuple, rows: list[tuple], returning: tuple = ()) -> list[dict]:
    """One multi-row INSERT with bound parameters. Piccolo's `insert(*instances)` builds a Table
    object and a query fragment per row, which costs more than the database work at 10,000 rows."""
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    values = ", ".join(["(" + ", ".join(["{}"] * len(columns)) + ")"] * len(rows))
    sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {values}'
    if returning:
        sql += " RETURNING " + ", ".join(f'"{c._meta.db_column_name}"' for c in returning)
    return await table.raw(sql, *[v for r in rows for v in r])
