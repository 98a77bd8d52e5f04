"""Live updates end to end: real server processes (`live_server`, memory or Redis backend as the
test run is configured), real WebSocket clients, events caused through the JSON API.

To prove that something is *not* delivered without sleeping, a test causes a later "marker"
event that the client is entitled to: channels deliver in publish order, so anything leaked
would arrive before the marker. The client must see the marker and nothing unexpected before it.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

import realtime
from realtime.fanout import SocketSubscriber
from server.core.db import atomic
from server.system.services import orgs, roles, users
from server.system.tables import Org
from tests.conftest import ADMIN_PASSWORD

PASSWORD = "secret123"
SIGNAL = re.compile(r'data-([a-z-]+)="([^"]*)"')


@pytest.fixture(autouse=True)
def no_local_publishing(monkeypatch):
    """Setup done through services in the test process publishes nowhere (the live server is
    another process); a test that wants local publishing binds its own plugin."""
    monkeypatch.setattr(realtime, "_plugin", None)
    monkeypatch.setattr(realtime, "_prefix", "")


# --- helpers ----------------------------------------------------------------------------------


def parse(message: str | bytes) -> dict[str, str]:
    """The data-* attributes of a `#live-signal` fragment, keyed without the `data-` prefix."""
    text = message.decode() if isinstance(message, bytes) else message
    assert 'id="live-signal"' in text and 'hx-swap-oob="true"' in text, text
    return dict(SIGNAL.findall(text))


async def token(server, login: str, password: str = ADMIN_PASSWORD) -> str:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post("/api/v1/auth/token", json={"login": login, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def api(server, bearer: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {bearer}"}, timeout=10)


def ws_url(server) -> str:
    return f"ws://127.0.0.1:{server.port}/ws"


def socket(server, bearer: str):
    return connect(ws_url(server), additional_headers={"Authorization": f"Bearer {bearer}"}, open_timeout=5)


async def next_signal(ws: ClientConnection, timeout: float = 1.0) -> dict[str, str]:
    return parse(await asyncio.wait_for(ws.recv(), timeout))


async def signals_until(ws: ClientConnection, topic: str, ref: object, timeout: float = 3.0) -> list[dict[str, str]]:
    """Every signal received up to and including the marker (`topic`, `ref`)."""
    received = []
    async with asyncio.timeout(timeout):
        while True:
            signal = parse(await ws.recv())
            received.append(signal)
            if signal["topic"] == topic and signal["ref"] == str(ref):
                return received


async def create_org(http: httpx.AsyncClient, code: str, parent_id: int) -> dict:
    response = await http.post("/api/v1/orgs", json={"code": code, "name": f"网点{code}", "parent_id": parent_id})
    assert response.status_code == 201, response.text
    return response.json()


async def patch_org(http: httpx.AsyncClient, org_id: int, **fields) -> dict:
    response = await http.patch(f"/api/v1/orgs/{org_id}", json=fields)
    assert response.status_code == 200, response.text
    return response.json()


async def branch(ctx, code: str, parent_id: int) -> dict:
    return await orgs.create(ctx, {"code": code, "name": f"网点{code}", "parent_id": parent_id})


async def branch_user(ctx, account: str, org_id: int, permissions: list[str]) -> dict:
    role = await roles.create(ctx, {"name": f"角色{account}", "org_kind": "branch", "permissions": permissions})
    return await users.create(
        ctx, {"org_id": org_id, "account": account, "name": account, "password": PASSWORD, "role_ids": [role["id"]]}
    )


def brief(signals: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(s["topic"], s["kind"], s["ref"]) for s in signals]


# --- delivery ---------------------------------------------------------------------------------


async def test_org_created_through_api_reaches_another_client(live_server, tenant):
    watcher, actor = await token(live_server, "admin@ACME"), await token(live_server, "admin@ACME")
    async with socket(live_server, watcher) as ws, api(live_server, actor) as http:
        first = await create_org(http, "LIVE1", tenant.org_id)
        signal = await next_signal(ws, 1.0)  # the event is published before the API answers
        assert (signal["topic"], signal["kind"], signal["ref"]) == ("orgs", "created", str(first["id"]))
        assert "kick" not in signal
        assert float(signal["ts"]) > 0

        await patch_org(http, first["id"], remark="改个备注")
        second = await create_org(http, "LIVE2", first["id"])
        updated, created = await next_signal(ws), await next_signal(ws)
        assert brief([updated, created]) == [
            ("orgs", "updated", str(first["id"])),
            ("orgs", "created", str(second["id"])),
        ]
        ids = [int(s["event-id"]) for s in (signal, updated, created)]
        assert ids == sorted(ids) and len(set(ids)) == 3


async def test_failed_api_calls_publish_nothing(live_server, tenant):
    """Refused or invalid writes roll back before commit: the socket's first signal is the marker."""
    bearer = await token(live_server, "admin@ACME")
    async with socket(live_server, bearer) as ws, api(live_server, bearer) as http:
        existing = await create_org(http, "DUP", tenant.org_id)
        assert brief([await next_signal(ws)]) == [("orgs", "created", str(existing["id"]))]

        failures = [
            await http.post("/api/v1/orgs", json={"code": "DUP", "name": "重复", "parent_id": tenant.org_id}),
            await http.post("/api/v1/orgs", json={"code": "BAD CODE!", "name": "x", "parent_id": tenant.org_id}),
            await http.post("/api/v1/orgs", json={"code": "NONAME", "name": "", "parent_id": tenant.org_id}),
            await http.post("/api/v1/orgs", json={"code": "X1", "name": "x", "parent_id": "not a number"}),
            await http.post("/api/v1/orgs", json={"code": "X2", "name": "x" * 10_000, "parent_id": tenant.org_id}),
            await http.post("/api/v1/orgs", json={"code": "X3", "name": "x", "parent_id": 999_999}),
            await http.patch(f"/api/v1/orgs/{existing['id']}", json={"code": "CHANGED"}),
            await http.patch(f"/api/v1/orgs/{tenant.org_id}", json={"enabled": False}),
            await http.delete(f"/api/v1/orgs/{tenant.org_id}"),
            await http.patch(f"/api/v1/orgs/{existing['id']}", json={"level": 99}),
        ]
        assert [r.status_code for r in failures] == [409, 400, 400, 400, 400, 404, 400, 400, 409, 400], [
            r.text for r in failures
        ]
        marker = await create_org(http, "MARK", tenant.org_id)
        assert brief(await signals_until(ws, "orgs", marker["id"])) == [("orgs", "created", str(marker["id"]))]
        assert not await Org.exists().where(Org.code.is_in(["X1", "X2", "X3", "NONAME"]))


