"""Redis outages (issue 12: 1, 2 and the Redis parts of 5 and 8), on a throwaway redis-server
of each test's own that it kills and starts again on the same port.

- Live updates survive a restart: sockets are told while Redis is away (a `live`/`down`
  signal: pages show 重新连接中…), new sockets are closed with 1013 (try again), and once Redis
  is back every socket that lived through it is closed with 1012, reconnects and hears the next
  event; events caused meanwhile are published once Redis answers.
- The app starts while Redis is down; what needs Redis (sessions, the login and kiosk
  throttles) answers 503 with Retry-After, never 500, and works again when Redis is back —
  without the sessions, which a Redis without persistence forgets.
- Shutdown ends within 10 s after Redis died under it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import time
from contextlib import AsyncExitStack

import pytest
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.queue.services import devices, setup
from tests.conftest import ADMIN_PASSWORD, csrf, page_login
from tests.realtime.test_live import (
    api,
    create_org,
    no_local_publishing,  # noqa: F401  (autouse fixture)
    parse,
    token,
    ws_url,
)
from tests.realtime.throwaway_redis import ThrowawayRedis, needs_redis_server

pytestmark = needs_redis_server

Q = "/api/v1/queue"
RESYNC = 1012
TRY_AGAIN = 1013


@pytest.fixture
def redis_server(tmp_path):
    """Not started: each test starts it when its story needs it."""
    server = ThrowawayRedis(tmp_path)
    yield server
    server.kill()


async def queue_setup(http) -> tuple[dict, dict, dict]:
    """A service, a kiosk and a TV of the head office."""
    service = (await http.post(f"{Q}/services", json={"name": "维修", "prefix": "A"})).json()
    kiosk = (await http.post(f"{Q}/devices", json={"kind": "kiosk", "name": "取号机"})).json()
    tv = (await http.post(f"{Q}/devices", json={"kind": "tv", "name": "电视"})).json()
    return service, kiosk, tv


def open_socket(server, bearer: str | None = None, device_token: str | None = None):
    if device_token:
        return connect(f"{ws_url(server)}?token={device_token}", open_timeout=5)
    return connect(ws_url(server), additional_headers={"Authorization": f"Bearer {bearer}"}, open_timeout=5)


async def until(ws: ClientConnection, predicate, timeout: float) -> dict[str, str]:
    """The first signal matching `predicate` (others are skipped); fails after `timeout` s."""
    async with asyncio.timeout(timeout):
        while True:
            signal_ = parse(await ws.recv())
            if predicate(signal_):
                return signal_


async def close_code(ws: ClientConnection, timeout: float) -> int | None:
    """The close code the server ends this socket with (signals before it are skipped); None if
    it is still open after `timeout` s."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    except TimeoutError:
        return None


def is_ticket(ticket_id):
    return lambda s: (s["topic"], s["kind"], s["ref"]) == ("queue", "ticket", str(ticket_id))


def is_down(s: dict[str, str]) -> bool:
    return (s["topic"], s["kind"]) == ("live", "down")


async def test_redis_restart_under_live_sockets_in_two_processes(redis_server, live_server_factory, tenant):
    """The issue's case: sockets on two processes, Redis killed and started again. Every socket
    is told of the outage, then either closed with 1012 and, reconnected, hears the next event
    within 5 s, or hears it directly; before, none ever heard another event, nor did new ones."""
    redis_server.start()
    server_a, server_b = (
        live_server_factory(redis_url=redis_server.url),
        live_server_factory(redis_url=redis_server.url),
    )
    admin = await token(server_a, "admin@ACME")
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(api(server_a, admin))
        service, kiosk, tv = await queue_setup(http)
        kiosk_http = await stack.enter_async_context(api(server_a, kiosk["token"]))

        async def take(via=kiosk_http) -> dict:
            response = await via.post(f"{Q}/tickets", json={"service_id": service["id"]})
            assert response.status_code == 201, response.text
            return response.json()

        # who: (server, bearer, device token): staff and TV sockets on both processes
        who = [(server, admin, None) for server in (server_a, server_b) for _ in range(3)]
        who += [(server_a, None, tv["token"]), (server_b, None, tv["token"])]
        sockets = [await stack.enter_async_context(open_socket(*w)) for w in who]
        first = await take()
        for ws in sockets:
            await until(ws, is_ticket(first["id"]), 5)

        redis_server.kill()
        for ws in sockets:  # told: the pages show 重新连接中…
            await until(ws, is_down, 10)
        # a socket opened meanwhile is closed with "try again later", not left on a dead subscription
        async with open_socket(server_b, device_token=tv["token"]) as late:
            assert await close_code(late, 10) == TRY_AGAIN
        # work goes on (the database is up); the kiosk's throttle needs Redis: it fails closed
        during = await take(via=http)
        refused = await kiosk_http.post(f"{Q}/tickets", json={"service_id": service["id"]})
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "unavailable" and refused.headers["retry-after"]

        redis_server.start()
        codes = await asyncio.gather(*(close_code(ws, 10) for ws in sockets))
        assert set(codes) <= {RESYNC, None}, codes
        # the closed ones reconnect, as htmx does after 1012
        fresh = [
            await stack.enter_async_context(open_socket(*w)) if code == RESYNC else ws
            for w, ws, code in zip(who, sockets, codes, strict=True)
        ]
        after = await take()  # through process A, where the kiosk's throttle works again
        for ws in fresh:
            await until(ws, is_ticket(after["id"]), 5)
        # and the state a reconnected page fetches is the true one, the outage's ticket included
        async with api(server_b, admin) as through_b:
            listed = await through_b.get(f"{Q}/tickets")
            assert listed.status_code == 200, listed.text
            assert {first["id"], during["id"], after["id"]} <= {t["id"] for t in listed.json()["items"]}


