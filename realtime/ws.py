"""The WebSocket endpoint: authenticated by the session, a bearer token, or a device token
(`/ws?token=…`: a queue kiosk or TV), subscribed only to the channels the caller is entitled
to, closed when the caller's session is ended or the device's token revoked."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect

import realtime
from realtime.fanout import SocketSubscriber

CLOSE_UNAUTHORIZED = 4401
CLOSE_SESSION_ENDED = 4403
CLOSE_RESUBSCRIBE = 1012  # "service restart": the client reconnects at once, with its current rights
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
        names = realtime.device_channels(ctx.tenant_id, ctx.org_id, ctx.device_id)
    else:
        names = realtime.channels_for(ctx.tenant_id, ctx.org_id, ctx.user_id, ctx.permissions)
    ended = False

    async def forward(message: bytes) -> None:
        nonlocal ended
        if ended:
            return
        if b'data-reconnect="1"' in message:
            ended = True
            await socket.close(code=CLOSE_RESUBSCRIBE, reason="rights changed")
            return
        await socket.send_text(message.decode())
        if b'data-kick="1"' in message:
            ended = True
            await socket.close(code=CLOSE_SESSION_ENDED, reason="session ended")

    # Subscribed before the handshake completes: once a client is connected, no event it is
    # entitled to can slip by (events meanwhile wait in the subscriber's queue).
    async with channels.start_subscription(names) as subscriber:
        assert isinstance(subscriber, SocketSubscriber)  # realtime.plugin sets subscriber_class
        await socket.accept()
        subscriber.attach(forward)  # written from the channels worker (realtime/fanout.py)
        try:
            while not ended:
                await socket.receive_text()  # keeps the socket open; htmx sends nothing we need
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            await subscriber.detach()
