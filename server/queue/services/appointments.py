"""Appointments (SPEC 11, queue extras): an org's online booking page, where a customer books a
service at a slot of a day and gets a 6-digit code; at the kiosk the code (or the phone number)
checks them in, and their ticket joins the appointment lane, ahead of walk-ins of the service.
The code and the phone's last four digits also let the customer cancel it on the booking page.

A slot takes at most `capacity` appointments of all services together: each booking raises the
slot's row by one conditional UPDATE (`booked < capacity`), so concurrent bookings never overfill
it; a cancel (staff's or the customer's) lowers it. A check-in moves the appointment booked →
checked_in by a conditional UPDATE in the same transaction as its ticket: a second check-in finds
it checked in."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.core import audit, clock, throttle, validate
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.tenancy import Ctx, scoped
from server.queue.schemas import AppointmentFilters
from server.queue.services import setup, tickets
from server.queue.states import MISSED_LABEL, AppointmentStatus
from server.queue.tables import QueueAppointment, QueueBooking, QueueSlot
from server.system.services import auth

S = AppointmentStatus
TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
CODE = re.compile(r"\d{6}")
EARLY = timedelta(minutes=30)  # how long before its slot an appointment may check in
BOOKINGS_PER_HOUR = 30  # from one address an hour: a shop's Wi-Fi books a few dozen, a script thousands
CANCEL_TRIES = 10  # wrong code/digits pairs from one address an hour, at the customer's own cancel
CUSTOMER = "客户（网上预约）"  # who cancelled, when the customer did it on the booking page
BOOKING_FIELDS = ("enabled", "open_at", "close_at", "slot_minutes", "capacity", "days_ahead")


# --- the org's booking settings -----------------------------------------------------------------


def _defaults(ctx: Ctx, org_id: int) -> dict:
    return {
        "tenant_id": ctx.tenant_id,
        "org_id": org_id,
        "enabled": False,
        "token": "",
        "open_at": "09:00",
        "close_at": "18:00",
        "slot_minutes": 30,
        "capacity": 3,
        "days_ahead": 7,
    }


async def booking(ctx: Ctx, org_id: Any = None) -> dict:
    """An org's booking settings (the defaults, switched off, until someone saves them)."""
    org = await setup.org_of(ctx, org_id)
    row = await QueueBooking.select().where(scoped(ctx, QueueBooking) & (QueueBooking.org_id == org["id"])).first()
    return (row or _defaults(ctx, org["id"])) | {"org_id": org["id"], "org_name": org["name"]}


def _minutes(value: str) -> int:
    return int(value[:2]) * 60 + int(value[3:])


def _clean_booking(data: dict, current: dict) -> dict:
    v = validate.Fields()
    out = dict(current)
    if "enabled" in data:
        out["enabled"] = v(validate.boolean, data["enabled"], "开放预约", "enabled")
    for key, label in (("open_at", "开始时间"), ("close_at", "结束时间")):
        if key in data:
            out[key] = v(
                validate.text,
                data[key],
                label,
                5,
                required=True,
                field=key,
                pattern=TIME.pattern,
                pattern_msg=f"{label}格式应为 HH:MM",
            )
    if "slot_minutes" in data:
        out["slot_minutes"] = v(validate.integer, data["slot_minutes"], "每个时段（分钟）", 10, 240, "slot_minutes")
    if "capacity" in data:
        out["capacity"] = v(validate.integer, data["capacity"], "每时段可约人数", 1, 500, "capacity")
    if "days_ahead" in data:
        out["days_ahead"] = v(validate.integer, data["days_ahead"], "可提前预约天数", 0, 60, "days_ahead")
    v.done()
    if _minutes(out["close_at"]) - _minutes(out["open_at"]) < out["slot_minutes"]:
        raise BusinessError("结束时间至少要比开始时间晚一个时段", code="invalid_hours", field="close_at")
    return out


async def update_booking(ctx: Ctx, org_id: Any, data: dict) -> dict:
    """Save an org's booking settings; the first save gives its page a token (the link)."""
    async with atomic():
        current = await booking(ctx, org_id)
        values = _clean_booking(data, current)
        fields = {k: values[k] for k in BOOKING_FIELDS} | {"updated_at": clock.now()}
        if current.get("id"):
            await QueueBooking.update(fields).where(QueueBooking.id == current["id"])
        else:
            fields |= {"tenant_id": ctx.tenant_id, "org_id": current["org_id"], "token": secrets.token_urlsafe(18)}
            await QueueBooking.insert(QueueBooking(**fields))
        after = await booking(ctx, current["org_id"])
        await audit.record(
            ctx,
            "update",
            "queue_booking",
            after["id"],
            f"{after['org_name']} 网上预约设置",
            {k: current[k] for k in BOOKING_FIELDS},
            {k: after[k] for k in BOOKING_FIELDS},
        )
    return after


