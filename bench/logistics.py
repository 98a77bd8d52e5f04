"""Logistics at scale: order → approve → ship → receive cycles per second with 8 branches at once,
and the 【物流收货】 list and 【在途库存】 with many shipments, on PostgreSQL and SQLite.

    .venv/bin/python bench/logistics.py [--engine pg|sqlite|both] [--shipments 100000] [--cycles 10]
                                        [--branches 8] [--requests 100] [--pg-url URL]

For each engine: a fresh database (PostgreSQL: `weifu_bench_logistics` on --pg-url, dropped at the
end; SQLite: a file in a temporary directory), migrate + tenant BENCH, then through the services:
8 branches (level 2) each with a manager (orders, receiving) and 1,000,000.0000 of credit, 20
goods orderable at level 2, the head office's 通用库 stocked and the branches' 良品库.

- Cycles: each branch, concurrently with the others, runs --cycles times: a 5-line order created
  and submitted (credit frozen), approved by the head office, a shipment of the order's open lines
  created, submitted and confirmed out (stock out, freeze → usage), then received by the branch
  into its 良品库. The services are called in this process (their own cost, no HTTP); the figure is
  completed cycles per second of wall time.
- Lists: --shipments distributions loaded in bulk (executemany on SQLite, COPY on PostgreSQL), one
  line each, to the 8 branches, a fifth of them still in transit; then p50/p95 of a branch's
  【物流收货】 list (first page, the incoming filter as the page sends it), of the head office's
  【在途库存】 (first page) and of a branch's 【在途库存】, and of 【库存查询】 (first page, head
  office and a branch: its 在途 sums what is in transit), one call at a time after a warm-up,
  through the services (the query and presentation cost, no HTTP or template).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the repository, not bench/ (where queue.py and http.py would stand in for the standard library's)
sys.path[0] = str(ROOT)

from bench.common import Loader, percentile, recreate_pg  # noqa: E402
from server import domains  # noqa: E402, F401  (registers every domain's permissions, topics and hooks)

PASSWORD = "bench1234"
PG_URL = "postgresql://postgres@127.0.0.1:5432"
PG_DB = "weifu_bench_logistics"
CHUNK = 20_000
LINES = 5  # an order's lines
SHIPMENT_COLS = (
    "id", "tenant_id", "kind", "no", "type", "org_id", "org_path", "warehouse", "to_org_id", "to_org_path",
    "order_id", "carrier", "tracking_no", "remark", "status", "created_by", "created_by_name", "created_at",
    "submitted_at", "completed_at", "received_at", "updated_at",
)  # fmt: skip
LINE_COLS = (
    "id", "tenant_id", "doc", "goods", "qty", "price", "order_line_id", "confirmed_at", "confirmed_by",
    "confirmed_by_name", "received_at", "received_by", "received_by_name", "received_warehouse_id", "created_at",
)  # fmt: skip


async def seed(args) -> dict:
    """The network, goods, stock and credit, through the services."""
    from server.credit.services import documents as credit_docs
    from server.inventory.services import documents as stock_docs
    from server.logistics import permissions as P
    from server.masterdata.services import goods, trees, warehouses
    from server.system.services import orgs, roles, tenants, users
    from server.system.services.auth import ctx_for
    from server.system.tables import User

    ctx = await tenants.platform_ctx("BENCH")
    admin = await User.select(User.id, User.name).where(User.account == "admin").first()
    ctx = dataclasses.replace(ctx, user_id=admin["id"], user_name=admin["name"])
    prices = [
        {"level": level, "order_price": f"{100 + level}.0000", "retail_price": "300.0000", "orderable": True}
        for level in (1, 2, 3, 4)
    ]
    category = await trees.create(ctx, "category", {"name": "配件"})
    goods_ids = [
        (
            await goods.create(
                ctx, {"code": f"G{i:03d}", "name": f"配件{i}", "category_id": category["id"], "prices": prices}
            )
        )["id"]
        for i in range(20)
    ]
    general = await warehouses.create(ctx, {"code": "HQ-GEN", "name": "总部通用库", "type": "general"})
    good = await warehouses.create(ctx, {"code": "BR-GOOD", "name": "网点良品库", "type": "good"})
    branches = [
        await orgs.create(ctx, {"code": f"B{i}", "name": f"{i}号网点", "parent_id": ctx.org_id, "level": 2})
        for i in range(args.branches)
    ]
    await warehouses.assign(ctx, [general["id"]], [ctx.org_id])
    await warehouses.assign(ctx, [good["id"]], [b["id"] for b in branches])
    role = await roles.create(
        ctx,
        {
            "name": "网点经理",
            "org_kind": "branch",
            "permissions": [*P.ORDER.values(), *P.RECEIVING.values(), *P.IN_TRANSIT.values()],
        },
    )
    managers = []
    for b in branches:
        body = {"account": f"m{b['code'].lower()}", "name": f"{b['name']}经理", "password": PASSWORD}
        user = await users.create(ctx, body | {"org_id": b["id"], "role_ids": [role["id"]]})
        managers.append(await ctx_for(user["id"], ctx.tenant_id))
    lines = [{"org_id": b["id"], "amount": "1000000.0000"} for b in branches]
    doc = await credit_docs.create(ctx, "recharge", {"lines": lines})
    await credit_docs.submit(ctx, "recharge", doc["id"])
    await credit_docs.confirm(ctx, "recharge", doc["id"])
    stocked = [{"goods_id": g, "qty": 1_000_000, "cost_price": "80.0000"} for g in goods_ids]
    doc = await stock_docs.create(ctx, "inbound", {"type": "purchase", "warehouse_id": general["id"], "lines": stocked})
    await stock_docs.submit(ctx, "inbound", doc["id"])
    await stock_docs.confirm(ctx, "inbound", doc["id"])
    return {"ctx": ctx, "goods": goods_ids, "general": general["id"], "good": good["id"], "branches": branches,
            "managers": managers}  # fmt: skip


async def cycle(f: dict, manager, rng: random.Random) -> None:
    """One order of 5 lines from application to receipt."""
    from server.logistics.services import orders, shipments

    hq = f["ctx"]
    picked = rng.sample(f["goods"], LINES)
    order = await orders.create(
        manager, "order", {"lines": [{"goods_id": g, "qty": rng.randint(1, 5)} for g in picked]}
    )
    await orders.submit(manager, "order", order["id"])
    order = await orders.approve(hq, order["id"])
    body = {"type": "order", "warehouse_id": f["general"], "to_org_id": manager.org_id, "order_id": order["id"]}
    body["lines"] = [{"order_line_id": li["id"], "qty": li["qty"]} for li in order["lines"]]
    doc = await shipments.create(hq, "shipment", body)
    await shipments.submit(hq, "shipment", doc["id"])
    doc = await shipments.confirm(hq, "shipment", doc["id"])
    data = {"warehouse_id": f["good"], "line_ids": [li["id"] for li in doc["lines"]]}
    await shipments.receive(manager, "shipment", doc["id"], data)


async def run_cycles(f: dict, args) -> tuple[float, int, list[str]]:
    async def branch(i: int, manager) -> tuple[int, list[str]]:
        rng, done, errors = random.Random(i), 0, []
        for _ in range(args.cycles):
            try:
                await cycle(f, manager, rng)
                done += 1
            except Exception as exc:  # a refusal under contention is counted, not fatal
                errors.append(f"{type(exc).__name__}: {exc}")
        return done, errors

    started = time.perf_counter()
    results = await asyncio.gather(*(branch(i, m) for i, m in enumerate(f["managers"])))
    wall = time.perf_counter() - started
    return wall, sum(d for d, _ in results), [e for _, errs in results for e in errs]


async def load_shipments(f: dict, url: str, n: int) -> float:
    """`n` one-line distributions from the head office to the branches, a fifth still in transit."""
    from server.core import db
    from server.logistics.tables import Shipment, ShipmentLine

    hq, branches, rng = f["ctx"], f["branches"], random.Random(5)
    first = 1 + ((await Shipment.select(Shipment.id).order_by(Shipment.id, ascending=False).first()) or {"id": 0})["id"]
    first_line = (
        1
        + (
            (await ShipmentLine.select(ShipmentLine.id).order_by(ShipmentLine.id, ascending=False).first()) or {"id": 0}
        )["id"]
    )
    start = datetime.now(UTC) - timedelta(days=365)
    started = time.perf_counter()
    async with Loader(url) as load:
        for offset in range(0, n, CHUNK):
            docs, lines = [], []
            for k in range(offset, min(n, offset + CHUNK)):
                b = branches[k % len(branches)]
                at = start + timedelta(seconds=k * 365 * 86400 // n)
                moving = rng.random() < 0.2
                status, received = ("completed", None) if moving else ("received", at + timedelta(days=2))
                docs.append(
                    (first + k, hq.tenant_id, "shipment", f"WB{k:09d}", "distribution", hq.org_id, hq.org_path)
                    + (f["general"], b["id"], b["path"], None, "顺丰", f"SF{k:010d}", "", status, hq.user_id)
                    + (hq.user_name, at, at, at, received, received or at)
                )
                lines.append(
                    (first_line + k, hq.tenant_id, first + k, rng.choice(f["goods"]), rng.randint(1, 9), 1_020_000)
                    + (None, at, hq.user_id, hq.user_name, received, None if moving else hq.user_id)
                    + ("" if moving else "经理", None if moving else f["good"], at)
                )
            await load.rows("lg_shipment", SHIPMENT_COLS, docs)
            await load.rows("lg_shipment_line", LINE_COLS, lines)
    if not db.is_sqlite():
        for table in ("lg_shipment", "lg_shipment_line"):
            await db.engine().run_ddl(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await db.engine().run_ddl("VACUUM ANALYZE")
    return time.perf_counter() - started


async def time_lists(f: dict, args) -> list[tuple[str, float, float, int]]:
    from server.core.pagination import PageParams
    from server.inventory.services import stock
    from server.inventory.services.stock import StockFilters
    from server.logistics.pages.shipments import IncomingFilters
    from server.logistics.services import shipments
    from server.logistics.services.shipments import InTransitFilters

    manager = f["managers"][0]
    cases = [
        (
            "【物流收货】 网点第一页",
            lambda: shipments.search(manager, "shipment", IncomingFilters(), params=PageParams(1, 20)),
        ),
        (
            "【在途库存】 总部第一页",
            lambda: shipments.in_transit(f["ctx"], InTransitFilters(), params=PageParams(1, 20)),
        ),
        (
            "【在途库存】 网点第一页",
            lambda: shipments.in_transit(manager, InTransitFilters(), params=PageParams(1, 20)),
        ),
        # the stock query reads what is in transit to every org of its scope (its 在途 column and
        # the rows of goods not yet stocked), summed by the database
        ("【库存查询】 总部第一页", lambda: stock.search(f["ctx"], StockFilters(), params=PageParams(1, 20))),
        ("【库存查询】 网点第一页", lambda: stock.search(manager, StockFilters(), params=PageParams(1, 20))),
    ]
    out = []
    for label, call in cases:
        for _ in range(10):
            await call()
        times = []
        for _ in range(args.requests):
            t = time.perf_counter()
            page = await call()
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out.append((label, percentile(times, 0.5), percentile(times, 0.95), page.total))
    return out


async def bench(url: str, args, engine: str) -> None:
    from server.core import db

    db.configure(url)
    await db.start()
    try:
        started = time.perf_counter()
        f = await seed(args)
        print(f"{engine}: seeded {args.branches} branches in {time.perf_counter() - started:.1f} s")
        wall, done, errors = await run_cycles(f, args)
        print(
            f"{engine}: {done} cycles (order {LINES} lines → approve → ship → receive) by {args.branches} "
            f"branches at once in {wall:.1f} s = {done / wall:.1f} cycles/s; {len(errors)} refused"
        )
        for e in sorted(set(errors))[:5]:
            print(f"  refused: {e}")
        load_s = await load_shipments(f, url, args.shipments)
        print(f"{engine}: {args.shipments} shipments loaded in {load_s:.1f} s")
        for label, p50, p95, total in await time_lists(f, args):
            print(f"{engine}:   {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({total} rows)")
    finally:
        await db.stop()


def run_engine(engine: str, args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="weifu-bench-logistics-"))
    if engine == "pg":
        asyncio.run(recreate_pg(args.pg_url, PG_DB))
        url = f"{args.pg_url}/{PG_DB}"
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    try:
        for command in (
            ["migrate"],
            ["tenant", "create", "--code", "BENCH", "--name", "压测公司", "--admin-password", PASSWORD],
        ):
            subprocess.run(
                [sys.executable, "-m", "server", *command], cwd=ROOT, env=env, check=True, capture_output=True
            )
        os.environ["DATABASE_URL"] = url
        print(f"{engine}: load average {os.getloadavg()[0]:.1f} before")
        asyncio.run(bench(url, args, engine))
        print(f"{engine}: load average {os.getloadavg()[0]:.1f} after")
    finally:
        if engine == "pg":
            asyncio.run(recreate_pg(args.pg_url, PG_DB, drop_only=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("pg", "sqlite", "both"), default="both")
    parser.add_argument("--pg-url", default=PG_URL, help="a PostgreSQL server; the bench creates and drops " + PG_DB)
    parser.add_argument("--shipments", type=int, default=100_000)
    parser.add_argument("--cycles", type=int, default=10, help="cycles per branch")
    parser.add_argument("--branches", type=int, default=8)
    parser.add_argument("--requests", type=int, default=100, help="timed calls per list")
    args = parser.parse_args()
    for engine in ("pg", "sqlite") if args.engine == "both" else (args.engine,):
        run_engine(engine, args)


if __name__ == "__main__":
    main()
