"""The status page's JSON, for anyone building their own page: public, the token and the phone's
last four digits are the credential. Thin: the rules live in the services."""

from __future__ import annotations

import msgspec
from litestar import get, post
from litestar.params import FromPath, JSONBody, Parameter

from server.core.openapi import THROTTLED, error_response
from server.selfservice import services
from server.selfservice.schemas import RatingIn, StatusOut

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


RATING_REFUSED = {
    400: error_response(
        "评分不在 1–5 之间，或手机号后四位格式不对",
        ("评分必须在 1–5 之间", "out_of_range"),
        ("请输入手机号的后四位数字", "invalid_field"),
    ),
    409: error_response(
        "工单还没有结单，或已经评价过（每个工单只能评价一次）",
        ("维修结单后才能评价", "invalid_state"),
        ("您已评价过（5 星），谢谢", "already_rated"),
    ),
}


@post(
    "/api/v1/public/status/{token:str}/rating",
    opt={"public": True},
    status_code=200,
    tags=["selfservice"],
    summary="客户为已结单的工单评分（1–5 星，仅一次）",
    description="与查询进度相同的令牌与手机号后四位（错误次数同样计入每小时 5 次的限制）；答复评价后的进度。",
    responses=WRONG_DIGITS | RATING_REFUSED | THROTTLED,
)
async def public_rating(token: FromPath[str], data: JSONBody[RatingIn]) -> StatusOut:
    found, _ = await services.prove(token, data.phone_last4)
    return msgspec.convert(await services.rate(found, data.rating), StatusOut)


ROUTES = [public_status, public_rating]
