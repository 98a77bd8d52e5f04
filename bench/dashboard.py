"""【看板】 under a large tenant (issue 18): p50/p95 of the dashboard JSON and of its page, on SQLite
or PostgreSQL.

    .venv/bin/python bench/dashboard.py [--pg] [--orders 1000000] [--goods 100000] [--requests 200] [--keep]

Builds a fresh database (SQLite in a temporary directory, or with `--pg` the bench's own
PostgreSQL database `weifu_bench_dashboard`), migrates it and loads the demo tenant, then adds by
bulk load (bench/workorders.py's loader: COPY / one executemany transaction, not the services)
200 orgs, 100 technicians and `--orders` work orders spread over a year, and `--goods` goods of
the demo tenant, each with a stock row at the head office (about a third under safety stock).
Starts the real server (uvicorn × `--workers`) and asks, one request at a time as admin@DEMO
(the head office: the whole tenant), `--requests` times each: the JSON (`/api/v1/dashboard`),
the page (`/dashboard`), the live region (`/dashboard/board`) and the JSON narrowed to a region
(`?org_id=`). Prints p50 and p95 per line, then the SQL statements per request (a second server
run with WEIFU_SQL_LOG: they must not grow with the data).

Not a test: the machine may be shared; read the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.dirname(HERE))

import httpx  # noqa: E402

from bench.common import Loader, bench_database, free_port, loadavg, pad, percentile, start_server, stop_server  # noqa: E402
from bench.http import _credentials, statements  # noqa: E402
from bench.workorders import seed as seed_orders  # noqa: E402

PG_DB = "weifu_bench_dashboard"
GOODS_COLUMNS = ("id", "tenant_id", "code", "name", "category", "unit", "safety_stock", "created_at", "updated_at")
STOCK_COLUMNS = ("tenant_id", "org_id", "warehouse", "goods", "qty", "updated_at")


async def seed_goods(url: str, n_goods: int, rng: random.Random) -> dict:
    """`n_goods` parts of the demo tenant under one of its categories, each with a stock row in
    the head office's first warehouse: qty 0–20 against a safety stock of 0–10."""
    from server import domains  # noqa: F401
    from server.core import db
    from server.masterdata.tables import Goods, TreeNode, Warehouse
    from server.system.services import tenants
    from server.system.tables import Org

    db.configure(url)
    ctx = await tenants.platform_ctx("DEMO")
    category = (
        await TreeNode.select(TreeNode.id)
        .where((TreeNode.tenant_id == ctx.tenant_id) & (TreeNode.kind == "category"))
        .first()
    )
    warehouse = await Warehouse.select(Warehouse.id).where(Warehouse.tenant_id == ctx.tenant_id).first()
    top = (await Goods.select(Goods.id).order_by(Goods.id, ascending=False).first())["id"]
    region = await Org.select(Org.id).where((Org.tenant_id == ctx.tenant_id) & (Org.depth == 2)).first()
    await db.stop()
    end = datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0)
    goods, stock, below = [], [], 0
    for i in range(n_goods):
        gid = top + 1 + i
        safety, qty = rng.randint(0, 10), rng.randint(0, 20)
        below += qty < safety
        goods.append((gid, ctx.tenant_id, f"BP{i:06d}", f"基准配件{i}", category["id"], "个", safety, end, end))
        stock.append((ctx.tenant_id, ctx.org_id, warehouse["id"], gid, qty, end))
    async with Loader(url) as bulk:
        await bulk.rows("md_goods", GOODS_COLUMNS, goods)
        await bulk.rows("inv_stock", STOCK_COLUMNS, stock)
        if not bulk.path:
            sequence = "SELECT setval(pg_get_serial_sequence('md_goods', 'id'), (SELECT max(id) FROM md_goods))"
            await bulk.conn.execute(sequence)
            for table in ("md_goods", "inv_stock"):
                await bulk.conn.execute(f"VACUUM ANALYZE {table}")
        else:
            bulk.conn.execute("ANALYZE")  # as a running SQLite app's optimize would
    return {"below": below, "region": region["id"]}


def latencies(base: str, path: str, headers: dict, n: int) -> tuple[float, float, int]:
    """p50 and p95 (ms) of `n` requests one after the other, and how many did not answer 200."""
    times, errors = [], 0
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(3):  # warm: the per-process caches, the pages' templates
            client.get(path)
        for _ in range(n):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            errors += response.status_code != 200
    times.sort()
    return percentile(times, 0.50), percentile(times, 0.95), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (its own database) instead of SQLite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--goods", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    pg_url = args.pg_url if args.pg else None
    with bench_database(PG_DB, pg_url=pg_url, keep=args.keep) as (url, env, tmp):
        t0 = time.monotonic()
        data = asyncio.run(seed_orders(url, args.orders, random.Random(18)))
        stock = asyncio.run(seed_goods(url, args.goods, random.Random(18)))
        print(
            f"loaded {args.orders:,} orders, 200 orgs, 100 technicians, {args.goods:,} goods with stock "
            f"({stock['below']:,} below safety) in {time.monotonic() - t0:.1f} s"
        )
        lines = [
            ("JSON", "/api/v1/dashboard", "bearer"),
            ("page", "/dashboard", "cookie"),
            ("live region", "/dashboard/board", "cookie"),
            ("JSON, one region", f"/api/v1/dashboard?org_id={stock['region']}", "bearer"),
        ]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with open(tmp / "server.log", "w") as log:
            proc = start_server(port, env, log, workers=args.workers)
            try:
                bearer, cookie = _credentials(base, "DEMO", "demo1234")
                headers = {"bearer": bearer, "cookie": cookie}
                print(f"\nuvicorn × {args.workers}, {args.requests} requests a line, one at a time")
                print(f"  {'request':<18} {'p50 ms':>8} {'p95 ms':>8} {'non-200':>8}   load average")
                for name, path, kind in lines:
                    p50, p95, errors = latencies(base, path, headers[kind], args.requests)
                    print(f"  {pad(name, 18)} {p50:>8.1f} {p95:>8.1f} {errors:>8}   {loadavg()}")
            finally:
                stop_server(proc)
            sql_log = tmp / "sql.log"
            proc = start_server(port, env | {"WEIFU_SQL_LOG": str(sql_log)}, log, workers=args.workers)
            try:
                bearer, cookie = _credentials(base, "DEMO", "demo1234")
                counts = statements(
                    base, [(n, "GET", p, k) for n, p, k in lines], {"bearer": bearer, "cookie": cookie}, sql_log
                )
            finally:
                stop_server(proc)
        print("  SQL statements per request: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        print(f"  (sample: repairing order {data['repairing']}, closed {data['closed']})")


if __name__ == "__main__":
    main()
