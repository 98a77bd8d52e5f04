"""Queue tickets (SPEC 6): taken on a kiosk (or by staff), called at a counter, served.

waiting → called → serving → done, and called → no_show (【过号】); 【重呼】 calls a called
ticket again. Every transition is one conditional UPDATE on the ticket's state, so two counters
calling at once never get the same ticket and a second 【完成】 is a 409. Numbers (A001…) are
per org, service and tenant-local day, drawn from the day's sequence inside the same
transaction: no gaps, no duplicates, a fresh start each day.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from server.core import audit, clock, throttle, validate
from server.core.db import atomic, is_sqlite
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.numbering import next_seq
from server.core.pagination import Page, PageParams, paginate
from server.core.tenancy import Ctx, scoped
from server.queue.schemas import TicketFilters
from server.queue.services import setup
from server.queue.services.setup import today
from server.queue.states import AT_COUNTER, TICKET_LABELS, Lane, Priority, TicketStatus
from server.queue.tables import QueueCounter, QueueTicket
from server.system.services import orgs

RECENT_CALLS = 6
RATABLE = 12  # finished tickets the kiosk offers for rating
DESK_WAITING = 50
KIOSK_LIMIT = 30  # tickets a minute from one kiosk: a queue of people takes a few; 200 in 9 s is an attack


def sequence_name(org_id: int, prefix: str) -> str:
    """Numbers run per org and letter (not per service row), so a service deleted and made
    again the same day never repeats a number."""
    return f"Q{org_id}-{prefix}"


def announcement(no: str, counter_number: int) -> str:
    """What the TV says for a call (it says it twice)."""
    return f"请 {no} 号到 {counter_number} 号窗口"


def _select():
    return QueueTicket.select(
        *QueueTicket.all_columns(),
        QueueTicket.service.name.as_alias("service_name"),
        QueueTicket.service.prefix.as_alias("prefix"),
        QueueTicket.counter.number.as_alias("counter_number"),
        QueueTicket.counter.name.as_alias("counter_name"),
    )


def _dict(row: dict) -> dict:
    return {
        "id": row["id"],
        "org_id": row["org_id"],
        "no": row["no"],
        "day": row["day"].isoformat(),
        "seq": row["seq"],
        "service_id": row["service"],
        "service_name": row["service_name"],
        "status": row["status"],
        "status_name": TicketStatus(row["status"]).label,
        "phone": row["phone"],
        "counter_id": row["counter"],
        "counter_number": row["counter_number"],
        "counter_name": row["counter_name"] or "",
        "ahead": row["ahead"],
        "calls": row["calls"],
        "taken_by_name": row["taken_by_name"],
        "taken_at": row["taken_at"],
        "called_at": row["called_at"],
        "last_called_at": row["last_called_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "priority": row["priority"],
        "priority_name": Priority(row["priority"]).label if row["priority"] else "",
        "appointment_id": row["appointment_id"],
        "rating": row["rating"],
    }


async def _row(ctx: Ctx, ticket_id: Any) -> dict:
    tid = validate.ident(ticket_id, "排队号", "ticket_id")
    row = await _select().where(scoped(ctx, QueueTicket) & (QueueTicket.id == tid)).first()
    if row is None:
        raise NotFound("排队号")
    return row | {"org": await setup.org_of_row(ctx, row, "排队号")}


async def get(ctx: Ctx, ticket_id: Any) -> dict:
    return _dict(await _row(ctx, ticket_id))


async def receipt(ctx: Ctx, ticket_id: Any) -> dict:
    """A ticket as its printed slip shows it: for staff who see it, or a kiosk of its own org
    (reprinting the ticket it just gave out); another org's ticket is a 404."""
    try:
        return _dict(await _row(ctx, ticket_id))
    except NotFound:
        raise NotFound("排队号") from None  # not "机构": the org is not what the slip asked for


