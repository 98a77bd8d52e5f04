"""`Idempotency-Key`: a retried write gets the first answer again instead of being done twice.

A client that timed out cannot know whether its POST was done; retrying it made two kiosk tickets
and two recharge drafts. A POST, PUT, PATCH or DELETE — API or page — that carries
`Idempotency-Key: <1–100 visible ASCII characters>` is run once per caller and key:

- The key belongs to its caller (`t{tenant}:u{user}`, or `t{tenant}:d{device}` for a kiosk), so
  two callers' keys never meet. A request without a caller (login) passes through as without a key.
- Before the handler runs, the key is claimed by an INSERT that fails on the unique (scope, key)
  index, in its own short transaction: of two requests at once, exactly one runs the handler.
- The answer is kept with the request's fingerprint (method, path with query, body) before it
  leaves for the client, so a retry sent the moment the answer arrived already finds it.
- Same key again: the same fingerprint gets the kept answer (status, body, the headers worth
  replaying) with `Idempotent-Replayed: true`; another fingerprint is 409 `idempotency_key_reused`;
  a request still running is 409 `idempotency_in_progress` with `Retry-After` (no waiting: it
  would hold a worker and an admission place for another request's sake).
- Every answer is kept except 5xx and 429, which say "not done, try again": the key is released
  and the retry runs. A kept answer larger than `MAX_KEPT` keeps only its status, and a retry is
  told so (409 `idempotency_answer_not_kept`) rather than done twice.
- Kept for `TTL` (24 h) from the claim; an older record is ignored (its key runs afresh) and
  pruned, a few at a time, after each keyed request has answered. A claim older than `STALE` whose request never
  settled (a killed worker) is taken over, so a crash blocks its key for a minute at most.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.core import clock, db, logs
from server.core.tables import IdempotencyRecord
from server.core.tenancy import Ctx
from server.core.web import error_response

log = logging.getLogger("weifu")

HEADER = b"idempotency-key"
REPLAYED = b"idempotent-replayed"
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY = re.compile(r"[!-~]{1,100}")  # visible ASCII: no spaces, no control characters
TTL = timedelta(hours=24)
STALE = timedelta(seconds=60)
RETRY_AFTER_SECONDS = 1
MAX_BODY = 10 * 1024 * 1024  # Litestar's request body limit: a larger request is refused there
MAX_CANONICAL = 1024 * 1024  # JSON bodies up to this size are compared by content, not by bytes
MAX_KEPT = 1024 * 1024  # creates and actions answer one object; this is far above any of them
PRUNE_BATCH = 20
KEPT_HEADERS = frozenset({b"content-type", b"location", b"x-error-code"})  # and every hx-* header
PATH_KEPT = 400  # the path column's length (it is for people; requests compare by fingerprint)

INVALID = "Idempotency-Key 无效：须为 1–100 个可见 ASCII 字符（不含空格），每个请求最多一个"
REUSED = "幂等键已用于另一个请求（路径或内容不同）：新的请求请使用新的 Idempotency-Key"
IN_PROGRESS = "使用同一幂等键的请求正在处理中，请稍后重试"
NOT_KEPT = "使用此幂等键的请求已处理完成，但结果过大未保存：请查询最新数据，不要重复提交"

CallerResolver = Callable[[Scope], Awaitable[Ctx | None]]


def caller_scope(ctx: Ctx | None) -> str | None:
    """Whose keys these are: a device (kiosk) or a user, within their tenant; None for nobody."""
    if ctx is None:
        return None
    if ctx.device_id is not None:
        return f"t{ctx.tenant_id}:d{ctx.device_id}"
    if ctx.user_id is not None:
        return f"t{ctx.tenant_id}:u{ctx.user_id}"
    return None


async def scope_ctx(scope: Scope) -> Ctx | None:
    """The caller as AuthMiddleware resolved it (bearer token or session)."""
    return scope.get("state", {}).get("ctx")


# --- the request's identity -----------------------------------------------------------------------


def _header(scope: Scope, name: bytes) -> bytes:
    return next((value for key, value in scope.get("headers", []) if key == name), b"")


def _canonical_body(content_type: bytes, body: bytes) -> bytes:
    """The body as compared: JSON by its content (a client may re-encode it with other key order or
    spacing), multipart without its boundary (a client draws a new one for every send), any other
    body as its bytes."""
    media_type, _, params = content_type.decode("latin-1").partition(";")
    media_type = media_type.strip().lower()
    if media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json")):
        if len(body) <= MAX_CANONICAL:
            try:
                value = json.loads(body)
            except (ValueError, RecursionError):
                return body
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if media_type.startswith("multipart/"):
        match = re.search(r'boundary="?([^";]+)"?', params)
        if match:
            return body.replace(b"--" + match.group(1).encode("latin-1"), b"--boundary")
    return body


@dataclass(frozen=True)
class Keyed:
    """A request with its key, whose it is and its fingerprint."""

    owner: str
    key: str
    method: str
    path: str
    fingerprint: str
    secrets: tuple[str, ...] = ()  # device tokens in its path: never stored, put back on replay

    def hide(self, data: bytes) -> bytes:
        """A kept answer without the caller's device token (a kiosk's ticket links its slip by the
        token, which the database otherwise keeps only hashed)."""
        for n, secret in enumerate(self.secrets):
            data = data.replace(secret.encode(), f"dev_***{n}".encode())
        return data

    def show(self, data: bytes) -> bytes:
        for n, secret in enumerate(self.secrets):
            data = data.replace(f"dev_***{n}".encode(), secret.encode())
        return data


def keyed(owner: str, key: str, scope: Scope, body: bytes) -> Keyed:
    path = scope["path"] + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), path.encode(), _canonical_body(_header(scope, b"content-type"), body)):
        digest.update(len(part).to_bytes(8, "big") + part)
    return Keyed(owner, key, scope["method"], path, digest.hexdigest(), tuple(logs.device_tokens(path)))


# --- storage --------------------------------------------------------------------------------------


async def claim(req: Keyed) -> str | dict:
    """The key for this request: a claim token when it is ours to run (new, expired, or a dead
    request's), else the record holding it (its state, fingerprint and kept answer)."""
    for _ in range(3):  # the holder may release the key between our INSERT and our SELECT
        token = secrets.token_hex(16)
        now = clock.now()
        fields = (req.method, logs.redact(req.path)[:PATH_KEPT], req.fingerprint, token, now)
        async with db.atomic():
            rows = await IdempotencyRecord.raw(
                'INSERT INTO "idempotency_key" ("method", "path", "fingerprint", "claim", "created_at", "scope", '
                '"key", "state", "status", "headers", "body") VALUES ({}, {}, {}, {}, {}, {}, {}, \'running\', '
                'NULL, NULL, NULL) ON CONFLICT ("scope", "key") DO NOTHING RETURNING "id"',
                *fields,
                req.owner,
                req.key,
            )
            if not rows:
                # A conditional UPDATE: of two takers at once, one matches; PostgreSQL re-checks the
                # condition on the row the other one just wrote, SQLite runs them one after the other.
                rows = await IdempotencyRecord.raw(
                    'UPDATE "idempotency_key" SET "method" = {}, "path" = {}, "fingerprint" = {}, "claim" = {}, '
                    '"created_at" = {}, "state" = \'running\', "status" = NULL, "headers" = NULL, "body" = NULL '
                    'WHERE "scope" = {} AND "key" = {} AND ("created_at" < {} '
                    'OR ("state" = \'running\' AND "created_at" < {})) RETURNING "id"',
                    *fields,
                    req.owner,
                    req.key,
                    now - TTL,
                    now - STALE,
                )
            if rows:
                return token
            held = await (
                IdempotencyRecord.select(
                    IdempotencyRecord.state,
                    IdempotencyRecord.fingerprint,
                    IdempotencyRecord.status,
                    IdempotencyRecord.headers,
                    IdempotencyRecord.body,
                )
                .where((IdempotencyRecord.scope == req.owner) & (IdempotencyRecord.key == req.key))
                .first()
            )
        if held is not None:
            return held
    raise RuntimeError("idempotency key neither claimed nor held")  # pragma: no cover


async def keep(req: Keyed, token: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes | None) -> None:
    """The answer of the request holding `token` (a claim taken over meanwhile keeps nothing)."""
    pairs = [[name.decode("latin-1"), req.hide(value).decode("latin-1")] for name, value in headers]
    await IdempotencyRecord.raw(
        'UPDATE "idempotency_key" SET "state" = \'done\', "status" = {}, "headers" = {}, "body" = {} '
        'WHERE "scope" = {} AND "key" = {} AND "claim" = {}',
        status,
        json.dumps(pairs),
        None if body is None else req.hide(body),
        req.owner,
        req.key,
        token,
    )


async def release(req: Keyed, token: str) -> None:
    """Give the key back: the request was not done (5xx, 429) or never answered, a retry runs it."""
    await IdempotencyRecord.raw(
        'DELETE FROM "idempotency_key" WHERE "scope" = {} AND "key" = {} AND "claim" = {}', req.owner, req.key, token
    )


async def prune() -> None:
    """Delete a few records past their 24 hours. The outer condition is checked again on a row
    taken over meanwhile (PostgreSQL re-evaluates it on the new version), so a fresh claim stays."""
    cutoff = clock.now() - TTL
    await IdempotencyRecord.raw(
        'DELETE FROM "idempotency_key" WHERE "created_at" < {} AND "id" IN (SELECT "id" FROM "idempotency_key" '
        f'WHERE "created_at" < {{}} ORDER BY "created_at" LIMIT {PRUNE_BATCH})',
        cutoff,
        cutoff,
    )


async def _quietly(what: str, operation: Awaitable[None]) -> None:
    """Book-keeping after the handler ran must not turn its answer into an error: a failure is
    logged (a key left running is taken over after STALE)."""
    try:
        await asyncio.shield(operation)
    except Exception as exc:  # the answer goes out whatever happens here
        log.warning("idempotency %s failed: %r", what, exc)


# --- the middleware -------------------------------------------------------------------------------


def _kept_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower(), v) for k, v in headers if k.lower() in KEPT_HEADERS or k.lower().startswith(b"hx-")]


