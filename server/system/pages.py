"""htmx pages of system management: login, OTP, account, orgs, roles, users, settings, audit log."""

from __future__ import annotations

import json
from urllib.parse import urlparse

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from server.core import audit, hooks, permissions
from server.core.errors import BusinessError
from server.core.forms import form_data, page_params, query_string, saved
from server.core.pagination import PageParams
from server.core.sessions import rotate as rotate_session
from server.core.states import RowStatus
from server.core.web import client_ip, ctx_of, htmx_target, redirect, render
from server.system import exports
from server.system import permissions as P
from server.system.schemas import AuditFilters, OrgFilters, RoleFilters, UserFilters
from server.system.services import auth, orgs, roles, tenants, users

PUBLIC = {"public": True}
SIGNED_IN = {"signed_in": True}


def _safe_next(url: str | None) -> str:
    """Only a local path: never redirect a login to another site."""
    if not url or not url.startswith("/") or url.startswith("//") or urlparse(url).netloc:
        return "/"
    return url


# --- login, logout, OTP ------------------------------------------------------------------------


class AuthPages(Controller):
    @get("/login", opt=PUBLIC, include_in_schema=False)
    async def login_form(self, request: Request, next: FromQuery[str] = "", ended: FromQuery[str] = "") -> Response:
        if request.scope.get("state", {}).get("ctx"):
            return Redirect(_safe_next(next))
        notice = "会话已结束，请重新登录" if ended else ""
        return render(request, "system/login.html", title="登录", next=_safe_next(next), notice=notice, login="")

    @post("/login", opt=PUBLIC, include_in_schema=False)
    async def login(self, request: Request) -> Response:
        data = await form_data(request)
        target = _safe_next(data.get("next"))
        try:
            result = await auth.login(
                data.get("login"), data.get("password"), data.get("otp") or None, client_ip(request)
            )
        except BusinessError as exc:
            return render(
                request,
                "system/login.html",
                title="登录",
                next=target,
                error=exc.detail,
                code=exc.code,
                login=str(data.get("login", ""))[:80],
                status_code=exc.status_code,
            )
        request.clear_session()
        rotate_session(request)
        if result.must_enrol_otp:
            request.set_session(
                {
                    "enrol_uid": result.user_id,
                    "tid": result.tenant_id,
                    "ep": result.epoch,
                    "secret": auth.new_otp_secret(),
                    "next": target,
                }
            )
            return Redirect("/otp/enrol")
        request.set_session({"uid": result.user_id, "tid": result.tenant_id, "ep": result.epoch})
        return Redirect(target)

    @post("/logout", opt=PUBLIC, include_in_schema=False)
    async def logout(self, request: Request) -> Response:
        request.clear_session()
        return redirect(request, "/login")

    @get("/otp/enrol", opt=PUBLIC, include_in_schema=False)
    async def enrol_form(self, request: Request) -> Response:
        """Forced enrolment after a password login when the tenant requires OTP."""
        session = request.session
        if not session.get("enrol_uid"):
            return Redirect("/login")
        return await self._enrol_page(request, session, forced=True)

    @post("/otp/enrol", opt=PUBLIC, include_in_schema=False)
    async def enrol(self, request: Request) -> Response:
        session = request.session
        if not session.get("enrol_uid"):
            return Redirect("/login")
        data = await form_data(request)
        try:
            await auth.enrol_otp(session["enrol_uid"], session["tid"], session["secret"], data.get("otp"))
        except BusinessError as exc:
            return await self._enrol_page(request, session, forced=True, error=exc.detail, status_code=400)
        target = session.get("next") or "/"
        request.clear_session()
        rotate_session(request)
        request.set_session({"uid": session["enrol_uid"], "tid": session["tid"], "ep": session["ep"]})
        return Redirect(_safe_next(target))

    @staticmethod
    async def _enrol_page(
        request: Request, session: dict, forced: bool, error: str = "", status_code: int = 200
    ) -> Response:
        login_name = await auth.login_name_of(session["enrol_uid"], session["tid"])
        return render(
            request,
            "system/otp_enrol.html",
            title="绑定动态密钥",
            secret=session["secret"],
            qr=auth.otp_qr_svg(auth.otp_uri(session["secret"], login_name)),
            forced=forced,
            error=error,
            status_code=status_code,
        )


