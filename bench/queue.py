"""Queue call-out benchmark: TV, kiosk and counter sockets of many orgs, a call every 50 ms.

    .venv/bin/python bench/queue.py [--orgs 30] [--staff 8] [--calls 600] [--interval 50] [--redis] [--procs 2]

Sets up a fresh SQLite database in a temporary directory (migrate + tenant BENCH) and starts the
server (uvicorn; one process on the memory channels backend, or `--procs` processes on Redis
pub/sub with `--redis`). Through the API: 30 branch orgs under the head office, each with
services A 维修 / B 取机, counter 1 calling both, a kiosk and a TV device, and a counter user
(role 叫号员); then every org's tickets, taken with its kiosk's token. Per org, a TV and a kiosk
socket (`/ws?token=dev_…`) and 8 staff sockets (the counter user's bearer token) are opened
from separate client processes, spread over the server processes. Then one
`POST /api/v1/queue/counters/{id}/call-next` every 50 ms, round-robin over the orgs (and the
server processes), each by the org's counter user.

Prints the call → TV latency twice: from the event's `data-ts` (server wall clock when the event
is rendered, right after commit) to receipt, and from the moment the client sent the call to
receipt; TV deliveries vs calls (each TV must get exactly its own org's calls, with the right
announcement) and cross-org leaks on every socket (must be 0); the server's RSS. Same machine,
same clock. Client processes share the CPUs with the server: the figures are an upper bound.
"""

# ruff: noqa: E402  (the path is fixed before anything imports the standard library's `queue`)
from __future__ import annotations

import os
import sys

# Run as `python bench/queue.py`, the script's directory heads sys.path and this file would
# stand in for the standard library's `queue` (which multiprocessing and asyncio import).
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.dirname(HERE))

import argparse
import asyncio
import html
import multiprocessing
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from bench.common import cpu_seconds, free_port, percentile, start_server, stop_server
from bench.ws_fanout import (
    PASSWORD,
    REDIS_URL,
    REF,
    ROOT,
    TS,
    cpu_pressure,
    expect,
    memory_mb,
    run_delay_seconds,
)

KIND = re.compile(rb'data-kind="([^"]*)"')
SAY = re.compile(rb'data-say="([^"]*)"')
TARGET_P99_MS = 200.0
ROLES = ("tv", "kiosk", "staff")
COUNTER_PERMISSIONS = ["queue.counter.view", "queue.counter.call"]


# --- the client processes ---------------------------------------------------------------------


