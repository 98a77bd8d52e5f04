"""Scale-out: two app processes on one database and one Redis; an event caused through one
process reaches WebSocket clients connected to the other.

Runs whenever Redis answers on 127.0.0.1:6379 (so also in the SQLite pass of `make test`),
whatever backend the rest of the run uses.
"""

from __future__ import annotations

import asyncio
import socket as sockets
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from realtime.plugin import channels_plugin
from tests.realtime.test_live import (
    PASSWORD,
    api,
    branch,
    branch_user,
    brief,
    create_org,
    next_signal,
    no_local_publishing,  # noqa: F401  (autouse fixture)
    socket,
    token,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_answers() -> bool:
    try:
        with sockets.create_connection(("127.0.0.1", 6379), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not redis_answers(), reason="scale-out needs Redis on 127.0.0.1:6379 (start: redis-server --daemonize yes)"
)


@pytest.fixture
def two_servers(live_server_factory, tenant):
    return live_server_factory(redis_url=REDIS_URL), live_server_factory(redis_url=REDIS_URL)


async def test_event_caused_on_one_process_reaches_socket_on_the_other(two_servers, tenant):
    server_a, server_b = two_servers
    bearer = await token(server_a, "admin@ACME")  # tokens live in the shared database
    async with (
        socket(server_b, bearer) as on_b,
        socket(server_a, bearer) as on_a,
        api(server_a, bearer) as through_a,
        api(server_b, bearer) as through_b,
    ):
        created = await create_org(through_a, "VIA-A", tenant.org_id)
        signal = await next_signal(on_b, 1.0)  # within 1 s of A's answer
        assert brief([signal]) == [("orgs", "created", str(created["id"]))]
        assert brief([await next_signal(on_a, 1.0)]) == [("orgs", "created", str(created["id"]))]

        # and the other way round, once each
        back = await create_org(through_b, "VIA-B", created["id"])
        assert brief([await next_signal(on_a, 1.0)]) == [("orgs", "created", str(back["id"]))]
        assert brief([await next_signal(on_b, 1.0)]) == [("orgs", "created", str(back["id"]))]


async def test_user_disabled_through_one_process_is_kicked_from_the_other(two_servers, tenant):
    server_a, server_b = two_servers
    a = await branch(tenant, "A", tenant.org_id)
    erin = await branch_user(tenant, "erin", a["id"], ["system.org.view"])
    erin_token, admin = await token(server_b, "erin@ACME", PASSWORD), await token(server_a, "admin@ACME")
    async with socket(server_b, erin_token) as ws, api(server_a, admin) as http, api(server_b, erin_token) as mine:
        response = await http.patch(f"/api/v1/users/{erin['id']}", json={"enabled": False})
        assert response.status_code == 200, response.text
        kick = await next_signal(ws, 1.0)
        assert (kick["kind"], kick.get("kick")) == ("kick", "1")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 3)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        assert (await mine.get("/api/v1/auth/me")).status_code == 401


async def test_queue_devices_hear_their_org_across_processes(two_servers, tenant):
    """A ticket taken with the kiosk through process A reaches the TV's socket on process B; a
    call on A is announced there within a second; revoking the TV through A closes its socket on B."""
    server_a, server_b = two_servers
    admin = await token(server_a, "admin@ACME")
    async with api(server_a, admin) as http:
        service = (await http.post("/api/v1/queue/services", json={"name": "维修", "prefix": "A"})).json()
        counter = (await http.post("/api/v1/queue/counters", json={"number": 3, "service_ids": [service["id"]]})).json()
        kiosk = (await http.post("/api/v1/queue/devices", json={"kind": "kiosk", "name": "取号机"})).json()
        tv = (await http.post("/api/v1/queue/devices", json={"kind": "tv", "name": "电视"})).json()
        async with (
            connect(f"ws://127.0.0.1:{server_b.port}/ws?token={tv['token']}", open_timeout=5) as screen,
            api(server_a, kiosk["token"]) as kiosk_http,
        ):
            taken = await kiosk_http.post("/api/v1/queue/tickets", json={"service_id": service["id"]})
            assert taken.status_code == 201, taken.text
            assert brief([await next_signal(screen, 1.0)]) == [("queue", "ticket", str(taken.json()["id"]))]

            called = await http.post(f"/api/v1/queue/counters/{counter['id']}/call-next")
            assert called.status_code == 200, called.text
            signal = await next_signal(screen, 1.0)
            assert (signal["kind"], signal["say"]) == ("call", "请 A001 号到 3 号窗口")

            assert (await http.post(f"/api/v1/queue/devices/{tv['id']}/revoke")).status_code == 200
            assert (await next_signal(screen, 1.0)).get("kick") == "1"
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(screen.recv(), 3)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_channels_subscribed_at_once_on_a_fresh_backend_all_hear():
    """After a restart every device and page reconnects at the same moment, each with channels of
    its own. redis-py's shared PubSub connects on its first subscribe, so concurrent first
    subscribes each opened a connection and only the last was read: the others' channels went
    silent for good. realtime.plugin connects the PubSub (at startup, or in the background when
    Redis is away) before any socket may subscribe."""
    plugin = channels_plugin(REDIS_URL)
    names = [f"test-{uuid.uuid4().hex}-{i}" for i in range(8)]
    heard: set[str] = set()
    done = asyncio.Event()

    async with plugin:
        subscribers = await asyncio.gather(*(plugin.subscribe([name]) for name in names))
        for name, subscriber in zip(names, subscribers, strict=True):

            async def send(message: bytes, name=name) -> None:
                heard.add(name)
                if heard == set(names):
                    done.set()

            subscriber.attach(send)
        for name in names:
            plugin.publish(b"x", [name])
        await asyncio.wait_for(done.wait(), 3)
        for name, subscriber in zip(names, subscribers, strict=True):
            await subscriber.detach()
            await plugin.unsubscribe(subscriber, [name])
    assert heard == set(names)
