"""Browser-facing hardening: JSON-only API bodies."""

from __future__ import annotations

from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg
from litestar.types import ASGIApp, Receive, Scope, Send

from server.core.errors import BusinessError

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
