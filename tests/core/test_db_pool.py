"""The SQLite engine's pool (server/core/db.py): long-lived connections instead of one connection
and one thread per query, WAL, a per-process write lock, no thread left behind by requests,
cancelled queries or shutdown — and the Piccolo/aiosqlite internals it relies on, pinned."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from importlib.metadata import version

import pytest
from litestar.testing import AsyncTestClient
from piccolo.querystring import QueryString

from server.core import db
from server.core.db import atomic
from server.core.tables import DocSequence
from tests.conftest import PG_URL, api_login

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="the pool is SQLite's; PostgreSQL has asyncpg's")


def test_the_piccolo_and_aiosqlite_internals_the_pool_relies_on_are_the_ones_it_was_written_for():
    """db._SQLiteEngine overrides SQLiteEngine.run_querystring/_run_in_existing_connection/
    get_connection and _SQLiteWrite reuses SQLiteTransaction's begin/commit/rollback and its
    _committed/_rolled_back flags; aiosqlite's execute_fetchall runs a statement and its fetch as
    one job of the connection's thread. On an upgrade, re-read both against db.py, then move
    these pins."""
    from aiosqlite import Connection
    from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction

    assert version("piccolo") == "1.38.0", "Piccolo changed: re-check server/core/db.py's _SQLiteEngine"
    assert version("aiosqlite") == "0.22.1", "aiosqlite changed: re-check server/core/db.py's pool"
    for name in ("run_querystring", "_run_in_existing_connection", "_run_in_new_connection", "get_connection"):
        assert hasattr(SQLiteEngine, name), name
    for name in ("begin", "commit", "rollback", "_committed", "_rolled_back"):
        assert hasattr(SQLiteTransaction, name), name
    assert hasattr(Connection, "execute_fetchall")


async def _threads_after(coro) -> int:
    await coro
    await asyncio.sleep(0.05)  # a closed connection's thread ends just after close() returns
    return threading.active_count()


@sqlite_only
async def test_queries_reuse_the_pools_connections_and_stop_closes_them(database_url):
    before = threading.active_count()
    await db.start()
    try:
        engine = db.engine()
        assert (await engine.run_querystring(QueryString("PRAGMA journal_mode")))[0]["journal_mode"] == "wal"
        assert (await engine.run_querystring(QueryString("PRAGMA synchronous")))[0]["synchronous"] == 1  # NORMAL
        assert (await engine.run_querystring(QueryString("PRAGMA foreign_keys")))[0]["foreign_keys"] == 1
        await asyncio.gather(*(DocSequence.count() for _ in range(40)))
        warm = threading.active_count()
        assert warm <= before + db.SQLITE_POOL_SIZE
        await asyncio.gather(*(DocSequence.count() for _ in range(200)))
        assert threading.active_count() == warm
    finally:
        await db.stop()
    await asyncio.sleep(0.05)
    assert threading.active_count() == before


@sqlite_only
async def test_cancelled_queries_and_writes_leave_no_thread_behind(database_url):
    before = threading.active_count()
    await db.start()
    try:
        slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT count(*) FROM n"

        async def write(i: int) -> None:
            async with atomic():
                await DocSequence.insert(DocSequence(tenant_id=1, doc_type=f"T{i}", day="20260101", last_no=1))
                await DocSequence.raw(slow)

        for _ in range(3):
            tasks = [asyncio.ensure_future(DocSequence.raw(slow)) for _ in range(10)]
            tasks += [asyncio.ensure_future(write(i)) for i in range(10)]
            await asyncio.sleep(0.01)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await DocSequence.count()  # the pool still answers
        async with atomic():  # and the write lock was given back
            await DocSequence.insert(DocSequence(tenant_id=1, doc_type="AFTER", day="20260101", last_no=1))
        assert threading.active_count() <= before + db.SQLITE_POOL_SIZE + 1  # the readers and the writer
        assert await DocSequence.count().where(DocSequence.doc_type == "AFTER") == 1
    finally:
        await db.stop()
    await asyncio.sleep(0.2)
    assert threading.active_count() == before


@sqlite_only
async def test_concurrent_writers_queue_on_the_process_lock_and_all_commit(database_url):
    await DocSequence.insert(DocSequence(tenant_id=1, doc_type="N", day="20260101", last_no=0))
    await db.start()
    try:

        async def bump() -> None:
            async with atomic():  # read-then-write: SQLite would refuse the losers without IMMEDIATE
                row = await DocSequence.select(DocSequence.last_no).where(DocSequence.doc_type == "N").first()
                await asyncio.sleep(0)
                await DocSequence.update({DocSequence.last_no: row["last_no"] + 1}).where(DocSequence.doc_type == "N")

        await asyncio.gather(*(bump() for _ in range(30)))
        assert (await DocSequence.select(DocSequence.last_no).where(DocSequence.doc_type == "N").first())[
            "last_no"
        ] == 30
        with pytest.raises(ValueError):
            async with atomic():
                await DocSequence.update({DocSequence.last_no: 0}).where(DocSequence.doc_type == "N")
                raise ValueError("rolled back")
        assert (await DocSequence.select(DocSequence.last_no).where(DocSequence.doc_type == "N").first())[
            "last_no"
        ] == 30
    finally:
        await db.stop()


@sqlite_only
async def test_requests_leave_the_thread_count_flat_and_shutdown_closes_every_connection(settings, tenant):
    from server.app import create_app

    app = create_app(replace(settings, db_pool=True))
    before = threading.active_count()
    async with AsyncTestClient(app=app) as client:
        headers = await api_login(client, "admin@ACME")
        for _ in range(20):
            assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
        warm = threading.active_count()
        for _ in range(5):
            await asyncio.gather(*(client.get("/api/v1/auth/me", headers=headers) for _ in range(20)))
            await asyncio.gather(*(client.get("/api/v1/orgs", headers=headers) for _ in range(20)))
        assert threading.active_count() == warm
    await asyncio.sleep(0.2)
    assert threading.active_count() <= before


@pytest.mark.skipif(not PG_URL, reason="asyncpg's pool (PostgreSQL)")
async def test_cancelled_queries_and_writes_give_their_postgresql_connections_back(database_url):
    await db.start(pg_pool_size=4)
    try:
        pool = db.engine().pool

        async def write(i: int) -> None:
            async with atomic():
                await DocSequence.insert(DocSequence(tenant_id=1, doc_type=f"T{i}", day="20260101", last_no=1))
                await DocSequence.raw("SELECT pg_sleep(1)")

        for _ in range(3):
            tasks = [asyncio.ensure_future(DocSequence.raw("SELECT pg_sleep(1)")) for _ in range(6)]
            tasks += [asyncio.ensure_future(write(i)) for i in range(6)]
            await asyncio.sleep(0.05)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        async with atomic():  # the pool still answers, and writes commit
            await DocSequence.insert(DocSequence(tenant_id=1, doc_type="AFTER", day="20260101", last_no=1))
        assert await DocSequence.count().where(DocSequence.doc_type == "AFTER") == 1
        assert await DocSequence.count().where(DocSequence.doc_type != "AFTER") == 0  # the cancelled rolled back
        assert pool.get_size() <= 4
        for _ in range(100):  # a cancelled connection is reset before it counts as idle again
            if pool.get_idle_size() == pool.get_size():
                break
            await asyncio.sleep(0.05)
        assert pool.get_idle_size() == pool.get_size()
    finally:
        await db.stop()


@sqlite_only
async def test_a_writer_waits_for_another_processs_writer_and_starts_when_it_ends(database_url):
    """The writers' file lock (`db._WritersLock`) is what a second worker holds while it writes:
    a write here waits for it, then commits; the lock is this process's again after."""
    await db.start()
    try:
        pool = db.engine().pool
        other = db._WritersLock(db.engine().path)  # another worker's lock on the same file
        await other.acquire()

        async def write() -> None:
            async with atomic():
                await DocSequence.insert(DocSequence(tenant_id=1, doc_type="W", day="20260101", last_no=1))

        waiting = asyncio.ensure_future(write())
        for _ in range(20):
            await asyncio.sleep(0.005)
        assert not waiting.done() and pool.write_lock.locked()
        assert await DocSequence.count().where(DocSequence.doc_type == "W") == 0  # reads go on meanwhile
        other.release()
        await waiting
        assert await DocSequence.count().where(DocSequence.doc_type == "W") == 1
        assert not pool.write_lock.locked()
        await other.acquire()  # given back by this process's writer
        other.release()
        other.close()
    finally:
        await db.stop()


