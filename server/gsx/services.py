"""The GSX integration's rules (SPEC 8): tenant settings, account links, coverage and repairs of
work orders (eligibility and parts checked before creating, notes and acknowledgements sent to
GSX), the tenant's repair list with its 【同步】, status polling, news, and the call log.

Calls to GSX happen outside any transaction (a screen's transaction never waits on Apple); each
call is written to `gsx_call` on its own, whether the operation then succeeds or not. Without a
complete, enabled configuration everything but the settings themselves answers 404: the
feature does not exist for that tenant.

Status polling is a periodic task in every server process (server.gsx.poller; the job layer
has no periodic jobs): each round takes the open repairs whose `next_poll_at` has come, claims
each with a conditional UPDATE of `poll_claimed_until` (one process asks about one repair at a
time, whatever the number of processes), asks GSX as the user who created it and sets the next
time — POLL_EVERY after an answer, doubling after each failure up to 6 hours, never once GSX
closed it. A claim left by a process that died lapses after POLL_CLAIM.

Shared between processes through the database: the news (`gsx_news`, one row per tenant, read
again once older than NEWS_LIFE) and a user's token exchange (`gsx_link.refresh_claimed_until`,
claimed by a conditional UPDATE: one process exchanges, the others wait for the token it saves).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import realtime
from server.core import audit, authcache, db, hooks, secrets
from server.core.clock import iso, now
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.tenancy import Ctx, in_tenant, scoped
from server.gsx import wire
from server.gsx.tables import GsxCall, GsxLink, GsxNews, GsxOrder, GsxSettings
from server.masterdata.services import goods
from server.system.services import auth, orgs
from server.workorders.services import orders as work_orders
from server.workorders.states import OPEN, WorkOrderStatus
from server.workorders.tables import WorkOrder

TOKEN_IDLE = timedelta(minutes=30)  # GSX forgets a token unused this long: refresh it before
ENVIRONMENTS = {"uat": "测试环境（UAT）", "production": "正式环境"}
URL = re.compile(r"https://[A-Za-z0-9.\-]+(:\d{1,5})?(/[A-Za-z0-9._~\-/]*)?")
ACCOUNT_NO = re.compile(r"[0-9A-Za-z]{1,20}")
CODE = re.compile(r"[0-9A-Z]{1,12}")
APPLE_PART = re.compile(r"\d{3}-\d{4,6}")
APPLE_ID = re.compile(r"[^@\s]{1,100}@[^@\s]{1,100}")
# What a GSX status may do to the work order (the tenant edits the mapping): only what the
# work-order service does without anything more from a person. `repairing` moves an accepted
# order (【直接维修】 with the intake's service type); `repaired` only tells the technician —
# 【维修完毕】 needs a repair result and issues stock, so a person does it.
WORK_ORDER_ACTIONS = {
    "": "不处理",
    "repairing": "开始维修（受理 → 维修中）",
    "repaired": "提醒技师维修完毕（不自动完成）",
}
DEFAULT_STATUS_MAP = {"INRP": "repairing", "RFPU": "repaired"}
POLL_EVERY = timedelta(minutes=10)
POLL_CLAIM = timedelta(minutes=2)
log = logging.getLogger("weifu")


def _json(value: Any, default: Any) -> Any:
    if value is None or value == "":
        return default
    return json.loads(value) if isinstance(value, str) else value


def gsx_error(exc: wire.GsxError) -> BusinessError:
    """A wire failure as the API answers it: 503 when GSX is out of reach, 409 when the user
    must act (relink), 400 when GSX refused the request or the certificate is wrong."""
    status = {
        wire.UNAVAILABLE: 503,
        wire.CIRCUIT_OPEN: 503,
        wire.TIMEOUT_CODE: 503,
        wire.UNAUTHORIZED: 409,
        "invalid_serial": 400,
        "invalid_repair_id": 400,
        "invalid_part": 400,
    }.get(exc.code, 400)
    return BusinessError(exc.detail, code=exc.code, status_code=status)


# --- settings ------------------------------------------------------------------------------------


async def _settings(tenant_id: int) -> dict | None:
    return await GsxSettings.select().where(in_tenant(GsxSettings, tenant_id)).first()  # the poller has no caller


def _complete(row: dict | None) -> bool:
    return bool(
        row
        and row["enabled"]
        and row["base_url"]
        and row["auth_url"]
        and row["sold_to"]
        and row["ship_to"]
        and row["certificate_enc"]
        and row["key_enc"]
    )


async def is_configured(ctx: Ctx) -> bool:
    """Asked on every order page (its timeline) and by the menu: kept in `authcache` under the
    tenant's generation, which saving the settings moves on."""
    return "gsx" in await _features(ctx.tenant_id)


@hooks.provides_features
async def _features(tenant_id: int) -> set[str]:
    key = ("gsx_configured", tenant_id)
    if (kept := await authcache.get(key)) is not None:
        return set(kept)
    generation = await authcache.generation(tenant_id)  # read before the query: see authcache
    found = {"gsx"} if _complete(await _settings(tenant_id)) else set()
    authcache.put(key, tenant_id, generation, sorted(found))
    return found


def hidden() -> None:
    raise NotFound("页面")


async def _configured(ctx: Ctx) -> dict:
    """The tenant's settings; 404 when GSX is not configured (the feature is hidden)."""
    row = await _settings(ctx.tenant_id)
    if not _complete(row):
        raise NotFound("页面")
    assert row is not None
    return row


def _public(row: dict | None) -> dict:
    """The settings as shown: never a PEM, only whether each is set and what the certificate is."""
    row = row or {}
    return {
        "environment": row.get("environment") or "uat",
        "base_url": row.get("base_url") or "",
        "auth_url": row.get("auth_url") or "",
        "sold_to": row.get("sold_to") or "",
        "ship_to": row.get("ship_to") or "",
        "ship_to_by_org": {str(k): str(v) for k, v in _json(row.get("ship_to_by_org"), {}).items()},
        "certificate_set": bool(row.get("certificate_enc")),
        "key_set": bool(row.get("key_enc")),
        "certificate_subject": row.get("certificate_subject") or "",
        "certificate_expires_at": iso(row.get("certificate_expires_at")),
        "server_ca_set": bool(row.get("server_ca_pem")),
        "status_map": _json(row.get("status_map"), DEFAULT_STATUS_MAP) if row else dict(DEFAULT_STATUS_MAP),
        "enabled": bool(row.get("enabled")),
        "configured": _complete(row) if row else False,
        "updated_by_name": row.get("updated_by_name") or "",
        "updated_at": iso(row.get("updated_at")),
    }