async def test_rolled_back_transaction_publishes_nothing(tenant):
    """Service level, memory backend in this process: an event emitted inside a transaction that
    rolls back is dropped with it; the committed marker is the first and only delivery."""
    async with ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True) as plugin:
        realtime.bind(plugin)
        channel = realtime.org_channel(tenant.tenant_id, tenant.org_id, "orgs")
        async with plugin.start_subscription([channel]) as subscriber:
            with pytest.raises(RuntimeError, match="boom"):
                async with atomic():
                    await branch(tenant, "GONE", tenant.org_id)
                    raise RuntimeError("boom")
            with pytest.raises(RuntimeError, match="boom"):
                async with atomic():  # the service's own atomic() joins the outer one
                    kept = await branch(tenant, "GONE2", tenant.org_id)
                    await orgs.update(tenant, kept["id"], {"remark": "也会回滚"})
                    raise RuntimeError("boom")
            assert not await Org.exists().where(Org.code.is_in(["GONE", "GONE2"]))

            marker = await branch(tenant, "MARK", tenant.org_id)
            events = subscriber.iter_events()
            signal = parse(await asyncio.wait_for(anext(events), 1.0))
            assert (signal["topic"], signal["kind"], signal["ref"]) == ("orgs", "created", str(marker["id"]))
            assert subscriber.qsize == 0


async def test_publishing_waits_for_commit(tenant, monkeypatch):
    """Nothing is handed to the channels while the transaction is open; all of it after commit."""
    published: list[tuple[realtime.Event, list[str]]] = []
    monkeypatch.setattr(realtime, "_publish", lambda event, channels: published.append((event, channels)))
    async with atomic():
        created = await branch(tenant, "LATER", tenant.org_id)
        child = await branch(tenant, "LATER2", created["id"])
        assert published == []
    assert [(e.topic, e.kind, e.ref) for e, _ in published] == [
        ("orgs", "created", str(created["id"])),
        ("orgs", "created", str(child["id"])),
    ]
    # published to the org itself and every ancestor, each of this tenant
    assert published[1][1] == [
        realtime.org_channel(tenant.tenant_id, oid, "orgs") for oid in (tenant.org_id, created["id"], child["id"])
    ]


