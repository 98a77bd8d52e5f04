"""JSON API of 【看板】: `GET /api/v1/dashboard?org_id=` — every figure of the board."""

import msgspec
from litestar import Request, get
from litestar.params import Parameter

from server.core.web import ctx_of
from server.dashboard import permissions as P
from server.dashboard import services
from server.dashboard.schemas import BoardOut


@get(
    "/api/v1/dashboard",
    opt={"perm": P.VIEW},
    tags=["dashboard"],
    summary="看板：本机构及下级的各项指标（org_id 缩小到其中一个机构）",
)
async def dashboard(
    request: Request, org_id: str = Parameter(default="", description="机构 id（本机构或下级），缺省为本机构")
) -> BoardOut:
    return msgspec.convert(await services.board(ctx_of(request), org_id or None), BoardOut)


ROUTES = [dashboard]
