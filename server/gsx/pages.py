"""htmx pages of the GSX integration: 【系统设置】→【GSX 对接】 (settings, 【测试连接】,
【GSX 调用记录】), 【我的账户】→【关联 GSX】, the GSX panel of a work order's page (with
【检查资格与部件】 and notes), 【GSX 维修】 and 【GSX 公告】. Thin: the rules are in services.
Without configuration the pages answer 404, the menu link and the work-order panel are empty."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core.clock import local
from server.core.errors import BusinessError
from server.core.forms import form_data, page_params, saved
from server.core.web import ctx_of, render
from server.gsx import permissions as P
from server.gsx import services, wire
from server.workorders import permissions as WO

SIGNED_IN = {"signed_in": True}


def _when(request: Request):
    """An ISO time of the services' answers in the tenant's zone (for the templates)."""
    tz = ctx_of(request).tz

    def show(value: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return local(datetime.fromisoformat(value), tz, fmt) if value else ""

    return show


class SettingsPages(Controller):
    path = "/system/gsx"

    @get("/", opt={"perm": P.MANAGE}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        return render(
            request,
            "gsx/settings.html",
            title="GSX 对接",
            s=await services.get_settings(ctx),
            environments=services.ENVIRONMENTS,
            actions=services.WORK_ORDER_ACTIONS,
            editable=ctx.is_hq,
            when=_when(request),
        )

    @post("/", opt={"perm": P.MANAGE}, include_in_schema=False)
    async def save(self, request: Request) -> Response:
        form = await form_data(request)
        data = {k: form.get(k, "") for k in ("environment", "base_url", "auth_url", "sold_to", "ship_to")}
        data |= {
            "certificate_pem": form.get("certificate_pem", ""),
            "key_pem": form.get("key_pem", ""),
            "enabled": form.get("enabled") == "1",
        }
        if form.get("server_ca_pem", "").strip():
            data["server_ca_pem"] = form["server_ca_pem"]
        status_map = {}
        for line in form.get("status_map", "").splitlines():
            code, _, action = line.partition("=")
            if code.strip():
                status_map[code.strip().upper()] = action.strip()
        data["status_map"] = status_map
        await services.put_settings(ctx_of(request), data)
        return saved("GSX 对接设置已保存")

    @post("/test", opt={"perm": P.MANAGE}, include_in_schema=False)
    async def test(self, request: Request) -> Response:
        result = await services.test_connection(ctx_of(request))
        return render(request, "gsx/settings.html", block="test_result", result=result)

    @get("/calls", opt={"perm": P.MANAGE}, include_in_schema=False)
    async def calls(self, request: Request) -> Response:
        ctx = ctx_of(request)
        result = await services.calls(ctx, page_params(request))
        return render(request, "gsx/calls.html", title="GSX 调用记录", page=result, query="", when=_when(request))


class AccountPages(Controller):
    path = "/account/gsx"

    @get("/", opt=SIGNED_IN, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        return render(
            request,
            "gsx/link.html",
            title="关联 GSX",
            link=await services.my_link(ctx_of(request)),
            when=_when(request),
        )

    @post("/", opt=SIGNED_IN, include_in_schema=False)
    async def link(self, request: Request) -> Response:
        form = await form_data(request)
        await services.link(ctx_of(request), form.get("apple_id"), form.get("activation_token"))
        return _reload(request, "已关联 GSX 账号")

    @post("/unlink", opt=SIGNED_IN, include_in_schema=False)
    async def unlink(self, request: Request) -> Response:
        await services.unlink(ctx_of(request))
        return _reload(request, "已解除 GSX 关联")


def _reload(request: Request, message: str) -> Response:
    response = saved(message)
    response.headers["HX-Refresh"] = "true"
    return response


class IntakeCheck(Controller):
    """【查询保修】 on the intake form, before the order exists (empty without GSX or without the
    permission): the coverage card and, in a hidden field, the sealed answer the save attaches."""

    path = "/workorders/intake/gsx"

    @get("/", opt={"perm": WO.INTAKE_VIEW}, include_in_schema=False)
    async def button(self, request: Request) -> Response:
        ctx = ctx_of(request)
        if not ctx.can(P.COVERAGE) or not await services.is_configured(ctx):
            return Response("", media_type="text/html")
        return render(request, "gsx/_intake.html", checked=None, error="")

    @post("/", opt={"perm": P.COVERAGE}, include_in_schema=False)
    async def check(self, request: Request) -> Response:
        form = await form_data(request)
        try:
            checked, error = await services.check_coverage(ctx_of(request), form.get("serial_no")), ""
        except BusinessError as exc:
            if exc.status_code == 404:
                raise
            checked, error = None, exc.detail
            if exc.status_code == 503:  # GSX down never holds up intake
                error += "。不影响受理：工单照常保存，之后可在工单页再【查询保修】"
        return render(request, "gsx/_intake.html", checked=checked, error=error)


class OrderPanel(Controller):
    """The GSX card of a work order's page, loaded by the page itself (empty without GSX)."""

    path = "/workorders/{order_id:int}/gsx"

    async def _panel(self, request: Request, order_id: int, error: str = "", typed: dict | None = None) -> Response:
        """The card; `typed`: the 【创建 GSX 维修】 form as sent, kept when GSX refused it."""
        ctx = ctx_of(request)
        return render(
            request,
            "gsx/_panel.html",
            g=await services.for_order(ctx, order_id),
            repair_types=wire.REPAIR_TYPES,
            error=error,
            typed=typed,
            when=_when(request),
        )

    @get("/", opt={"perm": WO.VIEW}, include_in_schema=False)
    async def panel(self, request: Request, order_id: FromPath[int]) -> Response:
        if not await services.is_configured(ctx_of(request)):
            return Response("", media_type="text/html")
        return await self._panel(request, order_id)

    async def _act(self, request: Request, order_id: int, action, typed: dict | None = None) -> Response:
        """A GSX failure (down, refused, relink) shows in the card; the order is untouched."""
        try:
            await action()
        except BusinessError as exc:
            if exc.status_code == 404:
                raise
            return await self._panel(request, order_id, error=exc.detail, typed=typed)
        return await self._panel(request, order_id)

    @post("/coverage", opt={"perm": P.COVERAGE}, include_in_schema=False)
    async def coverage(self, request: Request, order_id: FromPath[int]) -> Response:
        return await self._act(request, order_id, lambda: services.coverage(ctx_of(request), order_id))

    @post("/check", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def check(self, request: Request, order_id: FromPath[int]) -> Response:
        """【检查资格与部件】: GSX's answer under the form, which keeps what was typed."""
        data = await _repair_form(request)
        try:
            checked, error = await services.check_repair(ctx_of(request), order_id, data), ""
        except BusinessError as exc:
            if exc.status_code == 404:
                raise
            checked, error = None, exc.detail
        return render(request, "gsx/_check.html", checked=checked, error=error)

    @post("/repair", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def repair(self, request: Request, order_id: FromPath[int]) -> Response:
        data = await _repair_form(request)
        return await self._act(
            request, order_id, lambda: services.create_repair(ctx_of(request), order_id, data), typed=data
        )

    @post("/note", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def note(self, request: Request, order_id: FromPath[int]) -> Response:
        note = (await form_data(request)).get("note")
        return await self._act(request, order_id, lambda: services.add_note(ctx_of(request), order_id, note))

    @post("/acknowledge", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def acknowledge(self, request: Request, order_id: FromPath[int]) -> Response:
        return await self._act(request, order_id, lambda: services.acknowledge(ctx_of(request), order_id))

    @post("/refresh", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def refresh(self, request: Request, order_id: FromPath[int]) -> Response:
        return await self._act(request, order_id, lambda: services.refresh_status(ctx_of(request), order_id))


async def _repair_form(request: Request) -> dict:
    """【创建 GSX 维修】's form as the services take it (parts: comma- or space-separated)."""
    form = await form_data(request, lists=("component_code", "issue_code"))
    issues = [
        {"component_code": c, "issue_code": i} for c, i in zip(form["component_code"], form["issue_code"], strict=False)
    ]
    return {
        "repair_type": form.get("repair_type"),
        "issues": issues,
        "parts": [p for p in form.get("parts", "").replace("，", ",").replace(" ", ",").split(",") if p],
        "notes": form.get("notes", ""),
    }


class RepairPages(Controller):
    """【GSX 维修】: the GSX repairs of the caller's orders as stored, and 【同步】 (repair/summary)."""

    path = "/gsx/repairs"

    async def _list(self, request: Request, result: str = "", error: str = "") -> Response:
        page = await services.repairs(ctx_of(request), page_params(request))
        return render(
            request,
            "gsx/repairs.html",
            title="GSX 维修",
            page=page,
            query="",
            result=result,
            error=error,
            when=_when(request),
        )

    @get("/", opt={"perm": WO.VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        return await self._list(request)

    @post("/sync", opt={"perm": P.REPAIR}, include_in_schema=False)
    async def sync(self, request: Request) -> Response:
        try:
            done = await services.sync_repairs(ctx_of(request))
        except BusinessError as exc:
            if exc.status_code == 404:
                raise
            return await self._list(request, error=exc.detail)
        said = f"已向 GSX 查询 {done['asked']} 个维修，{done['changed']} 个状态有变化"
        if done["skipped"]:
            said += f"；{done['skipped']} 个正在刷新，稍后再同步"
        return await self._list(request, result=said)


@get("/gsx/news", opt={"perm": P.NEWS}, include_in_schema=False)
async def news(request: Request) -> Response:
    ctx = ctx_of(request)
    try:
        items, error = await services.news(ctx), ""
    except BusinessError as exc:
        if exc.status_code == 404:
            raise
        items, error = [], exc.detail
    return render(request, "gsx/news.html", title="GSX 公告", items=items, error=error)


ROUTES = [SettingsPages, AccountPages, IntakeCheck, OrderPanel, RepairPages, news]