async def regenerate_link(ctx: Ctx, org_id: Any) -> dict:
    """A new link for the booking page: the old one stops working at once (a leaked link)."""
    async with atomic():
        current = await booking(ctx, org_id)
        if not current.get("id"):
            raise Conflict("请先保存网上预约设置", code="booking_not_set")
        await QueueBooking.update(
            {QueueBooking.token: secrets.token_urlsafe(18), QueueBooking.updated_at: clock.now()}
        ).where(QueueBooking.id == current["id"])
        await audit.record(ctx, "regenerate", "queue_booking", current["id"], f"{current['org_name']} 重新生成预约链接")
    return await booking(ctx, current["org_id"])


def slots_of(settings: dict) -> list[str]:
    """The slots' start times of a day, "HH:MM"."""
    start, end, step = _minutes(settings["open_at"]), _minutes(settings["close_at"]), settings["slot_minutes"]
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(start, end - step + 1, step)]


def slot_end(settings: dict, slot: str) -> str:
    m = _minutes(slot) + settings["slot_minutes"]
    return f"{m // 60:02d}:{m % 60:02d}"


def _at(ctx: Ctx, day: date, slot: str) -> datetime:
    return datetime.combine(day, time(int(slot[:2]), int(slot[3:])), ZoneInfo(ctx.tz))


# --- the public booking page --------------------------------------------------------------------


async def public_ctx(token: Any) -> tuple[Ctx, dict]:
    """The org's Ctx and booking settings behind a booking link; a 404 when the link is unknown,
    switched off, or its org disabled."""
    if not isinstance(token, str) or not 10 <= len(token) <= 32:
        raise NotFound("预约页面")
    row = await QueueBooking.select().where(QueueBooking.token == token).first()
    if row is None or not row["enabled"]:
        raise NotFound("预约页面")
    ctx = await auth.ctx_for_org(row["tenant_id"], row["org_id"], "网上预约")
    if ctx is None:
        raise NotFound("预约页面")
    return ctx, row


async def calendar(ctx: Ctx, settings: dict) -> dict:
    """What the booking page offers: the org, its enabled services, and per day its slots still
    bookable (not begun, with places left)."""
    org = await setup.org_of(ctx)
    first = setup.today(ctx)
    last = first + timedelta(days=settings["days_ahead"])
    booked = {
        (r["day"], r["slot"]): r["booked"]
        for r in await QueueSlot.select(QueueSlot.day, QueueSlot.slot, QueueSlot.booked).where(
            scoped(ctx, QueueSlot)
            & (QueueSlot.org_id == org["id"])
            & (QueueSlot.day >= first)
            & (QueueSlot.day <= last)
        )
    }
    now = clock.now()
    days = []
    for n in range(settings["days_ahead"] + 1):
        day = first + timedelta(days=n)
        slots = [
            {
                "slot": s,
                "end": slot_end(settings, s),
                "remaining": max(settings["capacity"] - booked.get((day, s), 0), 0),
            }
            for s in slots_of(settings)
            if _at(ctx, day, s) > now
        ]
        if slots:
            days.append({"day": day.isoformat(), "label": _day_label(n, day), "slots": slots})
    return {
        "org": {"id": org["id"], "name": org["name"], "address": org["address"], "phone": org["phone"]},
        "services": [
            {"id": s["id"], "name": s["name"]} for s in await setup.services(ctx, org["id"], enabled_only=True)
        ],
        "days": days,
    }


WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _day_label(offset: int, day: date) -> str:
    return ("今天", "明天", "后天")[offset] if offset < 3 else WEEKDAYS[day.weekday()]


def _phone(value: Any) -> str:
    phone = tickets.phone_number(value)
    if not phone:
        raise BusinessError("请填写手机号，签到时要用", code="required", field="phone")
    return phone


def _slot(value: Any) -> str:
    if value in (None, ""):
        raise BusinessError("请选择预约时段", code="required", field="slot")
    return validate.text(value, "预约时段", 5, field="slot")


def _day(value: Any) -> date:
    return tickets.parse_day(value, "预约日期", "day")


