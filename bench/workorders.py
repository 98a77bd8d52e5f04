"""【工单处理】 under load (issue 16): the list and the detail page over HTTP, on SQLite or PostgreSQL.

    .venv/bin/python bench/workorders.py [--pg] [--orders 5000] [--duration 10] [--keep]

Builds a fresh database (SQLite in a temporary directory, or with `--pg` the bench's own
PostgreSQL database `weifu_bench_workorders`), migrates it, loads the demo tenant, then adds by
bulk load (COPY / one executemany transaction, not the services) 200 orgs, 100 technicians and
`--orders` work orders (default 5,000) with their customers (about two orders a customer), repair
lines, fault reasons and status history, in the statuses a year of work leaves. Starts the real
server (uvicorn × 2, the production configuration) and drives, as admin@DEMO with a session
cookie, c=16 clients for `--duration` seconds per line (wrk, as bench/http.py): the list (first
page, filtered by phone, filtered by serial) and the detail page of a repairing and of a closed
order. Prints req/s, p50, p95, p99, the server's CPU per request and the load average beside each
line, then the SQL statements per page (a second server run with WEIFU_SQL_LOG, bench/http.py's
count; it must not grow with the rows on the page), then intake → 直接维修 → 维修完毕 through the
API with 8 clients (orders/s).

Not a test: the machine may be shared; read the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.dirname(HERE))

import httpx  # noqa: E402

from bench.common import Loader, bench_database, cpu_seconds, free_port, loadavg, pad, start_server, stop_server  # noqa: E402
from bench.http import _credentials, load, statements  # noqa: E402

PG_DB = "weifu_bench_workorders"
SURNAMES = "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗".split()
GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚".split()
# final status of a loaded order and its share: most of a year's orders are closed
STATUSES = [("closed", 0.62), ("cancelled", 0.05), ("accepted", 0.10), ("repairing", 0.10), ("repaired", 0.13)]
PATHS = {
    "accepted": ["accepted"],
    "repairing": ["accepted", "repairing"],
    "repaired": ["accepted", "repairing", "repaired"],
    "closed": ["accepted", "repairing", "repaired", "closed"],
    "cancelled": ["accepted", "cancelled"],
}


ORG_COLUMNS = (
    "id",
    "tenant_id",
    "code",
    "name",
    "parent",
    "kind",
    "level",
    "depth",
    "path",
    "created_at",
    "updated_at",
)
USER_COLUMNS = ("id", "tenant_id", "org", "account", "account_key", "name", "password_hash", "created_at", "updated_at")
CUSTOMER_COLUMNS = (
    "id",
    "tenant_id",
    "name",
    "phone",
    "address",
    "customer_type",
    "no_notify",
    "created_at",
    "updated_at",
)
ORDER_COLUMNS = (
    *("id", "tenant_id", "org_id", "org_path", "no", "status", "status_at", "customer", "goods_id", "category_id"),
    *("serial_no", "service_type", "customer_type", "fault_description", "technician_id", "final_service_type"),
    *("labor", "parts", "total", "closing_method", "amount_received", "payment_method", "cancel_reason"),
    *("created_by_name", "created_at", "repair_started_at", "repaired_at", "closed_at", "cancelled_at", "updated_at"),
)
LINE_COLUMNS = (
    *("tenant_id", "work_order", "kind", "repair_code_id", "warehouse_id", "goods_id", "qty", "labor_fee", "price"),
    "created_at",
)
LOG_COLUMNS = ("tenant_id", "work_order", "from_status", "to_status", "user_id", "user_name", "at")
CHUNK = 50_000


def _orders(first, stop, rng, t, end, n_orders, techs, phones, parts, codes, reasons, warehouse_id, n_customers):
    """Orders `first`..`stop - 1` spread over the year before `end`, with their lines, fault
    reasons and status rows; the last two weeks' orders are still open."""
    shares, weights = [s for s, _ in STATUSES], [w for _, w in STATUSES]
    begin, step = end - timedelta(days=365), timedelta(days=365) / max(1, n_orders)
    orders, lines, reason_rows, logs = [], [], [], []
    for oid in range(first, stop):
        created = begin + step * (oid - 1)
        status = rng.choices(shares, weights)[0] if created < end - timedelta(days=14) else rng.choice(shares[2:])
        tech, store = rng.choice(techs)
        phone = rng.choice(phones)
        path = PATHS[status]
        stamps = [created + timedelta(hours=4 * k) for k in range(len(path))]
        at = dict(zip(path, stamps, strict=True))
        own = []
        if "repairing" in path:
            for _ in range(rng.choice((1, 1, 2))):
                code = rng.choice(codes)
                part = rng.choice(parts)["id"]
                own.append(
                    (t, oid, "repair", code["id"], warehouse_id, part, 1, code["labor_fee"], 800_000, at["repairing"])
                )
            reason_rows.append((t, oid, rng.choice(reasons)["id"]))
        labor = sum(ln[7] for ln in own) if "repaired" in path else 0
        part_sum = sum(ln[8] for ln in own) if "repaired" in path else 0
        closed, started = status == "closed", "repairing" in path
        orders.append(
            (
                *(oid, t, store["id"], store["path"], f"WO{created:%Y%m%d}{oid:07d}", status, stamps[-1]),
                *(rng.randrange(n_customers) + 1, phone["id"], phone["category"], f"SN{rng.randrange(n_orders):09d}"),
                *("in_warranty", "personal", "屏幕碎裂，触摸失灵", tech if started else None),
                *("in_warranty" if started else "", labor, part_sum, labor + part_sum),
                *("self_pickup" if closed else "", labor + part_sum if closed else 0, "cash" if closed else ""),
                *("客户取消" if status == "cancelled" else "", "管理员", created, at.get("repairing")),
                *(at.get("repaired"), at.get("closed"), at.get("cancelled"), stamps[-1]),
            )
        )
        lines.extend(own)
        prev = ""
        for s, stamp in zip(path, stamps, strict=True):
            logs.append((t, oid, prev, s, None, "管理员", stamp))
            prev = s
    return orders, lines, reason_rows, logs


