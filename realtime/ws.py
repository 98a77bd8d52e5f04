"""The WebSocket endpoint: authenticated by the session (or a bearer token), subscribed only to
the channels the caller is entitled to, closed when the caller's session is ended."""

from __future__ import annotations

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect

import realtime

CLOSE_UNAUTHORIZED = 4401
CLOSE_SESSION_ENDED = 4403


@websocket("/ws", opt={"public": True})
async def live(socket: WebSocket, channels: NamedDependency[ChannelsPlugin]) -> None:
    ctx = socket.scope.get("state", {}).get("ctx")
    if ctx is None:
        await socket.close(code=CLOSE_UNAUTHORIZED, reason="unauthorized")
        return
    await socket.accept()
    names = realtime.channels_for(ctx.tenant_id, ctx.org_id, ctx.user_id, ctx.permissions)
    ended = False

    async def forward(message: bytes) -> None:
        nonlocal ended
        if ended:
            return
        await socket.send_text(message.decode())
        if b'data-kick="1"' in message:
            ended = True
            await socket.close(code=CLOSE_SESSION_ENDED, reason="session ended")

    async with channels.start_subscription(names) as subscriber, subscriber.run_in_background(forward, join=False):
        try:
            while not ended:
                await socket.receive_text()  # keeps the socket open; htmx sends nothing we need
        except (WebSocketDisconnect, RuntimeError):
            pass