async def book(ctx: Ctx, settings: dict, data: dict, client: str) -> dict:
    """A customer's booking from the public page: `{service_id, day, slot, phone, name}`."""
    v = validate.Fields()
    phone = v(_phone, data.get("phone"))
    name = v(validate.text, data.get("name"), "姓名", 30, field="name")
    slot = v(_slot, data.get("slot"))
    day = v(_day, data.get("day")) if slot else None
    v.done()
    today = setup.today(ctx)
    if not today <= day <= today + timedelta(days=settings["days_ahead"]):
        raise BusinessError(f"只能预约今天起 {settings['days_ahead']} 天内的日期", code="invalid_day", field="day")
    if slot not in slots_of(settings) or _at(ctx, day, slot) <= clock.now():
        raise BusinessError("该时段不可预约，请重新选择", code="invalid_slot", field="slot")
    await throttle.attempt(
        {f"booking:{ctx.tenant_id}:{client}": BOOKINGS_PER_HOUR}, "预约过于频繁，请稍后再试", window=3600
    )
    async with atomic():
        service = await setup.service_row(ctx, data.get("service_id"))
        if service["org_id"] != ctx.org_id or not service["enabled"]:
            raise NotFound("业务类型")
        if await QueueAppointment.exists().where(
            (QueueAppointment.org_id == ctx.org_id)
            & (QueueAppointment.day == day)
            & (QueueAppointment.phone == phone)
            & (QueueAppointment.status == S.BOOKED)
        ):
            raise Conflict("该手机号当天已有预约，如需改期请先取消原预约", code="already_booked", field="phone")
        await _take_place(ctx, day, slot, settings["capacity"])
        row = await _insert(ctx, service, day, slot, phone, name)
        await audit.record(
            ctx, "book", "queue_appointment", row["id"], f"{service['name']} {day} {slot} {tickets.masked_phone(phone)}"
        )
        setup.emit(ctx, service["org"], "appointment", row["id"])
    return row


async def _take_place(ctx: Ctx, day: date, slot: str, capacity: int) -> None:
    await QueueSlot.raw(
        'INSERT INTO "q_slot" ("tenant_id", "org_id", "day", "slot", "booked") VALUES ({}, {}, {}, {}, 0) '
        'ON CONFLICT ("org_id", "day", "slot") DO NOTHING',
        ctx.tenant_id,
        ctx.org_id,
        day,
        slot,
    )
    taken = await QueueSlot.raw(
        'UPDATE "q_slot" SET "booked" = "booked" + 1 '
        'WHERE "org_id" = {} AND "day" = {} AND "slot" = {} AND "booked" < {} RETURNING "id"',
        ctx.org_id,
        day,
        slot,
        capacity,
    )
    if not taken:
        raise Conflict("该时段已约满，请选择其他时段", code="slot_full", field="slot")


async def _insert(ctx: Ctx, service: dict, day: date, slot: str, phone: str, name: str) -> dict:
    """The appointment with a code no other appointment of the org's day has."""
    used = {
        r["code"]
        for r in await QueueAppointment.select(QueueAppointment.code).where(
            (QueueAppointment.org_id == ctx.org_id) & (QueueAppointment.day == day)
        )
    }
    code = next(c for c in (f"{secrets.randbelow(10**6):06d}" for _ in range(1000)) if c not in used)
    row = QueueAppointment(
        tenant_id=ctx.tenant_id,
        org_id=ctx.org_id,
        service=service["id"],
        day=day,
        slot=slot,
        code=code,
        name=name,
        phone=phone,
        created_at=clock.now(),
    )
    await row.save()
    return await get(ctx, row.id) | {"org_name": service["org"]["name"]}


def receipt(appointment: dict, settings: dict) -> dict:
    """What the customer is shown (and keeps) after booking or cancelling: no other customer's
    data."""
    return {
        "code": appointment["code"],
        "day": appointment["day"],
        "slot": appointment["slot"],
        "end": slot_end(settings, appointment["slot"]),
        "service_name": appointment["service_name"],
        "org_name": appointment["org_name"],
        "phone": tickets.masked_phone(appointment["phone"]),
        "status": appointment["status"],
        "status_name": appointment["status_name"],
    }


def _code(value: Any) -> str:
    code = re.sub(r"\s", "", validate.text(value, "预约码", 20, required=True, field="code") or "")
    if not CODE.fullmatch(code):
        raise BusinessError("预约码是 6 位数字", code="invalid_field", field="code")
    return code


