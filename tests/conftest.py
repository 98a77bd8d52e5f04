"""Test fixtures: a fresh database per test on SQLite (a copy of a migrated template file) or
PostgreSQL (`TEST_DATABASE_URL`: one migrated database per xdist worker, truncated between
tests), the app on the memory or Redis (`TEST_REDIS_URL`) backends, tenants, clients and ctx, live servers
and a local SMTP sink."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from server import domains  # noqa: F401  (registers every domain's codes, topics and hooks)
from server.core import db, throttle
from server.settings import ROOT, Settings

PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# One id per pytest run (xdist gives its workers the same one): two runs at once, from two
# checkouts, never drop each other's PostgreSQL databases.
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"{os.getpid()}")[:8]
ADMIN_PASSWORD = "admin1234"
# Concurrency tests queue dozens of writers on SQLite's lock, on a machine other jobs may load:
# longer waits than production's (fault tests set their own).
TEST_TIMEOUTS = db.Timeouts(busy=30, acquire=30, statement=60)


def run_migrations(url: str) -> None:
    env = os.environ | {"DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "server", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Iterator[str]:
    """A migrated database this worker copies (SQLite) or truncates (PostgreSQL) for each test."""
    if PG_URL:
        import asyncpg

        name = f"weifu_test_{RUN}_{WORKER}"

        async def recreate(create: bool = True) -> None:
            conn = await asyncpg.connect(PG_URL)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                if create:
                    await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(recreate())
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
        run_migrations(url)
        yield url
        asyncio.run(recreate(create=False))
        return
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    run_migrations(f"sqlite:///{path}")
    yield str(path)


@pytest.fixture
async def database_url(template_db, tmp_path) -> AsyncIterator[str]:
    if PG_URL:
        engine = db.configure(template_db, TEST_TIMEOUTS)
        tables = ", ".join(f'"{t._meta.tablename}"' for t in db.all_tables())
        await engine.run_ddl(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        yield template_db
        return
    path = tmp_path / "weifu.sqlite3"
    shutil.copyfile(template_db, path)
    url = f"sqlite:///{path}"
    db.configure(url, TEST_TIMEOUTS)
    yield url


# Tests run PostgreSQL without the app's pool (the reused app serves several event loops: the
# test's and the client's portal), so every query or transaction in flight holds a connection of
# its own, and a concurrency test with 100 calls at once would pass PostgreSQL's default
# max_connections (100) on its own. Each worker waits for one of PG_CONNECTIONS slots instead:
# two workers and their live servers (5 each) stay well under it.
PG_CONNECTIONS = 30


def _cap_pg_connections() -> None:
    import threading
    import time

    import asyncpg

    lock = threading.Lock()  # the slots are shared by every event loop of the worker
    held = [0]

    class Capped(asyncpg.Connection):
        _released = False

        def _cleanup(self) -> None:  # asyncpg calls it once the connection is closed or lost
            super()._cleanup()
            if not self._released:
                self._released = True
                with lock:
                    held[0] -= 1

    async def get_new_connection(self) -> asyncpg.Connection:
        deadline = time.monotonic() + TEST_TIMEOUTS.acquire
        while True:
            with lock:
                if held[0] < PG_CONNECTIONS:
                    held[0] += 1
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"all {PG_CONNECTIONS} PostgreSQL connections held for {TEST_TIMEOUTS.acquire} s")
            await asyncio.sleep(0.005)
        try:
            return await asyncpg.connect(**self.config, connection_class=Capped)
        except BaseException:
            with lock:
                held[0] -= 1
            raise

    db._PostgresEngine.get_new_connection = get_new_connection


if PG_URL:
    _cap_pg_connections()


# One Redis key prefix per worker and run: the worker's app is reused from test to test, and
# what a test leaves in Redis under it is deleted before the next one.
REDIS_PREFIX = f"WEIFUTEST{RUN}{WORKER}"


@pytest.fixture(autouse=True)
def fresh_throttle():
    """Login failure counters (and, with Redis, sessions and auth generations) never leak from one
    test into another."""
    throttle.bind(throttle.MemoryCounter())
    if REDIS_URL:
        import redis

        with redis.Redis.from_url(REDIS_URL) as client:
            keys = list(client.scan_iter(match=f"{REDIS_PREFIX}*", count=1000))
            if keys:
                client.delete(*keys)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        secret_key="test-secret",
        db_pool=False,
        env="dev",
        session_dir=tmp_path / "sessions",
        db_timeouts=TEST_TIMEOUTS,
        redis_prefix=REDIS_PREFIX,
    )


_apps: dict[tuple, object] = {}


@pytest.fixture
async def app(settings):
    """One app per worker and configuration, reused: building one costs ~0.4 s, and what a test
    must not inherit lives outside it — the database (`database_url` points the tables at a fresh
    one), the login throttle and the Redis keys, emptied by `fresh_throttle` (sessions have ids of
    their own). Its Redis clients close their connections at shutdown, so each test's event loop
    opens its own."""
    from server.app import create_app

    key = (settings.env, settings.secret_key, settings.db_pool, settings.redis_url)
    if key not in _apps:
        _apps[key] = create_app(settings)
    return _apps[key]  # its startup, run by each client, binds an empty throttle


@pytest.fixture
async def client(app) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.fixture
async def tenant(database_url):
    """Tenant ACME with its head office and admin@ACME; the platform Ctx (every permission)."""
    from server.system.services import tenants

    return await tenants.create("ACME", "艾克米维修", ADMIN_PASSWORD)


@pytest.fixture
async def other_tenant(database_url):
    from server.system.services import tenants

    return await tenants.create("OTHER", "别家公司", ADMIN_PASSWORD)


async def api_login(
    client: AsyncTestClient, login: str, password: str = ADMIN_PASSWORD, otp: str | None = None
) -> dict:
    """Bearer headers for `login` (fails the test when login is refused)."""
    body = {"login": login, "password": password} | ({"otp": otp} if otp else {})
    response = await client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def page_login(client: AsyncTestClient, login: str, password: str = ADMIN_PASSWORD, otp: str = "") -> None:
    """Log the client in through the HTML form (session cookie + CSRF cookie)."""
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"login": login, "password": password, "otp": otp, "_csrf_token": client.cookies.get("csrftoken", "")},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text


def csrf(client: AsyncTestClient) -> dict:
    """Header carrying the CSRF token, as htmx sends it."""
    return {"x-csrftoken": client.cookies.get("csrftoken", ""), "hx-request": "true"}


@pytest.fixture
async def admin(client, tenant) -> dict:
    """Bearer headers of admin@ACME."""
    return await api_login(client, "admin@ACME")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """What a local SMTP server took (customer notices): one aiosmtpd envelope per message."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's name)
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    """An SMTP server on a local port, in a thread of its own (a live server's job reaches it too)."""
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


