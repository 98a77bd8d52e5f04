"""Faults of what the app stands on (issue 12): a database that is locked, unreachable or frozen
answers a quick 503 with Retry-After, never a 500 or a hang; a failed BEGIN leaks nothing; the
server starts while PostgreSQL is down and says when it is ready; a burst is shed; a killed
worker is replaced; backups restore into a folder that does not exist yet."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from server.core import db
from server.core.db import Timeouts, atomic
from server.settings import ROOT, Settings
from tests.api_helpers import concurrently
from tests.conftest import PG_URL, REDIS_URL, api_login, free_port

DEAD_PG = "postgresql://postgres@127.0.0.1:9/nowhere"  # the discard port: nothing listens there
sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite's write lock")
pg_only = pytest.mark.skipif(not PG_URL, reason="PostgreSQL's statement timeout")


def unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    body = response.json()
    assert body["code"] == "unavailable" and "稍后" in body["detail"], body


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@sqlite_only
async def test_a_write_lock_held_elsewhere_is_a_quick_503_and_leaks_nothing(settings, tenant, tmp_path):
    """Another process holds SQLite's write lock past the busy timeout: every write answers 503
    with Retry-After, and the failed BEGINs leave no connection or aiosqlite thread behind."""
    from server.app import create_app

    app = create_app(Settings(**{**settings.__dict__, "db_timeouts": Timeouts(busy=0.2)}))
    async with AsyncTestClient(app=app) as client:
        admin = await api_login(client, "admin@ACME")
        path = db.sqlite_path(settings.database_url)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            await client.post(
                "/api/v1/roles", json={"name": "预热", "org_kind": "hq", "permissions": []}, headers=admin
            )
            threads, fds = threading.active_count(), _open_fds()
            for i in range(5):
                body = {"name": f"角色{i}", "org_kind": "hq", "permissions": []}
                unavailable(await client.post("/api/v1/roles", json=body, headers=admin))
            await asyncio.sleep(0.2)  # aiosqlite threads end a moment after their connection closes
            assert threading.active_count() <= threads and _open_fds() <= fds
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        body = {"name": "锁放开后", "org_kind": "hq", "permissions": []}
        assert (await client.post("/api/v1/roles", json=body, headers=admin)).status_code == 201


@sqlite_only
async def test_a_failed_begin_closes_its_connection(database_url):
    db.configure(database_url, Timeouts(busy=0.05))
    holder = sqlite3.connect(db.sqlite_path(database_url), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        threads = fds = 0
        for attempt in range(11):
            if attempt == 1:  # after a first one, which may open what stays open anyway (a log file…)
                await asyncio.sleep(0.2)
                threads, fds = threading.active_count(), _open_fds()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                async with atomic():
                    pass
        await asyncio.sleep(0.2)
        assert threading.active_count() <= threads and _open_fds() <= fds, (threading.active_count(), threads)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _dead_database_settings(settings: Settings, **changes) -> Settings:
    timeouts = Timeouts(connect=1, acquire=1)
    return Settings(**{**settings.__dict__, "database_url": DEAD_PG, "db_timeouts": timeouts, **changes})


async def test_the_server_starts_while_postgresql_is_down_and_says_it_is_not_ready(settings):
    """Liveness stays up, readiness says which dependency is missing, requests get a 503."""
    from server.app import create_app

    app = create_app(_dead_database_settings(settings, db_pool=True))
    try:
        async with AsyncTestClient(app=app) as client:  # startup opens the pool: it must not fail
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["database"].startswith("unavailable"), ready.text
            response = await client.post("/api/v1/auth/token", json={"login": "admin@ACME", "password": "x1234567"})
            unavailable(response)
            page = await client.get("/login")
            assert page.status_code in (200, 503)  # the login form itself needs no database
    finally:
        await db.stop()


async def test_readyz_is_ready_when_the_database_answers(client, tenant):
    response = await client.get("/readyz")
    assert response.status_code == 200 and response.json()["database"] == "ok", response.text
    if REDIS_URL:
        assert response.json()["redis"] == "ok"


@pg_only
async def test_a_statement_past_the_timeout_is_cancelled_with_a_503(settings, tenant, monkeypatch):
    """A frozen query is cancelled by PostgreSQL (statement_timeout) and the request answers 503,
    instead of hanging and committing after its client gave up."""
    from server.app import create_app
    from server.system.services import orgs

    async def frozen(*args, **kwargs):
        await orgs.Org.raw("SELECT pg_sleep(5)")

    app = create_app(Settings(**{**settings.__dict__, "db_timeouts": Timeouts(statement=0.3)}))
    async with AsyncTestClient(app=app) as client:
        admin = await api_login(client, "admin@ACME")
        monkeypatch.setattr(orgs, "search", frozen)
        unavailable(await client.get("/api/v1/orgs", headers=admin))


async def test_a_burst_beyond_the_admission_limit_is_shed_with_a_503(settings, tenant, monkeypatch):
    """Two requests may be in flight; the rest wait at most the admission wait, then 503."""
    from server.app import create_app
    from server.system.services import orgs

    real = orgs.search

    async def slow(*args, **kwargs):
        await asyncio.sleep(1.0)
        return await real(*args, **kwargs)

    app = create_app(Settings(**{**settings.__dict__, "max_in_flight": 2, "admission_wait": 0.1}))
    async with AsyncTestClient(app=app) as client:
        admin = await api_login(client, "admin@ACME")
        monkeypatch.setattr(orgs, "search", slow)
        answers = await concurrently(client, [("GET", "/api/v1/orgs", admin, None)] * 6)
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [200, 200, 503, 503, 503, 503], statuses
        for answer in answers:
            if answer.status_code == 503:
                unavailable(answer)
        assert (await client.get("/healthz")).status_code == 200


# --- the process: workers, PATH, restore ------------------------------------------------------------


def _serve(tmp_path: Path, url: str, workers: int, env_path: str | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "x"}
    env.pop("REDIS_URL", None)
    if env_path is not None:
        env["PATH"] = env_path
    log = open(tmp_path / f"serve-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if proc.poll() is not None:
            raise AssertionError((tmp_path / f"serve-{port}.log").read_text())
        try:
            if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError("server did not start")


def _children(pid: int) -> list[int]:
    """The server's workers: the supervisor's children but multiprocessing's resource tracker."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    pids = [int(p) for p in out.split()]
    return [p for p in pids if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


@sqlite_only
def test_a_killed_worker_is_replaced_and_the_server_keeps_answering(tmp_path):
    """kill -9 of one of two workers: the supervisor starts another instead of shutting everything
    down. It also runs without the virtualenv's bin on PATH (the server of the running interpreter)."""
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    subprocess.run([sys.executable, "-m", "server", "migrate"], cwd=ROOT, env=os.environ | {"DATABASE_URL": url})
    proc, base = _serve(tmp_path, url, workers=2, env_path="/usr/bin:/bin")
    try:
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        os.kill(workers[0], signal.SIGKILL)
        answered = 0
        for _ in range(400):  # up to ~40 s
            try:
                answered = answered + 1 if httpx.get(f"{base}/healthz", timeout=2).status_code == 200 else 0
            except httpx.HTTPError:
                answered = 0
            if answered >= 20 and len(_children(proc.pid)) == 2:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the server shut down"
        assert len(_children(proc.pid)) == 2 and answered >= 20
    finally:
        _stop(proc)


def test_restore_into_a_folder_that_does_not_exist_yet(tmp_path):
    source = tmp_path / "weifu.sqlite3"
    url = f"sqlite:///{source}"
    subprocess.run([sys.executable, "-m", "server", "migrate"], cwd=ROOT, env=os.environ | {"DATABASE_URL": url})
    snapshot = tmp_path / "snap.db"
    env = os.environ | {"DATABASE_URL": url}
    assert subprocess.run([sys.executable, "-m", "server", "backup", str(snapshot)], cwd=ROOT, env=env).returncode == 0
    target = tmp_path / "new" / "deeper" / "weifu.sqlite3"
    result = subprocess.run(
        [sys.executable, "-m", "server", "restore", str(snapshot)],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": f"sqlite:///{target}"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert sqlite3.connect(target).execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 10


@pg_only
async def test_the_pool_runs_without_jit(tenant):
    """JIT compiling a statement the planner costs high (an aggregate over a large tenant) took
    170 ms, far longer than running it: the app's connections turn it off."""
    from server.system.tables import Org

    assert (await Org.raw("SHOW jit"))[0]["jit"] == "off"
