"""The public online booking page of an org (`/book/{token}`, the link staff share): a customer
picks a service, a day and a slot, leaves a phone number, and gets the code they type at the
kiosk; with that code and the phone's last four digits they cancel it themselves
(`/book/{token}/cancel`). No login: the link is the org's; a switched-off or replaced link
answers a plain notice."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from server.core.errors import BusinessError, NotFound
from server.core.forms import form_data
from server.core.web import client_ip, render
from server.queue.services import appointments

PUBLIC = {"public": True}


def _page(request: Request, token: str, calendar: dict, **context) -> Response:
    return render(request, "queue/booking.html", title="网上预约", token=token, cal=calendar, **context)


def _closed(request: Request) -> Response:
    return render(request, "queue/booking.html", status_code=404, title="网上预约", closed=True)


@get("/book/{token:str}", opt=PUBLIC, include_in_schema=False)
async def booking_page(request: Request, token: FromPath[str]) -> Response:
    try:
        ctx, settings = await appointments.public_ctx(token)
    except NotFound:
        return _closed(request)
    return _page(request, token, await appointments.calendar(ctx, settings), form={})


@post("/book/{token:str}", opt=PUBLIC, include_in_schema=False, status_code=200)
async def book(request: Request, token: FromPath[str]) -> Response:
    """The form's answer: the code and what was booked, or the form again with its values and
    the refusal (a slot just filled, a phone already booked that day)."""
    try:
        ctx, settings = await appointments.public_ctx(token)
    except NotFound:
        return _closed(request)
    data = await form_data(request)
    day, _, slot = (data.get("slot") or "").partition(" ")
    body = {
        "service_id": data.get("service_id"),
        "day": day,
        "slot": slot,
        "phone": data.get("phone"),
        "name": data.get("name"),
    }
    try:
        booked = await appointments.book(ctx, settings, body, client_ip(request))
    except BusinessError as exc:
        calendar = await appointments.calendar(ctx, settings)
        return _page(request, token, calendar, form=data, error=exc.detail, status_code=exc.status_code)
    return render(
        request, "queue/booking.html", title="预约成功", token=token, done=appointments.receipt(booked, settings)
    )


@get("/book/{token:str}/cancel", opt=PUBLIC, include_in_schema=False)
async def cancel_page(request: Request, token: FromPath[str], code: FromQuery[str] = "") -> Response:
    """【取消预约】: the code (filled in from the confirmation's link) and the phone's last four
    digits."""
    try:
        await appointments.public_ctx(token)
    except NotFound:
        return _closed(request)
    return render(
        request, "queue/booking.html", title="取消预约", token=token, cancelling=True, form={"code": code[:6]}
    )


@post("/book/{token:str}/cancel", opt=PUBLIC, include_in_schema=False, status_code=200)
async def cancel(request: Request, token: FromPath[str]) -> Response:
    """The cancel form's answer: what was cancelled, or the form again with the refusal."""
    try:
        ctx, settings = await appointments.public_ctx(token)
    except NotFound:
        return _closed(request)
    data = await form_data(request)
    try:
        cancelled = await appointments.cancel_own(ctx, settings, data, client_ip(request))
    except BusinessError as exc:
        return render(
            request,
            "queue/booking.html",
            status_code=exc.status_code,
            title="取消预约",
            token=token,
            cancelling=True,
            form=data,
            error=exc.detail,
        )
    return render(
        request, "queue/booking.html", title="预约已取消", token=token, done=appointments.receipt(cancelled, settings)
    )


ROUTES = [booking_page, book, cancel_page, cancel]