@dataclass
class _Recorder:
    """Passes the answer on to the client once the key is settled (kept or released). The start
    is held back with the body: an answer whose body is empty (a page's 201 with HX-Location) is
    complete for the client with its headers, and the retry it sends at once must find it kept.
    An answer over MAX_KEPT (kept as its status only) goes out as it comes, settled before its
    last part."""

    send: Send
    settle: Callable[[_Recorder], Awaitable[None]]
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    start: Message | None = None
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    settled: bool = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = _kept_headers(list(message.get("headers", [])))
            self.start = message
            return
        if message["type"] != "http.response.body" or self.settled:
            await self.send(message)
            return
        chunk = message.get("body", b"")
        self.size += len(chunk)
        last = not message.get("more_body")
        if self.size <= MAX_KEPT:
            self.chunks.append(chunk)
            if not last:
                return
        if last:
            self.settled = True
            await self.settle(self)
        if self.start is not None:  # the start and the body held so far leave first
            start, self.start = self.start, None
            await self.send(start)
            if self.size <= MAX_KEPT:
                await self.send({"type": "http.response.body", "body": self.body, "more_body": False})
                return
            if self.chunks:
                await self.send({"type": "http.response.body", "body": b"".join(self.chunks), "more_body": True})
        await self.send(message)

    @property
    def body(self) -> bytes | None:
        return b"".join(self.chunks) if self.size <= MAX_KEPT else None


