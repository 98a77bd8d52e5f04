"""HTTP plumbing shared by every domain: who is calling, CSRF, rendering and error answers."""

from __future__ import annotations

import functools
import json
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any
from urllib.parse import parse_qs, quote

import asyncpg
import redis.exceptions
from jinja2 import Environment
from litestar import MediaType, Request, Response
from litestar._parsers import parse_cookie_string
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.middleware.csrf import CSRFMiddleware
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send
from markupsafe import Markup

from server.core import authcache, permissions
from server.core.errors import BusinessError, checked_all_fields, field_errors
from server.core.permissions import Node
from server.core.tenancy import Ctx

log = logging.getLogger("weifu")

SessionResolver = Callable[[dict], Awaitable[Ctx | None]]
TokenResolver = Callable[[str], Awaitable[Ctx | None]]


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def socket_token(scope: Scope) -> str | None:
    """A WebSocket's `?token=`: a browser cannot set headers on a socket, and a kiosk or TV has
    no session, so its device token comes in the URL."""
    if scope["type"] != "websocket":
        return None
    token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0].strip()
    return token or None


def _has_cookie(scope: Scope, name: str) -> bool:
    """Whether any Cookie header carries `name`, parsed by the parser behind Litestar's
    `connection.cookies` (so the session backend's): `a=b;session=…` with any spacing counts.
    Every Cookie header is read, where the session backend reads the first, so anything that can
    authenticate by cookie is seen here."""
    return any(
        key == b"cookie" and name in parse_cookie_string(value.decode("latin-1"))
        for key, value in scope.get("headers", [])
    )


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    """CSRF on every unsafe request that a browser could forge with its cookies. An API request
    with a bearer token, or with no session cookie at all, carries no ambient credential, so it
    needs no CSRF token (and a bearer request never authenticates by cookie, see AuthMiddleware)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/api/")
            and (bearer_token(scope) or not _has_cookie(scope, "session"))
        ):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class AuthMiddleware:
    """Resolves the caller's Ctx (bearer token, else session) into `scope["state"]["ctx"]`.

    It runs on every request, so a disabled user or org stops working at the next request.
    """

    def __init__(self, app: ASGIApp, session_resolver: SessionResolver, token_resolver: TokenResolver) -> None:
        self.app = app
        self.session_resolver = session_resolver
        self.token_resolver = token_resolver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith("/static/"):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":  # open for hours: reads the auth cache's generation each time
            return await self._resolved(scope, receive, send)
        with authcache.one_reading():
            await self._resolved(scope, receive, send)

    async def _resolved(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        token = bearer_token(scope) or socket_token(scope)
        if token:
            state["ctx"] = await self.token_resolver(token)
        else:
            session = scope.get("session")
            state["ctx"] = await self.session_resolver(session) if isinstance(session, dict) and session else None
        await self.app(scope, receive, send)


def ctx_of(connection: ASGIConnection) -> Ctx:
    ctx = connection.scope.get("state", {}).get("ctx")
    if ctx is None:
        raise BusinessError("请先登录", code="unauthorized", status_code=401)
    return ctx


def _within(address: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: Request) -> str:
    """The caller's address. `X-Forwarded-For` is believed only from a configured proxy
    (`WEIFU_TRUSTED_PROXIES`): anyone else could write any address there and escape the
    per-address login throttle. Behind proxies, the nearest address no proxy of ours wrote."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.get("trusted_proxies", ())
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop
    return hops[0] if hops else peer


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


# --- rendering --------------------------------------------------------------------------------


def environment(request: Request) -> Environment:
    return request.app.template_engine.engine


@functools.lru_cache(maxsize=64)
def _menu(granted: frozenset[str]) -> tuple[tuple[Node, list[Node]], ...]:
    return tuple(permissions.menu(granted))


def menu_html(env: Environment, granted: frozenset[str], path: str) -> Markup:
    """The main menu's modules for these permissions, with the pages `path` is under marked: the
    same few variants on every page a user opens, rendered once each per environment (a fifth of
    a small page's CPU). The menu tree is fixed at import; a change of roles changes `granted`."""
    menu = _menu(granted)
    active = tuple(p.url for _, pages in menu for p in pages if path.startswith(p.url))
    kept: dict[tuple[frozenset[str], tuple[str, ...]], Markup] = env.weifu_menus
    html = kept.get((granted, active))
    if html is None:
        html = Markup(env.get_template("components/_menu.html").render(menu=menu, active=active))
        if len(kept) >= 1024:
            kept.clear()
        kept[(granted, active)] = html
    return html


