"""The screens a queue device opens with its token (SPEC 6): the kiosk (取号机) where customers take
a ticket, the ticket's printable slip, and the TV board (叫号屏). A device has no session: the token
in the path is its credential, resolved here on every request, so the handlers are public and a
bad token answers a full-screen notice (never the login page, which a kiosk could not use)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from litestar import MediaType, Request, Response, get, post
from litestar.params import FromPath

from server.core import clock, hooks
from server.core.errors import BusinessError, Forbidden, Unauthorized
from server.core.forms import form_data
from server.core.tenancy import Ctx
from server.core.web import render
from server.queue.services import appointments, devices, tickets
from server.queue.states import DeviceKind

PUBLIC = {"public": True}
RECEIPT_WIDTHS = ("58", "80")
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


async def _device(request: Request, token: str, kind: DeviceKind) -> Ctx:
    """The device's Ctx, installed as the request's caller so templates (local times) see it."""
    ctx = await devices.ctx_for_token(token) if devices.is_device_token(token) else None
    if ctx is None:
        raise Unauthorized("此设备链接已失效，请联系管理员重新生成", code="device_token_invalid")
    if ctx.device_kind != kind:
        other = DeviceKind(ctx.device_kind).label
        raise Forbidden(f"这是{other}的链接，不能用作{kind.label}，请联系管理员", code="device_wrong_kind")
    request.scope.setdefault("state", {})["ctx"] = ctx
    return ctx


async def _screen(
    request: Request, token: str, kind: DeviceKind, answer: Callable[[Ctx], Awaitable[Response]]
) -> Response:
    """Run `answer` for the device; a refusal is plain text for the screen's own script (htmx), or
    a full-screen notice for a browser opening the link."""
    try:
        return await answer(await _device(request, token, kind))
    except BusinessError as exc:
        if request.headers.get("hx-request"):
            return Response(
                exc.detail, status_code=exc.status_code, media_type=MediaType.TEXT, headers={"X-Error-Code": exc.code}
            )
        return render(
            request,
            "queue/screen_base.html",
            status_code=exc.status_code,
            title=kind.label,
            notice=exc.detail,
            relink=exc.status_code in (401, 403),
            screen_class=f"q-{kind}-screen",
        )


def _call(ticket: dict) -> dict:
    """A call on the board, with what the TV says for it and when it was (epoch ms), so the
    screen can announce calls it missed while its socket was down."""
    return ticket | {
        "say": tickets.announcement(ticket["no"], ticket["counter_number"]),
        "called_ms": int(ticket["last_called_at"].timestamp() * 1000),
    }


async def _board(ctx: Ctx) -> dict:
    board = await tickets.board(ctx)
    now = clock.now()
    local = now.astimezone(ZoneInfo(ctx.tz))
    return board | {
        "current": _call(board["current"]) if board["current"] else None,
        "recent": [_call(t) for t in board["recent"]],
        "now": now,
        "now_ms": int(now.timestamp() * 1000),
        "date_label": f"{local.year}年{local.month}月{local.day}日 {WEEKDAYS[local.weekday()]}",
    }


def _common(token: str, kind: DeviceKind) -> dict:
    return {"token": token, "live": True, "screen_class": f"q-{kind}-screen", "title": kind.label}


# --- kiosk ---------------------------------------------------------------------------------------


async def _board_screen(request: Request, token: str, kind: DeviceKind, block: str | None = None) -> Response:
    """A device's screen, or one of its regions (`block`), drawn from the board."""

    async def answer(ctx: Ctx) -> Response:
        return render(request, f"queue/{kind}.html", block=block, board=await _board(ctx), **_common(token, kind))

    return await _screen(request, token, kind, answer)


def _ticket_screen(request: Request, token: str, ticket: dict) -> Response:
    """The ticket screen a new ticket (taken, or checked in for an appointment) answers with."""
    return render(
        request,
        "queue/_kiosk_ticket.html",
        status_code=201,
        ticket=ticket,
        token=token,
        phone=tickets.masked_phone(ticket["phone"]),
    )


@get("/queue/kiosk/{token:str}", opt=PUBLIC, include_in_schema=False)
async def kiosk(request: Request, token: FromPath[str]) -> Response:
    return await _board_screen(request, token, DeviceKind.KIOSK)


