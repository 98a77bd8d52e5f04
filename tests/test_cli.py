"""The command line (`python -m server …`) run as a real subprocess on a database of its own.

On SQLite each test gets a copy of a file migrated here by `python -m server migrate`; with
TEST_DATABASE_URL the commands run on the test's PostgreSQL database instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.core import db
from server.settings import ROOT
from server.system.services import auth, orgs, tenants, users
from server.system.tables import Org, Role, Tenant, User
from tests.conftest import PG_URL

CJK = re.compile(r"[\u4e00-\u9fff]")
DEMO_ROLES = {"网点经理", "前台接待", "维修技师", "仓库管理员"}


def run(url: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "cli-test-secret"}
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "server", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def refused(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode != 0, result.stdout
    assert CJK.search(result.stderr) and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory) -> Path | None:
    """A fresh SQLite file brought up to date by the `migrate` command (None on PostgreSQL)."""
    if PG_URL:
        return None
    path = tmp_path_factory.mktemp("cli") / "migrated.sqlite3"
    first = ok(run(f"sqlite:///{path}", "migrate")).stdout
    assert re.search(r"migrations: [1-9]\d* applied, database up to date", first), first
    assert "migrations: database already up to date" in ok(run(f"sqlite:///{path}", "migrate")).stdout
    return path


@pytest.fixture
def url(database_url, migrated_file, tmp_path) -> str:
    """The database the commands and this test's own queries share."""
    if migrated_file is None:
        return database_url
    path = tmp_path / "cli.sqlite3"
    shutil.copyfile(migrated_file, path)
    url = f"sqlite:///{path}"
    db.configure(url)
    return url


async def login_ok(login: str, password: str) -> bool:
    result = await auth.login(login, password, None, "127.0.0.1")
    return result.user_id > 0


async def demo_counts() -> dict:
    tenant = await Tenant.select().where(Tenant.code == "DEMO").first()
    of_demo = {"orgs": Org, "users": User, "roles": Role}
    return {name: await table.count().where(table.tenant_id == tenant["id"]) for name, table in of_demo.items()}


async def test_tenant_create_upper_cases_the_code_and_its_admin_can_log_in(url):
    result = ok(run(url, "tenant", "create", "--code", "abc", "--name", "公司", "--admin-password", "Passw0rd1"))
    assert "admin@ABC" in result.stdout
    tenant = await Tenant.select().where(Tenant.code == "ABC").first()
    assert tenant["name"] == "公司"
    hq = await Org.select().where(Org.tenant_id == tenant["id"]).first()
    assert (hq["kind"], hq["code"], hq["name"]) == ("hq", "HQ", "公司总部")
    assert await login_ok("admin@ABC", "Passw0rd1")
    assert await login_ok("admin@abc", "Passw0rd1")  # the code is case-insensitive at login


async def test_tenant_create_refuses_a_duplicate_code_in_chinese(url):
    await tenants.create("ABC", "原公司", "Passw0rd1")
    result = run(url, "tenant", "create", "--code", "abc", "--name", "第二家", "--admin-password", "Passw0rd1")
    refused(result, "已存在")
    assert [t["name"] for t in await Tenant.select(Tenant.name)] == ["原公司"]


async def test_tenant_create_refuses_invalid_codes(url):
    for code in ("A", "a-b"):
        result = run(url, "tenant", "create", "--code", code, "--name", "公司", "--admin-password", "Passw0rd1")
        refused(result, "公司简码为 2–16 位大写字母或数字")
    assert await Tenant.count() == 0


async def test_demo_loads_a_network_and_a_second_run_changes_nothing(url):
    loaded = ok(run(url, "demo", "--base-url", "http://10.1.2.3:8000/")).stdout
    assert "http://10.1.2.3:8000/login" in loaded
    assert "http://10.1.2.3:8000/queue/kiosk/dev_DEMO-SH01-kiosk" in loaded
    assert "http://10.1.2.3:8000/queue/tv/dev_DEMO-GZ01-tv" in loaded
    first = await demo_counts()
    assert "already loaded" in ok(run(url, "demo")).stdout
    assert await demo_counts() == first
    ctx = await tenants.platform_ctx("DEMO")
    network = await Org.select(Org.level).where(Org.tenant_id == ctx.tenant_id)
    assert len(network) >= 6
    assert {o["level"] for o in network} == {1, 2, 3, 4}
    names = {r["name"] for r in await Role.select(Role.name).where(Role.tenant_id == ctx.tenant_id)}
    assert DEMO_ROLES <= names
    assert await login_ok("admin@DEMO", "demo1234")
    assert await login_ok("sh.manager@DEMO", "demo1234")