async def get_settings(ctx: Ctx) -> dict:
    return _public(await _settings(ctx.tenant_id))


def _text(data: dict, name: str, label: str, pattern: re.Pattern | None, limit: int, required: bool) -> str:
    value = str(data.get(name) or "").strip()
    if not value:
        if required:
            raise BusinessError(f"请填写{label}", code="required", field=name)
        return ""
    if len(value) > limit or (pattern is not None and not pattern.fullmatch(value)):
        raise BusinessError(f"{label}格式不正确", code="invalid_field", field=name)
    return value


async def put_settings(ctx: Ctx, data: dict) -> dict:
    """Save the tenant's GSX settings. A PEM left empty keeps the stored one; a new pair is
    checked (parses, key matches certificate) and stored encrypted. Enabling needs all fields."""
    ctx.require_hq("GSX 对接只能由总部配置")
    environment = str(data.get("environment") or "uat")
    if environment not in ENVIRONMENTS:
        raise BusinessError("环境只能是 uat 或 production", code="invalid_field", field="environment")
    enabled = bool(data.get("enabled"))
    values: dict[str, Any] = {
        "environment": environment,
        "base_url": _text(data, "base_url", "GSX 地址", URL, 300, enabled),
        "auth_url": _text(data, "auth_url", "认证地址", URL, 300, enabled),
        "sold_to": _text(data, "sold_to", "Sold-To", ACCOUNT_NO, 20, enabled),
        "ship_to": _text(data, "ship_to", "Ship-To", ACCOUNT_NO, 20, enabled),
        "enabled": enabled,
    }
    by_org = data.get("ship_to_by_org")
    if by_org is not None:
        if not isinstance(by_org, dict) or not all(
            str(k).isdigit() and isinstance(v, str) and ACCOUNT_NO.fullmatch(v) for k, v in by_org.items()
        ):
            raise BusinessError("各机构的 Ship-To 格式不正确", code="invalid_field", field="ship_to_by_org")
        values["ship_to_by_org"] = json.dumps({str(k): v for k, v in by_org.items()})
    status_map = data.get("status_map")
    if status_map is not None:
        _check_status_map(status_map)
        values["status_map"] = json.dumps({k: v for k, v in status_map.items() if v})
    certificate = str(data.get("certificate_pem") or "").strip()
    key = str(data.get("key_pem") or "").strip()
    if bool(certificate) != bool(key):
        raise BusinessError(
            "证书和私钥需要一起上传", code="invalid_field", field="key_pem" if certificate else "certificate_pem"
        )
    replaced = bool(certificate)
    if replaced:
        try:
            info = wire.read_certificate(certificate, key)
        except wire.GsxError as exc:
            raise BusinessError(exc.detail, code=exc.code, field="certificate_pem") from None
        values |= {
            "certificate_enc": secrets.encrypt(certificate),
            "key_enc": secrets.encrypt(key),
            "certificate_subject": info.subject,
            "certificate_expires_at": info.expires_at,
        }
    if "server_ca_pem" in data and data.get("server_ca_pem") is not None:
        ca = str(data.get("server_ca_pem") or "").strip()
        if ca and "BEGIN CERTIFICATE" not in ca:
            raise BusinessError("受信任的 CA 证书需为 PEM 格式", code="invalid_field", field="server_ca_pem")
        values["server_ca_pem"] = ca[:20000]
    values |= {"updated_by_name": ctx.user_name[:100], "updated_at": now()}
    async with db.atomic():
        before = await _settings(ctx.tenant_id)
        if before is None:
            values.setdefault("status_map", json.dumps(DEFAULT_STATUS_MAP))
            await GsxSettings.insert(GsxSettings(tenant_id=ctx.tenant_id, **values))
        else:
            await GsxSettings.update(values).where(GsxSettings.id == before["id"])
        after = await _settings(ctx.tenant_id)
        if enabled and not _complete(after):
            raise BusinessError("启用前请上传证书和私钥", code="required", field="certificate_pem")
        shown_before, shown_after = _audited(_public(before) if before else {}), _audited(_public(after))
        if replaced:
            shown_after["certificate"] = "已更换"
        await audit.record(ctx, "update", "gsx_settings", ctx.tenant_id, "修改 GSX 对接设置", shown_before, shown_after)
    return _public(after)


def _check_status_map(status_map: Any) -> None:
    """Each GSX status code maps to a work-order action the poller may take on its own."""
    if not isinstance(status_map, dict):
        raise BusinessError("状态对应关系不正确", code="invalid_field", field="status_map")
    for code, target in status_map.items():
        if not isinstance(code, str) or not CODE.fullmatch(code):
            why = f"GSX 状态代码「{str(code)[:20]}」格式不正确（大写字母或数字）"
            raise BusinessError(why, code="invalid_field", field="status_map")
        if target in WORK_ORDER_ACTIONS:
            continue
        label = WorkOrderStatus.labels().get(target) if isinstance(target, str) else None
        why = (
            f"工单「{label}」需要人工填写信息，不能由 GSX 状态自动转入"
            if label
            else f"「{str(target)[:20]}」不是可用的工单动作"
        )
        raise BusinessError(
            f"GSX 状态 {code}：{why}；只能对应 repairing（开始维修）或 repaired（提醒技师维修完毕）",
            code="invalid_field",
            field="status_map",
        )


def _audited(shown: dict) -> dict:
    return {k: v for k, v in shown.items() if k not in ("updated_at", "updated_by_name", "configured")}


