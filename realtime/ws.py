"""The WebSocket endpoint: authenticated by the session, a bearer token, or a device token
(`/ws?token=…`: a queue kiosk or TV), subscribed only to the channels the caller is entitled
to, closed when the caller's session is ended or the device's token revoked, and closed for a
resync when the live machinery says so (realtime/plugin.py: the broker is back after an outage)."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect

import realtime
from realtime.fanout import SocketSubscriber
from realtime.plugin import CLOSE_RESYNC, BackendUnavailable

CLOSE_UNAUTHORIZED = 4401
CLOSE_SESSION_ENDED = 4403
CLOSE_RESUBSCRIBE = CLOSE_RESYNC  # 1012 "service restart": the client reconnects at once, with its current rights
CLOSE_TRY_AGAIN = 1013  # "try again later": live updates are reconnecting to their broker; htmx retries
CLOSE_CROSS_ORIGIN = 4400  # not 4401/4403: on those our pages go to /login, a screen switches off
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def _host_port(netloc: str, scheme: str) -> str:
    """`host:port`, the port made explicit (the scheme's default) so `x` and `x:443` compare equal."""
    host, sep, port = netloc.lower().rpartition(":")
    if not sep or not port.isdigit():  # no port (or only the inside of an IPv6 literal)
        host, port = netloc.lower(), _DEFAULT_PORTS.get(scheme, "")
    return f"{host}:{port}"


def cross_origin(socket: WebSocket) -> bool:
    """A browser's socket opened by a page of another site. WebSockets are not bound by the
    same-origin policy and carry the session cookie, so any site could otherwise listen to a
    logged-in user's events. The Origin's host and port must be the Host the socket came to; the
    scheme is left out, TLS ending at the load balancer. No Origin: not a browser, allowed."""
    origin = socket.headers.get("origin")
    if origin is None:
        return False
    parts = urlsplit(origin.strip())
    host = socket.headers.get("host", "")
    if not parts.netloc or not host:
        return True  # "null" (a sandboxed frame, a file), or no Host to compare with
    return _host_port(parts.netloc, parts.scheme) != _host_port(host, parts.scheme)


@websocket("/ws", opt={"public": True})
async def live(socket: WebSocket, channels: NamedDependency[ChannelsPlugin]) -> None:
    if cross_origin(socket):
        await socket.accept()  # then closed, like an unauthenticated socket (below), with its own code
        await socket.close(code=CLOSE_CROSS_ORIGIN, reason="cross-origin")
        return
    ctx = socket.scope.get("state", {}).get("ctx")
    if ctx is None:
        # Accept first: a close before accept is a bare HTTP 403 on the handshake, which a
        # browser reports as 1006, so the page could not tell "logged out" from "network".
        await socket.accept()
        await socket.close(code=CLOSE_UNAUTHORIZED, reason="unauthorized")
        return
    if ctx.device_id is not None:
        names = realtime.device_channels(ctx.tenant_id, ctx.org_id, ctx.device_id, ctx.device_kind)
    else:
        names = realtime.channels_for(ctx.tenant_id, ctx.org_id, ctx.user_id, ctx.permissions)
    await serve(socket, channels, names)


async def serve(socket: WebSocket, channels: ChannelsPlugin, names: list[str]) -> None:
    """Forward what is published on `names` to the socket until either side ends it: the one
    loop of every live socket (/ws, and a status page's own, server.selfservice)."""
    # Subscribed before the handshake completes: once a client is connected, no event it is
    # entitled to can slip by (events meanwhile wait in the subscriber's backlog).
    try:
        subscriber = await channels.subscribe(names)
    except BackendUnavailable:
        # the broker is away: no socket may wait on a subscription nobody reads; it retries
        await socket.accept()
        await socket.close(code=CLOSE_TRY_AGAIN, reason="live updates reconnecting")
        return
    assert isinstance(subscriber, SocketSubscriber)  # realtime.plugin sets subscriber_class

    async def forward(message: bytes) -> None:
        if b'data-reconnect="1"' in message:
            subscriber.end(CLOSE_RESUBSCRIBE, "resubscribe")
            return
        await socket.send_text(message.decode())
        if b'data-kick="1"' in message:
            subscriber.end(CLOSE_SESSION_ENDED, "session ended")

    try:
        await socket.accept()
        subscriber.attach(forward)  # written from the channels worker (realtime/fanout.py)
        ended = await _until_closed_or_ended(socket, subscriber)
        await subscriber.detach()  # nothing more is written, then the close
        if ended is not None:
            with suppress(Exception):  # the client may be gone already
                await socket.close(code=ended[0], reason=ended[1])
    finally:
        await subscriber.detach()
        await channels.unsubscribe(subscriber, names)


async def _until_closed_or_ended(socket: WebSocket, subscriber: SocketSubscriber) -> tuple[int, str] | None:
    """Wait until the client goes away (None) or the live side ends the socket (its code and
    reason: a kick, a resubscribe, the broker back after an outage)."""

    async def receive_until_disconnect() -> None:
        with suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await socket.receive_data("text")  # htmx sends nothing we need

    receiving = asyncio.create_task(receive_until_disconnect())
    ending = asyncio.create_task(subscriber.wait_ended())
    try:
        done, _ = await asyncio.wait({receiving, ending}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (receiving, ending):
            task.cancel()
        await asyncio.gather(receiving, ending, return_exceptions=True)
    return subscriber.ended if ending in done else None
