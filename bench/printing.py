"""Printing (issue 18): p50/p95 of rendering each document type with its built-in default
template and with a 套打 overlay one, in process and over HTTP.

    .venv/bin/python bench/printing.py [--requests 100] [--warmup 10] [--skip-http] [--keep]

A fresh SQLite database in a temporary directory (migrate), then for each document type its own
tenant (`BP0`…`BP6`: the built-in templates seeded with it) holding one document of that type,
made through its domain's services by the printing tests' helpers (tests/printing/helpers.py;
the queue ticket through the queue's services), and an overlay template of that type: every
head field the type offers placed on a 241×140 mm form and, for types with lines, a line block
of all line fields, 30 rows a sheet. The documents are the helpers' small ones (1–3 lines).

- In process: `services.print_document(ctx, doc_type, id, template_id)`: the template looked
  up, the document read through its own service (scoped), rendered (HTML in the sandbox, or the
  overlay), the whole page built: what a print page costs without HTTP, session or middleware.
- Over HTTP: `GET /api/v1/print/{doc_type}/{id}[?template_id=]` on the real server (uvicorn, one
  process) as admin@BPn with a bearer token, one request at a time on a kept-alive connection.

Each line prints p50/p95/max in ms (wall) and the page's size, in process also the p50 of the CPU
time the call took (the figure a loaded machine changes least). The load average before and after is
printed: on a shared machine the figures rise with it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the repository, not bench/ (where queue.py and http.py would stand in for the standard library's)
sys.path[0] = str(ROOT)

import httpx  # noqa: E402

from bench.common import bench_database, free_port, pad, percentile, start_server, stop_server  # noqa: E402
from server import domains  # noqa: E402, F401  (registers every domain's permissions, topics and hooks)

PASSWORD = "bench1234"
PHONE = "13800001234"


def overlay_body(doc_type: str) -> dict:
    """A 套打 template of `doc_type`: every head field in two columns, the line fields in a row."""
    from server.printing import documents

    spec = documents.spec(doc_type)
    fields = [
        {"key": key, "x_mm": 10 + (i % 2) * 115, "y_mm": 8 + (i // 2) * 5, "width_mm": 110, "font_size_pt": 9}
        for i, (key, _) in enumerate(spec.fields)
    ]
    line_fields = [
        {"key": key, "x_mm": 10 + i * 28, "y_mm": 0, "width_mm": 27, "font_size_pt": 8}
        for i, (key, _) in enumerate(spec.line_fields)
    ]
    return {
        "name": "套打压测",
        "doc_type": doc_type,
        "mode": "overlay",
        "paper": {"preset": "continuous"},
        "fields": fields,
        "line_block": {"y_mm": 90, "row_pitch_mm": 1.5, "max_rows": 30, "fields": line_fields},
        "offset_mm": {"x": 0.5, "y": -0.5},
    }


async def make_ticket(ctx) -> int:
    from server.queue.services import setup, tickets

    service = await setup.create_service(ctx, {"name": "维修", "prefix": "A"})
    await setup.create_counter(ctx, {"number": 1, "service_ids": [service["id"]]})
    return (await tickets.take(ctx, {"service_id": service["id"], "phone": PHONE}))["id"]


async def setup(args) -> list[dict]:
    """Per document type: its tenant, one document, the overlay template."""
    from server.printing import services
    from server.printing.states import DocType
    from server.system.services import tenants
    from tests.printing.helpers import make_doc

    cases = []
    for i, doc_type in enumerate(DocType):
        code = f"BP{i}"
        ctx = await tenants.create(code, f"打印压测{i}", PASSWORD)
        if doc_type == DocType.QUEUE_TICKET:
            doc_id = await make_ticket(ctx)
        else:
            doc_id, _ = await make_doc(str(doc_type), ctx)
        overlay = await services.create(ctx, overlay_body(str(doc_type)))
        cases.append({"doc_type": str(doc_type), "code": code, "ctx": ctx, "doc_id": doc_id, "overlay": overlay["id"]})
    return cases


def summary(times: list[float]) -> tuple[float, float, float]:
    times = sorted(times)
    return percentile(times, 0.5), percentile(times, 0.95), times[-1]


async def in_process(cases: list[dict], args) -> list[tuple]:
    from server.printing import services

    out = []
    for c in cases:
        for label, template_id in (("默认模板", None), ("套打", c["overlay"])):
            for _ in range(args.warmup):
                await services.print_document(c["ctx"], c["doc_type"], c["doc_id"], template_id)
            times, cpu = [], []
            for _ in range(args.requests):
                t, c0 = time.perf_counter(), time.process_time()
                body, status = await services.print_document(c["ctx"], c["doc_type"], c["doc_id"], template_id)
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                assert status == 200, body[:500]
            out.append((c["doc_type"], label, *summary(times), len(body.encode()), summary(cpu)[0]))
    return out


def over_http(base: str, cases: list[dict], args) -> list[tuple]:
    out = []
    for c in cases:
        login = {"login": f"admin@{c['code']}", "password": PASSWORD}
        token = httpx.post(f"{base}/api/v1/auth/token", json=login).raise_for_status().json()["token"]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            for label, query in (("默认模板", ""), ("套打", f"?template_id={c['overlay']}")):
                url = f"/api/v1/print/{c['doc_type']}/{c['doc_id']}{query}"
                for _ in range(args.warmup):
                    client.get(url).raise_for_status()
                times = []
                for _ in range(args.requests):
                    t = time.perf_counter()
                    r = client.get(url)
                    times.append((time.perf_counter() - t) * 1000)
                    r.raise_for_status()
                out.append((c["doc_type"], label, *summary(times), len(r.content)))
    return out


def show(title: str, rows: list[tuple]) -> None:
    """A table of (doc_type, template, p50, p95, max, bytes[, CPU p50]) rows."""
    from server.printing.services import DOC_TYPES

    print(f"\n{title}")
    cpu = len(rows[0]) > 6
    head = f"  {pad('单据', 20)}{pad('模板', 10)}{'p50':>8}{'p95':>8}{'max':>8}{'bytes':>9}"
    print(head + ("  CPU p50" if cpu else ""))
    for doc_type, label, p50, p95, top, size, *more in rows:
        line = f"  {pad(DOC_TYPES[doc_type], 20)}{pad(label, 10)}{p50:8.2f}{p95:8.2f}{top:8.2f}{size:9d}"
        print(line + (f"{more[0]:9.2f}" if more else ""))


async def seed_and_time(url: str, args) -> list[dict]:
    from server.core import db

    db.configure(url)
    await db.start()
    try:
        started = time.perf_counter()
        cases = await setup(args)
        print(f"seeded {len(cases)} tenants, one document and one overlay template each, in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        show("in process: services.print_document (ms)", await in_process(cases, args))
    finally:
        await db.stop()
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--skip-http", action="store_true", help="only the in-process figures")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server log)")
    args = parser.parse_args()

    with bench_database("weifu_bench_printing", demo=False, keep=args.keep) as (url, env, tmp):
        os.environ["DATABASE_URL"] = url
        print(f"load average {os.getloadavg()[0]:.1f} before")
        cases = asyncio.run(seed_and_time(url, args))
        if not args.skip_http:
            port = free_port()
            with open(tmp / "server.log", "w") as log:
                proc = start_server(port, env, log)
                try:
                    rows = over_http(f"http://127.0.0.1:{port}", cases, args)
                    show("over HTTP: GET /api/v1/print/{doc_type}/{id} (ms)", rows)
                finally:
                    stop_server(proc)
        print(f"\nload average {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
