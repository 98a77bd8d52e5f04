"""The floor of every request over HTTP, on the production server configuration (issue 14).

Builds a fresh database (SQLite in a temporary directory, or with `--pg` the bench's own
PostgreSQL database `weifu_bench_http`), migrates it and loads the demo tenant, starts the real
server (granian, or `--server uvicorn`, or `both` each in turn; `--workers` processes, 2 by
default) and drives, as admin@DEMO with a bearer token, c=16 clients for `--duration`
seconds per line (wrk when installed, else an httpx/asyncio load generator):
`/healthz`, `auth/me`, the goods list (first page, a filtered page, a search, page 1,000), the
stock list and moves, the HTML lists 【货品管理】 and 【库存查询】 (session cookie) and
`POST …/call-next`; with `--goods N` the goods lines read N goods of tenant BENCH (the issue's
110,000). Prints req/s, p50, p95, p99, the server's CPU time per request (all its processes: what a
loaded machine changes least), and the SQL statements per request (a second server run with
WEIFU_SQL_LOG set, 20 sequential requests per line; servers older than the log print n/a),
the load average beside each line, and the server's threads and RSS before and after.

`--repo PATH` serves another checkout's code (e.g. a git worktree of main for the "before"
figures) with this script. Not a test: the machine may be shared; read the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as `python bench/http.py`, the script's directory heads sys.path and this file would stand
# in for the standard library's `http` (httpx imports http.client): the repository instead.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.dirname(HERE))

import httpx  # noqa: E402

from bench.common import bench_database, cpu_seconds, free_port, loadavg, pad, percentile, start_server, stop_server  # noqa: E402

PG_DB = "weifu_bench_http"
BENCH_PASSWORD = "bench1234"
# (name, method, path, credentials): a bearer token or the session cookie of admin@DEMO; the goods
# lines run as admin@BENCH when `--goods N` loaded N goods into tenant BENCH (bench/masterdata.py)
LINES = [
    ("/healthz", "GET", "/healthz", "bearer"),
    ("auth/me", "GET", "/api/v1/auth/me", "bearer"),
    ("goods page 1", "GET", "/api/v1/goods?page=1", "goods bearer"),
    ("goods filtered", "GET", "/api/v1/goods?page=2&status=active&enabled=true", "goods bearer"),
    ("goods q=屏幕总成", "GET", "/api/v1/goods?page=1&q=%E5%B1%8F%E5%B9%95%E6%80%BB%E6%88%90", "goods bearer"),
    ("goods page 1000", "GET", "/api/v1/goods?page=1000&page_size=20", "goods bearer"),
    ("stock page 1", "GET", "/api/v1/stock?page=1", "bearer"),
    ("stock moves", "GET", "/api/v1/stock-moves?page=1", "bearer"),
    ("【货品管理】", "GET", "/masterdata/goods/", "goods cookie"),
    ("【库存查询】", "GET", "/inventory/stock/", "cookie"),
    ("call-next", "POST", "/api/v1/queue/counters/{counter}/call-next", "bearer"),
]
WAITING = 40_000  # tickets queued for call-next, more than any run calls


def descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = map(int, line.split())
        children.setdefault(pp, []).append(p)
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def process_stats(pid: int) -> str:
    """Threads and RSS of each process of the server (the granian parent included)."""
    parts = []
    for p in descendants(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        threads = re.search(r"Threads:\s+(\d+)", status).group(1)
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024
        parts.append(f"{threads} thr/{rss} MB")
    return ", ".join(parts)


# wrk's --latency table has no 95th percentile: its `done` hook prints it (microseconds)
WRK_SCRIPT = """wrk.method = "{method}"
done = function(summary, latency, requests)
  io.write(string.format("p95us %d\\n", latency:percentile(95)))
