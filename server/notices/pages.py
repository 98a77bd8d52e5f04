"""htmx pages of customer notices: 【通知记录】 (list, filters, 重发) and 【客户通知设置】 (the head
office's SMS gateway and SMTP server, and the texts per event and channel). Thin: the rules are in services."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core.clock import local
from server.core.forms import form_data, list_query, query_string, saved
from server.core.web import ctx_of, htmx_target, render
from server.notices import permissions as P
from server.notices import services
from server.notices.states import Channel, Event, NoticeStatus, SmtpSecurity


def _when(request: Request):
    tz = ctx_of(request).tz

    def show(value: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return local(datetime.fromisoformat(value), tz, fmt) if value else ""

    return show


class NoticePages(Controller):
    path = "/workorders/notices"

    @get("/", opt={"perm": P.VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        raw, params = list_query(request, "status", "channel", "event", "q")
        filters = services.NoticeFilters.from_query(raw)
        found = await services.search(ctx_of(request), filters, params)
        return render(
            request,
            "notices/notices.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="通知记录",
            page=found,
            filters=raw,
            query=query_string(raw),
            statuses=NoticeStatus.labels(),
            channels=Channel.labels(),
            events=Event.labels(),
            when=_when(request),
        )

    @post("/{notice_id:int}/resend", opt={"perm": P.RESEND}, include_in_schema=False)
    async def resend(self, request: Request, notice_id: FromPath[int]) -> Response:
        n = await services.resend(ctx_of(request), notice_id)
        return render(request, "notices/_row.html", n=n, when=_when(request))


def _lines(text: str) -> dict[str, str]:
    """ "名称: 值" per line → {名称: 值} (blank lines skipped)."""
    out = {}
    for line in (text or "").splitlines():
        name, _, value = line.partition(":")
        if name.strip():
            out[name.strip()] = value.strip()
    return out


class SettingsPages(Controller):
    path = "/system/notices"

    @get("/", opt={"perm": P.SETTINGS_VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        return render(
            request,
            "notices/settings.html",
            title="客户通知设置",
            s=await services.get_settings(ctx) if ctx.is_hq and ctx.can(P.SETTINGS_MANAGE) else None,
            texts=await services.list_templates(ctx),
            fields=services.FIELDS,
            securities=SmtpSecurity.labels(),
            editable=ctx.is_hq and ctx.can(P.SETTINGS_MANAGE),
            when=_when(request),
        )

    @post("/", opt={"perm": P.SETTINGS_MANAGE}, include_in_schema=False)
    async def save(self, request: Request) -> Response:
        form = await form_data(request)
        data = {k: form.get(k, "") for k in ("sms_url", "sms_body", "smtp_host", "smtp_port", "smtp_security")}
        data |= {k: form.get(k, "") for k in ("smtp_user", "smtp_password", "smtp_from")}
        data |= {
            "sms_enabled": form.get("sms_enabled") == "1",
            "email_enabled": form.get("email_enabled") == "1",
            "sms_headers": _lines(form.get("sms_headers", "")),
        }
        if form.get("sms_secret_headers", "").strip() or form.get("clear_secret_headers") == "1":
            data["sms_secret_headers"] = _lines(form.get("sms_secret_headers", ""))
        await services.put_settings(ctx_of(request), data)
        return saved("客户通知设置已保存")

    @post("/templates/{template_id:int}", opt={"perm": P.SETTINGS_MANAGE}, include_in_schema=False)
    async def save_text(self, request: Request, template_id: FromPath[int]) -> Response:
        form = await form_data(request)
        data = {"enabled": form.get("enabled") == "1", "body": form.get("body", "")}
        if "subject" in form:
            data["subject"] = form["subject"]
        t = await services.put_template(ctx_of(request), template_id, data)
        return saved(f"通知模板「{t['event_label']}·{t['channel_label']}」已保存")

    @post("/preview", opt={"perm": P.SETTINGS_VIEW}, include_in_schema=False)
    async def preview(self, request: Request) -> Response:
        form = await form_data(request)
        return render(
            request, "notices/settings.html", block="preview", text=await services.preview(form.get("body", ""))
        )


ROUTES = [NoticePages, SettingsPages]
