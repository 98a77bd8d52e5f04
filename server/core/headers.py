"""Browser-facing hardening of every answer: security headers, and JSON-only API bodies.

The headers are set by a `before_send` hook, not a middleware: Litestar runs app middleware
only around a matched route, while the hook also sees the router's own answers (an unknown
path's 404, a 405) and every error page.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.core.errors import BusinessError

# Scripts and styles only from our own files: no inline <script>/<style>, no on*= or style=
# attributes, no eval (htmx runs with allowEval off, templates/base.html). 'self' also covers the
# page's own ws:/wss: socket (CSP 3). Frames: the kiosk prints its ticket through a hidden
# same-origin iframe, so our pages may frame each other and nobody else may frame them.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # app.css draws the select arrow as a data: SVG
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
# The OpenAPI viewers Litestar serves under /schema load their script from a CDN and start it
# inline: they keep the framing and base protections, not the script and style ones.
DOCS_CSP = "object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
HSTS = "max-age=31536000; includeSubDomains"
COMMON = {
    "X-Frame-Options": "SAMEORIGIN",  # frame-ancestors for browsers without CSP 2
    "X-Content-Type-Options": "nosniff",
    # device links carry their token in the path: the URL never leaves for another site
    "Referrer-Policy": "same-origin",
}


def _is_docs_page(scope: Scope, content_type: str) -> bool:
    """An HTML page under the app's OpenAPI path (wherever its config puts it)."""
    app = scope.get("app")
    config = getattr(app, "openapi_config", None)
    if config is None or not content_type.startswith("text/html"):
        return False
    path = scope.get("path", "")
    return path == config.path or path.startswith(config.path.rstrip("/") + "/")


class SecurityHeaders:
    """`before_send` hook: the headers above on every HTTP answer (HSTS only in production, where
    the site is served over TLS). A header a handler set itself is left as it is."""

    def __init__(self, *, hsts: bool) -> None:
        self.headers = COMMON | ({"Strict-Transport-Security": HSTS} if hsts else {})

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        csp = DOCS_CSP if _is_docs_page(scope, headers.get("content-type", "")) else CSP
        for name, value in (self.headers | {"Content-Security-Policy": csp}).items():
            if name not in headers:
                headers[name] = value


# --- JSON bodies ----------------------------------------------------------------------------------

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_ONLY = "请求体必须是 JSON（Content-Type: application/json）"
REFUSALS = {
    RequestEncodingType.MULTI_PART.value: "请求体必须是上传的文件（Content-Type: multipart/form-data）",
    RequestEncodingType.URL_ENCODED.value: "请求体必须是表单（Content-Type: application/x-www-form-urlencoded）",
}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _has_body(scope: Scope) -> bool:
    """Whether the request says it carries a body; `Content-Length: 0`, or none of the headers
    that announce a body, is a request without one (a DELETE, an action without parameters)."""
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() != "0"
    return _header(scope, b"transfer-encoding") is not None or _header(scope, b"content-type") is not None


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _declared_body(scope: Scope) -> str | None:
    """The media type the handler declares for its `data` other than JSON (the goods import takes
    `MultipartBody`), else None."""
    handler = scope.get("route_handler")
    field = handler.parsed_fn_signature.parameters.get("data") if handler is not None else None
    kwarg = field.kwarg_definition if field is not None else None
    if isinstance(kwarg, BodyKwarg) and kwarg.media_type != RequestEncodingType.JSON:
        return RequestEncodingType(kwarg.media_type).value
    return None


class JSONBodyMiddleware:
    """An API request with a body must send JSON (or what its handler declares, e.g. a file
    upload), else 415. A browser sends `text/plain`, form and multipart bodies cross-site without
    asking the server first; JSON only after a CORS preflight that we never grant."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in UNSAFE_METHODS
            and scope["path"].startswith("/api/")
            and _has_body(scope)
        ):
            media_type = (_header(scope, b"content-type") or "").partition(";")[0].strip().lower()
            declared = _declared_body(scope)
            if not (_is_json(media_type) or media_type == declared):
                raise BusinessError(REFUSALS.get(declared or "", JSON_ONLY), "unsupported_media_type", 415)
        await self.app(scope, receive, send)
