"""Engine configuration and the one way to open a write transaction.

SQLite has no row locks and fails concurrent read-then-write transactions with "database is
locked", so writes open an IMMEDIATE transaction there (writers queue on the busy timeout);
PostgreSQL uses an ordinary transaction. Balances change only by conditional UPDATE inside it.
"""

from __future__ import annotations

import asyncio
import contextvars
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

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
    closes it."""

    async def __aenter__(self) -> _SQLiteWrite:
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:
            await _close(self.connection)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            await _close(self.connection)
            self.engine.current_transaction.reset(self.context)
        return exception is None


async def _close(connection) -> None:
    # shielded: a second cancellation must not stop the close half-way and keep the thread alive
    await asyncio.shield(connection.close())


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

    async def _run_in_pool(self, query: str, args=None):
        if not self.pool:
            raise ValueError("A pool isn't currently running.")
        async with self.pool.acquire(timeout=self.acquire_timeout) as connection:
            return await connection.fetch(query, *(args or []))

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PostgresTransaction(engine=self, allow_nested=allow_nested)


def engine_from_url(url: str, timeouts: Timeouts = Timeouts()) -> Engine:
    parsed = urlparse(url)
    path = sqlite_path(url)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=path, timeout=timeouts.busy or 3600)
    if parsed.scheme in ("postgres", "postgresql"):
        settings = {}
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
    _engine = engine_from_url(url, timeouts)
    for table in all_tables():
        table._meta.db = _engine
    return _engine


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database not configured")
    return _engine


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


_pooled = False


async def start() -> None:
    global _pooled
    if isinstance(_engine, PostgresEngine) and not _pooled:
        # no connection opened up front: the server starts while PostgreSQL is down and is ready
        # (/readyz) once it answers
        await _engine.start_connection_pool(min_size=0, max_size=20)
        _pooled = True


async def stop() -> None:
    global _pooled
    if isinstance(_engine, PostgresEngine) and _pooled:
        await _engine.close_connection_pool()
        _pooled = False


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
    try:
        if isinstance(eng, SQLiteEngine):
            tx = _SQLiteWrite(eng, transaction_type=TransactionType.immediate)
        else:
            tx = eng.transaction()
        async with tx:
            yield
    finally:
        _after_commit.reset(token)
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
