"""Faults under load (issue 12): a Redis restart, a worker killed, the database frozen.

    .venv/bin/python bench/faults.py [--pg] [--fault redis|worker|db|all] [--clients 8] [--keep]

For each fault: a fresh database (SQLite file, or with --pg the bench's own PostgreSQL database
`weifu_bench_faults` on 127.0.0.1:5432), a throwaway redis-server of its own on a free port (with
an append-only file, as the README asks of production), and the production server configuration
(`python -m server serve --workers 2`: uvicorn workers, which its supervisor starts again). `--clients` writers
create orgs through the API as fast as they are answered while a WebSocket client listens as the
head office's admin (reconnecting like a page). After 5 s the fault is injected:

- redis: redis-server killed, started again 3 s later on the same port;
- worker: one server worker killed with SIGKILL;
- db: SQLite's write lock held by another connection for 10 s (BEGIN EXCLUSIVE), or on
  PostgreSQL the org table locked ACCESS EXCLUSIVE for 10 s by another session.

Printed per fault: writes sent / acknowledged (201) / refused 503 / other errors, the slowest
answer, seconds from the end of the fault until the first live update of a write made after it,
and the invariant check: every acknowledged write is in the database, exactly once. The shared
PostgreSQL and Redis are never stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the repository, not bench/ (where queue.py would stand in for the stdlib queue)

import httpx  # noqa: E402

from bench.common import free_port, recreate_pg  # noqa: E402
from tests.realtime.throwaway_redis import REDIS_SERVER, ThrowawayRedis  # noqa: E402

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_DB = "weifu_bench_faults"
PASSWORD = "bench1234"
FAULT_AT = 5.0  # s of steady load before the fault
AFTER = 10.0  # s of load after the fault is over


def run(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def children(pid: int) -> list[int]:
    """The server's workers: the supervisor's children but multiprocessing's resource tracker."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    pids = [int(p) for p in out.split()]
    return [p for p in pids if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]


class Load:
    """Writers creating orgs, and one live socket counting what reaches it."""

    def __init__(self, base: str, token: str, hq: int, clients: int) -> None:
        self.base, self.token, self.hq, self.clients = base, token, hq, clients
        self.sent = self.ok = self.unavailable = self.other = 0
        self.slowest = 0.0
        self.acked: dict[int, str] = {}  # org id → code
        self.created_at: dict[str, float] = {}  # org id (text) → when its write was answered
        self.first_live_after: float | None = None
        self.fault_over: float | None = None
        self.stop = False

    async def writer(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.base, headers=headers, timeout=60) as client:
            i = 0
            while not self.stop:
                i += 1
                code = f"F{n}-{i}"
                started = time.monotonic()
                self.sent += 1
                try:
                    r = await client.post(
                        "/api/v1/orgs",
                        json={"code": code, "name": f"压测{code}", "parent_id": self.hq},
                        headers={"Idempotency-Key": f"bench-{code}"},
                    )
                except httpx.HTTPError:
                    self.other += 1
                    await asyncio.sleep(0.2)
                    continue
                self.slowest = max(self.slowest, time.monotonic() - started)
                if r.status_code == 201:
                    self.ok += 1
                    org = r.json()
                    self.acked[org["id"]] = code
                    self.created_at[str(org["id"])] = time.monotonic()
                elif r.status_code == 503:
                    self.unavailable += 1
                    await asyncio.sleep(float(r.headers.get("Retry-After", "1")) / 5)
                else:
                    self.other += 1

    async def listener(self) -> None:
        from websockets.asyncio.client import connect

        url = self.base.replace("http", "ws", 1) + "/ws"
        while not self.stop:
            try:
                async with connect(url, additional_headers={"Authorization": f"Bearer {self.token}"}) as ws:
                    while not self.stop:
                        message = await asyncio.wait_for(ws.recv(), timeout=1)
                        self._seen(message if isinstance(message, str) else message.decode())
            except (TimeoutError, OSError, Exception):  # closed by the fault: reconnect, as a page does
                await asyncio.sleep(0.3)

    def _seen(self, message: str) -> None:
        if self.fault_over is None or self.first_live_after is not None:
            return
        for ref, at in self.created_at.items():
            if at > self.fault_over and f'"{ref}"' in message:
                self.first_live_after = time.monotonic()
                return


