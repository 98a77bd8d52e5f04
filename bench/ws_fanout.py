"""WebSocket fan-out benchmark: N clients of one user on one org channel, E events, latency.

    .venv/bin/python bench/ws_fanout.py [--clients 1000] [--events 100] [--redis] [--server uvicorn|granian]

Sets up a fresh SQLite database in a temporary directory (migrate + tenant BENCH), starts one
server process (memory channels backend, or Redis pub/sub with `--redis`), opens N WebSocket
clients as admin@BENCH (bearer token, subscribed to the head office's `orgs` channel), spread
over `--procs` client processes, then PATCHes one branch's remark E times through the API (each
commit publishes one `orgs` event to the branch's channel and the head office's). Latency is
receipt time minus the event's `data-ts` (server wall clock when the event is rendered, right
after commit; same machine, same clock). Prints p50/p99/max latency, delivered vs expected
messages and the server's peak RSS (VmHWM, summed over its process tree), next to the targets.

Client processes share the machine with the server: on a small box their receive work is part
of the measured latency, so the figures are an upper bound for the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the repository, not bench/ (where queue.py and http.py would stand in for the standard library's)
sys.path[0] = str(ROOT)

import httpx  # noqa: E402

from bench.common import cpu_seconds, free_port, percentile, start_server, stop_server, tree_pids  # noqa: E402

PASSWORD = "bench1234"
REDIS_URL = "redis://127.0.0.1:6379/0"
TS = re.compile(rb'data-ts="([0-9.]+)"')
REF = re.compile(rb'data-ref="([^"]*)"')
TARGET_P99_MS, TARGET_RSS_MB = 150.0, 150.0  # issue 14: p99 at 3,000 sockets; RSS per worker


# --- the client processes ---------------------------------------------------------------------


def client_process(conn, ws_url: str, token: str, clients: int, events: int, ref: str, grace: float) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    try:
        asyncio.run(_clients(conn, ws_url, token, clients, events, ref.encode(), grace))
    except Exception as exc:  # the parent reports it instead of waiting forever
        conn.send(("error", repr(exc)))


async def _clients(conn, ws_url: str, token: str, clients: int, events: int, ref: bytes, grace: float) -> None:
    from websockets.asyncio.client import connect

    loop = asyncio.get_running_loop()
    published = asyncio.Event()
    gate = asyncio.Semaphore(50)  # handshakes in flight per process
    latencies: list[float] = []
    spans: dict[bytes, tuple[float, float]] = {}  # event ts -> (first, last) receipt in this process
    delivered = 0
    errors: list[str] = []

    async def open_one():
        async with gate:
            return await connect(
                ws_url,
                additional_headers={"Authorization": f"Bearer {token}"},
                open_timeout=60,
                ping_interval=None,
                max_queue=None,
            )

    sockets = await asyncio.gather(*[open_one() for _ in range(clients)])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_connected = usage.ru_utime + usage.ru_stime
    conn.send(("ready", len(sockets)))

    def wait_for_parent() -> None:
        conn.recv()
        loop.call_soon_threadsafe(published.set)

    threading.Thread(target=wait_for_parent, daemon=True).start()

    async def receive(ws) -> None:
        nonlocal delivered
        got = 0
        while got < events:
            message = await ws.recv(decode=False)
            now = time.time()
            if REF.search(message).group(1) != ref:
                continue
            ts = TS.search(message).group(1)
            latencies.append((now - float(ts)) * 1000)
            first, last = spans.get(ts, (now, now))
            spans[ts] = (min(first, now), max(last, now))
            got += 1
            delivered += 1

    tasks = [asyncio.create_task(receive(ws)) for ws in sockets]
    await published.wait()
    done, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None:
            errors.append(repr(task.exception()))
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    cpu_used = cpu.ru_utime + cpu.ru_stime - cpu_connected
    conn.send(("result", latencies, delivered, len(pending), errors[:3], cpu_used, spans))


# --- the server -------------------------------------------------------------------------------


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_mb(root: int, field: str) -> float:
    return sum(status_kb(pid, field) for pid in tree_pids(root)) / 1024


def run_delay_seconds(root: int) -> float:
    """Time the server's threads spent runnable but waiting for a CPU (other load on the box)."""
    total = 0
    for pid in tree_pids(root):
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except (OSError, IndexError):
                continue
    return total / 1e9


