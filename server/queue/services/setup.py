"""【排队设置】 (SPEC 6): an org's services (业务类型, each with its ticket letter) and counters
(窗口, each calling some of the org's services). Kept by the org itself or an org above it."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import realtime
from server.core import audit, clock, validate
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.tenancy import Ctx, scoped
from server.queue import permissions as P
from server.queue.states import AT_COUNTER, QUEUED
from server.queue.tables import QueueCounter, QueueCounterService, QueueService, QueueTicket
from server.system.services import orgs

realtime.topic("queue", (P.COUNTER_VIEW, P.SETTINGS_VIEW, P.STATS_VIEW), devices=True)

PREFIX_PATTERN = r"[A-Z]"
SERVICE_FIELDS = ("name", "prefix", "enabled", "sort_order")
COUNTER_FIELDS = ("number", "name", "enabled", "service_ids")


async def org_of(ctx: Ctx, org_id: Any = None) -> dict:
    """An active org the caller sees (default: the caller's own); a device sees only its own."""
    if org_id in (None, ""):
        org_id = ctx.org_id
    if ctx.device_id is not None and validate.ident(org_id, "机构", "org_id") != ctx.org_id:
        raise NotFound("机构")
    return await orgs.get(ctx, org_id, active_only=True)


async def queue_org(ctx: Ctx) -> dict:
    """The org a queue page opens on when none was asked for: the caller's own when it runs a
    queue, else the first org of its subtree (in tree order) that has a service — a head office
    usually has none; the caller's own when no org has one."""
    where = scoped(ctx, QueueService, subtree=QueueService.org_id) & (QueueService.deleted == False)  # noqa: E712
    with_queue = {r["org_id"] for r in await QueueService.select(QueueService.org_id).where(where).distinct()}
    for org in await orgs.choices(ctx):  # active orgs, the caller's own first, in path order
        if org["id"] in with_queue:
            return await org_of(ctx, org["id"])
    return await org_of(ctx)


def today(ctx: Ctx) -> date:
    """The tenant-local day: tickets and their numbers belong to one; earlier days' leftovers
    are history, never in anyone's way."""
    return clock.now().astimezone(ZoneInfo(ctx.tz)).date()


async def org_of_row(ctx: Ctx, row: dict, what: str) -> dict:
    """The org of a row the caller asked for by id; outside the caller's scope the row itself
    does not exist for them (a 404 that names the row, not its org)."""
    try:
        return await org_of(ctx, row["org_id"])
    except NotFound:
        raise NotFound(what) from None


def emit(ctx: Ctx, org: dict, kind: str, ref: object = "", say: str = "") -> None:
    realtime.emit(ctx.tenant_id, org["path"], "queue", kind, ref, say=say)


# --- services ----------------------------------------------------------------------------------


def _service_dict(row: dict) -> dict:
    return {k: row[k] for k in ("id", "org_id", "name", "prefix", "enabled", "sort_order")}


async def services(ctx: Ctx, org_id: Any = None, *, enabled_only: bool = False) -> list[dict]:
    org = await org_of(ctx, org_id)
    where = scoped(ctx, QueueService) & (QueueService.org_id == org["id"]) & (QueueService.deleted == False)  # noqa: E712
    if enabled_only:
        where &= QueueService.enabled == True  # noqa: E712
    rows = await QueueService.select().where(where).order_by(QueueService.sort_order).order_by(QueueService.prefix)
    return [_service_dict(r) for r in rows]


async def service_row(ctx: Ctx, service_id: Any) -> dict:
    sid = validate.ident(service_id, "业务类型", "service_id")
    row = (
        await QueueService.select()
        .where(scoped(ctx, QueueService) & (QueueService.id == sid) & (QueueService.deleted == False))  # noqa: E712
        .first()
    )
    if row is None:
        raise NotFound("业务类型")
    org = await org_of_row(ctx, row, "业务类型")
    return row | {"org": org}


async def get_service(ctx: Ctx, service_id: Any) -> dict:
    return _service_dict(await service_row(ctx, service_id))


def _clean_service(data: dict, partial: bool) -> dict:
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        out["name"] = validate.text(data.get("name"), "业务名称", 30, required=True, field="name")
    if "prefix" in data or not partial:
        prefix = data.get("prefix")
        prefix = prefix.strip().upper() if isinstance(prefix, str) else prefix
        out["prefix"] = validate.text(
            prefix,
            "号码字母",
            1,
            required=True,
            field="prefix",
            pattern=PREFIX_PATTERN,
            pattern_msg="号码字母必须是一个英文字母 A–Z",
        )
    if "enabled" in data:
        out["enabled"] = validate.boolean(data["enabled"], "是否启用", "enabled")
    if "sort_order" in data:
        out["sort_order"] = validate.integer(data["sort_order"], "排序", 0, 999, "sort_order")
    return out


async def _prefix_taken(ctx: Ctx, org_id: int, prefix: str, exclude_id: int | None = None) -> None:
    where = (
        scoped(ctx, QueueService)
        & (QueueService.org_id == org_id)
        & (QueueService.prefix == prefix)
        & (QueueService.deleted == False)  # noqa: E712
    )
    if exclude_id is not None:
        where &= QueueService.id != exclude_id
    if await QueueService.exists().where(where):
        raise Conflict(f"号码字母 {prefix} 已被本机构的其他业务使用", code="duplicate_prefix")


async def create_service(ctx: Ctx, data: dict) -> dict:
    values = _clean_service(data, partial=False)
    async with atomic():
        org = await org_of(ctx, data.get("org_id"))
        await _prefix_taken(ctx, org["id"], values["prefix"])
        row = QueueService(tenant_id=ctx.tenant_id, org_id=org["id"], created_at=now(), updated_at=now(), **values)
        await row.save()
        result = _service_dict(await service_row(ctx, row.id))
        await audit.record(
            ctx, "create", "queue_service", row.id, f"业务类型 {values['prefix']} {values['name']}", after=result
        )
        emit(ctx, org, "settings")
    return result


async def update_service(ctx: Ctx, service_id: Any, data: dict) -> dict:
    values = _clean_service(data, partial=True)
    async with atomic():
        before = await service_row(ctx, service_id)
        if "prefix" in values and values["prefix"] != before["prefix"]:
            await _prefix_taken(ctx, before["org_id"], values["prefix"], before["id"])
        if values:
            await QueueService.update({**values, QueueService.updated_at: now()}).where(QueueService.id == before["id"])
        result = _service_dict(await service_row(ctx, before["id"]))
        old, new = audit.changes(_service_dict(before), result)
        await audit.record(
            ctx, "update", "queue_service", before["id"], f"业务类型 {result['prefix']} {result['name']}", old, new
        )
        emit(ctx, before["org"], "settings")
    return result


async def delete_service(ctx: Ctx, service_id: Any) -> dict:
    async with atomic():
        row = await service_row(ctx, service_id)
        waiting = await QueueTicket.count().where(
            (QueueTicket.service == row["id"])
            & (QueueTicket.day == today(ctx))
            & QueueTicket.status.is_in(list(QUEUED))
        )
        if waiting:
            raise Conflict(f"该业务还有 {waiting} 位顾客在排队或办理中，不能删除", code="service_in_use")
        await QueueService.update({QueueService.deleted: True, QueueService.updated_at: now()}).where(
            QueueService.id == row["id"]
        )
        await audit.record(
            ctx,
            "delete",
            "queue_service",
            row["id"],
            f"业务类型 {row['prefix']} {row['name']}",
            before=_service_dict(row),
        )
        emit(ctx, row["org"], "settings")
    return _service_dict(row)


# --- counters ----------------------------------------------------------------------------------


async def _counter_services(counter_ids: list[int]) -> dict[int, list[dict]]:
    """The live services of some counters, in the org's order. Plain SQL: every 【叫号】 reads
    them, and Piccolo builds a joined select in about a millisecond of CPU."""
    if not counter_ids:
        return {}
    marks = ", ".join("{}" for _ in counter_ids)
    rows = await QueueCounterService.raw(
        "SELECT cs.counter, s.id, s.name, s.prefix, s.enabled FROM q_counter_service cs "
        f"JOIN q_service s ON s.id = cs.service WHERE cs.counter IN ({marks}) AND s.deleted = {{}} "
        "ORDER BY s.sort_order, s.prefix",
        *counter_ids,
        False,
    )
    out: dict[int, list[dict]] = {cid: [] for cid in counter_ids}
    for r in rows:
        service = {"id": r["id"], "name": r["name"], "prefix": r["prefix"], "enabled": bool(r["enabled"])}
        out[r["counter"]].append(service)
    return out


def _counter_dict(row: dict, svc: list[dict]) -> dict:
    return {k: row[k] for k in ("id", "org_id", "number", "name", "enabled")} | {
        "label": f"{row['number']} 号窗口" + (f"（{row['name']}）" if row["name"] else ""),
        "service_ids": [s["id"] for s in svc],
        "services": svc,
    }


async def counters(ctx: Ctx, org_id: Any = None, *, enabled_only: bool = False) -> list[dict]:
    org = await org_of(ctx, org_id)
    where = scoped(ctx, QueueCounter) & (QueueCounter.org_id == org["id"]) & (QueueCounter.deleted == False)  # noqa: E712
    if enabled_only:
        where &= QueueCounter.enabled == True  # noqa: E712
    rows = await QueueCounter.select().where(where).order_by(QueueCounter.number)
    svc = await _counter_services([r["id"] for r in rows])
    return [_counter_dict(r, svc[r["id"]]) for r in rows]


async def counter_row(ctx: Ctx, counter_id: Any) -> dict:
    """A counter the caller sees, with its org (`org`) and its services."""
    cid = validate.ident(counter_id, "窗口", "counter_id")
    row = (
        await QueueCounter.select()
        .where(scoped(ctx, QueueCounter) & (QueueCounter.id == cid) & (QueueCounter.deleted == False))  # noqa: E712
        .first()
    )
    if row is None:
        raise NotFound("窗口")
    org = await org_of_row(ctx, row, "窗口")
    svc = (await _counter_services([cid]))[cid]
    return _counter_dict(row, svc) | {"org": org}


def _counter_out(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "org"}


async def get_counter(ctx: Ctx, counter_id: Any) -> dict:
    return _counter_out(await counter_row(ctx, counter_id))


def _clean_counter(data: dict, partial: bool) -> dict:
    out: dict[str, Any] = {}
    if "number" in data or not partial:
        out["number"] = validate.integer(data.get("number"), "窗口号", 1, 999, "number")
    if "name" in data:
        out["name"] = validate.text(data["name"], "窗口名称", 30, field="name")
    if "enabled" in data:
        out["enabled"] = validate.boolean(data["enabled"], "是否启用", "enabled")
    if "service_ids" in data:
        out["service_ids"] = validate.id_list(data["service_ids"], "业务类型", "service_ids", max_items=26)
    return out


async def _number_taken(ctx: Ctx, org_id: int, number: int, exclude_id: int | None = None) -> None:
    where = (
        scoped(ctx, QueueCounter)
        & (QueueCounter.org_id == org_id)
        & (QueueCounter.number == number)
        & (QueueCounter.deleted == False)  # noqa: E712
    )
    if exclude_id is not None:
        where &= QueueCounter.id != exclude_id
    if await QueueCounter.exists().where(where):
        raise Conflict(f"本机构已有 {number} 号窗口", code="duplicate_number")


async def _set_services(ctx: Ctx, counter_id: int, org_id: int, service_ids: list[int]) -> None:
    found = await QueueService.select(QueueService.id).where(
        scoped(ctx, QueueService)
        & (QueueService.org_id == org_id)
        & (QueueService.deleted == False)  # noqa: E712
        & QueueService.id.is_in(service_ids or [0])
    )
    if len(found) != len(service_ids):
        raise BusinessError("所选业务类型不属于该机构或已删除", code="invalid_service", field="service_ids")
    await QueueCounterService.delete().where(QueueCounterService.counter == counter_id)
    if service_ids:
        await QueueCounterService.insert(
            *[QueueCounterService(tenant_id=ctx.tenant_id, counter=counter_id, service=sid) for sid in service_ids]
        )


async def create_counter(ctx: Ctx, data: dict) -> dict:
    values = _clean_counter(data, partial=False)
    service_ids = values.pop("service_ids", [])
    async with atomic():
        org = await org_of(ctx, data.get("org_id"))
        await _number_taken(ctx, org["id"], values["number"])
        row = QueueCounter(tenant_id=ctx.tenant_id, org_id=org["id"], created_at=now(), updated_at=now(), **values)
        await row.save()
        await _set_services(ctx, row.id, org["id"], service_ids)
        result = _counter_out(await counter_row(ctx, row.id))
        await audit.record(ctx, "create", "queue_counter", row.id, result["label"], after=result)
        emit(ctx, org, "settings")
    return result


async def update_counter(ctx: Ctx, counter_id: Any, data: dict) -> dict:
    values = _clean_counter(data, partial=True)
    service_ids = values.pop("service_ids", None)
    async with atomic():
        before = await counter_row(ctx, counter_id)
        if "number" in values and values["number"] != before["number"]:
            await _number_taken(ctx, before["org_id"], values["number"], before["id"])
        if values:
            await QueueCounter.update({**values, QueueCounter.updated_at: now()}).where(QueueCounter.id == before["id"])
        if service_ids is not None:
            await _set_services(ctx, before["id"], before["org_id"], service_ids)
        result = _counter_out(await counter_row(ctx, before["id"]))
        old, new = audit.changes(_counter_out(before), result)
        await audit.record(ctx, "update", "queue_counter", before["id"], result["label"], old, new)
        emit(ctx, before["org"], "settings")
    return result


async def delete_counter(ctx: Ctx, counter_id: Any) -> dict:
    async with atomic():
        row = await counter_row(ctx, counter_id)
        busy = await QueueTicket.count().where(
            (QueueTicket.counter == row["id"])
            & (QueueTicket.day == today(ctx))
            & QueueTicket.status.is_in(list(AT_COUNTER))
        )
        if busy:
            raise Conflict(f"该窗口还有 {busy} 位顾客在叫号或办理中，不能删除", code="counter_in_use")
        await QueueCounter.update({QueueCounter.deleted: True, QueueCounter.updated_at: now()}).where(
            QueueCounter.id == row["id"]
        )
        result = _counter_out(row)
        await audit.record(ctx, "delete", "queue_counter", row["id"], row["label"], before=result)
        emit(ctx, row["org"], "settings")
    return result
