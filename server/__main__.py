"""Command line: serve, migrate, tenant create, demo, backup, restore, worker, fake-gsx, fake-sms.

Every command honours DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys

from server.settings import ROOT, Settings


def migrate() -> None:
    """Run every Piccolo app's migrations forward (idempotent)."""
    env = os.environ | {"PICCOLO_CONF": "piccolo_conf"}
    result = subprocess.run(
        [sys.executable, "-m", "piccolo.main", "migrations", "forwards", "all"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or "failed" in result.stdout.lower():
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit("migration failed")
    ran = result.stdout.count("[forwards]... ok")  # one line per migration Piccolo ran
    print(f"migrations: {ran} applied, database up to date" if ran else "migrations: database already up to date")


async def _with_db(coro_factory):
    from server.core import db

    settings = Settings()
    db.configure(settings.database_url, settings.db_timeouts)
    await db.start()
    try:
        return await coro_factory()
    finally:
        await db.stop()


def tenant_create(code: str, name: str, admin_password: str) -> None:
    from server import domains  # noqa: F401  (registers codes and hooks)
    from server.core.errors import BusinessError
    from server.system.services import tenants

    async def run():
        return await tenants.create(code, name, admin_password)

    try:
        ctx = asyncio.run(_with_db(run))
    except BusinessError as exc:
        raise SystemExit(f"错误：{exc.detail}") from None
    print(f"created tenant {ctx.tenant_code}: log in as admin@{ctx.tenant_code}")


def demo(reset: bool, base_url: str) -> None:
    """The demo tenant has public passwords and fixed device links: never in production."""
    if Settings().is_prod:
        raise SystemExit("错误：WEIFU_ENV=prod 时不能加载演示数据（演示账号的密码和设备链接是公开的）")
    from server.demo import load

    asyncio.run(_with_db(lambda: load(reset, base_url)))


WORKERS_KILL_TIMEOUT = 10  # seconds a stopping worker gets to finish its requests and sockets


def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """The production server, for HTTP and live sockets alike: uvicorn (uvloop, httptools,
    sans-I/O websockets) with `workers` processes, which its supervisor starts again when one
    dies. Chosen over granian by bench/ws_fanout.py and bench/http.py (README "Production
    server"): a third of granian's memory per socket and half its CPU per delivered message,
    for the same HTTP throughput, the app's own work being most of a request.

    glibc's malloc makes an arena per thread that allocates (aiosqlite's, anyio's) and keeps
    their freed memory: MALLOC_ARENA_MAX=2 holds a worker's RSS down. It is read when a process
    starts, so `serve` starts itself again with it set, and the workers inherit it."""
    if "MALLOC_ARENA_MAX" not in os.environ:
        argv = ["serve", "--host", host, "--port", str(port), "--workers", str(workers)] + ["--reload"] * reload
        os.execve(sys.executable, [sys.executable, "-m", "server", *argv], os.environ | {"MALLOC_ARENA_MAX": "2"})
    import uvicorn

    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        reload_includes=["*.py", "*.html"] if reload else None,  # templates are read once a process
        loop="uvloop",
        http="httptools",
        # Live signals are ~200-byte fragments: per-message deflate would cost a zlib context per
        # socket (~30 KB) and a compression per socket per event for almost no bytes saved.
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        # X-Forwarded-For is read by the app from WEIFU_TRUSTED_PROXIES only (server.core.web.client_ip)
        proxy_headers=False,
        # the load balancer logs requests; a line per request would cost each worker CPU
        access_log=False,
        backlog=4096,  # thousands of screens and pages reconnecting at once after a restart
        timeout_graceful_shutdown=WORKERS_KILL_TIMEOUT,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server", description="维服 Weifu")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the app")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--reload", action="store_true")
    sub.add_parser("migrate", help="run database migrations")
    t = sub.add_parser("tenant", help="tenant administration")
    tsub = t.add_subparsers(dest="tenant_command", required=True)
    tc = tsub.add_parser("create", help="create a tenant with its head office and admin user")
    tc.add_argument("--code", required=True)
    tc.add_argument("--name", required=True)
    tc.add_argument("--admin-password", required=True)
    d = sub.add_parser("demo", help="load the demo tenant DEMO once (what users change stays)")
    d.add_argument("--reset", action="store_true", help="remove the demo tenant and load it afresh")
    d.add_argument("--base-url", default="http://127.0.0.1:8000", help="where the printed links point")
    b = sub.add_parser("backup", help="write a consistent snapshot of the database")
    b.add_argument("path")
    r = sub.add_parser("restore", help="restore a snapshot written by backup")
    r.add_argument("path")
    g = sub.add_parser("fake-gsx", help="serve a fake Apple GSX over mutual TLS (tests and the demo)")
    g.add_argument("--host", default="127.0.0.1")
    g.add_argument("--port", type=int, default=8443)
    g.add_argument("--certs", default=str(ROOT / "var" / "fake-gsx"), help="its CA and certificates (made if missing)")
    g.add_argument("--step-seconds", type=float, default=0.0, help="move each repair one status on every N seconds")
    g.add_argument("--token-idle", type=float, default=1800.0, help="seconds an unused auth token lives")
    sub.add_parser("worker", help="run background jobs from the Redis queue (needs REDIS_URL)")
    f = sub.add_parser("fake-sms", help="serve a fake SMS gateway (a JSON webhook) for tests and the demo")
    f.add_argument("--host", default="127.0.0.1")
    f.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)

    if args.command == "serve":
        serve(args.host, args.port, args.workers, args.reload)
    elif args.command == "migrate":
        migrate()
    elif args.command == "tenant":
        tenant_create(args.code, args.name, args.admin_password)
    elif args.command == "demo":
        demo(args.reset, args.base_url)
    elif args.command == "fake-gsx":
        from pathlib import Path

        from server.gsx.fake import run

        run(args.host, args.port, Path(args.certs), args.step_seconds, args.token_idle)
    elif args.command == "worker":
        from server.worker import main as run_worker

        run_worker()
    elif args.command == "fake-sms":
        from server.notices.fake import run as run_fake_sms

        run_fake_sms(args.host, args.port)
    elif args.command == "backup":
        from server.backup import backup

        backup(Settings().database_url, args.path)
    elif args.command == "restore":
        from server.backup import restore

        restore(Settings().database_url, args.path)


if __name__ == "__main__":
    main()
