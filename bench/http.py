"""The floor of every request over HTTP, on the production server configuration (issue 14).

Builds a fresh database (SQLite in a temporary directory, or with `--pg` the bench's own
PostgreSQL database `weifu_bench_http`), migrates it and loads the demo tenant, starts the real
server (granian with 2 workers as the Procfile; `--server uvicorn` one uvicorn process, `both`
each in turn) and drives, as admin@DEMO with a bearer token, c=16 clients for `--duration`
seconds per line (wrk when installed, else an httpx/asyncio load generator):
`/healthz`, `auth/me`, the goods list (first page, a filtered page, a search, page 1,000), the
stock list and moves, and the HTML lists 【货品管理】 and 【库存查询】 (session cookie); with
`--goods N` the goods lines read N goods of tenant BENCH (the issue's 110,000).
Prints req/s, p50, p99, and the SQL statements per request (a second server run with
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

from bench.common import free_port, pad, percentile, recreate_pg  # noqa: E402

PG_DB = "weifu_bench_http"
BENCH_PASSWORD = "bench1234"
# (name, path, who): "api" a bearer token of admin@DEMO, "page" its session cookie; the goods
# lines run as admin@BENCH when `--goods N` loaded N goods into tenant BENCH (bench/masterdata.py)
LINES = [
    ("/healthz", "/healthz", "api"),
    ("auth/me", "/api/v1/auth/me", "api"),
    ("goods page 1", "/api/v1/goods?page=1", "goods"),
    ("goods filtered", "/api/v1/goods?page=2&status=active&enabled=true", "goods"),
    ("goods q=屏幕总成", "/api/v1/goods?page=1&q=%E5%B1%8F%E5%B9%95%E6%80%BB%E6%88%90", "goods"),
    ("goods page 1000", "/api/v1/goods?page=1000&page_size=20", "goods"),
    ("stock page 1", "/api/v1/stock?page=1", "api"),
    ("stock moves", "/api/v1/stock-moves?page=1", "api"),
    ("【货品管理】", "/masterdata/goods/", "goods page"),
    ("【库存查询】", "/inventory/stock/", "page"),
]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(cmd: list[str], repo: Path, env: dict) -> None:
    result = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")


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


def start_server(kind: str, repo: Path, port: int, env: dict, log) -> subprocess.Popen:
    if kind == "granian":
        cmd = [
            *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--no-access-log"),
            "server.app:create_app",
        ]
    else:
        cmd = [
            *(sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"),
        ]
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}, see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


def wrk(url: str, header: str, connections: int, duration: int) -> tuple[float, float, float, int]:
    out = subprocess.run(
        [*("wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"), *("-H", header, url)],
        capture_output=True,
        text=True,
    ).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, ms("50%"), ms("99%"), int(errors.group(1)) if errors else 0


async def _httpx_load(url: str, header: str, connections: int, duration: int) -> tuple[float, float, float, int]:
    times: list[float] = []
    errors = 0
    end = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(headers=dict([header.split(": ", 1)]), limits=limits) as client:

        async def one() -> None:
            nonlocal errors
            while time.perf_counter() < end:
                t = time.perf_counter()
                response = await client.get(url)
                times.append((time.perf_counter() - t) * 1000)
                errors += response.status_code >= 300

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    times.sort()
    return len(times) / elapsed, percentile(times, 0.5), percentile(times, 0.99), errors


def load(url: str, header: str, connections: int, duration: int):
    if shutil.which("wrk"):
        return wrk(url, header, connections, duration)
    return asyncio.run(_httpx_load(url, header, connections, duration))


def login(base: str, tenant: str = "DEMO", password: str = "demo1234") -> str:
    response = httpx.post(f"{base}/api/v1/auth/token", json={"login": f"admin@{tenant}", "password": password})
    response.raise_for_status()
    return response.json()["token"]


def login_page(base: str, tenant: str = "DEMO", password: str = "demo1234") -> str:
    """The Cookie header of a browser session (the HTML lists)."""
    with httpx.Client(base_url=base) as client:
        client.get("/login")
        form = {"login": f"admin@{tenant}", "password": password, "otp": "", "_csrf_token": client.cookies["csrftoken"]}
        response = client.post("/login", data=form)
        assert "session" in client.cookies, response.text[:300]
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def headers(base: str, goods: bool) -> dict[str, str]:
    """The request header of each kind of line."""
    bench = ("BENCH", BENCH_PASSWORD) if goods else ("DEMO", "demo1234")
    return {
        "api": f"Authorization: Bearer {login(base)}",
        "page": f"Cookie: {login_page(base)}",
        "goods": f"Authorization: Bearer {login(base, *bench)}",
        "goods page": f"Cookie: {login_page(base, *bench)}",
    }


def statements(base: str, header: dict[str, str], sql_log: Path) -> dict[str, str]:
    counts = {}
    with httpx.Client() as client:
        for name, path, who in LINES:
            h = dict([header[who].split(": ", 1)])
            client.get(base + path, headers=h)  # warm: the per-process caches
            client.get(base + path, headers=h)
            before = sql_log.read_text().count("\n") if sql_log.exists() else 0
            for _ in range(20):
                client.get(base + path, headers=h)
            after = sql_log.read_text().count("\n") if sql_log.exists() else 0
            counts[name] = f"{(after - before) / 20:.1f}" if sql_log.exists() else "n/a"
    return counts


async def load_goods(url: str, n: int) -> None:
    """Tenant BENCH with `n` goods in a category tree (bench/masterdata.py's loader)."""
    from bench.masterdata import seed
    from server.core import db
    from server.system.services import tenants

    db.configure(url)
    await tenants.create("BENCH", "基准公司", BENCH_PASSWORD)
    await seed(url, n, random.Random(7), analyze=True)  # as autovacuum would after such a load


def bench(kind: str, repo: Path, env: dict, tmp: Path, args) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp / f"server-{kind}.log", "w") as log:
        proc = start_server(kind, repo, port, env, log)
        try:
            header = headers(base, bool(args.goods))
            for _, path, who in LINES:  # warm up every worker
                load(base + path, header[who], args.connections, 1)
            print(
                f"\n{kind} ({'2 workers' if kind == 'granian' else '1 process'}), c={args.connections}, "
                f"{args.duration} s a line; server before: {process_stats(proc.pid)}"
            )
            print(f"  {'request':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}   load average")
            for name, path, who in LINES:
                rate, p50, p99, errors = load(base + path, header[who], args.connections, args.duration)
                print(f"  {pad(name, 16)} {rate:>8.0f} {p50:>8.1f} {p99:>8.1f} {errors:>8}   {loadavg()}")
            print(f"  server after: {process_stats(proc.pid)}")
        finally:
            stop_server(proc)
        sql_log = tmp / "sql.log"
        proc = start_server(kind, repo, port, env | {"WEIFU_SQL_LOG": str(sql_log)}, log)
        try:
            counts = statements(base, headers(base, bool(args.goods)), sql_log)
        finally:
            stop_server(proc)
        print("  SQL statements per request: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (its own database) instead of SQLite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--pg-db", default=PG_DB, help="the bench's own database (dropped and created)")
    parser.add_argument("--server", choices=["granian", "uvicorn", "both"], default="granian")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--goods", type=int, default=0, help="load N goods into tenant BENCH for the goods lines")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    repo = args.repo.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="weifu-http-"))
    if args.pg:
        asyncio.run(recreate_pg(args.pg_url, args.pg_db))
        url = f"{args.pg_url}/{args.pg_db}"
    else:
        url = f"sqlite:///{tmp / 'weifu.sqlite3'}"
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "bench-http", "WEIFU_ENV": "dev", "PYTHONPATH": str(repo)}
    env.pop("REDIS_URL", None)
    env.pop("WEIFU_SQL_LOG", None)
    commit = subprocess.run(["git", "log", "--oneline", "-1"], cwd=repo, capture_output=True, text=True).stdout
    generator = "wrk" if shutil.which("wrk") else "httpx"
    print(f"code {repo} ({commit.strip()[:70]})")
    print(f"database {'PostgreSQL' if args.pg else 'SQLite'}; load generator {generator}; load average {loadavg()}")
    try:
        run([sys.executable, "-m", "server", "migrate"], repo, env)
        run([sys.executable, "-m", "server", "demo"], repo, env)
        if args.goods:
            asyncio.run(load_goods(url, args.goods))
        for kind in ["granian", "uvicorn"] if args.server == "both" else [args.server]:
            bench(kind, repo, env, tmp, args)
    finally:
        if args.pg:
            asyncio.run(recreate_pg(args.pg_url, args.pg_db, drop_only=True))
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