def _endpoint(row: dict, ctx: Ctx) -> wire.Endpoint:
    by_org = _json(row.get("ship_to_by_org"), {})
    return wire.Endpoint(
        base_url=row["base_url"],
        auth_url=row["auth_url"],
        sold_to=row["sold_to"],
        ship_to=str(by_org.get(str(ctx.org_id)) or row["ship_to"]),
        certificate_pem=secrets.decrypt(row["certificate_enc"]),
        key_pem=secrets.decrypt(row["key_enc"]),
        server_ca_pem=row.get("server_ca_pem") or "",
        breaker_key=ctx.tenant_id,
    )


def client_for(endpoint: wire.Endpoint) -> wire.Provider:
    """The provider: the HTTP client (tests and the demo point its URLs at the fake GSX)."""
    return wire.Client(endpoint)


async def _record(ctx: Ctx, calls: list[wire.Call], work_order_id: int | None = None) -> None:
    if not calls:
        return
    at = now()
    await GsxCall.insert(
        *[
            GsxCall(
                tenant_id=ctx.tenant_id,
                user_id=ctx.user_id,
                user_name=ctx.user_name[:100],
                endpoint=c.endpoint[:100],
                http_status=c.http_status,
                outcome=c.outcome[:32],
                message=c.message[:300],
                duration_ms=c.duration_ms,
                attempts=c.attempts,
                trace_id=c.trace_id,
                work_order_id=work_order_id,
                created_at=at,
            )
            for c in calls
        ]
    )


async def test_connection(ctx: Ctx) -> dict:
    """【测试连接】: TLS with the stored certificate and an answer from GSX's auth host."""
    row = await _settings(ctx.tenant_id)
    if not row or not row["certificate_enc"] or not row["auth_url"]:
        raise BusinessError("请先填写地址并上传证书和私钥", code="gsx_incomplete")
    operator = wire.Operator(apple_id="")
    try:
        status = await client_for(_endpoint(row, ctx)).check(operator)
    except wire.GsxError as exc:
        return {"ok": False, "message": exc.detail, "code": exc.code}
    finally:
        await _record(ctx, operator.calls)
    return {"ok": True, "message": f"连接成功：GSX 已接受证书（HTTP {status}）", "code": "ok"}


# --- account links -------------------------------------------------------------------------------


async def _link_row(ctx: Ctx) -> dict | None:
    return await GsxLink.select().where(scoped(ctx, GsxLink) & (GsxLink.user_id == ctx.user_id)).first()


def _link_public(row: dict | None) -> dict:
    if row is None:
        return {"linked": False, "apple_id": "", "status": "none", "linked_at": None, "token_used_at": None}
    return {
        "linked": row["status"] == "linked",
        "apple_id": row["apple_id"],
        "status": row["status"],
        "linked_at": iso(row["linked_at"]),
        "token_used_at": iso(row["token_used_at"]),
    }


async def my_link(ctx: Ctx) -> dict:
    await _configured(ctx)
    return _link_public(await _link_row(ctx))


async def link(ctx: Ctx, apple_id: Any, activation_token: Any) -> dict:
    """【关联 GSX】: exchange the user's one-time activation token for an auth token."""
    row = await _configured(ctx)
    apple = str(apple_id or "").strip()
    if not APPLE_ID.fullmatch(apple):
        raise BusinessError("请填写正确的 Apple ID（邮箱）", code="invalid_field", field="apple_id")
    token = str(activation_token or "").strip()
    if not token or len(token) > 200:
        raise BusinessError("请填写在 GSX 获取的激活码", code="required", field="activation_token")
    operator = wire.Operator(apple_id=apple)
    try:
        await client_for(_endpoint(row, ctx)).authenticate(operator, token)
    except wire.GsxError as exc:
        raise gsx_error(exc) from None
    finally:
        await _record(ctx, operator.calls)
        at = now()
        values = {
            "apple_id": apple,
            "token_enc": secrets.encrypt(operator.token),
            "status": "linked",
            "token_used_at": at,
        }
        async with db.atomic():
            existing = await _link_row(ctx)
            if existing is None:
                await GsxLink.insert(GsxLink(tenant_id=ctx.tenant_id, user_id=ctx.user_id, linked_at=at, **values))
            else:
                await GsxLink.update(values | {"linked_at": at, "refresh_claimed_until": None}).where(
                    GsxLink.id == existing["id"]
                )
            await audit.record(ctx, "update", "gsx_link", ctx.user_id, f"关联 GSX 账号 {apple}")
    return _link_public(await _link_row(ctx))


async def unlink(ctx: Ctx) -> None:
    await _configured(ctx)
    async with db.atomic():
        existing = await _link_row(ctx)
        if existing is None:
            raise NotFound("GSX 关联")
        await GsxLink.delete().where(GsxLink.id == existing["id"])
        await audit.record(ctx, "delete", "gsx_link", ctx.user_id, f"解除 GSX 关联 {existing['apple_id']}")


REFRESH_CLAIM = timedelta(seconds=wire.TIMEOUT * (len(wire.BACKOFF) + 2))  # outlasts an exchange's tries
_RELINK = "GSX 授权已失效，请在【我的账号】→【关联 GSX】重新关联"


async def _as_user(ctx: Ctx, operation, work_order_id: int | None = None):
    """Run `operation(client, operator)` as the acting user: their link's token, refreshed first
    when idle past 30 minutes (GSX would refuse it); a 401 on a call is refreshed once by the
    client; a refused exchange marks the link expired (the user must link again)."""
    row = await _configured(ctx)
    link_row = await _link_row(ctx)
    if link_row is None or link_row["status"] != "linked":
        raise BusinessError(
            "请先在【我的账号】→【关联 GSX】关联您的 Apple 账号" if link_row is None else _RELINK,
            code="gsx_not_linked" if link_row is None else wire.UNAUTHORIZED,
            status_code=409,
        )
    client = client_for(_endpoint(row, ctx))
    operator = wire.Operator(apple_id=link_row["apple_id"], token=secrets.decrypt(link_row["token_enc"]))
    operator.renew = lambda op: _exchange(client, op, link_row)
    try:
        used = link_row["token_used_at"]
        if used is None or now() - used > TOKEN_IDLE:
            await _exchange(client, operator, link_row)
        result = await operation(client, operator)
    except wire.GsxError as exc:
        if exc.code == wire.UNAUTHORIZED:
            await GsxLink.update({"status": "expired", "refresh_claimed_until": None}).where(
                GsxLink.id == link_row["id"]
            )
        raise gsx_error(exc) from None
    finally:
        await _record(ctx, operator.calls, work_order_id)
        if operator.calls:
            await GsxLink.update({"token_used_at": now()}).where(
                (GsxLink.id == link_row["id"]) & (GsxLink.status == "linked")
            )
    return result