async def inject(fault: str, server: subprocess.Popen, redis: ThrowawayRedis, url: str, db_path: str | None) -> None:
    if fault == "redis":
        redis.kill()
        await asyncio.sleep(3)
        redis.start()
    elif fault == "worker":
        workers = children(server.pid)
        if workers:
            os.kill(workers[0], signal.SIGKILL)
    elif db_path:
        conn = sqlite3.connect(db_path, timeout=30)
        conn.execute("BEGIN EXCLUSIVE")
        await asyncio.sleep(10)
        conn.rollback()
        conn.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(url)
        tx = conn.transaction()
        await tx.start()
        await conn.execute("LOCK TABLE org IN ACCESS EXCLUSIVE MODE")
        await asyncio.sleep(10)
        await tx.rollback()
        await conn.close()


async def check(url: str, db_path: str | None, acked: dict[int, str]) -> str:
    if db_path:
        conn = sqlite3.connect(db_path)
        rows = conn.execute("SELECT id, code FROM org").fetchall()
        conn.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(url)
        rows = [tuple(r) for r in await conn.fetch("SELECT id, code FROM org")]
        await conn.close()
    stored = dict(rows)
    codes = [c for _, c in rows]
    missing = [i for i, code in acked.items() if stored.get(i) != code]
    duplicates = len(codes) - len(set(codes))
    if missing or duplicates:
        return f"FAILED: {len(missing)} acknowledged writes missing, {duplicates} duplicate codes"
    return (
        f"OK ({len(acked)} acknowledged writes stored once each; {len(rows) - len(acked) - 1} more stored unanswered)"
    )


async def one(fault: str, pg: bool, clients: int, work: Path) -> None:
    if pg:
        await recreate_pg(PG_SERVER, PG_DB)
        url, db_path = f"{PG_SERVER}/{PG_DB}", None
    else:
        db_path = str(work / f"{fault}.sqlite3")
        url = f"sqlite:///{db_path}"
    redis = ThrowawayRedis(work, persistent=True).start()
    port = free_port()
    env = os.environ | {"DATABASE_URL": url, "REDIS_URL": redis.url, "WEIFU_REDIS_PREFIX": f"faults{port}"}
    run(env, "migrate")
    run(env, "tenant", "create", "--code", "BENCH", "--name", "压测公司", "--admin-password", PASSWORD)
    log = open(work / f"server-{fault}.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--workers", "2", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        token = httpx.post(f"{base}/api/v1/auth/token", json={"login": "admin@BENCH", "password": PASSWORD}).json()[
            "token"
        ]
        hq = httpx.get(f"{base}/api/v1/orgs", params={"kind": "hq"}, headers={"Authorization": f"Bearer {token}"})
        load = Load(base, token, hq.json()["items"][0]["id"], clients)
        tasks = [asyncio.create_task(load.writer(n)) for n in range(clients)]
        tasks.append(asyncio.create_task(load.listener()))
        await asyncio.sleep(FAULT_AT)
        started = time.monotonic()
        await inject(fault, server, redis, url, db_path)
        load.fault_over = time.monotonic()
        await asyncio.sleep(AFTER)
        load.stop = True
        await asyncio.gather(*tasks, return_exceptions=True)
        resumed = (
            f"{load.first_live_after - load.fault_over:.1f} s"
            if load.first_live_after is not None
            else f"not within {AFTER:.0f} s"
        )
        print(
            f"{fault:<7} {'PostgreSQL' if pg else 'SQLite':<10} fault {load.fault_over - started:4.1f} s | "
            f"sent {load.sent:5} ok {load.ok:5} 503 {load.unavailable:4} other {load.other:3} | "
            f"slowest {load.slowest * 1000:6.0f} ms | live again after {resumed} | "
            f"invariants {await check(url, db_path, load.acked)}",
            flush=True,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
        redis.kill()
        if pg:
            await recreate_pg(PG_SERVER, PG_DB, drop_only=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--fault", choices=("redis", "worker", "db", "all"), default="all")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (databases, logs)")
    args = parser.parse_args()
    if REDIS_SERVER is None:
        raise SystemExit("redis-server is needed (apt-get install -y redis-server)")
    work = Path(tempfile.mkdtemp(prefix="weifu-faults-"))
    print(f"load average {os.getloadavg()[0]:.1f}; {args.clients} writers; work in {work}")
    for fault in ("redis", "worker", "db") if args.fault == "all" else (args.fault,):
        asyncio.run(one(fault, args.pg, args.clients, work))
    if not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
