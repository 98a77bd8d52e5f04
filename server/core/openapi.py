"""What `/schema/openapi.json` says of the JSON API, said once: the error body every `/api/`
operation answers with its statuses, and the Excel downloads.

Litestar documents its own `ValidationException` body (`{status_code, detail, extra}`) as every
operation's 400 and nothing else; our exception handlers (`core.web`) answer `{detail, code}` with
400/401/403/404/409 instead. `ApiResponses` puts the true error responses on every `/api/`
operation as its routes are registered, so no decorator repeats them; a handler adds what only it
answers (`THROTTLED` at login, `IMPORT_REFUSED` at the goods import, `XLSX` on downloads) with
`responses=`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.params import KwargDefinition
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from server.core.xlsx import XLSX_MEDIA_TYPE

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ErrorOut(msgspec.Struct):
    """Every API error: a Chinese message for people and a stable code for programs."""

    detail: str
    code: str


class ImportRowError(msgspec.Struct):
    row: int  # the row number in the uploaded sheet
    message: str


class ImportErrorOut(msgspec.Struct):
    """An import refused because of its rows (`code` = `import_invalid`): every bad row with its
    reasons; nothing was imported. Other refusals of an import carry no `errors`."""

    detail: str
    code: str
    errors: list[ImportRowError] | msgspec.UnsetType = msgspec.UNSET


def _error(description: str, *examples: tuple[str, str], container: type = ErrorOut) -> ResponseSpec:
    return ResponseSpec(
        data_container=container,
        description=description,
        generate_examples=False,
        examples=[Example(summary=code, value={"detail": detail, "code": code}) for detail, code in examples],
    )


BAD_REQUEST = _error(
    "请求无效：参数或请求体的格式、取值不正确，或业务规则不允许",
    ("请求数据无效：name为必填项", "invalid_request"),
    ("编码已存在", "duplicate_code"),
)
UNAUTHORIZED = _error("未登录，或令牌无效、已过期", ("请先登录", "unauthorized"))
FORBIDDEN = _error("没有执行此操作的权限", ("没有权限执行此操作", "forbidden"))
NOT_FOUND = _error("记录不存在（或属于其他租户）", ("记录不存在", "not_found"))
CONFLICT = _error(
    "当前状态不允许（如已确认、库存或额度不足）",
    ("入库单已确认", "already_confirmed"),
    ("可用额度不足：还差 12.5000", "insufficient_credit"),
)
TOO_LARGE = _error("请求体过大（超过 10 MB）", ("上传内容过大", "too_large"))
UNSUPPORTED = _error("请求体的类型不受支持", ("请求体必须是 JSON", "unsupported_media_type"))

UNAVAILABLE = _error(
    "服务暂时不可用（数据库或 Redis 无应答、请求过多）：稍后按 Retry-After 的秒数重试",
    ("系统繁忙或数据库暂时不可用，请稍后重试", "unavailable"),
)

ERRORS: dict[int, ResponseSpec] = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    503: UNAVAILABLE,
}
"""The errors any API operation may answer; mutating ones may also answer 409, and those that
read a body 413 (Litestar's `request_max_body_size`) and 415."""

THROTTLED = {
    429: _error(
        "请求过于频繁（登录失败次数过多，或取号机取号过快），暂时不能再试",
        ("登录失败次数过多，请 15 分钟后再试", "throttled"),
    )
}
IMPORT_REFUSED = {
    400: _error(
        "导入被拒绝：文件无效，或有行不正确（errors 逐行列出原因，未导入任何数据）",
        ("导入失败：共 2 行有错误，未导入任何数据", "import_invalid"),
        container=ImportErrorOut,
    )
}

XLSX = {
    200: ResponseSpec(
        data_container=Annotated[bytes, KwargDefinition(format=OpenAPIFormat.BINARY)],
        media_type=XLSX_MEDIA_TYPE,
        description="Excel 文件（.xlsx，附件下载）",
        generate_examples=False,
    )
}
"""`responses=XLSX` on an operation answering an Excel file."""


def standard_responses(method: str, takes_body: bool) -> dict[int, ResponseSpec]:
    responses = dict(ERRORS)
    if method in MUTATING:
        responses[409] = CONFLICT
    if takes_body:
        responses[413] = TOO_LARGE
        responses[415] = UNSUPPORTED
    return responses


class ApiResponses(ReceiveRoutePlugin):
    """Documents the standard error responses on every `/api/` operation (a handler's own
    `responses=` win for the same status)."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            return
        for method, (handler, _) in route.route_handler_map.items():
            takes_body = "data" in handler.parsed_fn_signature.parameters
            handler.responses = standard_responses(method, takes_body) | dict(handler.responses or {})