# --- scoping ----------------------------------------------------------------------------------


async def test_other_tenant_hears_nothing(live_server, tenant, other_tenant):
    acme, other = await token(live_server, "admin@ACME"), await token(live_server, "admin@OTHER")
    async with (
        socket(live_server, acme) as acme_ws,
        socket(live_server, other) as other_ws,
        api(live_server, acme) as acme_http,
        api(live_server, other) as other_http,
    ):
        made = [await create_org(acme_http, f"A{i}", tenant.org_id) for i in range(3)]
        await patch_org(acme_http, made[0]["id"], remark="x")
        assert (await acme_http.delete(f"/api/v1/orgs/{made[1]['id']}")).status_code == 200
        role = await acme_http.post("/api/v1/roles", json={"name": "前台", "org_kind": "branch"})
        assert role.status_code == 201, role.text
        response = await acme_http.post(
            "/api/v1/users",
            json={
                "org_id": made[2]["id"],
                "account": "zhang",
                "name": "张",
                "password": PASSWORD,
                "role_ids": [role.json()["id"]],
            },
        )
        assert response.status_code == 201, response.text

        marker = await create_org(other_http, "OMARK", other_tenant.org_id)
        assert brief(await signals_until(other_ws, "orgs", marker["id"])) == [("orgs", "created", str(marker["id"]))]
        # and ACME's own socket did hear its events (the scoping is not silence)
        heard = brief(await signals_until(acme_ws, "roles", role.json()["id"]))
        assert heard[:3] == [("orgs", "created", str(o["id"])) for o in made]


async def test_branch_user_hears_only_its_subtree(live_server, tenant):
    a = await branch(tenant, "A", tenant.org_id)
    b = await branch(tenant, "B", tenant.org_id)
    a1 = await branch(tenant, "A1", a["id"])
    b1 = await branch(tenant, "B1", b["id"])
    await branch_user(tenant, "alice", a["id"], ["system.org.view"])
    alice, admin = await token(live_server, "alice@ACME", PASSWORD), await token(live_server, "admin@ACME")
    async with socket(live_server, alice) as ws, api(live_server, admin) as http:
        await patch_org(http, b["id"], remark="B 改了")
        await create_org(http, "B2", b["id"])
        await create_org(http, "B11", b1["id"])
        await patch_org(http, tenant.org_id, remark="总部改了")  # above alice: not her subtree either
        await create_org(http, "C", tenant.org_id)
        await patch_org(http, a["id"], remark="A 改了")
        a11 = await create_org(http, "A11", a1["id"])
        received = await signals_until(ws, "orgs", a11["id"])
    assert brief(received) == [("orgs", "updated", str(a["id"])), ("orgs", "created", str(a11["id"]))]


async def test_user_without_user_view_hears_no_user_events(live_server, tenant):
    a = await branch(tenant, "A", tenant.org_id)
    await branch_user(tenant, "bob", a["id"], ["system.org.view"])
    await branch_user(tenant, "carol", a["id"], ["system.org.view", "system.user.view"])
    bob, carol = await token(live_server, "bob@ACME", PASSWORD), await token(live_server, "carol@ACME", PASSWORD)
    admin = await token(live_server, "admin@ACME")
    async with (
        socket(live_server, bob) as bob_ws,
        socket(live_server, carol) as carol_ws,
        api(live_server, admin) as http,
    ):
        role = (await http.post("/api/v1/roles", json={"name": "新角色", "org_kind": "branch"})).json()
        response = await http.post(
            "/api/v1/users",
            json={"org_id": a["id"], "account": "dan", "name": "丹", "password": PASSWORD, "role_ids": [role["id"]]},
        )
        assert response.status_code == 201, response.text
        dan = response.json()
        marker = await create_org(http, "A1", a["id"])
        bob_heard = await signals_until(bob_ws, "orgs", marker["id"])
        carol_heard = await signals_until(carol_ws, "orgs", marker["id"])
    assert brief(bob_heard) == [("orgs", "created", str(marker["id"]))]
    # roles are tenant-wide and need system.role.view, which neither holds
    assert brief(carol_heard) == [("users", "created", str(dan["id"])), ("orgs", "created", str(marker["id"]))]


