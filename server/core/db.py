"""Engine configuration and the one way to open a write transaction.

SQLite has no row locks and fails concurrent read-then-write transactions with "database is
locked", so writes open an IMMEDIATE transaction there (writers queue on the busy timeout);
PostgreSQL uses an ordinary transaction. Balances change only by conditional UPDATE inside it.
"""

from __future__ import annotations

import contextvars
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
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


def engine_from_url(url: str) -> Engine:
    parsed = urlparse(url)
    path = sqlite_path(url)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=path, timeout=60)
    if parsed.scheme in ("postgres", "postgresql"):
        return PostgresEngine(config={"dsn": url.replace("postgres://", "postgresql://", 1)})
    raise ValueError(f"不支持的 DATABASE_URL: {url}")


def all_tables() -> list[type[Table]]:
    from piccolo_conf import APP_REGISTRY

    return [t for config in APP_REGISTRY.app_configs.values() for t in config.table_classes]


def configure(url: str) -> Engine:
    """Point every table at the engine for `url` (tests switch databases this way)."""
    global _engine
    _engine = engine_from_url(url)
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
        await _engine.start_connection_pool(min_size=2, max_size=20)
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
            tx = eng.transaction(transaction_type=TransactionType.immediate)
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


async def bulk_insert(table: type[Table], columns: tuple, rows: list[tuple], returning: tuple = ()) -> list[dict]:
    """One multi-row INSERT with bound parameters. Piccolo's `insert(*instances)` builds a Table
    object and a query fragment per row, which costs more than the database work at 10,000 rows."""
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    values = ", ".join(["(" + ", ".join(["{}"] * len(columns)) + ")"] * len(rows))
    sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {values}'
    if returning:
        sql += " RETURNING " + ", ".join(f'"{c._meta.db_column_name}"' for c in returning)
    return await table.raw(sql, *[v for r in rows for v in r])
