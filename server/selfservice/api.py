"""The status page's JSON, for anyone building their own page: public, the token and the phone's
last four digits are the credential. Thin: the rules live in the services."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.params import FromPath, Parameter

from server.core.openapi import THROTTLED, error_response
from server.selfservice import services
from server.selfservice.schemas import StatusOut

WRONG_DIGITS = {
    403: error_response("手机号后四位不正确", ("手机号后四位不正确", "wrong_phone_digits")),
    404: error_response("查询链接不存在", ("查询链接不存在", "not_found")),
}


@get(
    "/api/v1/public/status/{token:str}",
    opt={"public": True},
    tags=["selfservice"],
    summary="客户查询工单进度",
    description="工单受理单二维码中的查询链接（`status_url`）的令牌，加客户手机号后四位；"
    "每个令牌每小时最多错 5 次，之后 429。",
    responses=WRONG_DIGITS | THROTTLED,
)
async def public_status(
    token: FromPath[str], phone_last4: str = Parameter(min_length=4, max_length=4, pattern="^[0-9]{4}$")
) -> StatusOut:
    found, _ = await services.prove(token, phone_last4)
    return msgspec.convert(await services.view(found), StatusOut)


ROUTES = [public_status]