class AccountPages(Controller):
    path = "/account"

    @get("/otp", opt=SIGNED_IN, include_in_schema=False)
    async def otp_page(self, request: Request) -> Response:
        ctx = ctx_of(request)
        if await auth.otp_enrolled(ctx.user_id):
            return render(request, "system/otp_status.html", title="动态密钥")
        secret = request.session.get("otp_secret") or auth.new_otp_secret()
        request.session["otp_secret"] = secret
        uri = auth.otp_uri(secret, ctx.login_name)
        return render(
            request,
            "system/otp_enrol.html",
            title="绑定动态密钥",
            qr=auth.otp_qr_svg(uri),
            secret=secret,
            forced=False,
            error="",
        )

    @post("/otp", opt=SIGNED_IN, include_in_schema=False)
    async def otp_enrol(self, request: Request) -> Response:
        ctx = ctx_of(request)
        data = await form_data(request)
        await auth.enrol_otp(ctx.user_id, ctx.tenant_id, request.session.get("otp_secret"), data.get("otp"))
        request.session.pop("otp_secret", None)
        response = saved("动态密钥已绑定，下次登录需输入 6 位动态密钥")
        # the page then shows the bound state instead of a form that no longer applies
        # (only the content is swapped, so the toast stays)
        response.headers["HX-Location"] = json.dumps(
            {"path": "/account/otp", "target": "main.content", "select": "main.content", "swap": "outerHTML"}
        )
        return response

    @get("/password", opt=SIGNED_IN, include_in_schema=False)
    async def password_form(self, request: Request) -> Response:
        return render(request, "system/password.html", title="修改密码")

    @post("/password", opt=SIGNED_IN, include_in_schema=False)
    async def change_password(self, request: Request) -> Response:
        ctx = ctx_of(request)
        data = await form_data(request)
        epoch = await users.change_own_password(
            ctx, data.get("old_password"), data.get("new_password"), data.get("confirm", "")
        )
        request.session["ep"] = epoch
        return saved("密码已修改")


# --- home ---------------------------------------------------------------------------------------


@get("/", opt=SIGNED_IN, include_in_schema=False)
async def home(request: Request) -> Response:
    """The plain home page, or the landing page a domain gives the user's permissions (【看板】
    for managers); `?home=1` shows the plain one anyway."""
    ctx = ctx_of(request)
    view = hooks.landing_for(ctx)
    if view and not request.query_params.get("home"):
        return await view(request)
    stats = {}
    if ctx.can(P.ORG_VIEW):
        stats["orgs"] = (await orgs.search(ctx, status=RowStatus.ACTIVE, params=PageParams(1, 1))).total
    if ctx.can(P.USER_VIEW):
        stats["users"] = (await users.search(ctx, status=RowStatus.ACTIVE, params=PageParams(1, 1))).total
    return render(request, "home.html", title="首页", stats=stats)


# --- organizations ------------------------------------------------------------------------------