@pytest.mark.skipif(not PG_URL, reason="asyncpg's pool (PostgreSQL)")
async def test_a_postgresql_connection_given_back_ends_its_transaction_and_sends_nothing_more(database_url):
    """db._keep_session: no `RESET ALL` round trip after each statement; asyncpg still rolls back
    what a holder left open."""
    await db.start(pg_pool_size=1)
    try:
        pool = db.engine().pool
        sent: list[str] = []
        async with pool.acquire() as connection:
            connection.add_query_logger(lambda record: sent.append(record.query))
            left_open = connection.transaction()
            await left_open.start()
            await connection.execute(
                "INSERT INTO doc_sequence (tenant_id, doc_type, day, last_no) VALUES (1, 'X', '20260101', 1)"
            )
        await asyncio.sleep(0.05)
        assert sent[-1] == "ROLLBACK" and not any("RESET" in q or "UNLISTEN" in q for q in sent)
        assert await DocSequence.count() == 0
    finally:
        await db.stop()


@pytest.mark.skipif(not PG_URL, reason="asyncpg's pool (PostgreSQL)")
async def test_a_free_postgresql_connection_is_taken_without_a_timer_and_a_busy_pool_still_times_out(
    database_url, monkeypatch
):
    """db._PostgresEngine._run_in_pool bounds only a real wait for a connection: asyncpg's
    wait_for costs a fifth of a statement's pool work."""
    from asyncpg import compat

    waits: list = []
    wait_for = compat.wait_for

    async def counted(future, timeout):
        waits.append(timeout)
        return await wait_for(future, timeout)

    monkeypatch.setattr(compat, "wait_for", counted)
    db.configure(database_url, db.Timeouts(acquire=0.3))
    await db.start(pg_pool_size=1)
    try:
        assert await DocSequence.count() == 0 and await DocSequence.count() == 0
        assert waits == []
        async with db.engine().pool.acquire():  # the only connection is taken
            with pytest.raises(asyncio.TimeoutError):
                await DocSequence.count()
        assert waits == [0.3]
        assert await DocSequence.count() == 0
    finally:
        await db.stop()
