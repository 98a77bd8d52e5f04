"""【看板】 pages: the managers' board (`/dashboard`, its `#board` region refreshed live), and its TV
mode for a wall screen (`/dashboard/tv/{token}`, a 看板屏 device's token from 【排队设置】, no
menu, 1920×1080). The figures come from `services.board`; the charts are drawn by
static/js/dashboard.js from the JSON the region carries."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.params import FromPath
from markupsafe import Markup

from server.core import hooks
from server.core.errors import BusinessError, Forbidden, Unauthorized
from server.core.tenancy import Ctx
from server.core.web import ctx_of, render
from server.dashboard import permissions as P
from server.dashboard import services
from server.dashboard.schemas import BoardOut
from server.queue.services import devices
from server.queue.states import DeviceKind
from server.system.services import orgs
from server.workorders.states import Sla

PUBLIC = {"public": True}


def _data_json(data: dict) -> Markup:
    """The figures for the charts, as a JSON data block inside the region (`<` escaped so no
    text can close the element)."""
    text = msgspec.json.encode(msgspec.convert(data, BoardOut)).decode()
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _context(data: dict, refresh_url: str, tv: bool) -> dict[str, Any]:
    return {"data": data, "data_json": _data_json(data), "refresh_url": refresh_url, "tv": tv, "red": Sla.RED}


def _board_url(org_id: Any) -> str:
    return f"/dashboard/board?org_id={org_id}" if org_id else "/dashboard/board"


async def board_page(request: Request) -> Response:
    """The board: at /dashboard, and at / for whoever holds it (the managers' landing page)."""
    ctx = ctx_of(request)
    org_id = request.query_params.get("org_id", "")
    data = await services.board(ctx, org_id or None)
    return render(
        request,
        "dashboard/board.html",
        title="看板",
        org_choices=await orgs.choices(ctx),
        chosen=org_id,
        **_context(data, _board_url(org_id), tv=False),
    )


@get("/dashboard", opt={"perm": P.VIEW}, include_in_schema=False)
async def page(request: Request) -> Response:
    return await board_page(request)


hooks.landing(P.VIEW, board_page)


@get("/dashboard/board", opt={"perm": P.VIEW}, include_in_schema=False)
async def region(request: Request) -> Response:
    """The `#board` region alone: fetched on each (coalesced) live event and after a reconnect."""
    org_id = request.query_params.get("org_id", "")
    data = await services.board(ctx_of(request), org_id or None)
    return render(request, "dashboard/board.html", block="board", **_context(data, _board_url(org_id), tv=False))


async def _device(request: Request, token: str) -> Ctx:
    ctx = await devices.ctx_for_token(token) if devices.is_device_token(token) else None
    if ctx is None:
        raise Unauthorized("此设备链接已失效，请联系管理员重新生成", code="device_token_invalid")
    if ctx.device_kind != DeviceKind.BOARD:
        other = DeviceKind(ctx.device_kind).label
        raise Forbidden(f"这是{other}的链接，不能用作看板屏，请联系管理员", code="device_wrong_kind")
    request.scope.setdefault("state", {})["ctx"] = ctx
    return ctx


async def _tv(request: Request, token: str, block: str | None) -> Response:
    try:
        ctx = await _device(request, token)
    except BusinessError as exc:
        if request.headers.get("hx-request"):
            return Response(exc.detail, status_code=exc.status_code, media_type="text/plain")
        return render(
            request, "dashboard/tv.html", status_code=exc.status_code, title="看板屏", notice=exc.detail, token=token
        )
    data = await services.board(ctx)
    url = f"/dashboard/tv/{token}/board"
    context = _context(data, url, tv=True)
    return render(request, "dashboard/tv.html", block=block, title="看板屏", token=token, **context)


@get("/dashboard/tv/{token:str}", opt=PUBLIC, include_in_schema=False)
async def tv(request: Request, token: FromPath[str]) -> Response:
    return await _tv(request, token, None)


@get("/dashboard/tv/{token:str}/board", opt=PUBLIC, include_in_schema=False)
async def tv_region(request: Request, token: FromPath[str]) -> Response:
    return await _tv(request, token, "board")


ROUTES = [page, region, tv, tv_region]