class OrgPages(Controller):
    path = "/system/orgs"

    @get("/", opt={"perm": P.ORG_VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters = OrgFilters.from_query(request.query_params, status=RowStatus.ACTIVE)
        page = await orgs.search(ctx, params=page_params(request), **filters.as_dict())
        return render(
            request,
            "system/orgs.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="管理机构",
            page=page,
            filters=filters,
            query=query_string(filters),
            kinds=orgs.KINDS,
            statuses=orgs.STATUSES,
        )

    @get("/export", opt={"perm": P.ORG_EXPORT}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.orgs_xlsx(
            ctx_of(request), OrgFilters.from_query(request.query_params, status=RowStatus.ACTIVE)
        )

    @get("/new", opt={"perm": P.ORG_CREATE}, include_in_schema=False)
    async def new(self, request: Request, parent_id: FromQuery[int | None] = None) -> Response:
        ctx = ctx_of(request)
        return render(
            request,
            "system/_org_form.html",
            org=None,
            parent_id=parent_id or ctx.org_id,
            parents=await orgs.choices(ctx),
            centres=await orgs.repair_centres(ctx),
        )

    @post("/", opt={"perm": P.ORG_CREATE}, include_in_schema=False)
    async def create(self, request: Request) -> Response:
        org = await orgs.create(ctx_of(request), await form_data(request))
        return saved(f"已添加机构 {org['name']}", "orgs", status_code=201)

    @get("/{org_id:int}/edit", opt={"perm": P.ORG_UPDATE}, include_in_schema=False)
    async def edit(self, request: Request, org_id: FromPath[int]) -> Response:
        ctx = ctx_of(request)
        return render(
            request, "system/_org_form.html", org=await orgs.get(ctx, org_id), centres=await orgs.repair_centres(ctx)
        )

    @post("/{org_id:int}", opt={"perm": P.ORG_UPDATE}, include_in_schema=False)
    async def update(self, request: Request, org_id: FromPath[int]) -> Response:
        org = await orgs.update(ctx_of(request), org_id, await form_data(request))
        return saved(f"已修改机构 {org['name']}", "orgs")

    @post("/{org_id:int}/restore", opt={"perm": P.ORG_DELETE}, include_in_schema=False)
    async def restore(self, request: Request, org_id: FromPath[int]) -> Response:
        org = await orgs.restore(ctx_of(request), org_id)
        return saved(f"已恢复机构 {org['name']}", "orgs")

    @get("/{org_id:int}/impact", opt={"perm": P.ORG_DELETE}, include_in_schema=False)
    async def confirm_delete(self, request: Request, org_id: FromPath[int]) -> Response:
        """The delete's confirmation: what hangs under the org, or why it cannot go."""
        found = await orgs.impact(ctx_of(request), org_id)
        return render(
            request,
            "masterdata/_delete_impact.html",
            action=f"/system/orgs/{org_id}/delete",
            noun="机构",
            name=found["org"]["name"],
            counts=found["counts"],
            refusal=found["refusal"],
            blocked_note="下级机构删除、库存清零、单据完成或删除之后才能删除。",
            consequence="删除后该机构从所有选择列表中消失，它的用户不能再登录：",
            find_note="在状态中选【已删除】",
            restore_note="（它的用户可以再次登录）",
        )

    @post("/{org_id:int}/delete", opt={"perm": P.ORG_DELETE}, include_in_schema=False)
    async def delete(self, request: Request, org_id: FromPath[int]) -> Response:
        org = await orgs.delete(ctx_of(request), org_id)
        return saved(f"已删除机构 {org['name']}", "orgs")


# --- roles -----------------------------------------------------------------------------------


class RolePages(Controller):
    path = "/system/roles"

    @get("/", opt={"perm": P.ROLE_VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters = RoleFilters.from_query(request.query_params, status=RowStatus.ACTIVE)
        page = await roles.search(ctx, params=page_params(request), **filters.as_dict())
        page = page.with_items([roles.as_dict(r) for r in page.items])
        counts = await roles.holders(ctx, [r["id"] for r in page.items])
        return render(
            request,
            "system/roles.html",
            block="rows" if htmx_target(request) == "rows" else None,
            title="角色管理",
            page=page,
            filters=filters,
            query=query_string(filters),
            counts=counts,
            kinds=roles.ORG_KINDS,
            statuses=roles.STATUSES,
        )

    @get("/new", opt={"perm": P.ROLE_CREATE}, include_in_schema=False)
    async def new(self, request: Request) -> Response:
        return render(request, "system/_role_form.html", role=None, checked=set(), tree=permissions.tree())

    @post("/", opt={"perm": P.ROLE_CREATE}, include_in_schema=False)
    async def create(self, request: Request) -> Response:
        role = await roles.create(ctx_of(request), await form_data(request, lists=("permissions",)))
        return saved(f"已添加角色 {role['name']}", "roles", status_code=201)

    @get("/{role_id:int}/edit", opt={"perm": P.ROLE_UPDATE}, include_in_schema=False)
    async def edit(self, request: Request, role_id: FromPath[int]) -> Response:
        role = await roles.get(ctx_of(request), role_id)
        return render(
            request,
            "system/_role_form.html",
            role=role,
            checked=set(roles.as_dict(role)["permissions"]),
            tree=permissions.tree(),
        )

    @post("/{role_id:int}", opt={"perm": P.ROLE_UPDATE}, include_in_schema=False)
    async def update(self, request: Request, role_id: FromPath[int]) -> Response:
        role = await roles.update(ctx_of(request), role_id, await form_data(request, lists=("permissions",)))
        return saved(f"已修改角色 {role['name']}", "roles")

    @post("/{role_id:int}/delete", opt={"perm": P.ROLE_DELETE}, include_in_schema=False)
    async def delete(self, request: Request, role_id: FromPath[int]) -> Response:
        role = await roles.delete(ctx_of(request), role_id)
        return saved(f"已删除角色 {role['name']}", "roles")


# --- users -----------------------------------------------------------------------------------


class UserPages(Controller):
    path = "/system/users"

    @get("/", opt={"perm": P.USER_VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        ctx = ctx_of(request)
        filters = UserFilters.from_query(request.query_params, status=RowStatus.ACTIVE)
        page = await users.search(ctx, params=page_params(request), **filters.as_dict())
        actionable = await users.actionable(ctx, page.items)
        if htmx_target(request) == "rows":
            return render(
                request,
                "system/users.html",
                block="rows",
                page=page,
                actionable=actionable,
                filters=filters,
                query=query_string(filters),
                statuses=users.STATUSES,
            )
        all_roles = await roles.search(ctx, status=RowStatus.ACTIVE, params=PageParams(1, 200))
        return render(
            request,
            "system/users.html",
            title="用户管理",
            page=page,
            actionable=actionable,
            filters=filters,
            query=query_string(filters),
            statuses=users.STATUSES,
            role_choices=all_roles.items,
        )

    @get("/export", opt={"perm": P.USER_EXPORT}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.users_xlsx(
            ctx_of(request), UserFilters.from_query(request.query_params, status=RowStatus.ACTIVE)
        )

    @get("/new", opt={"perm": P.USER_CREATE}, include_in_schema=False)
    async def new(self, request: Request) -> Response:
        ctx = ctx_of(request)
        org_choices = await orgs.choices(ctx)
        return render(
            request,
            "system/_user_form.html",
            user=None,
            org_choices=org_choices,
            role_choices=await roles.choices(ctx, org_choices[0]["kind"]) if org_choices else [],
        )

    @get("/role-options", opt={"perm": P.USER_VIEW}, include_in_schema=False)
    async def role_options(self, request: Request, org_id: FromQuery[int | None] = None) -> Response:
        """The role checkboxes for the org picked in the user form (roles must match its kind)."""
        ctx = ctx_of(request)
        org = await orgs.get(ctx, org_id) if org_id else None
        choices = await roles.choices(ctx, org["kind"]) if org else []
        return render(request, "system/_role_checks.html", role_choices=choices, selected=[])

    @post("/", opt={"perm": P.USER_CREATE}, include_in_schema=False)
    async def create(self, request: Request) -> Response:
        user = await users.create(ctx_of(request), await form_data(request, lists=("role_ids",)))
        return saved(f"已添加用户 {user['account']}", "users", status_code=201)

    @get("/{user_id:int}/edit", opt={"perm": P.USER_UPDATE}, include_in_schema=False)
    async def edit(self, request: Request, user_id: FromPath[int]) -> Response:
        ctx = ctx_of(request)
        user = await users.for_action(ctx, user_id)
        return render(
            request, "system/_user_form.html", user=user, role_choices=await roles.choices(ctx, user["org_kind"])
        )

    @post("/{user_id:int}", opt={"perm": P.USER_UPDATE}, include_in_schema=False)
    async def update(self, request: Request, user_id: FromPath[int]) -> Response:
        user = await users.update(ctx_of(request), user_id, await form_data(request, lists=("role_ids",)))
        return saved(f"已修改用户 {user['account']}", "users")

    @post("/{user_id:int}/delete", opt={"perm": P.USER_DELETE}, include_in_schema=False)
    async def delete(self, request: Request, user_id: FromPath[int]) -> Response:
        user = await users.delete(ctx_of(request), user_id)
        return saved(f"已删除用户 {user['account']}", "users")

    @get("/{user_id:int}/reset-password", opt={"perm": P.USER_RESET_PASSWORD}, include_in_schema=False)
    async def reset_password_form(self, request: Request, user_id: FromPath[int]) -> Response:
        return render(request, "system/_reset_password.html", user=await users.for_action(ctx_of(request), user_id))

    @post("/{user_id:int}/reset-password", opt={"perm": P.USER_RESET_PASSWORD}, include_in_schema=False)
    async def reset_password(self, request: Request, user_id: FromPath[int]) -> Response:
        data = await form_data(request)
        user = await users.reset_password(ctx_of(request), user_id, data.get("password"))
        return saved(f"已重置 {user['account']} 的密码", "users")

    @post("/{user_id:int}/reset-otp", opt={"perm": P.USER_RESET_OTP}, include_in_schema=False)
    async def reset_otp(self, request: Request, user_id: FromPath[int]) -> Response:
        user = await users.reset_otp(ctx_of(request), user_id)
        return saved(f"已重置 {user['account']} 的动态密钥", "users")

    @post("/{user_id:int}/unlock", opt={"perm": P.USER_UNLOCK}, include_in_schema=False)
    async def unlock(self, request: Request, user_id: FromPath[int]) -> Response:
        user = await users.unlock(ctx_of(request), user_id)
        return saved(f"已解锁 {user['account']} 的登录", "users")


# --- settings and audit log ----------------------------------------------------------------------


class SettingsPages(Controller):
    path = "/system/settings"

    @get("/", opt={"perm": P.SETTINGS_VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        return render(
            request, "system/settings.html", title="系统设置", settings=await tenants.get_settings(ctx_of(request))
        )

    @post("/", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def update(self, request: Request) -> Response:
        await tenants.update_settings(ctx_of(request), await form_data(request))
        return saved("设置已保存")


@get("/system/audit-log", opt={"perm": P.AUDIT_VIEW}, include_in_schema=False)
async def audit_log(request: Request) -> Response:
    filters = AuditFilters.from_query(request.query_params)
    page = await audit.search(ctx_of(request), params=page_params(request), **filters.as_dict())
    return render(
        request,
        "system/audit.html",
        block="rows" if htmx_target(request) == "rows" else None,
        title="操作日志",
        page=page,
        filters=filters,
        query=query_string(filters),
        actions=audit.ACTIONS,
        entities=audit.ENTITIES,
        readable=audit.readable,
    )


ROUTES = [AuthPages, AccountPages, home, OrgPages, RolePages, UserPages, SettingsPages, audit_log]