# --- authentication and ending sessions -------------------------------------------------------


async def test_browser_session_cookie_authenticates_the_socket(live_server, tenant):
    """The page's own socket: no bearer, just the session cookie set by the login form."""
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await browser.get("/login")
        response = await browser.post(
            "/login",
            data={
                "login": "admin@ACME",
                "password": ADMIN_PASSWORD,
                "otp": "",
                "_csrf_token": browser.cookies["csrftoken"],
            },
        )
        assert response.status_code in (302, 303), response.text
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    bearer = await token(live_server, "admin@ACME")
    async with connect(ws_url(live_server), additional_headers={"Cookie": cookie}, open_timeout=5) as ws:
        async with api(live_server, bearer) as http:
            created = await create_org(http, "COOKIE", tenant.org_id)
        assert brief([await next_signal(ws)]) == [("orgs", "created", str(created["id"]))]


async def test_unauthenticated_socket_is_closed_with_4401(live_server):
    for headers in ({}, {"Authorization": "Bearer not-a-real-token"}):
        try:
            async with connect(ws_url(live_server), additional_headers=headers, open_timeout=5) as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 3)
        except InvalidStatus as exc:  # pragma: no cover - a refused handshake carries no close code
            pytest.fail(f"handshake refused with HTTP {exc.response.status_code} instead of close code 4401")
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def closing_code(server, headers: dict, origin: str | None) -> int:
    """The close code of a socket opened with these headers and Origin (it must be closed
    after the handshake, not refused on it, so the page can tell why)."""
    extra = {"origin": origin} if origin is not None else {}
    async with connect(ws_url(server), additional_headers=headers, open_timeout=5, **extra) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 3)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_a_socket_from_another_origin_is_closed(live_server, tenant):
    """A page of another site can open a socket to us with the victim's cookies (WebSockets are
    not bound by the same-origin policy): a browser's socket whose Origin is not this host is
    closed before it hears anything, whatever credential it carries."""
    bearer = await token(live_server, "admin@ACME")
    port = live_server.port
    for origin in ("http://evil.example", f"http://evil.example:{port}", "http://127.0.0.1:1", "null"):
        assert await closing_code(live_server, {"Authorization": f"Bearer {bearer}"}, origin) == 4400, origin
    assert await closing_code(live_server, {}, "http://evil.example") == 4400  # before any credential is looked at


async def test_a_socket_from_this_origin_or_without_origin_is_served(live_server, tenant):
    bearer = await token(live_server, "admin@ACME")
    headers = {"Authorization": f"Bearer {bearer}"}
    # the scheme does not matter (TLS ends at the load balancer), the host and port do
    for origin in (f"http://127.0.0.1:{live_server.port}", f"https://127.0.0.1:{live_server.port}", None):
        extra = {"origin": origin} if origin else {}
        async with connect(ws_url(live_server), additional_headers=headers, open_timeout=5, **extra) as ws:
            async with api(live_server, bearer) as http:
                created = await create_org(http, f"O{len(origin or '')}", tenant.org_id)
            assert brief([await next_signal(ws)]) == [("orgs", "created", str(created["id"]))], origin


async def test_disabled_user_is_kicked_and_token_stops_working(live_server, tenant):
    a = await branch(tenant, "A", tenant.org_id)
    erin = await branch_user(tenant, "erin", a["id"], ["system.org.view"])
    erin_token, admin = await token(live_server, "erin@ACME", PASSWORD), await token(live_server, "admin@ACME")
    async with (
        socket(live_server, erin_token) as ws,
        api(live_server, admin) as http,
        api(live_server, erin_token) as mine,
    ):
        assert (await mine.get("/api/v1/auth/me")).status_code == 200
        response = await http.patch(f"/api/v1/users/{erin['id']}", json={"enabled": False})
        assert response.status_code == 200, response.text
        kick = await next_signal(ws)
        assert (kick["topic"], kick["kind"], kick.get("kick")) == ("session", "kick", "1")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 3)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        assert (await mine.get("/api/v1/auth/me")).status_code == 401
        assert (await mine.get("/api/v1/orgs")).status_code == 401