end
"""


def wrk(
    url: str, method: str, headers: dict, connections: int, duration: int
) -> tuple[float, float, float, float, int]:
    """req/s, p50, p95 and p99 in ms, and the non-2xx/3xx answers."""
    script = Path(tempfile.gettempdir()) / f"weifu-wrk-{method.lower()}.lua"
    script.write_text(WRK_SCRIPT.format(method=method))
    out = subprocess.run(
        [
            *("wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script)),
            *(a for k, v in headers.items() for a in ("-H", f"{k}: {v}")),
            url,
        ],
        capture_output=True,
        text=True,
    ).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p95 = int(re.search(r"^p95us (\d+)$", out, re.M).group(1)) / 1000
    return rate, ms("50%"), p95, ms("99%"), int(errors.group(1)) if errors else 0


async def _httpx_load(
    url: str, method: str, headers: dict, connections: int, duration: int
) -> tuple[float, float, float, float, int]:
    times: list[float] = []
    errors = 0
    end = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits) as client:

        async def one() -> None:
            nonlocal errors
            while time.perf_counter() < end:
                t = time.perf_counter()
                response = await client.request(method, url)
                times.append((time.perf_counter() - t) * 1000)
                errors += response.status_code >= 300

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    times.sort()
    return len(times) / elapsed, *(percentile(times, q) for q in (0.5, 0.95, 0.99)), errors


def load(url: str, method: str, headers: dict, connections: int, duration: int):
    if shutil.which("wrk"):
        return wrk(url, method, headers, connections, duration)
    return asyncio.run(_httpx_load(url, method, headers, connections, duration))


def _credentials(base: str, tenant: str, password: str) -> tuple[dict, dict]:
    """admin@tenant's headers: a bearer token for the API, a session cookie for the pages."""
    login = f"admin@{tenant}"
    response = httpx.post(f"{base}/api/v1/auth/token", json={"login": login, "password": password})
    response.raise_for_status()
    with httpx.Client(base_url=base) as browser:
        browser.get("/login")
        form = {"login": login, "password": password, "otp": ""}
        browser.post("/login", data=form | {"_csrf_token": browser.cookies.get("csrftoken", "")})
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    return {"Authorization": f"Bearer {response.json()['token']}"}, {"Cookie": cookie}


def credentials(base: str, goods: bool) -> dict[str, dict]:
    """The headers of each kind of line: admin@DEMO's, and for the goods lines admin@BENCH's when
    `--goods` loaded tenant BENCH."""
    bearer, cookie = _credentials(base, "DEMO", "demo1234")
    goods_bearer, goods_cookie = _credentials(base, "BENCH", BENCH_PASSWORD) if goods else (bearer, cookie)
    return {"bearer": bearer, "cookie": cookie, "goods bearer": goods_bearer, "goods cookie": goods_cookie}


async def load_goods(url: str, n: int) -> None:
    """Tenant BENCH with `n` goods in a category tree (bench/masterdata.py's loader)."""
    from bench.masterdata import seed
    from server.core import db
    from server.system.services import tenants

    db.configure(url)
    await tenants.create("BENCH", "基准公司", BENCH_PASSWORD)
    await seed(url, n, random.Random(7), analyze=True)  # as autovacuum would after such a load