async def _exchange(client: wire.Provider, operator: wire.Operator, link_row: dict) -> None:
    """Exchange the user's token once, however many requests of however many processes find it
    stale: an exchange retires the old token, so a second one would fail and unlink the user.
    The request whose conditional UPDATE claims the row (`refresh_claimed_until`, while the token
    is still the one it read) exchanges and saves the new token at once; the others wait for it."""
    seen = link_row["token_enc"]
    give_up = now() + REFRESH_CLAIM
    while True:
        current = await GsxLink.select(GsxLink.status, GsxLink.token_enc).where(GsxLink.id == link_row["id"]).first()
        if current is None or current["status"] != "linked":
            raise wire.GsxError(wire.UNAUTHORIZED, _RELINK, 401)
        if current["token_enc"] != seen:  # exchanged meanwhile by another request
            operator.token, link_row["token_enc"] = secrets.decrypt(current["token_enc"]), current["token_enc"]
            return
        at = now()
        free = GsxLink.refresh_claimed_until.is_null() | (GsxLink.refresh_claimed_until < at)
        claimed = (
            await GsxLink.update({"refresh_claimed_until": at + REFRESH_CLAIM})
            .where((GsxLink.id == link_row["id"]) & (GsxLink.token_enc == seen) & free)
            .returning(GsxLink.id)
        )
        if claimed:
            break
        if at > give_up:
            raise wire.GsxError(wire.UNAVAILABLE, "GSX 授权正在刷新，请稍后再试")
        await asyncio.sleep(0.05)
    try:
        await client.authenticate(operator)
    except wire.GsxError:
        await GsxLink.update({"refresh_claimed_until": None}).where(GsxLink.id == link_row["id"])
        raise
    sealed = secrets.encrypt(operator.token)
    await GsxLink.update({"token_enc": sealed, "token_used_at": now(), "refresh_claimed_until": None}).where(
        GsxLink.id == link_row["id"]
    )
    link_row["token_enc"] = sealed


# --- work orders ---------------------------------------------------------------------------------


async def _order_row(ctx: Ctx, work_order_id: int) -> dict | None:
    return await GsxOrder.select().where(scoped(ctx, GsxOrder) & (GsxOrder.work_order_id == work_order_id)).first()


def _order_public(row: dict | None, work_order_id: int) -> dict:
    row = row or {}
    outcome = _json(row.get("outcome"), [])
    return {
        "work_order_id": work_order_id,
        "serial_no": row.get("serial_no") or "",
        "coverage": _json(row.get("coverage"), None),
        "coverage_at": iso(row.get("coverage_at")),
        "coverage_by_name": row.get("coverage_by_name") or "",
        "repair_id": row.get("repair_id") or "",
        "repair_type": row.get("repair_type") or "",
        "repair_status": row.get("repair_status") or "",
        "repair_status_description": row.get("repair_status_description") or "",
        "outcome": outcome,
        "needs_ack": any(o.get("needs_ack") for o in outcome) and not row.get("acknowledged_at"),
        "acknowledged_by_name": row.get("acknowledged_by_name") or "",
        "acknowledged_at": iso(row.get("acknowledged_at")),
        "repair_created_by_name": row.get("repair_created_by_name") or "",
        "repair_created_at": iso(row.get("repair_created_at")),
        "history": _json(row.get("history"), []),
    }


async def _save_order(ctx: Ctx, work_order_id: int, values: dict) -> dict:
    values = values | {"updated_at": now()}
    async with db.atomic():
        existing = await _order_row(ctx, work_order_id)
        if existing is None:
            await GsxOrder.insert(GsxOrder(tenant_id=ctx.tenant_id, work_order_id=work_order_id, **values))
        else:
            await GsxOrder.update(values).where(GsxOrder.id == existing["id"])
        return await _order_row(ctx, work_order_id)  # type: ignore[return-value]


async def for_order(ctx: Ctx, work_order_id: Any) -> dict:
    await _configured(ctx)
    order = await work_orders.get(ctx, work_order_id)
    row = await _order_row(ctx, order["id"])
    return _order_public(row, order["id"]) | {
        "status_hint": await _status_hint(ctx, order, row),
        "order_serial_no": order["serial_no"],
        "suggested_parts": await _apple_parts(ctx, order),
    }


async def _status_hint(ctx: Ctx, order: dict, row: dict | None) -> str:
    """What the GSX status asks of the order, per the tenant's mapping: a repair GSX calls ready
    (mapped to `repaired`) is completed by the technician, never by the system."""
    if not row or not row["repair_status"] or order["status"] not in OPEN:
        return ""
    status_map = _json((await _settings(ctx.tenant_id) or {}).get("status_map"), DEFAULT_STATUS_MAP)
    if status_map.get(row["repair_status"]) == "repaired":
        return "GSX 维修已完成：请技师在工单上填写维修结果并【维修完毕】（会出库维修用料，系统不会自动完成）"
    return ""


async def _apple_parts(ctx: Ctx, order: dict) -> list[str]:
    """The Apple part numbers of the order's repair lines, for 【创建 GSX 维修】: goods have no
    part-number field, so a goods code shaped like Apple's (661-12345) is taken as one. One
    read per distinct goods (an order has a few lines)."""
    out: list[str] = []
    for goods_id in dict.fromkeys(li["goods_id"] for li in order.get("lines") or [] if li.get("goods_id")):
        code = (await goods.get(ctx, goods_id))["code"]
        if APPLE_PART.fullmatch(code or ""):
            out.append(code)
    return out