async def seed(url: str, n_orders: int, rng: random.Random) -> dict:
    """200 orgs, 100 technicians and the orders, straight into the database of the demo tenant."""
    from server import domains  # noqa: F401  (every table on the engine)
    from server.core import db
    from server.masterdata.tables import FaultReason, Goods, RepairCode, Warehouse
    from server.system.services import roles, tenants
    from server.system.services.orgs import child_path
    from server.system.tables import Org, User
    from server.workorders import permissions as P

    db.configure(url)
    ctx = await tenants.platform_ctx("DEMO")
    hq = await Org.select().where(Org.id == ctx.org_id).first()
    role = await roles.create(ctx, {"name": "基准技师", "org_kind": "branch", "permissions": [P.REPAIR, P.VIEW]})
    phones = await Goods.select(Goods.id, Goods.category).where(
        (Goods.tenant_id == ctx.tenant_id) & (Goods.is_intake_item == True)
    )
    parts = await Goods.select(Goods.id).where((Goods.tenant_id == ctx.tenant_id) & (Goods.is_intake_item == False))
    codes = await RepairCode.select(RepairCode.id, RepairCode.labor_fee).where(RepairCode.tenant_id == ctx.tenant_id)
    reasons = await FaultReason.select(FaultReason.id).where(FaultReason.tenant_id == ctx.tenant_id)
    warehouse = await Warehouse.select(Warehouse.id).where(Warehouse.tenant_id == ctx.tenant_id).first()
    top = {t: (await t.select(t.id).order_by(t.id, ascending=False).first())["id"] for t in (Org, User)}
    await db.stop()
    if not (phones and parts and codes and reasons):
        raise SystemExit("the demo tenant has no intake items, parts, repair codes or fault reasons")

    t, tz = ctx.tenant_id, ZoneInfo("Asia/Shanghai")
    end = datetime.now(tz).replace(microsecond=0)
    orgs, org_rows = [], []
    for i in range(200):
        oid = top[Org] + 1 + i
        parent = hq if i < 10 else orgs[i % 10]
        org = {"id": oid, "path": child_path(parent["path"], oid), "depth": parent["depth"] + 1}
        orgs.append(org)
        name = f"基准大区{i + 1}" if i < 10 else f"基准网点{i + 1}号店"
        org_rows.append((oid, t, f"B{i + 1:04d}", name, parent["id"], "branch", 1, org["depth"], org["path"], end, end))
    stores = orgs[10:]
    techs, user_rows, link_rows = [], [], []
    for i in range(100):
        uid = top[User] + 1 + i
        store = stores[i % len(stores)]
        techs.append((uid, store))
        account = f"tech{i + 1:03d}"
        user_rows.append(
            (uid, t, store["id"], account, account, f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}", "!", end, end)
        )
        link_rows.append((t, uid, role["id"]))

    customers = []
    for i in range(max(1, n_orders // 2)):
        phone = f"139{i:08d}"
        customers.append(
            (i + 1, t, f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}", phone, "", "personal", False, end, end)
        )
    loaded = {"lines": 0, "logs": 0}
    sample: dict = {}
    kinds = (rng, t, end, n_orders, techs, phones, parts, codes, reasons, warehouse["id"], len(customers))
    async with Loader(url) as bulk:
        await bulk.rows("org", ORG_COLUMNS, org_rows)
        await bulk.rows("app_user", USER_COLUMNS, user_rows)
        await bulk.rows("user_role", ("tenant_id", "user", "role"), link_rows)
        await bulk.rows("wo_customer", CUSTOMER_COLUMNS, customers)
        for first in range(1, n_orders + 1, CHUNK):  # generated and loaded a chunk at a time: 1,000,000 fit
            order_rows, line_rows, reason_rows, log_rows = _orders(first, min(n_orders + 1, first + CHUNK), *kinds)
            await bulk.rows("wo_order", ORDER_COLUMNS, order_rows)
            await bulk.rows("wo_line", LINE_COLUMNS, line_rows)
            await bulk.rows("wo_order_fault_reason", ("tenant_id", "work_order", "fault_reason_id"), reason_rows)
            await bulk.rows("wo_status_log", LOG_COLUMNS, log_rows)
            loaded["lines"] += len(line_rows)
            loaded["logs"] += len(log_rows)
            with_lines = {ln[1] for ln in line_rows}
            for r in order_rows:
                if r[0] == max(1, n_orders // 2):
                    sample["middle"] = r
                if r[5] == "repairing":
                    sample["repairing"] = r[0]
                if r[5] == "closed" and r[0] in with_lines:
                    sample["closed"] = r[0]
        if not bulk.path:  # explicit ids: the sequences move past them, then the planner's statistics
            for table in ("org", "app_user", "wo_customer", "wo_order"):
                await bulk.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            for table in ("org", "app_user", "wo_customer", "wo_order", "wo_line", "wo_status_log"):
                await bulk.conn.execute(f"VACUUM ANALYZE {table}")
            await bulk.conn.execute("VACUUM ANALYZE wo_order_fault_reason")
    middle = sample["middle"]
    phone_of = {c[0]: c[3] for c in customers}
    return {
        "phone": phone_of[middle[7]],
        "serial": middle[10],
        "repairing": sample["repairing"],
        "closed": sample["closed"],
        "intake_goods": phones[0]["id"],
        "lines": loaded["lines"],
        "logs": loaded["logs"],
        "customers": len(customers),
    }


def flow(base: str, bearer: dict, data: dict, clients: int, duration: int) -> tuple[float, int]:
    """intake → 直接维修 → 维修完毕 (one labour line) through the API, `clients` at once: orders/s."""
    done, failed = 0, 0
    until = time.monotonic() + duration

    async def one(client: httpx.AsyncClient, k: int) -> None:
        nonlocal done, failed
        n = 0
        while time.monotonic() < until:
            n += 1
            body = {
                "customer": {"name": "基准", "phone": f"137{k:02d}{n:06d}", "customer_type": "personal"},
                "goods_id": data["intake_goods"],
                "serial_no": f"FLOW{k:02d}{n:06d}",
                "service_type": "in_warranty",
                "fault_description": "不开机",
            }
            r = await client.post("/api/v1/work-orders", json=body)
            if r.status_code != 201:
                failed += 1
                continue
            oid = r.json()["id"]
            steps = [
                (f"/api/v1/work-orders/{oid}/start-repair", {"final_service_type": "in_warranty"}),
                (f"/api/v1/work-orders/{oid}/complete", {"repair_result": "repaired"}),
            ]
            ok = True
            for path, payload in steps:
                ok = ok and (await client.post(path, json=payload)).status_code == 200
            done += ok
            failed += not ok

    async def main() -> float:
        async with httpx.AsyncClient(base_url=base, headers=bearer, timeout=30) as client:
            t0 = time.monotonic()
            await asyncio.gather(*(one(client, k) for k in range(clients)))
            return time.monotonic() - t0

    elapsed = asyncio.run(main())
    return done / elapsed, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (its own database) instead of SQLite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--flow-clients", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    pg_url = args.pg_url if args.pg else None
    with bench_database(PG_DB, pg_url=pg_url, keep=args.keep) as (url, env, tmp):
        t0 = time.monotonic()
        data = asyncio.run(seed(url, args.orders, random.Random(16)))
        print(
            f"loaded {args.orders:,} orders, {data['customers']:,} customers, {data['lines']:,} lines, "
            f"{data['logs']:,} status rows, 200 orgs, 100 technicians in {time.monotonic() - t0:.1f} s"
        )
        lines = [
            ("list page 1", "/workorders/?page_size=50"),  # the 50 rows (the page shows 20 unless asked)
            ("list phone", f"/workorders/?page_size=50&phone={data['phone']}"),
            ("list serial", f"/workorders/?page_size=50&serial_no={data['serial']}"),
            ("detail repairing", f"/workorders/{data['repairing']}"),
            ("detail closed", f"/workorders/{data['closed']}"),
        ]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with open(tmp / "server.log", "w") as log:
            proc = start_server(port, env, log, workers=args.workers)
            try:
                bearer, cookie = _credentials(base, "DEMO", "demo1234")
                for _, path in lines:  # warm up every worker
                    load(base + path, "GET", cookie, args.connections, 1)
                print(f"\nuvicorn × {args.workers}, c={args.connections}, {args.duration} s a line")
                head = f"{'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'CPU ms':>7}"
                print(f"  {'request':<18} {head}   load average")
                for name, path in lines:
                    cpu = cpu_seconds(proc.pid)
                    rate, p50, p95, p99, errors = load(base + path, "GET", cookie, args.connections, args.duration)
                    per_request = (cpu_seconds(proc.pid) - cpu) * 1000 / max(1, rate * args.duration)
                    figures = f"{rate:>8.0f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {errors:>8} {per_request:>7.2f}"
                    print(f"  {pad(name, 18)} {figures}   {loadavg()}")
                rate, failed = flow(base, bearer, data, args.flow_clients, args.duration)
                print(
                    f"  intake → 维修完毕 with {args.flow_clients} clients: {rate:.1f} orders/s "
                    f"({failed} failed)   {loadavg()}"
                )
            finally:
                stop_server(proc)
            sql_log = tmp / "sql.log"
            proc = start_server(port, env | {"WEIFU_SQL_LOG": str(sql_log)}, log, workers=args.workers)
            try:
                _, cookie = _credentials(base, "DEMO", "demo1234")
                counts = statements(base, [(n, "GET", p, "cookie") for n, p in lines], {"cookie": cookie}, sql_log)
            finally:
                stop_server(proc)
        print("  SQL statements per page: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