def masked_phone(phone: str) -> str:
    """A phone number where others may see it (a slip, a counter's list): 138****1234."""
    n = len(phone)
    if n >= 11:
        return f"{phone[:3]}****{phone[-4:]}"
    keep = 4 if n >= 8 else 2 if n >= 4 else 0
    return "*" * (n - keep) + phone[n - keep :]


MOBILE = re.compile(r"1[3-9]\d{9}")  # a mainland mobile number: what a kiosk's customer leaves


def phone_number(value: Any) -> str:
    """A mainland mobile number (11 digits, 1[3-9]…), typed with or without spaces, dashes and a
    +86 prefix, stored as its 11 digits; empty when the customer left none."""
    phone = validate.text(value, "手机号", 30, field="phone")
    phone = re.sub(r"[\s-]", "", phone)
    if phone.startswith("+86"):
        phone = phone[3:]
    if phone and not MOBILE.fullmatch(phone):
        raise BusinessError("请输入 11 位手机号码", code="invalid_phone", field="phone")
    return phone


async def take(ctx: Ctx, data: dict) -> dict:
    """A new ticket for a service of the org (a kiosk's own org), with the people ahead of it.
    Staff may put it in the priority lane (`priority`); a kiosk's customer cannot."""
    v = validate.Fields()  # the API names the refused field (`errors`), the kiosk marks its keypad
    phone = v(phone_number, data.get("phone"))
    priority = v(_priority, data.get("priority") if ctx.device_id is None else None)
    v.done()
    if ctx.device_id is not None:
        # a kiosk is on the street side of the counter: whoever holds it must not flood the queue
        await throttle.attempt(
            {f"kiosk:{ctx.tenant_id}:{ctx.device_id}": KIOSK_LIMIT}, "取号过于频繁，请稍后再试", window=60
        )
    async with atomic():
        service = await setup.service_row(ctx, data.get("service_id"))
        if (
            data.get("org_id") not in (None, "")
            and validate.ident(data["org_id"], "机构", "org_id") != service["org_id"]
        ):
            raise NotFound("业务类型")
        return await issue(ctx, service, phone, priority=priority)


def _priority(value: Any) -> str:
    return validate.choice(value or "", "优先通道", Priority.labels(), "priority")


def _lane(priority: str, appointment_id: int | None) -> Lane:
    if priority:
        return Lane.PRIORITY
    return Lane.APPOINTMENT if appointment_id else Lane.WALK_IN


async def issue(ctx: Ctx, service: dict, phone: str, *, priority: str = "", appointment_id: int | None = None) -> dict:
    """Inside the caller's transaction: the ticket itself, numbered from the day's sequence, with
    the people call-next serves before it (its lane and the lanes ahead of it)."""
    if not service["enabled"]:
        raise Conflict(f"业务「{service['name']}」已暂停取号", code="service_disabled")
    org = service["org"]
    day = today(ctx)
    lane = _lane(priority, appointment_id)
    seq = await next_seq(ctx, sequence_name(org["id"], service["prefix"]), day.strftime("%Y%m%d"))
    no = f"{service['prefix']}{seq:03d}"
    ahead = await QueueTicket.count().where(
        (QueueTicket.org_id == org["id"])
        & (QueueTicket.day == day)
        & (QueueTicket.status == TicketStatus.WAITING)
        & (QueueTicket.service == service["id"])
        & (QueueTicket.lane <= lane)
    )
    row = QueueTicket(
        tenant_id=ctx.tenant_id,
        org_id=org["id"],
        service=service["id"],
        day=day,
        seq=seq,
        no=no,
        phone=phone,
        ahead=ahead,
        lane=lane,
        priority=priority,
        appointment_id=appointment_id,
        device_id=ctx.device_id,
        taken_by_name=ctx.user_name[:100],
        taken_at=clock.now(),
    )
    await row.save()
    result = _dict(await _row(ctx, row.id))
    await audit.record(
        ctx, "take", "queue_ticket", row.id, f"{org['name']} {no}", after={"no": no, "phone": phone, "lane": int(lane)}
    )
    setup.emit(ctx, org, "ticket", row.id)
    return result


