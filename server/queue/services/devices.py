"""Queue devices (SPEC 6): a kiosk (取号机) or TV (叫号屏) of one org, opened by a URL that
carries its token. The token is the device's only credential: it works for its org's kiosk or
TV functions only, is stored as a hash (the URL is shown once), and revoking or replacing it
closes the device's live socket at once."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import timedelta
from typing import Any

import realtime
from server.core import audit, validate
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import NotFound
from server.core.pagination import Page, PageParams
from server.core.tenancy import Ctx, scoped
from server.queue.schemas import DeviceFilters
from server.queue.services.setup import emit, org_of, org_of_row
from server.queue.states import DEVICE_LABELS, DeviceKind
from server.queue.tables import QueueDevice
from server.system.services import auth

TOKEN_PREFIX = "dev_"
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is refreshed at most this often


def is_device_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def path_for(kind: str, token: str) -> str:
    """Where the device opens its screen (a wall board: 【看板】's TV mode)."""
    if kind == DeviceKind.BOARD:
        return f"/dashboard/tv/{token}"
    return f"/queue/{kind}/{token}"


def _title(kind: str, name: str) -> str:
    """A device as the audit log names it: 取号机 门口取号机."""
    return f"{DeviceKind(kind).label} {name}"


def _dict(row: dict, org_names: dict[int, str]) -> dict:
    return {
        "id": row["id"],
        "org_id": row["org_id"],
        "org_name": org_names.get(row["org_id"], ""),
        "kind": row["kind"],
        "kind_name": DeviceKind(row["kind"]).label,
        "name": row["name"],
        "active": row["token_hash"] is not None,
        "revoked_at": row["revoked_at"],
        "last_seen_at": row["last_seen_at"],
        "created_by_name": row["created_by_name"],
        "created_at": row["created_at"],
    }


async def _row(ctx: Ctx, device_id: Any) -> dict:
    did = validate.ident(device_id, "设备", "device_id")
    row = (
        await QueueDevice.select()
        .where(scoped(ctx, QueueDevice) & (QueueDevice.id == did) & (QueueDevice.deleted == False))  # noqa: E712
        .first()
    )
    if row is None:
        raise NotFound("设备")
    return row | {"org": await org_of_row(ctx, row, "设备")}


def _out(row: dict) -> dict:
    return _dict(row, {row["org_id"]: row["org"]["name"]})


async def get(ctx: Ctx, device_id: Any) -> dict:
    return _out(await _row(ctx, device_id))


async def search(ctx: Ctx, filters: DeviceFilters = DeviceFilters(), params: PageParams = PageParams()) -> Page:
    org = await org_of(ctx, filters.org_id or None)
    where = scoped(ctx, QueueDevice) & (QueueDevice.org_id == org["id"]) & (QueueDevice.deleted == False)  # noqa: E712
    if filters.kind:
        where &= QueueDevice.kind == validate.choice(filters.kind, "设备类型", DEVICE_LABELS, "kind")
    rows = (
        await QueueDevice.select().where(where).order_by(QueueDevice.id).limit(params.page_size).offset(params.offset)
    )
    total = await QueueDevice.count().where(where)
    return Page([_dict(r, {org["id"]: org["name"]}) for r in rows], total, params.page, params.page_size)


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def create(ctx: Ctx, data: dict) -> dict:
    """A new device and its token; the answer is the only time the token is shown."""
    kind = DeviceKind(validate.choice(data.get("kind"), "设备类型", DEVICE_LABELS, "kind"))
    name = validate.text(data.get("name"), "设备名称", 30, required=True, field="name")
    token = _new_token()
    async with atomic():
        org = await org_of(ctx, data.get("org_id"))
        row = QueueDevice(
            tenant_id=ctx.tenant_id,
            org_id=org["id"],
            kind=kind,
            name=name,
            token_hash=_hash(token),
            created_by_name=ctx.user_name[:100],
            created_at=now(),
            updated_at=now(),
        )
        await row.save()
        result = _out(await _row(ctx, row.id))
        await audit.record(ctx, "create", "queue_device", row.id, _title(kind, name), after=result)
        emit(ctx, org, "devices")
    return result | {"token": token, "path": path_for(kind, token)}


async def update(ctx: Ctx, device_id: Any, data: dict) -> dict:
    name = validate.text(data.get("name"), "设备名称", 30, required=True, field="name")
    async with atomic():
        row = await _row(ctx, device_id)
        await QueueDevice.update({QueueDevice.name: name, QueueDevice.updated_at: now()}).where(
            QueueDevice.id == row["id"]
        )
        await audit.record(
            ctx,
            "update",
            "queue_device",
            row["id"],
            _title(row["kind"], name),
            {"name": row["name"]},
            {"name": name},
        )
        emit(ctx, row["org"], "devices")
    return _out(await _row(ctx, row["id"]))


async def revoke(ctx: Ctx, device_id: Any) -> dict:
    """The token stops working now, and the device's screen is disconnected."""
    async with atomic():
        row = await _row(ctx, device_id)
        await QueueDevice.update(
            {QueueDevice.token_hash: None, QueueDevice.revoked_at: now(), QueueDevice.updated_at: now()}
        ).where(QueueDevice.id == row["id"])
        await audit.record(ctx, "revoke", "queue_device", row["id"], _title(row["kind"], row["name"]))
        realtime.kick_device(ctx.tenant_id, row["id"])
        emit(ctx, row["org"], "devices")
    return _out(await _row(ctx, row["id"]))


async def regenerate(ctx: Ctx, device_id: Any) -> dict:
    """A new token (and URL) for the device; the old one stops working at once."""
    token = _new_token()
    async with atomic():
        row = await _row(ctx, device_id)
        await QueueDevice.update(
            {QueueDevice.token_hash: _hash(token), QueueDevice.revoked_at: None, QueueDevice.updated_at: now()}
        ).where(QueueDevice.id == row["id"])
        await audit.record(ctx, "regenerate", "queue_device", row["id"], _title(row["kind"], row["name"]))
        realtime.kick_device(ctx.tenant_id, row["id"])
        emit(ctx, row["org"], "devices")
    return _out(await _row(ctx, row["id"])) | {"token": token, "path": path_for(row["kind"], token)}


async def delete(ctx: Ctx, device_id: Any) -> dict:
    async with atomic():
        row = await _row(ctx, device_id)
        await QueueDevice.update(
            {QueueDevice.deleted: True, QueueDevice.token_hash: None, QueueDevice.updated_at: now()}
        ).where(QueueDevice.id == row["id"])
        result = _out(row)
        await audit.record(ctx, "delete", "queue_device", row["id"], _title(row["kind"], row["name"]), before=result)
        realtime.kick_device(ctx.tenant_id, row["id"])
        emit(ctx, row["org"], "devices")
    return result


async def ctx_for_token(token: str) -> Ctx | None:
    """The Ctx of the device holding `token`, or None (unknown, revoked, or its org disabled)."""
    row = (
        await QueueDevice.select(
            QueueDevice.id,
            QueueDevice.tenant_id,
            QueueDevice.org_id,
            QueueDevice.kind,
            QueueDevice.name,
            QueueDevice.last_seen_at,
        )
        .where(QueueDevice.token_hash == _hash(token))
        .first()
    )
    if row is None:
        return None
    ctx = await auth.ctx_for_org(row["tenant_id"], row["org_id"], f"{DeviceKind(row['kind']).label}：{row['name']}")
    if ctx is None:
        return None
    if row["last_seen_at"] is None or now() - row["last_seen_at"] > SEEN_EVERY:
        async with atomic():
            await QueueDevice.update({QueueDevice.last_seen_at: now()}).where(QueueDevice.id == row["id"])
    return dataclasses.replace(ctx, device_id=row["id"], device_kind=row["kind"])