async def test_app_starts_while_redis_is_down_and_live_updates_come_when_it_starts(
    redis_server, live_server_factory, tenant
):
    """A process started while Redis is down serves (its broker connection is retried in the
    background); its sockets are closed with 1013 until Redis answers, then served."""
    service = await setup.create_service(tenant, {"name": "维修", "prefix": "A"})
    tv = await devices.create(tenant, {"kind": "tv", "name": "电视"})  # device tokens live in the database
    server = live_server_factory(redis_url=redis_server.url)  # Redis not started yet
    async with open_socket(server, device_token=tv["token"]) as ws:
        assert await close_code(ws, 10) == TRY_AGAIN

    redis_server.start()
    admin = await token(server, "admin@ACME")  # the login throttle answers again
    async with api(server, admin) as http, asyncio.timeout(15):
        while True:  # as a TV does: reconnect until served (the next retry comes within a second)
            try:
                async with open_socket(server, device_token=tv["token"]) as ws:
                    taken = await http.post(f"{Q}/tickets", json={"service_id": service["id"]})
                    assert taken.status_code == 201, taken.text
                    await until(ws, is_ticket(taken.json()["id"]), 5)
                    break
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == TRY_AGAIN
                await asyncio.sleep(0.2)


async def test_sessions_and_throttles_answer_503_while_redis_is_down(redis_server, settings, tenant):
    """Requests that need Redis fail closed with 503 (Retry-After), never 500, from the first
    start on; they work again once Redis is back, without a restart. A Redis without
    persistence forgets the sessions: the user logs in again (README: production notes)."""
    from server.app import create_app

    app = create_app(dataclasses.replace(settings, redis_url=redis_server.url))
    async with AsyncTestClient(app=app) as client:  # starts with Redis down
        assert (await client.get("/healthz")).status_code == 200

        async def all_unavailable() -> None:
            answers = {
                "token (login throttle)": await client.post(
                    "/api/v1/auth/token", json={"login": "admin@ACME", "password": ADMIN_PASSWORD}
                ),
                "login form (login throttle)": await client.post(
                    "/login",
                    data={"login": "admin@ACME", "password": ADMIN_PASSWORD, "otp": "", **_csrf_field(client)},
                    follow_redirects=False,
                ),
                "page (session)": await client.get("/system/orgs", follow_redirects=False),
                "fragment (session)": await client.get("/system/orgs", headers=csrf(client)),
            }
            for what, response in answers.items():
                assert response.status_code == 503, (what, response.status_code, response.text[:300])
                assert response.headers.get("retry-after"), what
            assert answers["token (login throttle)"].json()["code"] == "unavailable"

        client.cookies.set("session", "a-session-id-nobody-can-check-now")
        await all_unavailable()

        redis_server.start()
        client.cookies.delete("session")
        await page_login(client, "admin@ACME")
        assert (await client.get("/system/orgs")).status_code == 200

        redis_server.kill()
        await all_unavailable()

        redis_server.start()  # a new, empty Redis: the session is gone
        response = await client.get("/system/orgs", follow_redirects=False)
        assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")
        await page_login(client, "admin@ACME")
        assert (await client.get("/system/orgs")).status_code == 200


def _csrf_field(client: AsyncTestClient) -> dict[str, str]:
    return {"_csrf_token": client.cookies.get("csrftoken", "")}


async def test_shutdown_ends_within_10_s_after_redis_died(redis_server, live_server_factory, tenant):
    """SIGTERM after Redis died under a live socket and an unpublished event: the process ends
    within 10 s (before, the channels plugin joined a publish queue whose worker had died, and
    uvicorn waited for ever)."""
    redis_server.start()
    server = live_server_factory(redis_url=redis_server.url)
    admin = await token(server, "admin@ACME")
    async with open_socket(server, admin) as ws, api(server, admin) as http:
        created = await create_org(http, "BEFORE", tenant.org_id)
        await until(ws, lambda s: s["ref"] == str(created["id"]), 5)
        redis_server.kill()
        await create_org(http, "DURING", tenant.org_id)  # its event cannot be published now
        server.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            await asyncio.to_thread(server.proc.wait, 10)  # the loop stays free to answer the close
        except Exception:
            server.proc.kill()
            pytest.fail(f"still running {time.monotonic() - started:.0f} s after SIGTERM")