class _Forked:
    """A server forked by the zygote, with the part of `Popen`'s interface the tests use. The
    zygote's child, not ours: gone once the kernel reaped it (its exit status is not ours to read)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 0
        return None

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"live server {self.pid}", timeout)
            time.sleep(0.02)
        return 0

    def send_signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class _Zygote:
    """This worker's `tests/live_zygote.py` process, started with the first live server."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.live_zygote"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def spawn(self, args: list[str], env: dict, log: str) -> _Forked:
        import json

        self.proc.stdin.write(json.dumps({"args": args, "env": env, "cwd": str(ROOT), "log": log}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the live zygote exited ({self.proc.wait()})")
        return _Forked(int(line))


_zygotes: list[_Zygote] = []


def _zygote() -> _Zygote:
    if not _zygotes or _zygotes[0].proc.poll() is not None:
        _zygotes[:] = [_Zygote()]
    return _zygotes[0]


class LiveServer:
    """A real app process (uvicorn) on the test's database, for WebSocket and browser tests."""

    def __init__(self, settings: Settings, tmp_path: Path, redis_url: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = os.environ | {
            "DATABASE_URL": settings.database_url,
            "SECRET_KEY": settings.secret_key,
            "WEIFU_REDIS_PREFIX": settings.redis_prefix,
            "SQLITE_BUSY_TIMEOUT": str(TEST_TIMEOUTS.busy),
        }
        env.pop("REDIS_URL", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.log = open(tmp_path / f"server-{self.port}.log", "w")  # noqa: SIM115
        args = [
            *("server.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(self.port)),
            *("--ws", "websockets-sansio", "--no-proxy-headers", "--log-level", "warning"),
        ]
        self.proc = _zygote().spawn(args, env, self.log.name)

    def wait(self) -> LiveServer:
        import time

        import httpx

        for _ in range(200):
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {Path(self.log.name).read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def live_server_factory(settings, tmp_path):
    """Start app processes on this test's database (`redis_url` to share a Redis broker)."""
    servers: list[LiveServer] = []

    def start(redis_url: str | None = REDIS_URL) -> LiveServer:
        server = LiveServer(settings, tmp_path, redis_url)
        servers.append(server)
        return server.wait()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(live_server_factory, tenant) -> LiveServer:
    return live_server_factory()