def client_process(conn, sockets: list[tuple], ticket_org: dict[str, int], grace: float) -> None:
    """Opens `sockets` ((role, org, server, url, headers) each), reports ready, then records every message
    until the parent says how many calls each org had and they have arrived (or `grace` ran out)."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    try:
        asyncio.run(_clients(conn, sockets, ticket_org, grace))
    except Exception as exc:  # the parent reports it instead of waiting forever
        conn.send(("error", repr(exc)))


async def _clients(conn, specs: list[tuple], ticket_org: dict[str, int], grace: float) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(50)  # handshakes in flight per process
    received: list[list[tuple]] = [[] for _ in specs]  # per socket: (kind, ref, ts, say, receipt time)
    own_calls = [0] * len(specs)
    closed: list[int | None] = [None] * len(specs)

    async def open_one(url: str, headers: dict):
        async with gate:
            return await connect(url, additional_headers=headers, open_timeout=60, ping_interval=None, max_queue=None)

    sockets = await asyncio.gather(*(open_one(url, headers) for *_, url, headers in specs))
    conn.send(("ready", len(sockets)))
    called = loop.create_future()

    def wait_for_parent() -> None:
        calls_per_org = conn.recv()
        loop.call_soon_threadsafe(called.set_result, calls_per_org)

    threading.Thread(target=wait_for_parent, daemon=True).start()

    async def receive(i: int, ws) -> None:
        org = specs[i][1]
        try:
            while True:
                message = await ws.recv(decode=False)
                now = time.time()
                kind, ref = KIND.search(message).group(1).decode(), REF.search(message).group(1).decode()
                say = SAY.search(message)
                received[i].append(
                    (kind, ref, float(TS.search(message).group(1)), say and html.unescape(say.group(1).decode()), now)
                )
                if kind == "call" and ticket_org.get(ref) == org:
                    own_calls[i] += 1
        except ConnectionClosed as exc:
            closed[i] = exc.rcvd.code if exc.rcvd else 1006

    tasks = [asyncio.create_task(receive(i, ws)) for i, ws in enumerate(sockets)]
    calls_per_org: dict[int, int] = await called
    deadline = loop.time() + grace
    while loop.time() < deadline and any(own_calls[i] < calls_per_org.get(spec[1], 0) for i, spec in enumerate(specs)):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # whatever should not come (a duplicate, another org's call) has had time to
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    conn.send(("result", received, closed))


# --- setup ------------------------------------------------------------------------------------


def fresh_database(tmp: Path, redis: bool) -> dict:
    """The servers' environment over a new SQLite database in `tmp`, migrated, with tenant BENCH."""
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "SECRET_KEY": "bench-secret",
        "WEIFU_REDIS_PREFIX": f"WEIFUBENCH{uuid.uuid4().hex[:8]}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = REDIS_URL
    for command in (
        ["migrate"],
        ["tenant", "create", "--code", "BENCH", "--name", "压测公司", "--admin-password", PASSWORD],
    ):
        subprocess.run([sys.executable, "-m", "server", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


async def _send(http: httpx.AsyncClient, method: str, url: str, token: str, body: dict | None = None) -> dict:
    response = await http.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code >= 400:
        raise SystemExit(f"{method} {url}: {response.status_code} {response.text[:300]}")
    return response.json()


async def _login(http: httpx.AsyncClient, login: str) -> str:
    response = await http.post("/api/v1/auth/token", json={"login": login, "password": PASSWORD})
    if response.status_code != 200:
        raise SystemExit(f"login {login}: {response.status_code} {response.text[:300]}")
    return response.json()["token"]


async def seed(base: str, n_orgs: int, tickets: int) -> list[dict]:
    """The orgs through the API, each with its counter, device tokens, counter user's token and
    `tickets` waiting tickets (taken with the kiosk's token, services A and B in turn)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        admin = await _login(http, "admin@BENCH")

        async def post(url: str, body: dict, token: str = admin) -> dict:
            return await _send(http, "POST", url, token, body)

        hq = (await _send(http, "GET", "/api/v1/orgs?kind=hq", admin))["items"][0]
        role = await post("/api/v1/roles", {"name": "叫号员", "org_kind": "branch", "permissions": COUNTER_PERMISSIONS})
        gate = asyncio.Semaphore(4)
        q = "/api/v1/queue"

        async def one(i: int) -> dict:
            code = f"{i + 1:03d}"
            async with gate:
                org = await post("/api/v1/orgs", {"code": f"Q{code}", "name": f"门店{code}", "parent_id": hq["id"]})
                at = {"org_id": org["id"]}
                a = await post(f"{q}/services", {"name": "维修", "prefix": "A", **at})
                b = await post(f"{q}/services", {"name": "取机", "prefix": "B", "sort_order": 1, **at})
                counter = await post(f"{q}/counters", {"number": 1, "service_ids": [a["id"], b["id"]], **at})
                kiosk = await post(f"{q}/devices", {"kind": "kiosk", "name": "取号机", **at})
                tv = await post(f"{q}/devices", {"kind": "tv", "name": "叫号屏", **at})
                user = {"account": f"counter{code}", "name": f"叫号员{code}", "password": PASSWORD, **at}
                await post("/api/v1/users", user | {"role_ids": [role["id"]]})
                taken = [
                    await post(f"{q}/tickets", {"service_id": (a, b)[n % 2]["id"]}, kiosk["token"])
                    for n in range(tickets)
                ]
                return {
                    "index": i,
                    "id": org["id"],
                    "counter_id": counter["id"],
                    "kiosk": kiosk["token"],
                    "tv": tv["token"],
                    "staff": await _login(http, f"counter{code}@BENCH"),
                    "tickets": [t["id"] for t in taken],
                }

        return await asyncio.gather(*(one(i) for i in range(n_orgs)))


# --- the calls --------------------------------------------------------------------------------


async def call_loop(bases: list[str], orgs: list[dict], calls: int, interval_ms: float) -> list[dict]:
    """One call-next every `interval_ms` on a fixed schedule (open loop: a slow answer does not
    delay the next call), round-robin over the orgs; an org's calls alternate between servers."""
    loop = asyncio.get_running_loop()
    clients = [httpx.AsyncClient(base_url=b, timeout=60, limits=httpx.Limits(max_connections=50)) for b in bases]
    started = loop.time() + 0.2

    async def one(i: int) -> dict:
        org = orgs[i % len(orgs)]
        server = (i % len(orgs) + i // len(orgs)) % len(bases)
        await asyncio.sleep(max(0.0, started + i * interval_ms / 1000 - loop.time()))
        sent = time.time()
        response = await clients[server].post(
            f"/api/v1/queue/counters/{org['counter_id']}/call-next",
            headers={"Authorization": f"Bearer {org['staff']}"},
        )
        answered = time.time()
        ticket = response.json() if response.status_code == 200 else {}
        return {
            "org": org["index"],
            "sent": sent,
            "answered": answered,
            "status": response.status_code,
            "error": "" if ticket else response.text[:200],
            "ref": str(ticket.get("id", "")),
            "say": f"请 {ticket.get('no')} 号到 {ticket.get('counter_number')} 号窗口" if ticket else "",
        }

    try:
        return await asyncio.gather(*(one(i) for i in range(calls)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


# --- the report -------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    if not values:
        return "   n/a"
    values = sorted(values)
    return f"p50 {percentile(values, 0.5):7.1f}  p99 {percentile(values, 0.99):7.1f}  max {values[-1]:7.1f} ms"


def ok(good: bool) -> str:
    return "OK  " if good else "MISS"


def analyse(specs: list[tuple], received: list[list[tuple]], calls: list[dict], ticket_org: dict[str, int]) -> dict:
    """Latencies and delivery checks over every socket's messages."""
    called: dict[int, set[str]] = {}
    for c in calls:
        if c["ref"]:
            called.setdefault(c["org"], set()).add(c["ref"])
    by_ref = {c["ref"]: c for c in calls if c["ref"]}
    out = {
        "ts": {r: [] for r in ROLES},  # data-ts → receipt, ms
        "sent": [],  # TV: call sent → receipt, ms
        "delivered": dict.fromkeys(ROLES, 0),
        "expected": dict.fromkeys(ROLES, 0),
        "exact": dict.fromkeys(ROLES, 0),
        "sockets": dict.fromkeys(ROLES, 0),
        "leaks": dict.fromkeys(ROLES, 0),
        "duplicates": 0,
        "other": 0,
        "wrong_say": 0,
        "incomplete": [],  # (role, org, server, calls received, calls made) of sockets that missed some
    }
    for (role, org, server, _, _), messages in zip(specs, received, strict=True):
        mine = called.get(org, set())
        seen: list[str] = []
        leaks = 0
        for kind, ref, ts, say, at in messages:
            if kind != "call":
                out["other"] += 1
                continue
            if ticket_org.get(ref) != org:
                leaks += 1
                continue
            seen.append(ref)
            out["ts"][role].append((at - ts) * 1000)
            if role == "tv" and ref in by_ref:
                out["sent"].append((at - by_ref[ref]["sent"]) * 1000)
                out["wrong_say"] += say != by_ref[ref]["say"]
        out["sockets"][role] += 1
        out["leaks"][role] += leaks
        out["duplicates"] += len(seen) - len(set(seen))
        out["delivered"][role] += len(set(seen) & mine)
        out["expected"][role] += len(mine)
        out["exact"][role] += not leaks and len(seen) == len(mine) and set(seen) == mine
        if set(seen) != mine:
            out["incomplete"].append((role, org, server, len(set(seen) & mine), len(mine)))
    return out


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orgs", type=int, default=30)
    parser.add_argument("--staff", type=int, default=8, help="staff sockets per org (the org's counter user)")
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--interval", type=float, default=50.0, help="ms between two calls")
    parser.add_argument("--redis", action="store_true", help=f"Redis pub/sub backend on {REDIS_URL}")
    parser.add_argument("--procs", type=int, default=1, help="server processes (more than one needs --redis)")
    parser.add_argument(
        "--client-procs",
        type=int,
        default=max(1, (os.cpu_count() or 2) // 2),
        help="client processes (default: half the CPUs)",
    )
    parser.add_argument("--grace", type=float, default=15.0, help="s to wait for deliveries after the last call")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server logs)")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="raise the servers' and the clients' CPU priority by N (root only), when other work shares the machine",
    )
    args = parser.parse_args()
    if args.procs > 1 and not args.redis:
        parser.error("--procs > 1 needs --redis: the memory backend does not reach another process")

    n_sockets = args.orgs * (2 + args.staff)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n_sockets + 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n_sockets + 1024), hard))

    tmp = Path(tempfile.mkdtemp(prefix="weifu-bench-queue-"))
    servers: list[subprocess.Popen] = []
    logs = []
    workers: list[multiprocessing.Process] = []
    try:
        started = time.perf_counter()
        env = fresh_database(tmp, args.redis)
        ports = [free_port() for _ in range(args.procs)]
        for n, port in enumerate(ports):
            logs.append(open(tmp / f"server{n}.log", "w"))  # noqa: SIM115
            servers.append(start_server(port, env, logs[-1]))
            if args.nice:
                os.setpriority(os.PRIO_PROCESS, servers[-1].pid, -args.nice)
        if args.nice:
            os.setpriority(os.PRIO_PROCESS, 0, -args.nice)  # this process and the client processes it forks
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        per_org = -(-args.calls // args.orgs)
        orgs = asyncio.run(seed(bases[0], args.orgs, per_org))
        setup_s = time.perf_counter() - started
        ticket_org = {str(t): o["index"] for o in orgs for t in o["tickets"]}
        rss_idle = sum(memory_mb(s.pid, "VmRSS") for s in servers)
        print(
            f"{args.procs} server process(es) on port(s) {', '.join(map(str, ports))}; "
            f"{args.orgs} orgs and {len(ticket_org)} tickets in {setup_s:.1f} s; opening {n_sockets} sockets ...",
            flush=True,
        )

        # Per org: TV, kiosk, then the staff sockets, each on the next server in turn (starting
        # from the org's own), so with 2 processes every org has sockets on both.
        specs: list[tuple] = []
        on_server = [0] * args.procs
        for o in orgs:
            for j in range(2 + args.staff):
                server = (o["index"] + j) % args.procs
                on_server[server] += 1
                ws = f"ws://127.0.0.1:{ports[server]}/ws"
                if j < 2:
                    role = ROLES[j]
                    specs.append((role, o["index"], server, f"{ws}?token={o[role]}", {}))
                else:
                    specs.append(("staff", o["index"], server, ws, {"Authorization": f"Bearer {o['staff']}"}))
        shares = [specs[n :: args.client_procs] for n in range(args.client_procs)]
        specs = [spec for share in shares for spec in share]  # the order the client processes report in

        ctx = multiprocessing.get_context("fork")
        pipes = []
        started = time.perf_counter()
        for share in shares:
            parent_end, child_end = ctx.Pipe()
            worker = ctx.Process(target=client_process, args=(child_end, share, ticket_org, args.grace), daemon=True)
            worker.start()
            workers.append(worker)
            pipes.append(parent_end)
        connected = sum(expect(pipe, "ready")[1] for pipe in pipes)
        connect_s = time.perf_counter() - started
        rss_connected = sum(memory_mb(s.pid, "VmRSS") for s in servers)
        print(f"{connected} sockets open in {connect_s:.1f} s; {args.calls} calls, one every {args.interval:g} ms ...")

        load_before = os.getloadavg()[0]
        cpu_before = sum(cpu_seconds(s.pid) for s in servers)
        waited_before = sum(run_delay_seconds(s.pid) for s in servers)
        started = time.perf_counter()
        calls = asyncio.run(call_loop(bases, orgs, args.calls, args.interval))
        calling_s = time.perf_counter() - started
        calls_per_org: dict[int, int] = {}
        for c in calls:
            calls_per_org[c["org"]] = calls_per_org.get(c["org"], 0) + bool(c["ref"])
        for pipe in pipes:
            pipe.send(calls_per_org)
        received: list[list[tuple]] = []
        closed: list[int | None] = []
        for pipe in pipes:
            _, messages, codes = expect(pipe, "result")
            received.extend(messages)
            closed.extend(codes)
        total_s = time.perf_counter() - started
        server_cpu = sum(cpu_seconds(s.pid) for s in servers) - cpu_before
        server_waited = sum(run_delay_seconds(s.pid) for s in servers) - waited_before
        rss_peak = sum(memory_mb(s.pid, "VmHWM") for s in servers)
        load_after = os.getloadavg()[0]
    finally:
        for worker in workers:
            worker.join(5)
            if worker.is_alive():
                worker.kill()
        for server in servers:
            server.terminate()
        for server in servers:
            stop_server(server)
        for log in logs:
            log.close()
        if args.keep:
            print(f"kept {tmp} (database, server logs)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    r = analyse(specs, received, calls, ticket_org)
    answered = [c for c in calls if c["ref"]]
    failed = [c for c in calls if not c["ref"]]
    backend = "Redis pub/sub" if args.redis else "memory"
    tvs = r["sockets"]["tv"]
    leaks = sum(r["leaks"].values())
    p99 = lambda values: percentile(sorted(values), 0.99) if values else float("inf")  # noqa: E731
    print(f"queue call-out: uvicorn × {args.procs} process(es), {backend} backend, SQLite, {os.cpu_count()} CPUs")
    print(f"  setup               {args.orgs} orgs, {len(ticket_org)} tickets through the API in {setup_s:.1f} s")
    print(
        f"  sockets             {connected} of {n_sockets} in {connect_s:.1f} s ({tvs} TVs, "
        f"{r['sockets']['kiosk']} kiosks, {r['sockets']['staff']} staff; per server {on_server})"
    )
    print(
        f"  calls               {len(answered)} of {args.calls} answered 200 in {calling_s:.1f} s "
        f"({args.calls / calling_s:.1f}/s); answer {spread([(c['answered'] - c['sent']) * 1000 for c in calls])}"
    )
    print(f"  CPU while calling   server {server_cpu:.1f} s of {total_s:.1f} s wall")
    print(
        f"  server CPU wait     {server_waited:.2f} s runnable but not running (box CPU pressure {cpu_pressure()}, "
        f"load average {load_before:.1f} → {load_after:.1f}{f', nice -{args.nice}' if args.nice else ''})"
    )
    target = f"target p99 < {TARGET_P99_MS:.0f} ms"
    print(f"  TV: data-ts → receipt      {spread(r['ts']['tv'])}   {target} {ok(p99(r['ts']['tv']) < TARGET_P99_MS)}")
    print(f"  TV: call sent → receipt    {spread(r['sent'])}   {target} {ok(p99(r['sent']) < TARGET_P99_MS)}")
    print(f"  kiosk: data-ts → receipt   {spread(r['ts']['kiosk'])}")
    print(f"  staff: data-ts → receipt   {spread(r['ts']['staff'])}")
    delivered, expected = r["delivered"]["tv"], r["expected"]["tv"]
    print(
        f"  TV deliveries       {delivered} of {expected}; TVs with exactly their org's calls {r['exact']['tv']} of "
        f"{tvs}; wrong announcements {r['wrong_say']}   target all {ok(r['exact']['tv'] == tvs and not r['wrong_say'])}"
    )
    everyone = sum(r["delivered"].values()), sum(r["expected"].values()), sum(r["exact"].values())
    print(f"  all sockets         {everyone[0]} of {everyone[1]} delivered, {everyone[2]} of {connected} exact")
    print(
        f"  cross-org leaks     {leaks} (TV {r['leaks']['tv']}, kiosk {r['leaks']['kiosk']}, "
        f"staff {r['leaks']['staff']})   target 0   {ok(leaks == 0)}"
    )
    print(
        f"  server RSS          idle {rss_idle:.0f} MB, {connected} sockets {rss_connected:.0f} MB, "
        f"peak {rss_peak:.0f} MB (VmHWM)"
    )
    if r["incomplete"]:
        groups = Counter(f"{role} on server {n}" for role, _, n, _, _ in r["incomplete"])
        where = ", ".join(f"{k}: {v}" for k, v in sorted(groups.items()))
        none = sum(got == 0 for *_, got, _ in r["incomplete"])
        print(f"  incomplete sockets  {len(r['incomplete'])} ({where}); {none} of them got none of their org's calls")
    if r["duplicates"] or r["other"] or failed or any(code is not None for code in closed):
        print(
            f"  anomalies           duplicates {r['duplicates']}, other events {r['other']}, "
            f"closed sockets {sum(code is not None for code in closed)}, failed calls {len(failed)}"
            + (f" (first: {failed[0]['status']} {failed[0]['error']})" if failed else "")
        )


if __name__ == "__main__":
    main()
