"""【系统设置】→ 工单设置 (SPEC 11): the SLA limits of each open status and the repeat-repair
window, saved by the head office through the settings service."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post

from server.core.forms import form_data, saved
from server.core.web import ctx_of, render
from server.workorders import permissions as P
from server.workorders.services import settings
from server.workorders.services.settings import TIMED


class SettingsPages(Controller):
    path = "/workorders/settings"

    @get("/", opt={"perm": P.SETTINGS}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        return render(
            request,
            "workorders/settings.html",
            title="工单设置",
            values=await settings.settings(ctx),
            statuses=TIMED,
            editable=ctx.is_hq,
        )

    @post("/", opt={"perm": P.SETTINGS}, include_in_schema=False)
    async def update(self, request: Request) -> Response:
        """The form's `sla.<status>.<colour>` fields as the service's nested limits."""
        form = await form_data(request)
        data = {
            "repeat_days": form.get("repeat_days"),
            "sla": {s.value: {c: form.get(f"sla.{s.value}.{c}") for c in ("green", "yellow")} for s in TIMED},
        }
        await settings.update(ctx_of(request), data)
        return saved("工单设置已保存")


ROUTES = [SettingsPages]
