"""The customer's status page `/s/{token}` (phone-sized, no login): the digits form, the order's
progress once they were right (kept as a signed cookie for that page only, so a reload does not
ask again), the progress region the page fetches again on every live signal, and its own socket,
which hears that one order and nothing else."""

from __future__ import annotations

from litestar import Request, Response, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

import realtime
from realtime.ws import CLOSE_CROSS_ORIGIN, CLOSE_UNAUTHORIZED, cross_origin, serve
from server.core.errors import BusinessError, NotFound
from server.core.forms import form_data
from server.core.web import render
from server.selfservice import services

PUBLIC = {"public": True}
COOKIE = "weifu_status"
KEPT_DAYS = 30


def _path(token: str) -> str:
    return f"/s/{token}"


async def _proven(request: Request | WebSocket, token: str) -> dict | None:
    return await services.proven(token, request.cookies.get(COOKIE))


def _ask(request: Request, token: str, error: str = "", status_code: int = 200) -> Response:
    return render(request, "selfservice/status.html", status_code=status_code, token=token, ask=True, error=error)


@get("/s/{token:str}", opt=PUBLIC, include_in_schema=False)
async def status_page(request: Request, token: FromPath[str]) -> Response:
    try:
        found = await _proven(request, token)
    except NotFound as exc:
        return render(request, "selfservice/status.html", status_code=404, token=token, notice=exc.detail)
    if found is None:
        return _ask(request, token)
    return await _status(request, token, found)


async def _status(request: Request, token: str, found: dict, status_code: int = 200, **errors: str) -> Response:
    """The order's page; `errors`: `quote_error` or `rating_error`, the refusal shown in place."""
    view = await services.view(found)
    return render(
        request,
        "selfservice/status.html",
        status_code=status_code,
        token=token,
        view=view,
        shown_quote=services.quote_shown(view),
        **errors,
    )


@post("/s/{token:str}/quote/{decision:str}", opt=PUBLIC, include_in_schema=False, status_code=303)
async def status_quote(request: Request, token: FromPath[str], decision: FromPath[str]) -> Response:
    """【同意报价】 (with the customer's signature) or 【拒绝报价】 on their own phone; back to the page,
    or the page again with the refusal."""
    if decision not in ("approve", "decline"):
        raise NotFound("操作")
    found = await _proven(request, token)
    if found is None:
        return _ask(request, token, "请重新输入手机号后四位", 401)
    data = await form_data(request)
    try:
        if decision == "approve":
            await services.approve_quote(found, data.get("signature"))
        else:
            await services.decline_quote(found, data.get("reason"))
    except BusinessError as exc:
        return await _status(request, token, found, exc.status_code, quote_error=exc.detail)
    return Redirect(_path(token), status_code=303)


@post("/s/{token:str}/rating", opt=PUBLIC, include_in_schema=False, status_code=303)
async def status_rating(request: Request, token: FromPath[str]) -> Response:
    """A star pressed once the order is closed: back to the page (已评价 n 星), or the page again
    with the refusal (rated already, not closed yet)."""
    found = await _proven(request, token)
    if found is None:
        return _ask(request, token, "请重新输入手机号后四位", 401)
    data = await form_data(request)
    try:
        await services.rate(found, data.get("rating"))
    except BusinessError as exc:
        fresh = await _proven(request, token) or found  # a rating given meanwhile (another tab) shows
        return await _status(request, token, fresh, exc.status_code, rating_error=exc.detail)
    return Redirect(_path(token), status_code=303)


@post("/s/{token:str}", opt=PUBLIC, include_in_schema=False, status_code=303)
async def status_prove(request: Request, token: FromPath[str]) -> Response:
    """【查询】: right digits keep their proof in a cookie and show the order; wrong ones ask again
    with the reason (and the wait once there were too many)."""
    data = await form_data(request)
    try:
        _, proof = await services.prove(token, str(data.get("phone_last4", "")))
    except NotFound as exc:
        return render(request, "selfservice/status.html", status_code=404, token=token, notice=exc.detail)
    except BusinessError as exc:
        return _ask(request, token, exc.detail, exc.status_code)
    answer = Redirect(_path(token), status_code=303)
    answer.set_cookie(
        COOKIE,
        proof,
        path=_path(token),
        max_age=KEPT_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=request.app.state.get("secure_cookies", False),
    )
    return answer


@get("/s/{token:str}/progress", opt=PUBLIC, include_in_schema=False)
async def status_progress(request: Request, token: FromPath[str]) -> Response:
    """The progress region alone: fetched on every live signal and when the socket (re)opens;
    a reload instead when the quote differs from the one the page shows (`?quote=`)."""
    found = await _proven(request, token)
    if found is None:
        return Response("请重新输入手机号后四位", status_code=401, media_type="text/plain")
    view = await services.view(found)
    if request.query_params.get("quote", "") != services.quote_shown(view):
        return Response("", headers={"HX-Refresh": "true"})  # the quote changed: the whole page
    return render(request, "selfservice/status.html", block="progress", token=token, view=view)


@websocket("/s/{token:str}/ws", opt=PUBLIC)
async def status_socket(socket: WebSocket, token: FromPath[str], channels: NamedDependency[ChannelsPlugin]) -> None:
    """Read-only and anonymous: the proof cookie of this token's page, then only the order's own
    channel (`realtime.order_channel`)."""
    if cross_origin(socket):
        await socket.accept()
        await socket.close(code=CLOSE_CROSS_ORIGIN, reason="cross-origin")
        return
    try:
        found = await _proven(socket, token)
    except NotFound:
        found = None
    if found is None:
        await socket.accept()
        await socket.close(code=CLOSE_UNAUTHORIZED, reason="unauthorized")
        return
    await serve(socket, channels, [realtime.order_channel(found["tenant_id"], found["id"])])


ROUTES = [status_page, status_prove, status_quote, status_rating, status_progress, status_socket]