async def search(ctx: Ctx, filters: TicketFilters = TicketFilters(), params: PageParams = PageParams()) -> Page:
    """An org's tickets (default the caller's own), a day's in queue order, latest day first."""
    org = await setup.org_of(ctx, filters.org_id or None)
    where = scoped(ctx, QueueTicket) & (QueueTicket.org_id == org["id"])
    if filters.status:
        where &= QueueTicket.status == validate.choice(filters.status, "状态", TICKET_LABELS, "status")
    if filters.service_id:
        where &= QueueTicket.service == validate.ident(filters.service_id, "业务类型", "service_id")
    if filters.counter_id:
        where &= QueueTicket.counter == validate.ident(filters.counter_id, "窗口", "counter_id")
    if filters.date:
        where &= QueueTicket.day == parse_day(filters.date, "日期", "date")
    select = _select().where(where).order_by(QueueTicket.day, ascending=False).order_by(QueueTicket.id)
    page = await paginate(select, QueueTicket.count().where(where), params)
    return page.with_items([_dict(r) for r in page.items])


def parse_day(value: Any, label: str, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return datetime.strptime(validate.text(value, label, 10, required=True, field=field), "%Y-%m-%d").date()
    except ValueError:
        raise BusinessError(f"{label}格式应为 YYYY-MM-DD", code="invalid_date", field=field) from None


# --- transitions -------------------------------------------------------------------------------


async def _pick_oldest(org_id: int, day: date, service_ids: list[int], counter_id: int, at: datetime) -> dict | None:
    """Claim the first waiting ticket of these services (by lane, then oldest) in one statement,
    and return its row.
    PostgreSQL skips rows another counter is claiming at this instant (so both get one, never
    the same); SQLite runs write transactions one at a time, so the oldest is simply free."""
    marks = ", ".join("{}" for _ in service_ids)
    lock = "" if is_sqlite() else " FOR UPDATE SKIP LOCKED"
    rows = await QueueTicket.raw(
        "UPDATE q_ticket SET status = {}, counter = {}, called_at = {}, last_called_at = {}, calls = 1 "
        "WHERE id = (SELECT id FROM q_ticket WHERE org_id = {} AND day = {} AND status = {} "
        f"AND service IN ({marks}) ORDER BY lane, id LIMIT 1{lock}) AND status = {{}} RETURNING *",
        str(TicketStatus.CALLED),
        counter_id,
        at,
        at,
        org_id,
        day,
        str(TicketStatus.WAITING),
        *service_ids,
        str(TicketStatus.WAITING),
    )
    return rows[0] if rows else None


async def call_next(ctx: Ctx, counter_id: Any) -> dict:
    """【叫号】: the first waiting ticket of the counter's services (today's) is called to it: the
    priority lane, then checked-in appointments, then walk-ins, each oldest first.

    The counter and its services are read before the transaction, and the ticket comes back
    from the claiming UPDATE: the transaction is that UPDATE and the audit row. On SQLite it
    holds the database's only write lock, which every other write of the server waits for."""
    counter = await setup.counter_row(ctx, counter_id)
    if not counter["enabled"]:
        raise Conflict(f"{counter['label']}已停用", code="counter_disabled")
    service_ids = counter["service_ids"]
    if not service_ids:
        raise Conflict(f"{counter['label']}未设置办理的业务类型", code="no_services")
    day = today(ctx)
    async with atomic():
        row = None
        for _ in range(5):  # PostgreSQL: every candidate was being claimed by another counter
            row = await _pick_oldest(counter["org_id"], day, service_ids, counter["id"], clock.now())
            if row is not None or not await _any_waiting(counter["org_id"], day, service_ids):
                break
        if row is None:
            raise Conflict("当前没有等候的顾客", code="queue_empty")
        service = next(s for s in counter["services"] if s["id"] == row["service"])
        ticket = _dict(
            row
            | {
                "day": row["day"],
                "service_name": service["name"],
                "prefix": service["prefix"],
                "counter_number": counter["number"],
                "counter_name": counter["name"],
            }
        )
        await audit.record(ctx, "call", "queue_ticket", row["id"], f"{ticket['no']} → {counter['label']}")
        setup.emit(ctx, counter["org"], "call", row["id"], say=announcement(ticket["no"], counter["number"]))
    return ticket


async def _any_waiting(org_id: int, day: date, service_ids: list[int]) -> bool:
    return await QueueTicket.exists().where(
        (QueueTicket.org_id == org_id)
        & (QueueTicket.day == day)
        & (QueueTicket.status == TicketStatus.WAITING)
        & QueueTicket.service.is_in(service_ids)
    )


async def _move(ctx: Ctx, ticket_id: Any, action: str, label: str, frm: tuple[str, ...], values: dict) -> dict:
    """One transition: a conditional UPDATE from the allowed states; a ticket in another state
    is a 409 that names it."""
    async with atomic():
        row = await _row(ctx, ticket_id)
        changed = (
            await QueueTicket.update(values)
            .where((QueueTicket.id == row["id"]) & QueueTicket.status.is_in(list(frm)))
            .returning(QueueTicket.id)
        )
        if not changed:
            raise Conflict(
                f"{row['no']} 当前状态为「{TicketStatus(row['status']).label}」，不能{label}", code="invalid_state"
            )
        ticket = _dict(await _row(ctx, row["id"]))
        await audit.record(ctx, action, "queue_ticket", row["id"], f"{row['no']} {label}")
        say = announcement(ticket["no"], ticket["counter_number"]) if action == "recall" else ""
        setup.emit(ctx, row["org"], action, row["id"], say=say)
    return ticket


async def recall(ctx: Ctx, ticket_id: Any) -> dict:
    """【重呼】: announce a called ticket again (the TV speaks it again)."""
    return await _move(
        ctx,
        ticket_id,
        "recall",
        "重呼",
        (TicketStatus.CALLED,),
        {QueueTicket.calls: QueueTicket.calls + 1, QueueTicket.last_called_at: clock.now()},
    )


async def skip(ctx: Ctx, ticket_id: Any) -> dict:
    """【过号】: the called customer did not come."""
    return await _move(
        ctx,
        ticket_id,
        "skip",
        "过号",
        (TicketStatus.CALLED,),
        {QueueTicket.status: TicketStatus.NO_SHOW, QueueTicket.finished_at: clock.now()},
    )


async def start(ctx: Ctx, ticket_id: Any) -> dict:
    """【开始办理】: the customer is at the counter."""
    return await _move(
        ctx,
        ticket_id,
        "start",
        "开始办理",
        (TicketStatus.CALLED,),
        {QueueTicket.status: TicketStatus.SERVING, QueueTicket.started_at: clock.now()},
    )


async def finish(ctx: Ctx, ticket_id: Any) -> dict:
    """【完成】: the customer has been served."""
    return await _move(
        ctx,
        ticket_id,
        "finish",
        "完成",
        (TicketStatus.SERVING,),
        {QueueTicket.status: TicketStatus.DONE, QueueTicket.finished_at: clock.now()},
    )


async def set_priority(ctx: Ctx, ticket_id: Any, priority: Any) -> dict:
    """【优先】: staff move a waiting ticket into the priority lane (长者优先, VIP) or back to its
    own lane ("" : an appointment's or a walk-in's)."""
    value = _priority(priority)
    async with atomic():
        row = await _row(ctx, ticket_id)
        lane = _lane(value, row["appointment_id"])
        changed = (
            await QueueTicket.update({QueueTicket.priority: value, QueueTicket.lane: lane})
            .where((QueueTicket.id == row["id"]) & (QueueTicket.status == TicketStatus.WAITING))
            .returning(QueueTicket.id)
        )
        if not changed:
            state = TicketStatus(row["status"]).label
            raise Conflict(f"{row['no']} 当前状态为「{state}」，只有等候中的号可以调整优先", code="invalid_state")
        label = Priority(value).label
        await audit.record(
            ctx, "priority", "queue_ticket", row["id"], f"{row['no']} {label}", after={"priority": value}
        )
        setup.emit(ctx, row["org"], "priority", row["id"])
        return _dict(await _row(ctx, row["id"]))


RATING_WINDOW = timedelta(hours=2)  # how long after 【完成】 a customer may still rate it


async def rate(ctx: Ctx, ticket_id: Any, rating: Any) -> dict:
    """The customer's 1–5 for a finished ticket (on the kiosk), once, on its day and within
    RATING_WINDOW of its finish."""
    stars = validate.integer(rating, "评分", 1, 5, "rating")
    async with atomic():
        row = await _row(ctx, ticket_id)
        fresh = (QueueTicket.status == TicketStatus.DONE) & (QueueTicket.finished_at >= clock.now() - RATING_WINDOW)
        if not await _rate(ctx, row, stars, fresh):
            if row["rating"] is not None:
                raise Conflict(f"{row['no']} 已评价过，谢谢您", code="already_rated")
            if row["status"] != TicketStatus.DONE:
                raise Conflict(f"{row['no']} 尚未办理完成，完成后再评价", code="invalid_state")
            raise Conflict(f"{row['no']} 已超过评价时间", code="rating_closed")
        return _dict(await _row(ctx, row["id"]))


async def rate_from_order(ctx: Ctx, ticket_id: int, stars: int) -> None:
    """The rating a customer gave, on the status page, the work order this ticket was taken in
    for: it becomes the ticket's too when the kiosk has none yet, so 【排队统计】 counts it. No
    rating window: the order closes days after the visit. Runs in the order's transaction."""
    try:
        row = await _row(ctx, ticket_id)
    except NotFound:  # a ticket the order's org does not read: its rating stays the order's
        return
    await _rate(ctx, row, stars, None, "（工单评价）")


async def _rate(ctx: Ctx, row: dict, stars: int, when: Any, note: str = "") -> bool:
    """The ticket's rating set, if it has none yet (and `when` holds): one conditional UPDATE, so
    of two at once one wins; audited and heard by 【排队统计】. Whether it was set."""
    where = (QueueTicket.id == row["id"]) & QueueTicket.rating.is_null()
    changed = (
        await QueueTicket.update({QueueTicket.rating: stars, QueueTicket.rated_at: clock.now()})
        .where(where if when is None else where & when)
        .returning(QueueTicket.id)
    )
    if changed:
        summary = f"{row['no']} 评分 {stars}{note}"
        await audit.record(ctx, "rate", "queue_ticket", row["id"], summary, after={"rating": stars})
        setup.emit(ctx, row["org"], "rating", row["id"])
    return bool(changed)


async def to_rate(ctx: Ctx) -> list[dict]:
    """The org's tickets a customer may still rate on the kiosk: finished today within
    RATING_WINDOW, not yet rated, latest first."""
    org = await setup.org_of(ctx)
    rows = await (
        _select()
        .where(
            (QueueTicket.org_id == org["id"])
            & (QueueTicket.day == today(ctx))
            & (QueueTicket.status == TicketStatus.DONE)
            & QueueTicket.rating.is_null()
            & (QueueTicket.finished_at >= clock.now() - RATING_WINDOW)
        )
        .order_by(QueueTicket.finished_at, ascending=False)
        .limit(RATABLE)
    )
    return [_dict(r) for r in rows]


# --- live views ---------------------------------------------------------------------------------


async def waiting_counts(org_id: int, day: date) -> dict[int, int]:
    rows = await QueueTicket.raw(
        "SELECT service, COUNT(*) AS n FROM q_ticket WHERE org_id = {} AND day = {} AND status = {} GROUP BY service",
        org_id,
        day,
        str(TicketStatus.WAITING),
    )
    return {r["service"]: r["n"] for r in rows}


async def board(ctx: Ctx, org_id: Any = None) -> dict:
    """What the TV and the kiosk show: today's waiting count per enabled service, the ticket
    being called (the latest call or recall) and the calls before it."""
    org = await setup.org_of(ctx, org_id)
    day = today(ctx)
    services = await setup.services(ctx, org["id"], enabled_only=True)
    counts = await waiting_counts(org["id"], day)
    recent = await (
        _select()
        .where((QueueTicket.org_id == org["id"]) & (QueueTicket.day == day) & QueueTicket.last_called_at.is_not_null())
        .order_by(QueueTicket.last_called_at, ascending=False)
        .limit(RECENT_CALLS + 1)
    )
    calls = [_dict(r) for r in recent]
    return {
        "org": {"id": org["id"], "name": org["name"]},
        "day": day.isoformat(),
        "services": [s | {"waiting": counts.get(s["id"], 0)} for s in services],
        "waiting": sum(counts.values()),
        "current": calls[0] if calls else None,
        "recent": calls[1:],
    }


async def desk(ctx: Ctx, counter_id: Any) -> dict:
    """What a counter's page shows: its tickets being called or served, the waiting list of its
    services (in call-next's order) and today's tally."""
    counter = await setup.counter_row(ctx, counter_id)
    org_id, day = counter["org_id"], today(ctx)
    mine = (QueueTicket.org_id == org_id) & (QueueTicket.day == day) & (QueueTicket.counter == counter["id"])
    active = (
        await _select()
        .where(mine & QueueTicket.status.is_in(list(AT_COUNTER)))
        .order_by(QueueTicket.last_called_at, ascending=False)
    )
    waiting_where = (
        (QueueTicket.org_id == org_id)
        & (QueueTicket.day == day)
        & (QueueTicket.status == TicketStatus.WAITING)
        & QueueTicket.service.is_in(counter["service_ids"] or [0])
    )
    waiting = (
        await _select().where(waiting_where).order_by(QueueTicket.lane).order_by(QueueTicket.id).limit(DESK_WAITING)
    )
    waiting_total = len(waiting)
    if waiting_total == DESK_WAITING:
        waiting_total = await QueueTicket.count().where(waiting_where)
    done = await QueueTicket.count().where(mine & (QueueTicket.status == TicketStatus.DONE))
    no_show = await QueueTicket.count().where(mine & (QueueTicket.status == TicketStatus.NO_SHOW))
    return {
        "counter": {k: v for k, v in counter.items() if k != "org"},
        "org": {"id": counter["org"]["id"], "name": counter["org"]["name"]},
        "active": [_dict(r) for r in active],
        "waiting": [_dict(r) for r in waiting],
        "waiting_total": waiting_total,
        "done": done,
        "no_show": no_show,
    }


async def counters_for(ctx: Ctx) -> list[dict]:
    """Every enabled counter the caller may work at: of the caller's org and the orgs below it."""
    rows = (
        await QueueCounter.select(QueueCounter.id, QueueCounter.org_id, QueueCounter.number, QueueCounter.name)
        .where(
            scoped(ctx, QueueCounter)
            & (QueueCounter.deleted == False)  # noqa: E712
            & (QueueCounter.enabled == True)  # noqa: E712
        )
        .order_by(QueueCounter.org_id)
        .order_by(QueueCounter.number)
    )
    visible = {o["id"]: o["name"] for o in await orgs.choices(ctx, enabled_only=True)}
    return [r | {"org_name": visible[r["org_id"]]} for r in rows if r["org_id"] in visible]