async def coverage(ctx: Ctx, work_order_id: Any) -> dict:
    """【查询保修】: GSX's coverage of the order's serial, kept with the order."""
    await _configured(ctx)
    order = await work_orders.get(ctx, work_order_id)
    try:
        serial = wire.device_id(order["serial_no"])
    except wire.GsxError as exc:
        raise BusinessError(exc.detail, code=exc.code, field="serial_no") from None
    received = order.get("created_at")
    received_at = datetime.fromisoformat(received) if isinstance(received, str) else (received or now())
    answer = await _as_user(ctx, lambda c, op: c.product_details(op, serial, received_at), order["id"])
    row = await _save_order(
        ctx,
        order["id"],
        {
            "serial_no": serial,
            "coverage": json.dumps(answer, ensure_ascii=False),
            "coverage_at": now(),
            "coverage_by_name": ctx.user_name[:100],
        },
    )
    return _order_public(row, order["id"])


# --- 【查询保修】 at intake, before the order exists ---------------------------------------------------
INTAKE_COVERAGE_LIFE = timedelta(hours=2)  # an answer older than this is not attached at saving


async def check_coverage(ctx: Ctx, serial_no: Any) -> dict:
    """【查询保修】 on the intake form: GSX's coverage of a serial, nothing stored. The answer comes
    back with `token`, the same answer sealed (Fernet: encrypted and authenticated with a key
    from SECRET_KEY) for this tenant and serial; the form posts it with the order, and saving
    attaches it (`_attach_intake_coverage`) — a browser cannot forge or move it to another one."""
    await _configured(ctx)
    try:
        serial = wire.device_id(str(serial_no or "").strip())
    except wire.GsxError as exc:
        raise BusinessError(exc.detail, code=exc.code, field="serial_no") from None
    answer = await _as_user(ctx, lambda c, op: c.product_details(op, serial, now()))
    sealed = {
        "tenant_id": ctx.tenant_id,
        "serial_no": serial,
        "coverage": answer,
        "at": iso(now()),
        "by": ctx.user_name[:100],
    }
    return {"serial_no": serial, "coverage": answer, "token": secrets.encrypt(json.dumps(sealed, ensure_ascii=False))}


@hooks.on_work_order_intake
async def _attach_intake_coverage(ctx: Ctx, order: dict, data: dict) -> None:
    """Run by the work-order service inside the intake's transaction: the coverage checked on
    the form becomes the new order's. A token of another tenant or serial, too old, or not
    ours is ignored (the order saves all the same; 【查询保修】 on it asks again)."""
    token = data.get("gsx_coverage")
    if not token or not isinstance(token, str) or len(token) > 20000:
        return
    try:
        sealed = json.loads(secrets.decrypt(token))
    except Exception:  # noqa: BLE001 — tampered or from another key: not ours
        return
    at = datetime.fromisoformat(sealed.get("at") or "")
    serial = str(order.get("serial_no") or "").strip()
    if sealed.get("tenant_id") != ctx.tenant_id or sealed.get("serial_no") != serial:
        return
    if now() - at > INTAKE_COVERAGE_LIFE:
        return
    await GsxOrder.insert(
        GsxOrder(
            tenant_id=ctx.tenant_id,
            work_order_id=order["id"],
            serial_no=serial,
            coverage=json.dumps(sealed["coverage"], ensure_ascii=False),
            coverage_at=at,
            coverage_by_name=str(sealed.get("by") or "")[:100],
            updated_at=now(),
        )
    )


def _repair_request(order: dict, data: dict, ship_to: str | None) -> wire.RepairRequest:
    repair_type = str(data.get("repair_type") or "")
    if repair_type not in wire.REPAIR_TYPES:
        raise BusinessError("请选择 GSX 维修类型", code="invalid_field", field="repair_type")
    issues = []
    for item in data.get("issues") or []:
        component = str((item or {}).get("component_code") or "").strip().upper()
        issue = str((item or {}).get("issue_code") or "").strip().upper()
        if not CODE.fullmatch(component) or not CODE.fullmatch(issue):
            raise BusinessError("组件代码和问题代码应为大写字母或数字", code="invalid_field", field="issues")
        issues.append((component, issue))
    if not issues:
        raise BusinessError("请至少填写一组组件代码和问题代码", code="required", field="issues")
    parts = [str(p).strip() for p in data.get("parts") or [] if str(p).strip()]
    if any(not wire.PART_NUMBER.fullmatch(p) for p in parts) or len(parts) > 20:
        raise BusinessError("部件号格式不正确", code="invalid_field", field="parts")
    notes = str(data.get("notes") or "").strip()
    if len(notes) > 1000:
        raise BusinessError("备注不能超过 1000 字", code="invalid_field", field="notes")
    try:
        serial = wire.device_id(order["serial_no"])
    except wire.GsxError as exc:
        raise BusinessError(exc.detail, code=exc.code, field="serial_no") from None
    received = order.get("created_at")
    return wire.RepairRequest(
        serial=serial,
        repair_type=repair_type,
        received_at=datetime.fromisoformat(received) if isinstance(received, str) else (received or now()),
        issues=issues,
        parts=parts,
        notes=notes,
        reference=order["no"],
        ship_to=ship_to,
    )


async def _creatable(ctx: Ctx, work_order_id: Any) -> tuple[dict, dict | None]:
    """The order a GSX repair may be made for, and its GSX row (a repair once per order)."""
    await _configured(ctx)
    order = await work_orders.get(ctx, work_order_id)
    if order["status"] in ("closed", "cancelled"):
        raise Conflict("工单已结单或已取消，不能创建 GSX 维修", code="invalid_state")
    existing = await _order_row(ctx, order["id"])
    if existing and existing["repair_id"]:
        raise Conflict(f"此工单已有 GSX 维修 {existing['repair_id']}", code="gsx_repair_exists")
    return order, existing


async def _precheck(client: wire.Provider, operator: wire.Operator, request: wire.RepairRequest) -> dict:
    """GSX's eligibility of the repair and its parts' descriptions, prices and availability."""
    eligibility = await client.repair_eligibility(operator, request)
    parts = await client.parts_summary(operator, request.serial, request.parts) if request.parts else []
    return eligibility | {"parts": parts, "unknown_parts": [p["number"] for p in parts if not p["known"]]}


