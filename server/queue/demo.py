"""Demo queue: at two service centres, services A 维修 / B 取机 / C 咨询, three counters, a kiosk and
a TV with fixed demo links, online booking with a fixed link, a week of served (and partly rated)
tickets for 【排队统计】 and a living queue today."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server.core.clock import now
from server.core.db import atomic, bulk_insert
from server.core.tables import DocSequence
from server.core.tenancy import Ctx
from server.queue.schemas import DeviceFilters
from server.queue.services import appointments, devices, setup, tickets
from server.queue.states import DeviceKind, TicketStatus
from server.queue.tables import QueueBooking, QueueDevice, QueueTicket

SERVICES = [("A", "维修"), ("B", "取机"), ("C", "咨询")]
COUNTERS = [(1, "维修", "ABC"), (2, "维修", "A"), (3, "取机/咨询", "BC")]
ORGS = ("SH01", "GZ01")
HISTORY_DAYS = 7


def demo_token(org_code: str, kind: str) -> str:
    """Fixed links for the demo's devices (the demo tenant's passwords are public anyway)."""
    return f"{devices.TOKEN_PREFIX}DEMO-{org_code}-{kind}"


def booking_token(org_code: str) -> str:
    return f"DEMO-{org_code}-booking"


async def _setup_org(ctx: Ctx, org: dict) -> tuple[dict, dict]:
    have = {s["prefix"]: s for s in await setup.services(ctx, org["id"])}
    for order, (prefix, name) in enumerate(SERVICES):
        if prefix not in have:
            have[prefix] = await setup.create_service(
                ctx, {"org_id": org["id"], "prefix": prefix, "name": name, "sort_order": order}
            )
    counters = {c["number"]: c for c in await setup.counters(ctx, org["id"])}
    for number, name, prefixes in COUNTERS:
        if number not in counters:
            ids = [have[p]["id"] for p in prefixes]
            counters[number] = await setup.create_counter(
                ctx, {"org_id": org["id"], "number": number, "name": name, "service_ids": ids}
            )
    kinds = {d["kind"] for d in (await devices.search(ctx, DeviceFilters(org_id=str(org["id"])))).items}
    for kind, name in ((DeviceKind.KIOSK, "门口取号机"), (DeviceKind.TV, "大厅叫号屏")):
        if kind not in kinds:
            device = await devices.create(ctx, {"org_id": org["id"], "kind": kind, "name": name})
            async with atomic():
                token_hash = hashlib.sha256(demo_token(org["code"], kind).encode()).hexdigest()
                await QueueDevice.update({QueueDevice.token_hash: token_hash}).where(QueueDevice.id == device["id"])
    if not (await appointments.booking(ctx, org["id"])).get("id"):
        await appointments.update_booking(ctx, org["id"], {"enabled": True, "capacity": 4, "days_ahead": 7})
        async with atomic():
            await QueueBooking.update({QueueBooking.token: booking_token(org["code"])}).where(
                QueueBooking.org_id == org["id"]
            )
    return have, counters


def _day_tickets(ctx: Ctx, org: dict, services: dict, counters: dict, day, live: bool, rng: random.Random) -> list:
    """A day's tickets as rows: opening 9:00–18:00 local, served with realistic waits; today's
    (live) stops at the current time and leaves the last ones waiting or being served."""
    tz = ZoneInfo(ctx.tz)
    opening = datetime(day.year, day.month, day.day, 9, tzinfo=tz).astimezone(UTC)
    end = min(opening + timedelta(hours=9), now()) if live else opening + timedelta(hours=9)
    rows, seqs, t = [], {p: 0 for p in services}, opening
    counter_for = {p: [c for c in counters.values() if services[p]["id"] in c["service_ids"]] for p in services}
    while True:
        t += timedelta(seconds=rng.randint(240, 900))
        if t >= end:
            break
        prefix = rng.choices("ABC", weights=(6, 3, 1))[0]
        seqs[prefix] += 1
        seq = seqs[prefix]
        counter = rng.choice(counter_for[prefix])
        called = t + timedelta(seconds=rng.randint(60, 1500))
        started = called + timedelta(seconds=rng.randint(20, 120))
        finished = started + timedelta(seconds=rng.randint(180, 1200))
        status = TicketStatus.NO_SHOW if rng.random() < 0.06 else TicketStatus.DONE
        if live and called > now():
            status, counter, called, started, finished = TicketStatus.WAITING, None, None, None, None
        elif live and finished > now():
            status, finished = (TicketStatus.SERVING, None) if started <= now() else (TicketStatus.CALLED, None)
            started = started if status == TicketStatus.SERVING else None
        if status == TicketStatus.NO_SHOW:
            started, finished = None, called + timedelta(seconds=90)
        rating = rng.choices((5, 4, 3, 2), weights=(6, 3, 1, 0.3))[0] if status == TicketStatus.DONE else None
        if rating and rng.random() < 0.55:
            rating = None  # most customers walk past the kiosk
        rows.append(
            (
                ctx.tenant_id,
                org["id"],
                services[prefix]["id"],
                day,
                seq,
                f"{prefix}{seq:03d}",
                f"139{rng.randint(10000000, 99999999)}" if rng.random() < 0.7 else "",
                status,
                counter["id"] if counter else None,
                0,
                1 if called else 0,
                "取号机：门口取号机",
                t,
                called,
                called,
                started,
                finished,
                rating,
                finished + timedelta(seconds=40) if rating else None,
            )
        )
    return rows, seqs


async def load(ctx: Ctx, org_ids: dict[str, dict]) -> None:
    rng = random.Random(6)
    today = tickets.today(ctx)
    for code in ORGS:
        org = org_ids[code]
        services, counters = await _setup_org(ctx, org)
        for back in range(HISTORY_DAYS, -1, -1):
            day = today - timedelta(days=back)
            if await QueueTicket.exists().where((QueueTicket.org_id == org["id"]) & (QueueTicket.day == day)):
                continue
            rows, seqs = _day_tickets(ctx, org, services, counters, day, back == 0, rng)
            if not rows:
                continue
            async with atomic():
                await bulk_insert(QueueTicket, COLUMNS, rows)
                for prefix, last in seqs.items():
                    await DocSequence.insert(
                        DocSequence(
                            tenant_id=ctx.tenant_id,
                            doc_type=tickets.sequence_name(org["id"], prefix),
                            day=day.strftime("%Y%m%d"),
                            last_no=last,
                        )
                    )


COLUMNS = (
    QueueTicket.tenant_id,
    QueueTicket.org_id,
    QueueTicket.service,
    QueueTicket.day,
    QueueTicket.seq,
    QueueTicket.no,
    QueueTicket.phone,
    QueueTicket.status,
    QueueTicket.counter,
    QueueTicket.ahead,
    QueueTicket.calls,
    QueueTicket.taken_by_name,
    QueueTicket.taken_at,
    QueueTicket.called_at,
    QueueTicket.last_called_at,
    QueueTicket.started_at,
    QueueTicket.finished_at,
    QueueTicket.rating,
    QueueTicket.rated_at,
)
