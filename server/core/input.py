"""Refuse a NUL character anywhere in a request, once, before any handler runs.

PostgreSQL text cannot hold NUL: a `%00` in a filter, a form or a JSON string used to reach the
database and fail there with a 500. Text fields refuse every other control character in
`validate.text`; NUL is refused here too because it also reaches queries that no validator sees
(login names, ids, filters). File uploads (multipart) are binary and left alone.
"""

from __future__ import annotations

from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.core.web import error_response

# How a NUL arrives: raw, percent-encoded (query strings, forms) or JSON-escaped.
_NUL = (b"\x00", b"%00", b"\\u0000")
MAX_CHECKED_BODY = 10 * 1024 * 1024  # Litestar's own request body limit; larger bodies are refused there


def _has_nul(data: bytes) -> bool:
    return any(marker in data for marker in _NUL)


def _content_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.lower()
    return b""


class RefuseNulMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or _has_nul(scope.get("raw_path") or b"") or _has_nul(scope["query_string"]):
            await self._refuse(scope, receive, send)
            return
        if scope["type"] == "http" and not _content_type(scope).startswith(b"multipart/"):
            messages: list[Message] = []
            body = b""
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                if len(body) <= MAX_CHECKED_BODY:
                    body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            if _has_nul(body):
                await self._refuse(scope, receive, send)
                return
            receive = _replay(messages, receive)
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        request: Request = Request(scope, receive)
        detail = "请求中含有不允许的空字符（NUL），请检查填写的内容"
        response = error_response(request, 400, detail, "invalid_character")
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The body already read, then the connection's own messages (a disconnect) as before."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