def _refuse_unfit(checked: dict) -> None:
    if not checked["eligible"]:
        said = [m for o in checked["outcome"] if o["action"] == "STOP" for m in o["messages"]]
        raise Conflict(
            "GSX 判定此维修不符合资格，未创建：" + ("；".join(said) or "请在 GSX 中查看原因"), code="gsx_ineligible"
        )
    if checked["unknown_parts"]:
        raise BusinessError(
            f"GSX 中查不到部件号 {'、'.join(checked['unknown_parts'])}（或不适用于此设备），请更正后再提交",
            code="gsx_unknown_part",
            field="parts",
        )


async def check_repair(ctx: Ctx, work_order_id: Any, data: dict) -> dict:
    """【检查资格与部件】 in 【创建 GSX 维修】: what GSX would say, before anything is created
    (create asks the same again and refuses an ineligible repair or an unknown part)."""
    order, _ = await _creatable(ctx, work_order_id)
    request = _repair_request(order, data, None)
    return await _as_user(ctx, lambda c, op: _precheck(c, op, request), order["id"])


async def create_repair(ctx: Ctx, work_order_id: Any, data: dict) -> dict:
    """【创建 GSX 维修】: one GSX repair per order, once GSX found it eligible and knows its parts;
    its outcome (HOLD/STOP/MESSAGE/WARNING) is kept and shown in Chinese; HOLD and WARNING wait
    for the user's acknowledgement (sent to GSX with 【我已知晓】)."""
    order, existing = await _creatable(ctx, work_order_id)
    request = _repair_request(order, data, None)

    async def checked_then_created(client: wire.Provider, operator: wire.Operator) -> dict:
        _refuse_unfit(await _precheck(client, operator, request))
        return await client.repair_create(operator, request)

    answer = await _as_user(ctx, checked_then_created, order["id"])
    at = now()
    values: dict[str, Any] = {"serial_no": request.serial, "outcome": json.dumps(answer["outcome"], ensure_ascii=False)}
    if answer["repair_id"]:
        history = [
            {"at": iso(at), "status": "CRTD", "description": f"{ctx.user_name} 创建 GSX 维修 {answer['repair_id']}"}
        ]
        values |= {
            "repair_id": answer["repair_id"],
            "repair_type": request.repair_type,
            "repair_status": "CRTD",
            "repair_status_description": "维修已创建",
            "repair_created_by": ctx.user_id,
            "repair_created_by_name": ctx.user_name[:100],
            "repair_created_at": at,
            "acknowledged_at": None,
            "acknowledged_by_name": "",
            "history": json.dumps(_json(existing and existing["history"], []) + history, ensure_ascii=False),
            "next_poll_at": at + POLL_EVERY,
            "poll_failures": 0,
        }
    row = await _save_order(ctx, order["id"], values)
    org_path = (await orgs.get(ctx, order["org_id"]))["path"]
    async with db.atomic():
        summary = f"创建 GSX 维修 {answer['repair_id']}" if answer["repair_id"] else "GSX 拒绝创建维修（STOP）"
        await audit.record(ctx, "gsx_repair", "work_order", order["id"], f"{order['no']} {summary}")
        if answer["repair_id"]:  # its card and timeline on the order's other open pages
            realtime.emit(ctx.tenant_id, org_path, "workorders", "gsx", order["id"])
    return _order_public(row, order["id"])


async def acknowledge(ctx: Ctx, work_order_id: Any) -> dict:
    """【我已知晓】: the HOLD/WARNING messages acknowledged, to GSX (repair/update) when a repair
    was made, and on the order."""
    await _configured(ctx)
    order = await work_orders.get(ctx, work_order_id)
    row = await _order_row(ctx, order["id"])
    if row is None or not _order_public(row, order["id"])["needs_ack"]:
        raise Conflict("没有需要确认的 GSX 提示", code="nothing_to_acknowledge")
    if row["repair_id"]:
        rid = row["repair_id"]
        await _as_user(ctx, lambda c, op: c.repair_update(op, rid, acknowledge=True), order["id"])
    row = await _save_order(ctx, order["id"], {"acknowledged_at": now(), "acknowledged_by_name": ctx.user_name[:100]})
    return _order_public(row, order["id"])


async def add_note(ctx: Ctx, work_order_id: Any, note: Any) -> dict:
    """【添加备注】 on the order's GSX card: a technician's note on the GSX repair (repair/update),
    kept in its history (the order's timeline) once GSX took it."""
    await _configured(ctx)
    order = await work_orders.get(ctx, work_order_id)
    text = str(note or "").strip()
    if not text:
        raise BusinessError("请填写备注", code="required", field="note")
    if len(text) > 1000:
        raise BusinessError("备注不能超过 1000 字", code="invalid_field", field="note")
    row = await _order_row(ctx, order["id"])
    if row is None or not row["repair_id"]:
        raise Conflict("此工单还没有 GSX 维修", code="no_gsx_repair")
    rid = row["repair_id"]
    await _as_user(ctx, lambda c, op: c.repair_update(op, rid, note=text), order["id"])
    org_path = (await orgs.get(ctx, order["org_id"]))["path"]
    async with db.atomic():
        current = await _order_row(ctx, order["id"])  # the poller may have added to the history
        entry = {"at": iso(now()), "status": "NOTE", "description": f"备注：{text}", "by": ctx.user_name[:100]}
        history = _json(current and current["history"], []) + [entry]
        row = await _save_order(ctx, order["id"], {"history": json.dumps(history, ensure_ascii=False)})
        realtime.emit(ctx.tenant_id, org_path, "workorders", "gsx", order["id"])
    return _order_public(row, order["id"])


@hooks.adds_timeline_events
async def _timeline(ctx: Ctx, work_order_id: int) -> list[dict]:
    """The GSX repair's history as events of the order's one timeline (【状态记录】), merged by
    the work-order service that builds it (`hooks.timeline_events`): the GSX history stays where the
    poller writes it, and the status rows keep their meaning (how long the order stayed)."""
    if not await is_configured(ctx):  # every order page asks: no statement where GSX is off
        return []
    row = await _order_row(ctx, work_order_id)
    if row is None or not row["repair_id"]:
        return []
    out = []
    for h in _json(row["history"], []):
        at = datetime.fromisoformat(h["at"])
        created = h.get("status") == "CRTD"
        what = f"创建维修 {row['repair_id']}" if created else h.get("description") or h.get("status")
        out.append(
            {
                "at": at,
                "kind": "gsx",
                "label": f"GSX：{what}",
                "note": h.get("status") or "",
                "user_name": row["repair_created_by_name"] if created else h.get("by") or "Apple GSX",
            }
        )
    return out