async def _read_body(receive: Receive) -> tuple[list[Message], bytes, bool]:
    """Every message of the request body, the body, and whether it was all read within MAX_BODY."""
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, body, False
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return messages, body, False
        if not message.get("more_body"):
            return messages, body, True


def _replay_request(messages: list[Message], receive: Receive) -> Receive:
    """The body already read, then the connection's own messages (a disconnect) as before."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


class IdempotencyMiddleware:
    """Runs a keyed write once per caller and key, and answers its retries from the kept answer.
    Placed after AuthMiddleware: the key's owner is the caller it resolved (or `caller` finds)."""

    def __init__(self, app: ASGIApp, caller: CallerResolver = scope_ctx) -> None:
        self.app = app
        self.caller = caller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        values = [value for name, value in scope.get("headers", []) if name == HEADER]
        if not values:
            await self.app(scope, receive, send)
            return
        key = values[0].decode("latin-1")
        if len(values) > 1 or not KEY.fullmatch(key):
            await _refuse(scope, receive, send, 400, INVALID, "invalid_idempotency_key")
            return
        owner = caller_scope(await self.caller(scope))
        if owner is None:  # nobody to keep it for: the handler refuses the request, or needs no caller
            await self.app(scope, receive, send)
            return
        messages, body, complete = await _read_body(receive)
        receive = _replay_request(messages, receive)
        if not complete:  # the client left, or the body is over the limit the handler refuses
            await self.app(scope, receive, send)
            return
        req = keyed(owner, key, scope, body)
        held = await claim(req)
        if isinstance(held, dict):
            await _answer_held(scope, receive, send, req, held)
            return
        token = held

        async def settle(recorder: _Recorder) -> None:
            if recorder.status >= 500 or recorder.status == 429:
                await _quietly("release", release(req, token))
            else:
                await _quietly("keep", keep(req, token, recorder.status, recorder.headers, recorder.body))

        recorder = _Recorder(send, settle)
        try:
            await self.app(scope, receive, recorder)
        finally:
            if not recorder.settled:  # no answer (an error on the way out, a cancelled request)
                await _quietly("release", release(req, token))
        await _quietly("prune", prune())  # once the answer is out: the client does not wait for it


async def _answer_held(scope: Scope, receive: Receive, send: Send, req: Keyed, held: dict[str, Any]) -> None:
    if held["fingerprint"] != req.fingerprint:
        await _refuse(scope, receive, send, 409, REUSED, "idempotency_key_reused")
    elif held["state"] != "done":
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        await _refuse(scope, receive, send, 409, IN_PROGRESS, "idempotency_in_progress", headers)
    elif held["body"] is None:
        await _refuse(scope, receive, send, 409, NOT_KEPT, "idempotency_answer_not_kept")
    else:
        body = req.show(bytes(held["body"]))
        pairs = json.loads(held["headers"])
        headers = [(name.encode("latin-1"), req.show(value.encode("latin-1"))) for name, value in pairs]
        headers += [(b"content-length", str(len(body)).encode()), (REPLAYED, b"true")]
        await send({"type": "http.response.start", "status": held["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, code: str, headers: dict | None = None
) -> None:
    request: Request = Request(scope, receive)
    response = error_response(request, status, detail, code, headers)
    await response.to_asgi_response(app=None, request=request)(scope, receive, send)