@get("/queue/kiosk/{token:str}/services", opt=PUBLIC, include_in_schema=False)
async def kiosk_services(request: Request, token: FromPath[str]) -> Response:
    """The service buttons with their waiting counts (the kiosk refreshes them on each event)."""
    return await _board_screen(request, token, DeviceKind.KIOSK, "services")


@post("/queue/kiosk/{token:str}/tickets", opt=PUBLIC, include_in_schema=False, status_code=201)
async def kiosk_take(request: Request, token: FromPath[str]) -> Response:
    """【取号】: the ticket screen's fragment; a refusal (a paused service, a bad phone number) is
    its Chinese message, shown on the kiosk."""

    async def answer(ctx: Ctx) -> Response:
        data = await form_data(request)
        ticket = await tickets.take(ctx, {"service_id": data.get("service_id"), "phone": data.get("phone", "")})
        return _ticket_screen(request, token, ticket)

    return await _screen(request, token, DeviceKind.KIOSK, answer)


@post("/queue/kiosk/{token:str}/check-in", opt=PUBLIC, include_in_schema=False, status_code=201)
async def kiosk_check_in(request: Request, token: FromPath[str]) -> Response:
    """【预约签到】: today's appointment by its code or phone joins the queue; the answer is the
    same ticket screen as 【取号】's."""

    async def answer(ctx: Ctx) -> Response:
        data = await form_data(request)
        return _ticket_screen(request, token, await appointments.check_in(ctx, {"code": data.get("code", "")}))

    return await _screen(request, token, DeviceKind.KIOSK, answer)


@get("/queue/kiosk/{token:str}/rate", opt=PUBLIC, include_in_schema=False)
async def kiosk_rate(request: Request, token: FromPath[str]) -> Response:
    """【服务评价】: the tickets a customer may still rate."""

    async def answer(ctx: Ctx) -> Response:
        return render(request, "queue/_kiosk_rate.html", ratable=await tickets.to_rate(ctx), token=token)

    return await _screen(request, token, DeviceKind.KIOSK, answer)


@post("/queue/kiosk/{token:str}/tickets/{ticket_id:int}/rating", opt=PUBLIC, include_in_schema=False, status_code=200)
async def kiosk_rating(request: Request, token: FromPath[str], ticket_id: FromPath[int]) -> Response:
    async def answer(ctx: Ctx) -> Response:
        data = await form_data(request)
        thanks = await tickets.rate(ctx, ticket_id, data.get("rating"))
        return render(request, "queue/_kiosk_rate.html", thanks=thanks, token=token)

    return await _screen(request, token, DeviceKind.KIOSK, answer)


@get("/queue/kiosk/{token:str}/tickets/{ticket_id:int}/print", opt=PUBLIC, include_in_schema=False)
async def ticket_print(request: Request, token: FromPath[str], ticket_id: FromPath[int]) -> Response:
    """The slip for a 58 mm or 80 mm receipt roll (`?width=`, default 80), from the tenant's
    queue slip template of that width (printing)."""

    async def answer(ctx: Ctx) -> Response:
        width = request.query_params.get("width", "80")
        if width not in RECEIPT_WIDTHS:
            raise BusinessError("小票宽度只能是 58 或 80（毫米）", code="invalid_width")
        return await hooks.print_document(ctx, "queue_ticket", ticket_id, {"width": width})

    return await _screen(request, token, DeviceKind.KIOSK, answer)


# --- TV ------------------------------------------------------------------------------------------


@get("/queue/tv/{token:str}", opt=PUBLIC, include_in_schema=False)
async def tv(request: Request, token: FromPath[str]) -> Response:
    return await _board_screen(request, token, DeviceKind.TV)


@get("/queue/tv/{token:str}/board", opt=PUBLIC, include_in_schema=False)
async def tv_board(request: Request, token: FromPath[str]) -> Response:
    """The board region alone: the TV fetches it on every queue event and after a reconnect."""
    return await _board_screen(request, token, DeviceKind.TV, "board")


ROUTES = [kiosk, kiosk_services, kiosk_take, kiosk_check_in, kiosk_rate, kiosk_rating, ticket_print, tv, tv_board]
