"""Bad input that used to give a 500 (audit item 7) and the smaller holes (item 9): control
characters and NUL, deep JSON, LIKE wildcards, X-Forwarded-For, tokens in logs, the kiosk's rate
limit and the demo's fixed device links."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from litestar import Request

from server.core import logs
from server.core.web import client_ip
from server.settings import ROOT
from tests.api_helpers import call, error_of
from tests.conftest import ADMIN_PASSWORD, csrf, page_login
from tests.queue.helpers import Q, queue_world

# --- item 7: bad input is a 400, never a 500 ------------------------------------------------------


@pytest.mark.parametrize("char", ["\x08", "\x1f", "\x00", "\x7f", "\x0b"])
async def test_control_characters_in_text_are_refused(client, tenant, admin, char):
    body = {"code": "B1", "name": f"上海{char}店", "parent_id": tenant.org_id}
    # a NUL is refused before the form is read; the others by the form, beside the field
    extra = () if char == "\x00" else ("errors",)
    error_of(await client.post("/api/v1/orgs", json=body, headers=admin), 400, extra=extra)
    response = await client.get("/api/v1/orgs", headers=admin)
    assert response.json()["total"] == 1  # nothing stored
    assert (await client.get("/api/v1/orgs/export", headers=admin)).status_code == 200


async def test_line_breaks_and_tabs_stay_allowed_in_text(client, tenant, admin):
    body = {"code": "B1", "name": "上海店", "parent_id": tenant.org_id, "address": "徐汇区\r\n漕溪北路\t1 号"}
    assert (await client.post("/api/v1/orgs", json=body, headers=admin)).status_code == 201


@pytest.mark.parametrize(
    "method,url,kwargs",
    [
        ("GET", "/api/v1/orgs?q=%00", {}),
        ("GET", "/api/v1/orgs?status=active%00", {}),
        ("GET", "/api/v1/goods/export?q=a%00b", {}),
        ("POST", "/api/v1/auth/token", {"json": {"login": "admin\x00@ACME", "password": "x1234567"}}),
        ("POST", "/api/v1/roles", {"json": {"name": "a\x00", "org_kind": "hq", "permissions": []}}),
    ],
)
async def test_a_nul_anywhere_is_a_400(client, tenant, admin, method, url, kwargs):
    response = await client.request(method, url, headers=admin, **kwargs)
    error_of(response, 400, "invalid_character")


async def test_a_nul_in_a_page_form_or_filter_is_a_400(client, tenant):
    await page_login(client, "admin@ACME", ADMIN_PASSWORD)
    response = await client.get("/system/orgs?q=%00")
    assert response.status_code == 400 and "空字符" in response.text
    response = await client.post("/system/roles", data={"name": "a\x00b", "org_kind": "hq"}, headers=csrf(client))
    assert response.status_code == 400 and "空字符" in response.text


async def test_deeply_nested_json_is_a_400(client, tenant, admin):
    deep = "[" * 50_000 + "]" * 50_000
    for url, body in (("/api/v1/orgs", deep), ("/api/v1/roles", '{"name": "x", "permissions": ' + deep + "}")):
        response = await client.post(url, content=body, headers=admin | {"content-type": "application/json"})
        error_of(response, 400, "invalid_request")


# --- item 9: smaller holes -------------------------------------------------------------------------------


async def test_search_matches_percent_and_underscore_literally(client, tenant, admin):
    for code, name in (("B1", "百分之百%店"), ("B2", "下划_线店"), ("B3", "普通店")):
        await call(client, "POST", "/api/v1/orgs", admin, {"code": code, "name": name, "parent_id": tenant.org_id}, 201)
    for q, expected in (("%", ["B1"]), ("_", ["B2"]), ("\\", [])):
        items = (await client.get("/api/v1/orgs", params={"q": q}, headers=admin)).json()["items"]
        assert [o["code"] for o in items] == expected, (q, items)
    for url in ("/api/v1/users", "/api/v1/roles", "/api/v1/goods", "/api/v1/suppliers", "/api/v1/warehouses"):
        assert (await client.get(url, params={"q": "%"}, headers=admin)).json()["total"] == 0, url


def _request(peer: str, forwarded: str, trusted: tuple) -> Request:
    from ipaddress import ip_network

    from litestar import Litestar
    from litestar.datastructures import State

    app = Litestar(state=State({"trusted_proxies": tuple(ip_network(t) for t in trusted)}))
    scope = {
        "type": "http",
        "app": app,
        "litestar_app": app,
        "client": (peer, 5000),
        "headers": [(b"x-forwarded-for", forwarded.encode())],
        "path": "/",
        "query_string": b"",
        "method": "GET",
    }
    return Request(scope)  # type: ignore[arg-type]


def test_x_forwarded_for_is_believed_only_from_configured_proxies():
    assert client_ip(_request("127.0.0.1", "6.6.6.6", ())) == "127.0.0.1"
    assert client_ip(_request("203.0.113.9", "6.6.6.6", ("10.0.0.0/8",))) == "203.0.113.9"
    assert client_ip(_request("10.0.0.2", "6.6.6.6, 198.51.100.7", ("10.0.0.0/8",))) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "198.51.100.7, 10.0.0.5", ("10.0.0.0/8",))) == "198.51.100.7"


def test_rotating_x_forwarded_for_does_not_escape_the_address_throttle(settings, tenant, tmp_path):
    """Through `python -m server serve` itself: uvicorn believed X-Forwarded-For from 127.0.0.1."""
    import httpx

    from server.system.services import auth
    from tests.conftest import free_port

    port = free_port()
    env = os.environ | {"DATABASE_URL": settings.database_url, "SECRET_KEY": "x"}
    env.pop("REDIS_URL", None)
    env.pop("WEIFU_TRUSTED_PROXIES", None)
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                import time

                time.sleep(0.05)
        with httpx.Client(base_url=url, timeout=30) as http:
            for i in range(auth.IP_LIMIT):
                body = {"login": f"nobody{i}@ACME", "password": "wrong-pass1"}
                response = http.post("/api/v1/auth/token", json=body, headers={"x-forwarded-for": f"10.9.{i}.1"})
                error_of(response, 401, "wrong_credentials")
            body = {"login": "admin@ACME", "password": ADMIN_PASSWORD}
            response = http.post("/api/v1/auth/token", json=body, headers={"x-forwarded-for": "10.99.0.1"})
            error_of(response, 429, "throttled")
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_device_tokens_never_reach_the_logs(app):
    """Access lines of uvicorn (and granian), socket lines and the app's own errors are masked."""
    lines = [
        ("uvicorn.access", '%s - "%s %s HTTP/%s" %d', ("1.2.3.4", "GET", "/queue/kiosk/dev_Sek-ret_1", "1.1", 200)),
        ("uvicorn.error", '%s - "WebSocket %s" [accepted]', ("1.2.3.4", "/ws?token=dev_Sek-ret_2")),
        ("uvicorn.access", '%s - "%s %s"', ("1.2.3.4", "GET", "/ws?a=1&token=abc.def")),
        ("weifu", "unhandled error on %s %s", ("GET", "/queue/tv/dev_Sek-ret_3")),
    ]
    for name, message, args in lines:
        record = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)
        for f in logging.getLogger(name).filters:
            f.filter(record)
        text = record.getMessage()
        assert "Sek-ret" not in text and "abc.def" not in text, text
    assert logs.redact("/queue/kiosk/dev_abc?x=1") == "/queue/kiosk/dev_***?x=1"