def render(
    request: Request,
    template: str,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A whole page, or only `block` of the same template (htmx refreshing one region)."""
    ctx = request.scope.get("state", {}).get("ctx")
    env = environment(request)
    context |= {"request": request, "ctx": ctx, "path": request.url.path}
    tpl = env.get_template(template)
    if block:
        html = "".join(tpl.blocks[block](tpl.new_context(context)))
    else:
        context["menu_html"] = menu_html(env, ctx.permissions, request.url.path) if ctx else ""
        html = tpl.render(context)
    return Response(html, media_type=MediaType.HTML, status_code=status_code, headers=headers)


def htmx_target(request: Request) -> str | None:
    return request.headers.get("hx-target") if request.headers.get("hx-request") else None


def redirect(request: Request, url: str) -> Response:
    """A redirect that also works for htmx requests (full navigation)."""
    if request.headers.get("hx-request"):
        return Response("", status_code=200, headers={"HX-Redirect": url})
    return Redirect(url)


# --- errors -----------------------------------------------------------------------------------


def _validation_detail(exc: ValidationException) -> str:
    """Litestar/msgspec validation errors in Chinese, naming the field."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    parts = []
    for item in extra[:3]:
        if not isinstance(item, dict):
            continue
        key = item.get("key") or ""
        message = str(item.get("message", ""))
        missing = re.search(r"missing required field `([^`]+)`", message)
        if missing:
            key, what = missing.group(1), "为必填项"
        elif "Expected" in message or "Invalid" in message:
            what = "格式或类型不正确"
        elif "length" in message:
            what = "长度超出限制"
        elif "missing required" in message.lower() or "required" in message.lower():
            what = "为必填项"
        elif ">=" in message or "<=" in message:
            what = "超出允许范围"
        else:
            what = "无效"
        parts.append(f"{'请求体' if key in ('', 'data') else key}{what}")
    return "请求数据无效：" + "；".join(parts) if parts else "请求数据无效，请检查填写的内容"


def error_response(
    request: Request,
    status: int,
    detail: str,
    code: str,
    headers: dict[str, str] | None = None,
    fields: list[dict[str, str]] | None = None,
    all_fields: bool = False,
) -> Response:
    """The API's `{detail, code}` (with `errors: [{field, detail}]` when every field was checked);
    for htmx the message as text and the refused fields in `X-Field-Errors` (JSON, percent-encoded)."""
    headers = headers or {}
    if is_api(request):
        body = {"detail": detail, "code": code} | ({"errors": fields} if fields and all_fields else {})
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
    if fields and request.headers.get("hx-request"):
        headers = headers | {"X-Field-Errors": quote(json.dumps(fields, ensure_ascii=False))}
    if status == 401 and not request.headers.get("hx-request"):
        return Redirect(f"/login?next={request.url.path}")
    if status == 401:
        return Response("", status_code=200, headers={"HX-Redirect": "/login"})
    if request.headers.get("hx-request"):
        # app.js puts this into the form's .form-error box, or a toast when there is no form.
        return Response(detail, status_code=status, media_type=MediaType.TEXT, headers=headers | {"X-Error-Code": code})
    return render(request, "error.html", status_code=status, headers=headers, detail=detail, code=code)


def handle_business(request: Request, exc: BusinessError) -> Response:
    return error_response(
        request, exc.status_code, exc.detail, exc.code, fields=field_errors(exc), all_fields=checked_all_fields(exc)
    )


def handle_http(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, ValidationException):
        return error_response(request, 400, _validation_detail(exc), "invalid_request")
    if isinstance(exc, NotAuthorizedException):
        return error_response(request, 401, "请先登录", "unauthorized")
    if isinstance(exc, PermissionDeniedException):
        if "CSRF" in str(exc.detail):
            return error_response(request, 403, "页面已过期，请刷新后重试（CSRF 校验失败）", "csrf_failed")
        return error_response(request, 403, "没有权限执行此操作", "forbidden")
    messages = {
        400: ("请求数据格式不正确", "invalid_request"),
        404: ("页面或记录不存在", "not_found"),
        405: ("不支持的请求方法", "method_not_allowed"),
        413: ("上传内容过大", "too_large"),
        429: ("请求过于频繁，请稍后再试", "throttled"),
    }
    detail, code = messages.get(exc.status_code, ("请求无法处理", "http_error"))
    return error_response(request, exc.status_code, detail, code)


def handle_too_deep(request: Request, exc: RecursionError) -> Response:
    """JSON nested thousands of levels deep exhausts the decoder's recursion: bad input, not a fault."""
    return error_response(request, 400, "请求数据嵌套层级过深", "invalid_request")


RETRY_AFTER_SECONDS = 5
# A database, Redis or lock that does not answer now is the service being unavailable (503, try
# again), not a fault of the request (500).
UNAVAILABLE: tuple[type[Exception], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # statement timeout, shutdown, "cannot connect now"
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    asyncpg.exceptions.InterfaceError,  # connection closed under the query, pool closing
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,  # connect, pool acquire and command timeouts
    sqlite3.OperationalError,  # only "database is locked/busy": see handle_unavailable
)


def handle_unavailable(request: Request, exc: Exception) -> Response:
    if isinstance(exc, sqlite3.OperationalError) and not re.search(r"locked|busy", str(exc)):
        return handle_unexpected(request, exc)
    log.warning("unavailable on %s %s: %r", request.method, request.url.path, exc)
    return unavailable(request)


def unavailable(request: Request, detail: str = "系统繁忙或数据库暂时不可用，请稍后重试") -> Response:
    return error_response(request, 503, detail, "unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "服务器内部错误，请稍后重试", "internal_error")


EXCEPTION_HANDLERS = {
    BusinessError: handle_business,
    HTTPException: handle_http,
    RecursionError: handle_too_deep,
    **dict.fromkeys(UNAVAILABLE, handle_unavailable),
    Exception: handle_unexpected,
}