async def cancel_own(ctx: Ctx, settings: dict, data: dict, client: str) -> dict:
    """【取消预约】 by the customer on the booking page: `{code, phone_last4}`, the code they were
    given and the last four digits of the phone they booked with (the status page's proof). Each
    try is counted first (CANCEL_TRIES an hour per address, one atomic increment) and given back
    when the pair was right; a wrong code and a wrong phone answer the same 404, so a guess never
    learns that a code exists. Only a booked appointment whose slot has not ended is cancelled."""
    v = validate.Fields()
    code = v(_code, data.get("code"))
    last4 = v(validate.phone_last4, data.get("phone_last4"), "预约手机号")
    v.done()
    key = f"booking-cancel:{ctx.tenant_id}:{client}"
    await throttle.attempt({key: CANCEL_TRIES}, "取消预约尝试次数过多，请稍后再试", window=3600)
    where = scoped(ctx, QueueAppointment) & (QueueAppointment.org_id == ctx.org_id) & (QueueAppointment.code == code)
    rows = await _select().where(where).order_by(QueueAppointment.day, ascending=False)
    mine = [r for r in rows if hmac.compare_digest(r["phone"][-4:], last4)]
    if not mine:
        raise BusinessError(
            "没有找到该预约，请核对预约码和预约手机号后四位", code="not_found", status_code=404, field="code"
        )
    await throttle.release([key])
    # codes are unique per day: the same pair on two days is the customer's, the booked one first
    row = next((r for r in mine if r["status"] == S.BOOKED), mine[0])
    if row["status"] != S.BOOKED:
        raise Conflict(f"该预约{S(row['status']).label}，不能取消", code="invalid_state", field="code")
    if _at(ctx, row["day"], row["slot"]) + timedelta(minutes=settings["slot_minutes"]) <= clock.now():
        raise Conflict("该预约的时段已过，不能取消", code="invalid_state", field="code")
    async with atomic():
        cancelled = await _cancel(ctx, row | {"org": await setup.org_of(ctx)}, "客户网上取消", CUSTOMER)
    return cancelled | {"org_name": ctx.org_name}


# --- staff: the list, a cancel --------------------------------------------------------------------


def _select():
    return QueueAppointment.select(
        *QueueAppointment.all_columns(), QueueAppointment.service.name.as_alias("service_name")
    )


def _dict(ctx: Ctx, row: dict) -> dict:
    missed = row["status"] == S.BOOKED and row["day"] < setup.today(ctx)
    return {
        "id": row["id"],
        "org_id": row["org_id"],
        "service_id": row["service"],
        "service_name": row["service_name"],
        "day": row["day"].isoformat(),
        "slot": row["slot"],
        "code": row["code"],
        "name": row["name"],
        "phone": row["phone"],
        "status": row["status"],
        "status_name": MISSED_LABEL if missed else S(row["status"]).label,
        "ticket_id": row["ticket_id"],
        "cancel_reason": row["cancel_reason"],
        "cancelled_by_name": row["cancelled_by_name"],
        "created_at": row["created_at"],
        "checked_in_at": row["checked_in_at"],
        "cancelled_at": row["cancelled_at"],
    }


async def _row(ctx: Ctx, appointment_id: Any) -> dict:
    aid = validate.ident(appointment_id, "预约", "appointment_id")
    row = await _select().where(scoped(ctx, QueueAppointment) & (QueueAppointment.id == aid)).first()
    if row is None:
        raise NotFound("预约")
    return row | {"org": await setup.org_of_row(ctx, row, "预约")}


async def get(ctx: Ctx, appointment_id: Any) -> dict:
    return _dict(ctx, await _row(ctx, appointment_id))


async def search(ctx: Ctx, filters: AppointmentFilters, params: PageParams = PageParams()) -> Page:
    """An org's appointments (default the caller's own) of a day (default today), by slot."""
    org = await setup.org_of(ctx, filters.org_id or None)
    day = _day(filters.date) if filters.date else setup.today(ctx)
    where = scoped(ctx, QueueAppointment) & (QueueAppointment.org_id == org["id"]) & (QueueAppointment.day == day)
    if filters.status:
        where &= QueueAppointment.status == validate.choice(filters.status, "状态", S.labels(), "status")
    if filters.service_id:
        where &= QueueAppointment.service == validate.ident(filters.service_id, "业务类型", "service_id")
    q = validate.text(filters.q, "关键字", 30)
    if q:
        where &= (
            (QueueAppointment.code == q) | QueueAppointment.phone.like(f"%{q}%") | QueueAppointment.name.like(f"%{q}%")
        )
    select = _select().where(where).order_by(QueueAppointment.slot).order_by(QueueAppointment.id)
    page = await paginate(select, QueueAppointment.count().where(where), params)
    return page.with_items([_dict(ctx, r) for r in page.items])