async def test_a_kiosk_is_rate_limited_and_staff_are_not(client, tenant, admin):
    from server.queue.services.tickets import KIOSK_LIMIT

    world = await queue_world(client, admin)
    body = {"service_id": world["a"]["id"]}
    for _ in range(KIOSK_LIMIT):
        await call(client, "POST", f"{Q}/tickets", world["kiosk_auth"], body, 201)
    error_of(await client.post(f"{Q}/tickets", json=body, headers=world["kiosk_auth"]), 429, "throttled")
    await call(client, "POST", f"{Q}/tickets", admin, body, 201)  # the counter staff still take tickets
    tickets = (await client.get(f"{Q}/tickets", headers=admin, params={"page_size": 200})).json()
    assert tickets["total"] == KIOSK_LIMIT + 1


def test_the_demo_refuses_to_load_in_production(tmp_path):
    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "WEIFU_ENV": "prod", "SECRET_KEY": "x"}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "server", "demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "prod" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_fixed_device_links_are_written_only_by_the_demo_loader():
    """A device's token is random (`devices.create`/`regenerate`); the one writer of a fixed token
    hash is the demo loader, which only `python -m server demo` runs."""
    grep = ["grep", "-rln", "--include=*.py", "QueueDevice.token_hash:", "server"]
    writers = subprocess.run(grep, cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert sorted(writers) == ["server/queue/demo.py", "server/queue/services/devices.py"], writers
    callers = subprocess.run(
        ["grep", "-rln", "--include=*.py", "queue_demo.load\\|demo import load", "server"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert sorted(callers) == ["server/__main__.py", "server/demo.py"], callers


def test_the_audit_log_reads_as_a_diff_in_chinese():
    from server.core import audit

    rows = audit.readable('{"name": "华东大区", "phone": "", "enabled": true}', {"name": "华东区", "phone": "021-1"})
    assert rows == [("名称", "华东大区", "华东区"), ("电话", "（空）", "021-1")]
    created = audit.readable(None, {"id": 3, "code": "SH01", "kind": "branch", "path": "/1/3/", "role_ids": [1, 2]})
    assert created == [("编码", None, "SH01"), ("类型", None, "网点"), ("角色", None, "1、2")]
    assert audit.ACTIONS["confirm"] == "确认" and audit.ACTIONS["submit"] == "提交"