async def test_demo_is_loaded_once_and_reset_starts_it_over(url):
    ok(run(url, "demo"))
    full = await demo_counts()
    ctx = await tenants.platform_ctx("DEMO")
    tech = await User.select(User.id).where((User.tenant_id == ctx.tenant_id) & (User.account == "gz.tech")).first()
    await users.delete(ctx, tech["id"])
    ok(run(url, "demo"))  # what the user deleted stays deleted
    gone = await User.select(User.status).where(User.id == tech["id"]).first()
    assert gone["status"] == "deleted"
    ok(run(url, "demo", "--reset"))
    assert await demo_counts() == full
    ctx = await tenants.platform_ctx("DEMO")
    back = await User.select(User.status).where((User.tenant_id == ctx.tenant_id) & (User.account == "gz.tech")).first()
    assert back["status"] == "active"
    assert await login_ok("gz.tech@DEMO", "demo1234")


@pytest.mark.skipif(
    bool(PG_URL) and not (shutil.which("pg_dump") and shutil.which("pg_restore")),
    reason="pg_dump/pg_restore not installed",
)
async def test_backup_then_restore_brings_the_data_back(url, tmp_path):
    ctx = await tenants.create("ABC", "公司", "Passw0rd1")
    await orgs.create(ctx, {"code": "KEEP", "name": "备份前的网点", "parent_id": ctx.org_id})
    snapshot = tmp_path / "backup" / "weifu.dump"
    ok(run(url, "backup", str(snapshot)))
    assert snapshot.stat().st_size > 0
    await orgs.create(ctx, {"code": "LOST", "name": "备份后的网点", "parent_id": ctx.org_id})
    await Org.update({Org.name: "改过的名字"}).where(Org.code == "KEEP")
    await tenants.create("NEW", "备份后的公司", "Passw0rd1")
    ok(run(url, "restore", str(snapshot)))
    assert {o["code"]: o["name"] for o in await Org.select().where(Org.tenant_id == ctx.tenant_id)} == {
        "HQ": "公司总部",
        "KEEP": "备份前的网点",
    }
    assert [t["code"] for t in await Tenant.select(Tenant.code)] == ["ABC"]
    assert await login_ok("admin@ABC", "Passw0rd1")


async def test_restore_of_a_missing_file_is_refused_in_chinese(url, tmp_path):
    refused(run(url, "restore", str(tmp_path / "nope.dump")), "不存在")


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_serve_runs_uvicorn_workers_with_few_malloc_arenas_and_stops_on_sigterm(url, tmp_path):
    """`serve --workers 2`, as the Procfile runs it: one supervisor and its workers, all with
    MALLOC_ARENA_MAX=2 (serve starts itself again with it); SIGTERM stops every process."""
    import signal
    import time

    import httpx

    from tests.conftest import free_port

    port = free_port()
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "cli-test-secret"}
    for name in ("REDIS_URL", "MALLOC_ARENA_MAX"):
        env.pop(name, None)
    with open(tmp_path / "serve.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(1200):  # up to a minute on a loaded machine
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            workers = _children(proc.pid)  # the workers (and multiprocessing's helper)
            assert len(workers) >= 2, Path(log.name).read_text()
            for pid in [proc.pid, *workers]:
                assert _environ(pid).get("MALLOC_ARENA_MAX") == "2"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0, Path(log.name).read_text()
            # multiprocessing's resource tracker leaves once it reads its parent's end of a pipe:
            # on a loaded machine, a moment after the supervisor has exited
            for pid in workers:
                for _ in range(600):
                    if not _alive(pid):
                        break
                    time.sleep(0.05)
                assert not _alive(pid), Path(f"/proc/{pid}/cmdline").read_bytes()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