async def queue_tickets(url: str, n: int) -> int:
    """n tickets waiting today at the demo tenant's first counter, straight into the database:
    call-next's work. Returns the counter's id."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from server import domains  # noqa: F401  (every table on the engine)
    from server.core import db
    from server.queue.tables import QueueCounter, QueueCounterService, QueueTicket

    db.configure(url)
    counter = await QueueCounter.select().where(QueueCounter.enabled == True).order_by(QueueCounter.id).first()  # noqa: E712
    services = await QueueCounterService.select(QueueCounterService.service, QueueCounterService.service.prefix).where(
        QueueCounterService.counter == counter["id"]
    )
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    columns = (QueueTicket.tenant_id, QueueTicket.org_id, QueueTicket.service, QueueTicket.day, QueueTicket.seq)
    columns += (QueueTicket.no, QueueTicket.status, QueueTicket.taken_at)
    rows = []
    for i in range(n):
        service = services[i % len(services)]
        seq = 100_000 + i
        no = f"{service['service.prefix']}{seq}"
        rows.append((counter["tenant_id"], counter["org_id"], service["service"], now.date(), seq, no, "waiting", now))
    for start in range(0, n, 1000):
        async with db.atomic():
            await db.bulk_insert(QueueTicket, columns, rows[start : start + 1000])
    await db.stop()
    return counter["id"]


def statements(base: str, lines: list[tuple], headers: dict[str, dict], sql_log: Path) -> dict[str, str]:
    counts = {}
    for name, method, path, kind in lines:
        with httpx.Client(headers=headers[kind]) as client:
            client.request(method, base + path)  # warm: the per-process caches
            client.request(method, base + path)
            before = sql_log.read_text().count("\n") if sql_log.exists() else 0
            for _ in range(20):
                client.request(method, base + path)
            after = sql_log.read_text().count("\n") if sql_log.exists() else 0
            counts[name] = f"{(after - before) / 20:.1f}" if sql_log.exists() else "n/a"
    return counts


def bench(kind: str, repo: Path, env: dict, tmp: Path, lines: list[tuple], args) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp / f"server-{kind}.log", "w") as log:
        proc = start_server(port, env, log, server=kind, workers=args.workers, cwd=repo)
        try:
            headers = credentials(base, bool(args.goods))
            for _, method, path, who in lines:  # warm up every worker
                load(base + path, method, headers[who], args.connections, 1)
            print(
                f"\n{kind} × {args.workers}, c={args.connections}, "
                f"{args.duration} s a line; server before: {process_stats(proc.pid)}"
            )
            head = f"{'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'CPU ms':>7}"
            print(f"  {'request':<16} {head}   load average")
            for name, method, path, who in lines:
                cpu = cpu_seconds(proc.pid)
                rate, p50, p95, p99, errors = load(base + path, method, headers[who], args.connections, args.duration)
                per_request = (cpu_seconds(proc.pid) - cpu) * 1000 / max(1, rate * args.duration)
                figures = f"{rate:>8.0f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {errors:>8} {per_request:>7.2f}"
                print(f"  {pad(name, 16)} {figures}   {loadavg()}")
            print(f"  server after: {process_stats(proc.pid)}")
        finally:
            stop_server(proc)
        sql_log = tmp / "sql.log"
        logged = env | {"WEIFU_SQL_LOG": str(sql_log)}
        proc = start_server(port, logged, log, server=kind, workers=args.workers, cwd=repo)
        try:
            counts = statements(base, lines, credentials(base, bool(args.goods)), sql_log)
        finally:
            stop_server(proc)
        print("  SQL statements per request: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (its own database) instead of SQLite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--pg-db", default=PG_DB, help="the bench's own database (dropped and created)")
    parser.add_argument("--server", choices=["granian", "uvicorn", "both"], default="granian")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--goods", type=int, default=0, help="load N goods into tenant BENCH for the goods lines")
    parser.add_argument("--only", nargs="*", metavar="NAME", help="these lines only (their names as printed)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    repo = args.repo.resolve()
    pg_url = args.pg_url if args.pg else None
    print(f"load generator {'wrk' if shutil.which('wrk') else 'httpx'}")
    with bench_database(args.pg_db, pg_url=pg_url, keep=args.keep, repo=repo) as (url, env, tmp):
        if args.goods:
            asyncio.run(load_goods(url, args.goods))
        counter = asyncio.run(queue_tickets(url, WAITING))
        lines = [(n, m, p.format(counter=counter), w) for n, m, p, w in LINES if not args.only or n in args.only]
        for kind in ["granian", "uvicorn"] if args.server == "both" else [args.server]:
            bench(kind, repo, env, tmp, lines, args)


if __name__ == "__main__":
    main()