def cpu_pressure() -> str:
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0].split()[1]
    except (OSError, IndexError):
        return "n/a"


def expect(pipe, kind: str) -> tuple:
    message = pipe.recv()
    if message[0] != kind:
        raise SystemExit(f"client process failed: {message[1]}")
    return message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--redis", action="store_true", help=f"Redis pub/sub backend on {REDIS_URL}")
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        help="one more option of the server's own, e.g. --option=--runtime-mode=st",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (more than one needs --redis: events cross them)"
    )
    parser.add_argument(
        "--procs",
        type=int,
        default=max(1, (os.cpu_count() or 2) // 2),
        help="client processes (default: half the CPUs)",
    )
    parser.add_argument("--interval", type=float, default=0.0, help="ms to wait between two events")
    parser.add_argument("--grace", type=float, default=30.0, help="s to wait for deliveries after the last event")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server log)")
    args = parser.parse_args()
    if args.workers > 1 and not args.redis:
        parser.error("--workers > 1 needs --redis (the memory backend does not cross processes)")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.clients + 1024
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(wanted, soft)), hard))

    tmp = Path(tempfile.mkdtemp(prefix="weifu-bench-"))
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "SECRET_KEY": "bench-secret",
        "WEIFU_REDIS_PREFIX": f"WEIFUBENCH{uuid.uuid4().hex[:8]}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    if args.redis:
        env["REDIS_URL"] = REDIS_URL
    for command in (
        ["migrate"],
        ["tenant", "create", "--code", "BENCH", "--name", "压测公司", "--admin-password", PASSWORD],
    ):
        subprocess.run([sys.executable, "-m", "server", *command], cwd=ROOT, env=env, check=True, capture_output=True)

    port = free_port()
    log = open(tmp / "server.log", "w")  # noqa: SIM115
    server = start_server(port, env, log, server=args.server, workers=args.workers, options=tuple(args.option))
    print(f"server pid {server.pid} on port {port}; opening {args.clients} sockets ...", flush=True)
    workers: list[multiprocessing.Process] = []
    try:
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(f"{base}/api/v1/auth/token", json={"login": "admin@BENCH", "password": PASSWORD}).json()[
            "token"
        ]
        http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        hq = http.get("/api/v1/orgs", params={"kind": "hq"}).json()["items"][0]
        org = http.post("/api/v1/orgs", json={"code": "FANOUT", "name": "压测网点", "parent_id": hq["id"]}).json()
        rss_idle = memory_mb(server.pid, "VmRSS")

        ctx = multiprocessing.get_context("fork")
        shares = [args.clients // args.procs + (1 if i < args.clients % args.procs else 0) for i in range(args.procs)]
        pipes = []
        started = time.perf_counter()
        for share in shares:
            parent_end, child_end = ctx.Pipe()
            worker = ctx.Process(
                target=client_process,
                args=(child_end, f"ws://127.0.0.1:{port}/ws", token, share, args.events, str(org["id"]), args.grace),
                daemon=True,
            )
            worker.start()
            workers.append(worker)
            pipes.append(parent_end)
        connected = sum(expect(pipe, "ready")[1] for pipe in pipes)
        connect_s = time.perf_counter() - started
        rss_connected = memory_mb(server.pid, "VmRSS")
        print(f"{connected} sockets open in {connect_s:.1f} s; publishing {args.events} events ...", flush=True)

        cpu_before, waited_before = cpu_seconds(server.pid), run_delay_seconds(server.pid)
        started = time.perf_counter()
        for i in range(args.events):
            response = http.patch(f"/api/v1/orgs/{org['id']}", json={"remark": f"bench {i}"})
            response.raise_for_status()
            if args.interval:
                time.sleep(args.interval / 1000)
        publish_s = time.perf_counter() - started
        for pipe in pipes:
            pipe.send("published")
        latencies: list[float] = []
        delivered = stuck = 0
        client_cpu = 0.0
        errors: list[str] = []
        spans: dict[bytes, tuple[float, float]] = {}
        for pipe in pipes:
            _, lat, count, pending, errs, cpu, worker_spans = expect(pipe, "result")
            client_cpu += cpu
            for ts, (first, last) in worker_spans.items():
                a, b = spans.get(ts, (first, last))
                spans[ts] = (min(a, first), max(b, last))
            latencies.extend(lat)
            delivered += count
            stuck += pending
            errors.extend(errs)
        total_s = time.perf_counter() - started
        server_cpu = cpu_seconds(server.pid) - cpu_before
        server_waited = run_delay_seconds(server.pid) - waited_before
        rss_peak = memory_mb(server.pid, "VmHWM")
    finally:
        for worker in workers:
            worker.join(5)
            if worker.is_alive():
                worker.kill()
        stop_server(server)
        log.close()
        if args.keep:
            print(f"kept {tmp} (database, server.log)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    expected = args.clients * args.events
    latencies.sort()
    nan = float("nan")
    p50, p99, worst = (
        (percentile(latencies, 0.5), percentile(latencies, 0.99), latencies[-1]) if latencies else (nan,) * 3
    )
    ok = lambda good: "OK  " if good else "MISS"  # noqa: E731
    backend = "redis pub/sub" if args.redis else "memory"
    print(
        f"ws fan-out: {args.server} × {args.workers} {' '.join(args.option)}, {backend} backend, SQLite, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"  clients connected   {connected} of {args.clients} in {connect_s:.1f} s over {args.procs} client processes"
    )
    print(f"  events published    {args.events} in {publish_s:.2f} s ({args.events / publish_s:.0f}/s through the API)")
    print(f"  CPU while publishing server {server_cpu:.2f} s, clients {client_cpu:.2f} s ({total_s:.2f} s wall)")
    print(f"  server CPU wait     {server_waited:.2f} s runnable but not running (box CPU pressure {cpu_pressure()})")
    print(f"  latency p50         {p50:8.1f} ms")
    print(f"  latency p99         {p99:8.1f} ms   target < {TARGET_P99_MS:.0f} ms   {ok(p99 < TARGET_P99_MS)}")
    print(f"  latency max         {worst:8.1f} ms")
    fanout = sorted((last - first) * 1000 for first, last in spans.values())
    if fanout:
        print(
            f"  fan-out per event   p50 {percentile(fanout, 0.5):.1f} ms, max {fanout[-1]:.1f} ms "
            f"(first to last client receipt: the server's send loop over {connected} sockets)"
        )
    print(f"  delivered           {delivered} of {expected}   target all   {ok(delivered == expected)}")
    print(f"  server RSS          idle {rss_idle:.0f} MB, {connected} sockets {rss_connected:.0f} MB")
    if connected:
        per_socket = (rss_connected - rss_idle) * 1024 / connected
        print(f"  memory per socket   {per_socket:.0f} KB   target < 100 KB   {ok(per_socket < 100)}")
        print(f"  server CPU / message {server_cpu / max(1, delivered) * 1e6:.0f} µs")
    target_rss = TARGET_RSS_MB * args.workers + (30 if args.workers > 1 else 0)  # + the supervisor process
    print(f"  server peak RSS     {rss_peak:.0f} MB   target < {target_rss:.0f} MB   {ok(rss_peak < target_rss)}")
    if stuck or errors:
        print(f"  clients incomplete  {stuck}; errors: {errors}")


if __name__ == "__main__":
    main()