# --- status ---------------------------------------------------------------------------------------


async def _claim(row_id: int, at: datetime) -> bool:
    """The poller's claim on one GSX repair: a conditional UPDATE, so two processes never poll
    the same repair at once (the loser's UPDATE matches no row)."""
    claimed = (
        await GsxOrder.update({"poll_claimed_until": at + POLL_CLAIM})
        .where((GsxOrder.id == row_id) & ((GsxOrder.poll_claimed_until.is_null()) | (GsxOrder.poll_claimed_until < at)))
        .returning(GsxOrder.id)
    )
    return bool(claimed)


async def refresh_status(ctx: Ctx, work_order_id: Any) -> dict:
    """Ask GSX for the repair's status now (the order page's 【刷新状态】, and the poller)."""
    await _configured(ctx)
    order = await work_orders.get(ctx, work_order_id)
    row = await _order_row(ctx, order["id"])
    if row is None or not row["repair_id"]:
        raise Conflict("此工单还没有 GSX 维修", code="no_gsx_repair")
    at = now()
    if not await _claim(row["id"], at):
        raise Conflict("GSX 状态正在刷新，请稍候", code="gsx_poll_running")
    try:
        details = await _as_user(ctx, lambda c, op: c.repair_details(op, row["repair_id"]), order["id"])
    except BusinessError:
        await GsxOrder.update({"poll_claimed_until": None, "poll_failures": GsxOrder.poll_failures + 1}).where(
            GsxOrder.id == row["id"]
        )
        raise
    row = await _apply_status(ctx, order, row, details)
    order = await work_orders.get(ctx, order["id"])  # a mapped status may have moved it
    return _order_public(row, order["id"]) | {"status_hint": await _status_hint(ctx, order, row)}


async def _apply_status(ctx: Ctx, order: dict, row: dict, details: dict) -> dict:
    """Keep GSX's new status in the order's GSX history (shown in its timeline) and tell the
    order's pages (live). A status the tenant mapped (`status_map`) acts on the order, as `ctx`
    (the poller acts as the repair's creator): `repairing` moves an accepted order through the
    work-order service's own 【直接维修】 (audited, live); `repaired` leaves 【维修完毕】 to the
    technician (it needs a repair result and issues stock) and sends them a live notice."""
    at = now()
    values: dict[str, Any] = {"poll_claimed_until": None, "poll_failures": 0, "next_poll_at": at + POLL_EVERY}
    changed = bool(details["status"]) and details["status"] != row["repair_status"]
    notice = ""
    if changed:
        entry = {"at": iso(at), "status": details["status"], "description": details["description"]}
        settings_row = await _settings(ctx.tenant_id) or {}
        mapped = _json(settings_row.get("status_map"), DEFAULT_STATUS_MAP).get(details["status"], "")
        if mapped == "repairing" and order["status"] == WorkOrderStatus.ACCEPTED:
            try:
                await work_orders.start_repair(
                    ctx,
                    order["id"],
                    {
                        "final_service_type": order.get("final_service_type") or order["service_type"],
                        "fault_reason_ids": order.get("fault_reason_ids") or [],
                        "defective_warehouse_id": order.get("defective_warehouse_id"),
                    },
                )
                entry["description"] += "（按对接设置：工单已转为维修中）"
            except BusinessError as exc:  # the order moved meanwhile, or its data no longer passes
                entry["description"] += f"（按对接设置应开始维修，未能自动执行：{exc.detail}）"
            entry["at"] = iso(now())  # after the status it caused: the timeline reads cause → effect
        elif mapped == "repaired" and order["status"] in OPEN:
            entry["description"] += "（按对接设置：请技师填写维修结果并【维修完毕】）"
            said = details["description"] or details["status"]
            notice = f"工单 {order['no']}：GSX {said}，请填写维修结果并【维修完毕】"
        values |= {
            "repair_status": details["status"],
            "repair_status_description": details["description"],
            "history": json.dumps(_json(row["history"], []) + [entry], ensure_ascii=False),
        }
        if details["status"] == "CLSD":
            values["next_poll_at"] = None
    org_path = (await orgs.get(ctx, order["org_id"]))["path"] if changed else ""
    async with db.atomic():
        saved = await _save_order(ctx, row["work_order_id"], values)
        if changed:  # the order's open pages, live (its org and the orgs above it)
            realtime.emit(ctx.tenant_id, org_path, "workorders", "gsx", order["id"])
        if notice:  # the technician (none yet: whoever created the GSX repair), wherever they are
            who = order.get("technician_id") or row.get("repair_created_by")
            realtime.emit_users(ctx.tenant_id, (who,), "my_repairs", "gsx", order["id"], note=notice)
    return saved


async def poll_due(limit: int = 20) -> int:
    """The status poller's round (server.gsx.poller, every process): each open GSX repair whose
    time has come is claimed (one process polls it), asked as the user who created it, and put
    back with its next time — later after each failure (backoff), never when GSX closed it."""
    at = now()
    rows = await (
        GsxOrder.select()
        .where((GsxOrder.next_poll_at <= at) & (GsxOrder.repair_id != ""))
        .order_by(GsxOrder.next_poll_at)
        .limit(limit)
    )
    polled = 0
    for row in rows:
        if not await _claim(row["id"], at):
            continue
        ctx = await auth.ctx_for(row["repair_created_by"], row["tenant_id"]) if row["repair_created_by"] else None
        if ctx is None:  # its creator left: nobody to ask GSX as
            await GsxOrder.update({"next_poll_at": None, "poll_claimed_until": None}).where(GsxOrder.id == row["id"])
            continue
        try:
            order = await work_orders.get(ctx, row["work_order_id"])
            details = await _as_user(ctx, lambda c, op, rid=row["repair_id"]: c.repair_details(op, rid), order["id"])
            await _apply_status(ctx, order, row, details)
        except Exception as exc:  # GSX down, the order gone, a bug: this repair waits longer, the round goes on
            if not isinstance(exc, BusinessError):
                log.exception("GSX status poll of repair %s failed", row["repair_id"])
            failures = row["poll_failures"] + 1
            wait = min(POLL_EVERY * (2 ** min(failures, 6)), timedelta(hours=6))
            await GsxOrder.update(
                {"poll_failures": failures, "next_poll_at": now() + wait, "poll_claimed_until": None}
            ).where(GsxOrder.id == row["id"])
            continue
        polled += 1
    return polled