async def cancel(ctx: Ctx, appointment_id: Any, data: dict) -> dict:
    """【取消预约】 (staff)."""
    reason = validate.text(data.get("reason"), "取消原因", 100, field="reason")
    async with atomic():
        return await _cancel(ctx, await _row(ctx, appointment_id), reason, ctx.user_name)


async def _cancel(ctx: Ctx, row: dict, reason: str, by: str) -> dict:
    """booked → cancelled by a conditional UPDATE (of two cancels, or a cancel and a check-in at
    once, one wins), and its place in the slot is given back; 【预约管理】 hears it. Inside the
    caller's transaction."""
    changed = (
        await QueueAppointment.update(
            {
                QueueAppointment.status: S.CANCELLED,
                QueueAppointment.cancelled_at: clock.now(),
                QueueAppointment.cancel_reason: reason,
                QueueAppointment.cancelled_by_name: by[:100],
            }
        )
        .where((QueueAppointment.id == row["id"]) & (QueueAppointment.status == S.BOOKED))
        .returning(QueueAppointment.id)
    )
    if not changed:
        fresh = await _row(ctx, row["id"])
        raise Conflict(f"预约 {row['code']} 当前为「{S(fresh['status']).label}」，不能取消", code="invalid_state")
    await QueueSlot.update({QueueSlot.booked: QueueSlot.booked - 1}).where(
        scoped(ctx, QueueSlot)
        & (QueueSlot.org_id == row["org_id"])
        & (QueueSlot.day == row["day"])
        & (QueueSlot.slot == row["slot"])
        & (QueueSlot.booked > 0)
    )
    await audit.record(ctx, "cancel", "queue_appointment", row["id"], f"取消预约 {row['code']} {reason}".strip())
    setup.emit(ctx, row["org"], "appointment", row["id"])
    return await get(ctx, row["id"])


# --- check-in at the kiosk -----------------------------------------------------------------------


async def check_in(ctx: Ctx, data: dict) -> dict:
    """【预约签到】: today's booked appointment of the caller's org (a kiosk's own) by its code or
    the phone it was booked with (the earliest slot's) joins the queue in the appointment lane.
    Answers the ticket."""
    raw = validate.text(data.get("code"), "预约码或手机号", 20, required=True, field="code")
    raw = re.sub(r"[\s-]", "", raw)
    org = await setup.org_of(ctx, data.get("org_id") or None)
    where = (
        scoped(ctx, QueueAppointment)
        & (QueueAppointment.org_id == org["id"])
        & (QueueAppointment.day == setup.today(ctx))
    )
    if CODE.fullmatch(raw):
        where &= QueueAppointment.code == raw
    elif tickets.MOBILE.fullmatch(raw.removeprefix("+86")):
        where &= QueueAppointment.phone == raw.removeprefix("+86")
    else:
        raise BusinessError("请输入 6 位预约码或 11 位手机号", code="invalid_field", field="code")
    rows = await _select().where(where).order_by(QueueAppointment.slot)
    if not rows:
        raise BusinessError("没有找到今天的预约，请核对预约码或手机号", code="not_found", status_code=404, field="code")
    row = next((r for r in rows if r["status"] == S.BOOKED), rows[0])
    if row["status"] == S.CHECKED_IN:
        raise Conflict("该预约已签到，请留意叫号", code="already_checked_in", field="code")
    if row["status"] == S.CANCELLED:
        raise Conflict("该预约已取消，请重新取号", code="invalid_state", field="code")
    opens = _at(ctx, row["day"], row["slot"]) - EARLY
    if clock.now() < opens:
        local = opens.astimezone(ZoneInfo(ctx.tz)).strftime("%H:%M")
        raise Conflict(f"您预约的是 {row['slot']}，请于 {local} 后签到", code="too_early", field="code")
    async with atomic():
        changed = (
            await QueueAppointment.update(
                {QueueAppointment.status: S.CHECKED_IN, QueueAppointment.checked_in_at: clock.now()}
            )
            .where((QueueAppointment.id == row["id"]) & (QueueAppointment.status == S.BOOKED))
            .returning(QueueAppointment.id)
        )
        if not changed:
            raise Conflict("该预约已签到，请留意叫号", code="already_checked_in", field="code")
        service = await setup.service_row(ctx, row["service"])
        ticket = await tickets.issue(ctx, service, row["phone"], appointment_id=row["id"])
        await QueueAppointment.update({QueueAppointment.ticket_id: ticket["id"]}).where(
            QueueAppointment.id == row["id"]
        )
        await audit.record(ctx, "check_in", "queue_appointment", row["id"], f"预约 {row['code']} 签到 → {ticket['no']}")
    return ticket