async def test_disabling_an_org_kicks_its_members(live_server, tenant):
    a = await branch(tenant, "A", tenant.org_id)
    b = await branch(tenant, "B", tenant.org_id)
    await branch_user(tenant, "fay", a["id"], ["system.org.view"])
    await branch_user(tenant, "gus", b["id"], ["system.org.view"])
    fay, gus = await token(live_server, "fay@ACME", PASSWORD), await token(live_server, "gus@ACME", PASSWORD)
    admin = await token(live_server, "admin@ACME")
    async with (
        socket(live_server, fay) as fay_ws,
        socket(live_server, gus) as gus_ws,
        api(live_server, admin) as http,
        api(live_server, fay) as fay_http,
    ):
        await patch_org(http, a["id"], enabled=False)
        # fay may first hear the org update itself, then the kick, then the close
        received = []
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(3):
                while True:
                    received.append(parse(await fay_ws.recv()))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        assert received[-1].get("kick") == "1" and received[-1]["kind"] == "kick"
        assert brief(received[:-1]) in ([], [("orgs", "updated", str(a["id"]))])
        assert (await fay_http.get("/api/v1/auth/me")).status_code == 401

        # the member of the sibling org stays connected and hears its own org's marker next
        marker = await create_org(http, "B1", b["id"])
        assert brief(await signals_until(gus_ws, "orgs", marker["id"])) == [("orgs", "created", str(marker["id"]))]


async def test_permission_change_resubscribes_open_sockets(live_server, tenant):
    """A socket's channels follow the holder's rights: when a role loses a permission, or a user's
    roles change, their sockets are closed with 1012 (htmx reconnects at once) and the new socket
    subscribes with the rights of that moment."""
    a = await branch(tenant, "A", tenant.org_id)
    hal = await branch_user(tenant, "hal", a["id"], ["system.org.view", "system.user.view"])
    ivy = await branch_user(tenant, "ivy", a["id"], ["system.org.view", "system.user.view"])
    narrow = await roles.create(tenant, {"name": "只看机构", "org_kind": "branch", "permissions": ["system.org.view"]})
    hal_token, ivy_token = (
        await token(live_server, "hal@ACME", PASSWORD),
        await token(live_server, "ivy@ACME", PASSWORD),
    )
    admin = await token(live_server, "admin@ACME")

    async def closed_with(ws: ClientConnection) -> int:
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(3):
                while True:
                    await ws.recv()
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code

    async with api(live_server, admin) as http:
        async with socket(live_server, hal_token) as hal_ws, socket(live_server, ivy_token) as ivy_ws:
            # hal's role loses system.user.view; ivy is moved to another role without it
            response = await http.patch(
                f"/api/v1/roles/{hal['role_ids'][0]}", json={"permissions": ["system.org.view"]}
            )
            assert response.status_code == 200, response.text
            response = await http.patch(f"/api/v1/users/{ivy['id']}", json={"role_ids": [narrow["id"]]})
            assert response.status_code == 200, response.text
            assert await closed_with(hal_ws) == 1012
            assert await closed_with(ivy_ws) == 1012

        async with socket(live_server, hal_token) as hal_ws, socket(live_server, ivy_token) as ivy_ws:
            response = await http.post(
                "/api/v1/users",
                json={
                    "org_id": a["id"],
                    "account": "jon",
                    "name": "乔",
                    "password": PASSWORD,
                    "role_ids": [narrow["id"]],
                },
            )
            assert response.status_code == 201, response.text
            marker = await create_org(http, "A1", a["id"])
            for ws in (hal_ws, ivy_ws):
                assert brief(await signals_until(ws, "orgs", marker["id"])) == [("orgs", "created", str(marker["id"]))]


# --- the fan-out subscriber (realtime/fanout.py), in process ------------------------------------


async def fanout_subscriber(max_backlog: int = 200) -> tuple[ChannelsPlugin, SocketSubscriber]:
    plugin = ChannelsPlugin(
        backend=MemoryChannelsBackend(),
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=max_backlog,
        subscriber_backlog_strategy="dropleft",
        subscriber_class=SocketSubscriber,
    )
    subscriber = await plugin.subscribe(["c"])
    assert isinstance(subscriber, SocketSubscriber)
    return plugin, subscriber