# --- news and the call log ------------------------------------------------------------------------

NEWS_LIFE = timedelta(minutes=15)


async def news(ctx: Ctx) -> list[dict]:
    """【GSX 公告】, read through the provider as the user; kept per tenant in `gsx_news`, so every
    process serves the same answer until it is NEWS_LIFE old."""
    await _configured(ctx)
    kept = await GsxNews.select(GsxNews.items, GsxNews.fetched_at).where(scoped(ctx, GsxNews)).first()
    if kept and kept["fetched_at"] and now() - kept["fetched_at"] < NEWS_LIFE:
        return _json(kept["items"], [])
    items = await _as_user(ctx, lambda c, op: c.articles(op))
    fresh = GsxNews(tenant_id=ctx.tenant_id, items=json.dumps(items, ensure_ascii=False), fetched_at=now())
    await GsxNews.insert(fresh).on_conflict(
        target=GsxNews.tenant_id, action="DO UPDATE", values=[GsxNews.items, GsxNews.fetched_at]
    )
    return items


# --- 【GSX 维修】: the tenant's GSX repairs ---------------------------------------------------------

SYNC_LIMIT = 50  # repairs asked about in one 【同步】 (repair/summary takes a list)


def _repairs_where(ctx: Ctx):
    """The GSX repairs of the orders the caller sees (their org and below)."""
    visible = WorkOrder.select(WorkOrder.id).where(scoped(ctx, WorkOrder, subtree=WorkOrder.org_path))
    return scoped(ctx, GsxOrder) & (GsxOrder.repair_id != "") & GsxOrder.work_order_id.is_in(visible)


async def repairs(ctx: Ctx, params: PageParams) -> Page:
    """【GSX 维修】: newest first, from what Weifu stored (no call to GSX)."""
    await _configured(ctx)
    where = _repairs_where(ctx)
    select = (
        GsxOrder.select(
            GsxOrder.id,
            GsxOrder.work_order_id,
            GsxOrder.repair_id,
            GsxOrder.repair_type,
            GsxOrder.repair_status,
            GsxOrder.repair_status_description,
            GsxOrder.repair_created_by_name,
            GsxOrder.repair_created_at,
            GsxOrder.updated_at,
        )
        .where(where)
        .order_by(GsxOrder.id, ascending=False)
    )
    page = await paginate(select, GsxOrder.count().where(where), params, seek=GsxOrder.id, ascending=False)
    ids = [r["work_order_id"] for r in page.items]
    found = (
        await WorkOrder.select(WorkOrder.id, WorkOrder.no, WorkOrder.status).where(WorkOrder.id.is_in(ids))
        if ids
        else []
    )
    by_id = {o["id"]: o for o in found}
    labels = WorkOrderStatus.labels()
    return page.with_items(
        [
            r
            | {
                "work_order_no": by_id.get(r["work_order_id"], {}).get("no", ""),
                "work_order_status": by_id.get(r["work_order_id"], {}).get("status", ""),
                "work_order_status_label": labels.get(by_id.get(r["work_order_id"], {}).get("status", ""), ""),
                "repair_type_label": wire.REPAIR_TYPES.get(r["repair_type"], r["repair_type"]),
                "repair_created_at": iso(r["repair_created_at"]),
                "updated_at": iso(r["updated_at"]),
            }
            for r in page.items
        ]
    )


async def sync_repairs(ctx: Ctx) -> dict:
    """【同步】: GSX's status of the caller's open repairs (those least recently updated first)
    in one repair/summary call, as the caller; each changed status is applied as the poller
    applies it (history, mapping, live). A repair being polled right now is skipped (its claim)."""
    await _configured(ctx)
    rows = await (
        GsxOrder.select()
        .where(_repairs_where(ctx) & (GsxOrder.repair_status != "CLSD"))
        .order_by(GsxOrder.updated_at)
        .limit(SYNC_LIMIT)
    )
    at = now()
    claimed = [r for r in rows if await _claim(r["id"], at)]
    if not claimed:
        return {"asked": 0, "changed": 0, "skipped": len(rows)}
    ids = [r["id"] for r in claimed]
    try:
        answers = await _as_user(ctx, lambda c, op: c.repair_summary(op, [r["repair_id"] for r in claimed]))
    except BusinessError:
        await GsxOrder.update({"poll_claimed_until": None}).where(GsxOrder.id.is_in(ids))
        raise
    by_rid = {a["repair_id"]: a for a in answers}
    changed = 0
    for row in claimed:
        details = by_rid.get(row["repair_id"])
        if details is None:  # GSX did not list it: left to the poller
            await GsxOrder.update({"poll_claimed_until": None}).where(GsxOrder.id == row["id"])
            continue
        changed += bool(details["status"]) and details["status"] != row["repair_status"]
        await _apply_status(ctx, await work_orders.get(ctx, row["work_order_id"]), row, details)
    return {"asked": len(claimed), "changed": changed, "skipped": len(rows) - len(claimed)}


async def calls(ctx: Ctx, params: PageParams) -> Page:
    await _configured(ctx)
    where = scoped(ctx, GsxCall)
    select = (
        GsxCall.select(
            GsxCall.id,
            GsxCall.user_name,
            GsxCall.endpoint,
            GsxCall.http_status,
            GsxCall.outcome,
            GsxCall.message,
            GsxCall.duration_ms,
            GsxCall.attempts,
            GsxCall.trace_id,
            GsxCall.work_order_id,
            GsxCall.created_at,
        )
        .where(where)
        .order_by(GsxCall.id, ascending=False)
    )
    page = await paginate(select, GsxCall.count().where(where), params, seek=GsxCall.id, ascending=False)
    return page.with_items([r | {"created_at": iso(r["created_at"])} for r in page.items])
