"""What `/schema/openapi.json` says of the JSON API, said once: the error body every `/api/`
operation answers with its statuses, and the Excel downloads.

Litestar documents its own `ValidationException` body (`{status_code, detail, extra}`) as every
operation's 400 and nothing else; our exception handlers (`core.web`) answer `{detail, code}` with
400/401/403/404/409 instead. `ApiResponses` puts the true error responses on every `/api/`
operation as its routes are registered, so no decorator repeats them; a handler adds what only it
answers (`THROTTLED` at login, `IMPORT_REFUSED` at the goods import, `XLSX` on downloads) with
`responses=`. Every mutating operation also documents the optional `Idempotency-Key` header
(`core.idempotency`) and the refusals that come with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar.enums import ParamType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, Operation, Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import KwargDefinition
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from server.core import idempotency
from server.core.xlsx import XLSX_MEDIA_TYPE

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FieldErrorOut(msgspec.Struct):
    field: str  # the body's field name
    detail: str


class ErrorOut(msgspec.Struct):
    """Every API error: a Chinese message for people and a stable code for programs; when fields
    of the body were refused, every one of them in `errors` (all at once, not one per request)."""

    detail: str
    code: str
    errors: list[FieldErrorOut] | msgspec.UnsetType = msgspec.UNSET


class ImportRowError(msgspec.Struct):
    row: int  # the row number in the uploaded sheet
    message: str


class ImportErrorOut(msgspec.Struct):
    """An import refused because of its rows (`code` = `import_invalid`): every bad row with its
    reasons; nothing was imported. Other refusals of an import carry no `errors`."""

    detail: str
    code: str
    errors: list[ImportRowError] | msgspec.UnsetType = msgspec.UNSET


def error_response(description: str, *examples: tuple[str, str], container: type = ErrorOut) -> ResponseSpec:
    return ResponseSpec(
        data_container=container,
        description=description,
        generate_examples=False,
        examples=[Example(summary=code, value={"detail": detail, "code": code}) for detail, code in examples],
    )


BAD_REQUEST_EXAMPLES = (("请求数据无效：name为必填项", "invalid_request"), ("编码已存在", "duplicate_code"))
BAD_REQUEST = error_response("请求无效：参数或请求体的格式、取值不正确，或业务规则不允许", *BAD_REQUEST_EXAMPLES)
BAD_WRITE = error_response(
    "请求无效：参数或请求体的格式、取值不正确，业务规则不允许，或 Idempotency-Key 格式不对",
    *BAD_REQUEST_EXAMPLES,
    (idempotency.INVALID, "invalid_idempotency_key"),
)
UNAUTHORIZED = error_response("未登录，或令牌无效、已过期", ("请先登录", "unauthorized"))
FORBIDDEN = error_response("没有执行此操作的权限", ("没有权限执行此操作", "forbidden"))
NOT_FOUND = error_response("记录不存在（或属于其他租户）", ("记录不存在", "not_found"))
CONFLICT = error_response(
    "当前状态不允许（如已确认、库存或额度不足）；或 Idempotency-Key 已用于另一个请求、"
    "使用它的请求仍在处理中（按 Retry-After 重试）、其结果过大未保存",
    ("入库单已确认", "already_confirmed"),
    ("可用额度不足：还差 12.5000", "insufficient_credit"),
    (idempotency.REUSED, "idempotency_key_reused"),
    (idempotency.IN_PROGRESS, "idempotency_in_progress"),
    (idempotency.NOT_KEPT, "idempotency_answer_not_kept"),
)
TOO_LARGE = error_response("请求体过大（超过 10 MB）", ("上传内容过大", "too_large"))
UNSUPPORTED = error_response("请求体的类型不受支持", ("请求体必须是 JSON", "unsupported_media_type"))

UNAVAILABLE = error_response(
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
    429: error_response(
        "请求过于频繁（登录失败次数过多、取号机取号过快，或查询进度时手机号后四位错误次数过多），暂时不能再试",
        ("登录失败次数过多，请 15 分钟后再试", "throttled"),
    )
}
IMPORT_REFUSED = {
    400: error_response(
        "导入被拒绝：文件无效，或有行不正确（errors 逐行列出原因，未导入任何数据），或 Idempotency-Key 格式不对",
        ("导入失败：共 2 行有错误，未导入任何数据", "import_invalid"),
        (idempotency.INVALID, "invalid_idempotency_key"),
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


IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in=ParamType.HEADER,
    required=False,
    description=(
        "可选的幂等键（建议每次提交一个 UUID）：同一调用者 24 小时内用同一键重发同一请求（方法、路径、"
        "请求体相同），得到第一次的应答（状态与内容相同，带 `Idempotent-Replayed: true`），不会重复执行；"
        "同一键用于不同的请求为 409 `idempotency_key_reused`，第一次仍在处理时为 409 "
        "`idempotency_in_progress`（按 Retry-After 重试）。5xx 与 429 的应答不保存，重试会再次执行。"
    ),
    schema=Schema(
        type=OpenAPIType.STRING,
        min_length=1,
        max_length=100,
        pattern=f"^{idempotency.KEY.pattern}$",
        examples=["3f1c9a52-7d3e-4a8b-9c41-5e2f0b6d8a17"],
    ),
)


@dataclass
class KeyedOperation(Operation):
    """An operation that also takes the optional `Idempotency-Key` header."""

    def __post_init__(self) -> None:
        self.parameters = [*(self.parameters or []), IDEMPOTENCY_KEY]


def standard_responses(method: str, takes_body: bool) -> dict[int, ResponseSpec]:
    responses = dict(ERRORS)
    if method in MUTATING:
        responses[400] = BAD_WRITE
        responses[409] = CONFLICT
    if takes_body:
        responses[413] = TOO_LARGE
        responses[415] = UNSUPPORTED
    return responses


class ApiResponses(ReceiveRoutePlugin):
    """Documents the standard error responses on every `/api/` operation (a handler's own
    `responses=` win for the same status), and the `Idempotency-Key` header of mutating ones."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            return
        for method, (handler, _) in route.route_handler_map.items():
            takes_body = "data" in handler.parsed_fn_signature.parameters
            handler.responses = standard_responses(method, takes_body) | dict(handler.responses or {})
            # a public operation (login) has no caller to keep a key for: it ignores one
            if method in MUTATING and not handler.opt.get("public") and handler.operation_class is Operation:
                handler.operation_class = KeyedOperation
