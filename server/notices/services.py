"""Customer notices (SPEC 11): on intake, `repaired` and closing, one notice per channel the
tenant turned on (SMS, email) to a customer who takes them, written in the move's transaction
with its job (the outbox: a rolled-back move sends nothing), sent by the job through the
tenant's provider, retried with backoff, recorded with the provider's answer.

Also the gateway settings (head office only; secrets encrypted, never shown back) and the
notice texts per event and channel (rendered in the print sandbox as plain text)."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from typing import Any

import realtime
from server.core import audit, authcache, hooks, jobs, secrets, validate
from server.core.api import Filters
from server.core.clock import iso, now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.tenancy import Ctx, in_tenant, scoped
from server.notices import permissions as P
from server.notices import providers
from server.notices.providers import smtp, webhook
from server.notices.states import Channel, Event, NoticeStatus, SmtpSecurity
from server.notices.tables import Notice, NoticeSettings, NoticeTemplate
from server.printing import sandbox
from server.system.services import orgs
from server.workorders.services import orders

audit.ENTITIES.update({"notice": "客户通知", "notice_template": "通知模板", "notice_settings": "客户通知设置"})
SEND_JOB = "notices.send"
MAX_TRIES = 5
SMS_PROVIDERS = {"webhook": webhook}  # an Aliyun- or Tencent-style gateway is one more module here
URL = r"https?://[^\s]{1,290}"
EMAIL = r"[^@\s]{1,64}@[^@\s]{1,190}"
realtime.topic("notices", P.VIEW)  # 【通知记录】 follows its notices live

# --- templates ------------------------------------------------------------------------------------

# the fields a notice text may use, with an example for the editor's preview
FIELDS = {
    "no": ("工单号", "GD20261207-0001"),
    "customer_name": ("客户姓名", "王先生"),
    "device": ("设备", "iPhone 15 Pro"),
    "serial_no": ("序列号", "F2LXK1ABHG7F"),
    "status": ("工单状态", "维修完毕"),
    "org_name": ("服务网点", "上海徐汇服务中心"),
    "org_phone": ("网点电话", "021-64000000"),
    "org_address": ("网点地址", "上海市徐汇区漕溪北路 1 号"),
    "status_url": ("进度查询链接", "https://weifu.example/s/abc123"),
}
EXAMPLE = {k: example for k, (_label, example) in FIELDS.items()}

# a link or a phone the order lacks (no status page yet, an org without a phone) leaves no dangling label
_LINK = "{% if status_url %}进度查询：{{ status_url }} {% endif %}"
_PHONE = "{% if org_phone %}电话 {{ org_phone }}{% endif %}"
_GREETING = "【{{ org_name }}】{{ customer_name }}您好，"
_SMS = {
    Event.ACCEPTED: _GREETING + "您的{{ device }}已受理，工单号 {{ no }}。" + _LINK + _PHONE,
    Event.REPAIRED: _GREETING
    + "您的{{ device }}已维修完毕，请凭工单号 {{ no }} 到店取机。"
    + "{% if org_address %}地址：{{ org_address }} {% endif %}"
    + _LINK
    + _PHONE,
    Event.CLOSED: _GREETING + "工单 {{ no }} 已结单，感谢您的信任。" + _LINK + _PHONE,
}
_SUBJECT = {
    Event.ACCEPTED: "您的{{ device }}已受理（工单 {{ no }}）",
    Event.REPAIRED: "您的{{ device }}已维修完毕，请来取机（工单 {{ no }}）",
    Event.CLOSED: "工单 {{ no }} 已结单",
}
_EMAIL_TAIL = "\n\n" + _LINK + "\n{{ org_name }} " + _PHONE + "\n{{ org_address }}"
DEFAULTS = {
    (event, channel): (
        _SUBJECT[event] if channel == Channel.EMAIL else "",
        _SMS[event] + (_EMAIL_TAIL if channel == Channel.EMAIL else ""),
    )
    for event in Event
    for channel in Channel
}


@hooks.on_tenant_created
async def seed_templates(ctx: Ctx) -> None:
    """A new tenant starts with a text for every event and channel (the demo's included)."""
    t = now()
    await NoticeTemplate.insert(
        *[
            NoticeTemplate(tenant_id=ctx.tenant_id, event=e, channel=c, subject=s, body=b, updated_at=t)
            for (e, c), (s, b) in DEFAULTS.items()
        ]
    ).on_conflict(action="DO NOTHING")


def _template_out(row: dict) -> dict:
    return {
        "id": row["id"],
        "event": row["event"],
        "event_label": Event(row["event"]).label,
        "channel": row["channel"],
        "channel_label": Channel(row["channel"]).label,
        "enabled": bool(row["enabled"]),
        "subject": row["subject"],
        "body": row["body"],
        "updated_by_name": row["updated_by_name"],
        "updated_at": iso(row["updated_at"]),
    }


async def list_templates(ctx: Ctx) -> list[dict]:
    rows = await NoticeTemplate.select().where(scoped(ctx, NoticeTemplate)).order_by(NoticeTemplate.id)
    order = {(e, c): i for i, (e, c) in enumerate(DEFAULTS)}
    return [_template_out(r) for r in sorted(rows, key=lambda r: order.get((r["event"], r["channel"]), 99))]


async def get_template(ctx: Ctx, template_id: Any) -> dict:
    tid = validate.ident(template_id, "通知模板", "template_id")
    row = await NoticeTemplate.select().where(scoped(ctx, NoticeTemplate) & (NoticeTemplate.id == tid)).first()
    if row is None:
        raise NotFound("通知模板")
    return _template_out(row)


async def _check(source: str, field: str) -> str:
    """The text rendered once with the example data: its author hears of a mistake on saving."""
    try:
        return await sandbox.render(source, EXAMPLE, text=True)
    except sandbox.TemplateProblem as exc:
        raise BusinessError(f"模板有误：{exc}", code="template_invalid", field=field) from None


async def put_template(ctx: Ctx, template_id: Any, data: dict) -> dict:
    """Save an event's text on a channel (and whether it is sent); checked by rendering it."""
    before = await get_template(ctx, template_id)
    email = before["channel"] == Channel.EMAIL
    values = {
        "enabled": validate.boolean(data.get("enabled", before["enabled"]), "启用", "enabled"),
        "subject": validate.text(data.get("subject", before["subject"]), "邮件标题", 200, email, "subject")
        if email
        else "",
        "body": validate.text(data.get("body", before["body"]), "通知内容", 2000, True, "body"),
    }
    if email:
        await _check(values["subject"], "subject")
    await _check(values["body"], "body")
    async with atomic():
        await NoticeTemplate.update(values | {"updated_by_name": ctx.user_name[:100], "updated_at": now()}).where(
            scoped(ctx, NoticeTemplate) & (NoticeTemplate.id == before["id"])
        )
        summary = f"修改通知模板 {before['event_label']}·{before['channel_label']}"
        shown = {k: before[k] for k in values}
        await audit.record(ctx, "update", "notice_template", before["id"], summary, shown, values)
    return await get_template(ctx, before["id"])


async def preview(source: str) -> str:
    """A text as the example order renders it (the editor's preview), or the problem in it."""
    try:
        return await sandbox.render(source, EXAMPLE, text=True)
    except sandbox.TemplateProblem as exc:
        return f"模板有误：{exc}"


# --- settings -------------------------------------------------------------------------------------


async def _settings_row(tenant_id: int) -> dict | None:
    # by id: the notice job and the features run before or without a caller's Ctx
    return await NoticeSettings.select().where(in_tenant(NoticeSettings, tenant_id)).output(load_json=True).first()


def _settings_out(row: dict | None) -> dict:
    row = row or {}
    return {
        "sms_enabled": bool(row.get("sms_enabled")),
        "sms_provider": row.get("sms_provider") or "webhook",
        "sms_url": row.get("sms_url") or "",
        "sms_headers": row.get("sms_headers") or {},
        "sms_secret_header_names": row.get("sms_secret_header_names") or [],
        "sms_body": row.get("sms_body") or webhook.DEFAULT_BODY,
        "email_enabled": bool(row.get("email_enabled")),
        "smtp_host": row.get("smtp_host") or "",
        "smtp_port": row.get("smtp_port") or 587,
        "smtp_security": row.get("smtp_security") or SmtpSecurity.STARTTLS,
        "smtp_user": row.get("smtp_user") or "",
        "smtp_password_set": bool(row.get("smtp_password_enc")),
        "smtp_from": row.get("smtp_from") or "",
        "updated_by_name": row.get("updated_by_name") or "",
        "updated_at": iso(row.get("updated_at")),
    }


async def get_settings(ctx: Ctx) -> dict:
    ctx.require_hq("客户通知的网关只能由总部配置")
    return _settings_out(await _settings_row(ctx.tenant_id))


def _headers(value: Any, label: str, field: str) -> dict[str, str]:
    """{name: value} of HTTP headers: names of letters, digits and dashes, values on one line."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 20:
        raise BusinessError(f"{label}须是名称到值的对应（最多 20 个）", code="invalid_field", field=field)
    out = {}
    for name, text in value.items():
        if not re.fullmatch(r"[A-Za-z0-9-]{1,60}", str(name)):
            raise BusinessError(f"{label}的名称「{str(name)[:20]}」格式不正确", code="invalid_field", field=field)
        out[name] = validate.text(text, f"{label} {name}", 500, True, field)
    return out


async def put_settings(ctx: Ctx, data: dict) -> dict:
    """Save the gateways. A secret header or the SMTP password left out keeps the stored one;
    secret headers given replace them all. Turning a channel on needs its address."""
    ctx.require_hq("客户通知的网关只能由总部配置")
    v = validate
    sms_on = v.boolean(data.get("sms_enabled", False), "短信通知", "sms_enabled")
    email_on = v.boolean(data.get("email_enabled", False), "邮件通知", "email_enabled")
    body = v.text(data.get("sms_body") or webhook.DEFAULT_BODY, "请求体模板", 4000, False, "sms_body")
    try:
        webhook.body(body, providers.Message("13800138000", "", "测试"))
    except sandbox.TemplateProblem as exc:
        raise BusinessError(f"请求体模板有误：{exc}", code="template_invalid", field="sms_body") from None
    values: dict[str, Any] = {
        "sms_enabled": sms_on,
        "sms_provider": v.choice(
            data.get("sms_provider") or "webhook", "短信网关类型", {"webhook": "JSON Webhook"}, "sms_provider"
        ),
        "sms_url": v.text(
            data.get("sms_url"),
            "短信网关地址",
            300,
            sms_on,
            "sms_url",
            URL,
            "短信网关地址须以 http:// 或 https:// 开头",
        ),
        "sms_headers": json.dumps(_headers(data.get("sms_headers"), "请求头", "sms_headers")),
        "sms_body": body,
        "email_enabled": email_on,
        "smtp_host": v.text(data.get("smtp_host"), "SMTP 服务器", 200, email_on, "smtp_host"),
        "smtp_port": v.integer(data.get("smtp_port") or 587, "SMTP 端口", 1, 65535, "smtp_port"),
        "smtp_security": v.choice(
            data.get("smtp_security") or "starttls", "加密方式", SmtpSecurity.labels(), "smtp_security"
        ),
        "smtp_user": v.text(data.get("smtp_user"), "SMTP 用户名", 200, False, "smtp_user"),
        "smtp_from": v.text(data.get("smtp_from"), "发件人", 200, email_on, "smtp_from", EMAIL, "发件人须是邮箱地址"),
    }
    secret_headers = data.get("sms_secret_headers")
    if secret_headers is not None:
        secret = _headers(secret_headers, "保密请求头", "sms_secret_headers")
        values["sms_secret_headers_enc"] = secrets.encrypt(json.dumps(secret)) if secret else ""
        values["sms_secret_header_names"] = json.dumps(sorted(secret))
    if data.get("smtp_password"):
        values["smtp_password_enc"] = secrets.encrypt(
            v.text(data["smtp_password"], "SMTP 密码", 200, False, "smtp_password")
        )
    values |= {"updated_by_name": ctx.user_name[:100], "updated_at": now()}
    async with atomic():
        before = await _settings_row(ctx.tenant_id)
        # a first save racing another: the tenant's one row (unique index), then both update it
        await NoticeSettings.insert(NoticeSettings(tenant_id=ctx.tenant_id, updated_at=now())).on_conflict(
            action="DO NOTHING"
        )
        await NoticeSettings.update(values).where(scoped(ctx, NoticeSettings))
        after = _settings_out(await _settings_row(ctx.tenant_id))
        shown = {k: x for k, x in after.items() if k not in ("updated_at", "updated_by_name")}
        was = {k: x for k, x in _settings_out(before).items() if k in shown}
        await audit.record(ctx, "update", "notice_settings", ctx.tenant_id, "修改客户通知设置", was, shown)
    return after


@hooks.provides_features
async def _features(tenant_id: int) -> set[str]:
    """The feature "notices" while a channel is on: an order page then reads its notices (one
    statement it spares otherwise). Kept in `authcache` under the tenant's generation, which saving moves on."""
    key = ("notices_on", tenant_id)
    if (kept := await authcache.get(key)) is not None:
        return set(kept)
    generation = await authcache.generation(tenant_id)  # read before the query: see authcache
    row = await _settings_row(tenant_id)
    found = {"notices"} if row and (row["sms_enabled"] or row["email_enabled"]) else set()
    authcache.put(key, tenant_id, generation, sorted(found))
    return found


def _sms_config(row: dict) -> dict:
    headers = dict(row["sms_headers"] or {})
    if row["sms_secret_headers_enc"]:
        headers |= json.loads(secrets.decrypt(row["sms_secret_headers_enc"]))
    return {"url": row["sms_url"], "headers": headers, "body": row["sms_body"]}


def _smtp_config(row: dict) -> dict:
    return {
        "host": row["smtp_host"],
        "port": row["smtp_port"],
        "security": row["smtp_security"],
        "user": row["smtp_user"],
        "password": secrets.decrypt(row["smtp_password_enc"]) if row["smtp_password_enc"] else "",
        "sender": row["smtp_from"],
    }


# --- writing notices (inside the move's transaction) -----------------------------------------------


async def _org(ctx: Ctx, org_id: int) -> dict:
    """The org the customer deals with (the intake's); the mover's own when theirs is out of reach."""
    for oid in (org_id, ctx.org_id):
        try:
            return await orgs.get(ctx, oid)
        except NotFound:
            continue
    return {"name": ctx.org_name, "phone": "", "address": ""}


async def _data(ctx: Ctx, order: dict) -> dict:
    org = await _org(ctx, order["intake_org_id"] or order["org_id"])
    return {
        "no": order["no"],
        "customer_name": order["customer"]["name"],
        "device": order["goods_name"].split(" ", 1)[-1] if order["goods_name"] else "设备",
        "serial_no": order["serial_no"],
        "status": order["status_label"],
        "org_name": org.get("name") or "",
        "org_phone": org.get("phone") or "",
        "org_address": org.get("address") or "",
        "status_url": order.get("status_url") or "",
    }


@hooks.on_work_order_status
async def on_move(ctx: Ctx, moved: dict, to: str) -> None:
    """Intake, `repaired` and closing write their notices and jobs in the move's transaction."""
    if to not in Event.labels():
        return
    row = await _settings_row(ctx.tenant_id)
    channels = [
        c for c, on in ((Channel.SMS, row and row["sms_enabled"]), (Channel.EMAIL, row and row["email_enabled"])) if on
    ]
    if not channels:
        return
    # the mover acts on this order (a repair centre's on another org's): it reads the order as its own
    ctx = dataclasses.replace(ctx, org_path=moved.get("org_path") or ctx.org_path)
    order = await orders.get(ctx, moved["id"])
    customer = order["customer"]
    if customer.get("no_notify"):
        return
    contact = {Channel.SMS: customer.get("phone") or "", Channel.EMAIL: customer.get("email") or ""}
    texts = {
        r["channel"]: r
        for r in await NoticeTemplate.select().where(
            scoped(ctx, NoticeTemplate) & (NoticeTemplate.event == to) & NoticeTemplate.channel.is_in(channels)
        )
    }
    data = None
    for channel in channels:
        text = texts.get(channel)
        if not contact[channel] or text is None or not text["enabled"]:
            continue
        data = data or await _data(ctx, order)
        await _write(ctx, order, to, channel, contact[channel], text, data)


async def _write(ctx: Ctx, order: dict, event: str, channel: str, to: str, text: dict, data: dict) -> None:
    """One notice row (once per order, event and channel: its key) and its job; a text that does
    not render is recorded failed with the reason, and the move goes on."""
    status, answer, subject, body = NoticeStatus.QUEUED, "", "", ""
    try:
        if channel == Channel.EMAIL:
            subject = (await sandbox.render(text["subject"], data, text=True)).strip()[:200]
        body = (await sandbox.render(text["body"], data, text=True)).strip()
    except sandbox.TemplateProblem as exc:
        status, answer = NoticeStatus.FAILED, f"通知模板有误：{exc}"[:500]
    t = now()
    rows = await (
        Notice.insert(
            Notice(
                tenant_id=ctx.tenant_id,
                key=f"wo{order['id']}:{event}:{channel}",
                work_order_id=order["id"],
                work_order_no=order["no"],
                org_path=ctx.org_path,
                customer_name=order["customer"]["name"][:50],
                event=event,
                channel=channel,
                recipient=to[:200],
                template_id=text["id"],
                subject=subject,
                body=body,
                status=status,
                answer=answer,
                created_at=t,
                updated_at=t,
            )
        )
        .on_conflict(action="DO NOTHING")
        .returning(Notice.id)
    )
    if rows:
        _changed(ctx.tenant_id, ctx.org_path, order["id"], rows[0]["id"], status)
    if rows and status == NoticeStatus.QUEUED:
        await _enqueue(ctx, rows[0]["id"], 0)


def _changed(tenant_id: int, org_path: str, order_id: int, notice_id: int, status: str) -> None:
    """A notice written or its status changed: 【通知记录】 and its order's page (the timeline)
    re-read live, after the commit — also when the job runs in the worker (server.worker)."""
    realtime.emit(tenant_id, org_path, "notices", status, notice_id)
    realtime.emit(tenant_id, org_path, "workorders", "notice", order_id)


async def _enqueue(ctx: Ctx, notice_id: int, resends: int) -> None:
    key = f"notice{notice_id}:{resends}"
    await jobs.enqueue(ctx, SEND_JOB, args={"notice_id": notice_id}, key=key, max_attempts=MAX_TRIES)


# --- sending (the job) ------------------------------------------------------------------------------


async def _provider_send(row: dict, settings: dict | None) -> str:
    message = providers.Message(row["recipient"], row["subject"], row["body"])
    if row["channel"] == Channel.SMS:
        if not settings or not settings["sms_url"]:
            raise providers.SendFailed("未配置短信网关", retry=False)
        provider = SMS_PROVIDERS.get(settings["sms_provider"])
        if provider is None:
            raise providers.SendFailed(f"不支持的短信网关类型：{settings['sms_provider']}", retry=False)
        return await provider.send(_sms_config(settings), message)
    if not settings or not settings["smtp_host"]:
        raise providers.SendFailed("未配置邮件服务器", retry=False)
    return await smtp.send(_smtp_config(settings), message)


@jobs.register(SEND_JOB)
async def send(run: jobs.Run) -> dict:
    """Send one notice. A notice already sent is left alone (the job ran twice); a failure worth a
    retry raises `jobs.Retry` until MAX_TRIES, then the notice is failed."""
    where = scoped(run.ctx, Notice) & (Notice.id == run.args["notice_id"])
    row = await Notice.select().where(where).first()
    if row is None or row["status"] != NoticeStatus.QUEUED:
        return {"skipped": True}
    settings = await _settings_row(run.ctx.tenant_id)
    try:
        answer = await _provider_send(row, settings)
    except BusinessError as exc:  # a secret that no longer decrypts
        failure = providers.SendFailed(exc.detail, retry=False)
    except providers.SendFailed as exc:
        failure = exc
    else:
        t = now()
        async with atomic():
            await Notice.update(
                {
                    Notice.status: NoticeStatus.SENT,
                    Notice.attempts: Notice.attempts + 1,
                    Notice.answer: answer[:500],
                    Notice.sent_at: t,
                    Notice.updated_at: t,
                }
            ).where(where & (Notice.status == NoticeStatus.QUEUED))
            _changed(run.ctx.tenant_id, row["org_path"], row["work_order_id"], row["id"], NoticeStatus.SENT)
        return {"sent": True}
    last = not failure.retry or run.attempt >= MAX_TRIES
    status = NoticeStatus.FAILED if last else NoticeStatus.QUEUED
    async with atomic():
        await Notice.update(
            {
                Notice.status: status,
                Notice.attempts: Notice.attempts + 1,
                Notice.answer: failure.answer[:500],
                Notice.updated_at: now(),
            }
        ).where(where & (Notice.status == NoticeStatus.QUEUED))
        _changed(run.ctx.tenant_id, row["org_path"], row["work_order_id"], row["id"], status)
    if last:
        raise BusinessError(failure.answer[:300], code="notice_failed")
    raise jobs.Retry(failure.answer[:300])


# --- reading and resending ---------------------------------------------------------------------------


class NoticeFilters(Filters):
    status: str = ""
    channel: str = ""
    event: str = ""
    q: str = ""  # order number, customer name or recipient
    work_order_id: int | None = None


def _visible(ctx: Ctx):
    return scoped(ctx, Notice, subtree=Notice.org_path)


def _out(row: dict) -> dict:
    return {
        "id": row["id"],
        "work_order_id": row["work_order_id"],
        "work_order_no": row["work_order_no"],
        "customer_name": row["customer_name"],
        "event": row["event"],
        "event_label": Event(row["event"]).label,
        "channel": row["channel"],
        "channel_label": Channel(row["channel"]).label,
        "to": row["recipient"],
        "template_id": row["template_id"],
        "subject": row["subject"],
        "body": row["body"],
        "status": row["status"],
        "status_label": NoticeStatus(row["status"]).label,
        "attempts": row["attempts"],
        "answer": row["answer"],
        "created_at": iso(row["created_at"]),
        "sent_at": iso(row["sent_at"]),
        "updated_at": iso(row["updated_at"]),
    }


async def search(ctx: Ctx, filters: NoticeFilters = NoticeFilters(), params: PageParams = PageParams()) -> Page:
    where = _visible(ctx)
    if filters.status:
        where &= Notice.status == validate.choice(filters.status, "状态", NoticeStatus.labels(), "status")
    if filters.channel:
        where &= Notice.channel == validate.choice(filters.channel, "渠道", Channel.labels(), "channel")
    if filters.event:
        where &= Notice.event == validate.choice(filters.event, "事件", Event.labels(), "event")
    if filters.work_order_id is not None:
        where &= Notice.work_order_id == filters.work_order_id
    q = validate.text(filters.q, "关键字", 50, field="q")
    if q:
        where &= contains(Notice.work_order_no, q) | contains(Notice.customer_name, q) | contains(Notice.recipient, q)
    select = Notice.select().where(where).order_by(Notice.id, ascending=False)
    page = await paginate(select, Notice.count().where(where), params, seek=Notice.id, ascending=False)
    return page.with_items([_out(r) for r in page.items])


async def get(ctx: Ctx, notice_id: Any) -> dict:
    nid = validate.ident(notice_id, "通知", "notice_id")
    row = await Notice.select().where(_visible(ctx) & (Notice.id == nid)).first()
    if row is None:
        raise NotFound("通知")
    return _out(row)


async def of_order(ctx: Ctx, order_id: int) -> list[dict]:
    """An order's notices, for its page's card."""
    rows = await Notice.select().where(_visible(ctx) & (Notice.work_order_id == order_id)).order_by(Notice.id)
    return [_out(r) for r in rows]


@hooks.adds_timeline_events
async def timeline(ctx: Ctx, order_id: int) -> list[dict]:
    """An order's notices on its timeline: who was told what, and whether it went."""
    if "notices" not in ctx.features:
        return []
    return [
        {
            "at": datetime.fromisoformat(n["sent_at"] or n["created_at"]),
            "label": f"{n['channel_label']}通知 · {n['event_label']} · {n['status_label']}",
            "note": f"{n['to']}：{n['body'][:120]}"
            + (f"（{n['answer']}）" if n["status"] == NoticeStatus.FAILED else ""),
            "user_name": n["to"],
            "kind": "notice",
        }
        for n in await of_order(ctx, order_id)
    ]


async def resend(ctx: Ctx, notice_id: Any) -> dict:
    """【重发】: a sent or failed notice goes again, as it was written, with fresh tries."""
    notice = await get(ctx, notice_id)
    async with atomic():
        claimed = await (
            Notice.update(
                {Notice.status: NoticeStatus.QUEUED, Notice.resends: Notice.resends + 1, Notice.updated_at: now()}
            )
            .where(_visible(ctx) & (Notice.id == notice["id"]) & (Notice.status != NoticeStatus.QUEUED))
            .returning(Notice.resends, Notice.org_path)
        )
        if not claimed:
            raise Conflict("该通知正在发送中，请稍后再试", code="notice_queued")
        _changed(ctx.tenant_id, claimed[0]["org_path"], notice["work_order_id"], notice["id"], NoticeStatus.QUEUED)
        await _enqueue(ctx, notice["id"], claimed[0]["resends"])
        summary = f"重发通知（工单 {notice['work_order_no']}，{notice['channel_label']}）"
        await audit.record(ctx, "resend", "notice", notice["id"], summary)
    return await get(ctx, notice["id"])