async def test_fanout_writes_at_once_and_in_order():
    plugin, subscriber = await fanout_subscriber()
    sent: list[bytes] = []

    async def send(message: bytes) -> None:
        sent.append(message)

    subscriber.put_nowait(b"early")  # before attach: waits in the subscriber's queue
    subscriber.attach(send)
    await asyncio.sleep(0)  # the early one is drained by a task
    for i in range(5):
        assert subscriber.put_nowait(b"%d" % i)
        assert sent[-1] == b"%d" % i  # written inside put_nowait, no task switch needed
    assert sent == [b"early", b"0", b"1", b"2", b"3", b"4"]
    await subscriber.detach()


async def test_fanout_slow_socket_keeps_order_and_drops_oldest():
    plugin, subscriber = await fanout_subscriber(max_backlog=3)
    sent: list[bytes] = []
    gate = asyncio.Event()

    async def send(message: bytes) -> None:
        if message == b"slow":
            await gate.wait()  # like a paused transport
        sent.append(message)

    subscriber.attach(send)
    subscriber.put_nowait(b"a")
    subscriber.put_nowait(b"slow")
    for i in range(6):
        subscriber.put_nowait(b"%d" % i)  # wait in line behind the slow send
    assert sent == [b"a"]
    gate.set()
    async with asyncio.timeout(2):
        while len(sent) < 5:
            await asyncio.sleep(0)
    assert sent == [b"a", b"slow", b"3", b"4", b"5"]  # the newest 3 kept, in order
    subscriber.put_nowait(b"after")
    assert sent[-1] == b"after"  # back on the direct path
    await subscriber.detach()


async def test_fanout_broken_socket_never_breaks_the_worker():
    plugin, subscriber = await fanout_subscriber()
    calls = 0

    async def send(message: bytes) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("socket closed")

    subscriber.attach(send)
    assert subscriber.put_nowait(b"1") is False  # no exception escapes into the channels worker
    assert subscriber.put_nowait(b"2") is False and calls == 1
    await subscriber.detach()


async def test_fanout_socket_failing_after_a_wait_is_dropped():
    plugin, subscriber = await fanout_subscriber()
    gate = asyncio.Event()
    sent: list[bytes] = []

    async def send(message: bytes) -> None:
        await gate.wait()
        raise RuntimeError("peer went away while we waited")

    subscriber.attach(send)
    subscriber.put_nowait(b"1")
    subscriber.put_nowait(b"2")
    gate.set()
    async with asyncio.timeout(2):
        while subscriber.put_nowait(b"more"):
            await asyncio.sleep(0)
    assert sent == []
    await subscriber.detach()


async def test_fanout_through_the_plugin_reaches_every_socket():
    async with ChannelsPlugin(
        backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True, subscriber_class=SocketSubscriber
    ) as plugin:
        received: dict[int, list[bytes]] = {i: [] for i in range(50)}
        done = asyncio.Event()
        subscribers = []
        for i in range(50):

            async def send(message: bytes, box=received[i]) -> None:
                box.append(message)
                if all(len(b) == 3 for b in received.values()):
                    done.set()

            subscriber = await plugin.subscribe(["x" if i % 2 else "y"])
            subscriber.attach(send)
            subscribers.append(subscriber)
        for n in range(3):
            plugin.publish(b"%d" % n, ["x", "y"])
        await asyncio.wait_for(done.wait(), 2)
        assert all(box == [b"0", b"1", b"2"] for box in received.values())
        for subscriber in subscribers:
            await subscriber.detach()
            await plugin.unsubscribe(subscriber)


async def test_fanout_socket_that_keeps_suspending_gets_its_own_queue():
    plugin, subscriber = await fanout_subscriber()
    sent: list[bytes] = []

    async def send(message: bytes) -> None:
        await asyncio.sleep(0)  # every send suspends, as on granian
        sent.append(message)

    subscriber.attach(send)
    async with asyncio.timeout(2):
        for i in range(10):  # events one at a time: each one's send suspends
            subscriber.put_nowait(b"%d" % i)
            while len(sent) <= i:
                await asyncio.sleep(0)
    assert sent == [b"%d" % i for i in range(10)]
    assert subscriber.queued  # switched to queue-and-task delivery
    subscriber.put_nowait(b"queued")
    async with asyncio.timeout(2):
        while sent[-1] != b"queued":
            await asyncio.sleep(0)
    await subscriber.detach()
    subscriber.put_nowait(b"after detach")
    await asyncio.sleep(0.01)
    assert sent[-1] == b"queued"
