"""JSON API of system management: /api/v1/auth, orgs, roles, users, permissions, audit-log, settings."""

from __future__ import annotations

import json

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.core import audit, permissions
from server.core.api import PageNo, PageSize, given, page_of, page_type, to
from server.core.openapi import THROTTLED, XLSX
from server.core.pagination import PageParams
from server.core.web import client_ip, ctx_of
from server.system import exports
from server.system import permissions as P
from server.system.schemas import (
    AuditFilters,
    AuditOut,
    MeOut,
    OrgCreate,
    OrgFilters,
    OrgOut,
    OrgPatch,
    OtpEnrol,
    OtpSecretOut,
    OtpStatus,
    PasswordChange,
    PasswordChanged,
    PasswordReset,
    PermissionNode,
    RoleCreate,
    RoleFilters,
    RoleOut,
    RolePatch,
    SettingsOut,
    SettingsPatch,
    TokenOut,
    TokenRequest,
    UserCreate,
    UserFilters,
    UserOut,
    UserPatch,
)
from server.system.services import auth, orgs, roles, tenants, users

OrgPage = page_type(OrgOut)
RolePage = page_type(RoleOut)
UserPage = page_type(UserOut)
AuditPage = page_type(AuditOut)
SIGNED_IN = {"signed_in": True}


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/token", opt={"public": True}, status_code=200, responses=THROTTLED, summary="登录换取令牌")
    async def token(self, request: Request, data: JSONBody[TokenRequest]) -> TokenOut:
        result = await auth.login(data.login, data.password, data.otp, client_ip(request))
        return TokenOut(**await auth.issue_token(result))

    @delete("/token", opt=SIGNED_IN, status_code=204, summary="注销当前令牌")
    async def revoke(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            await auth.revoke_token(header[7:].strip())

    @get("/me", opt=SIGNED_IN, summary="当前用户")
    async def me(self, request: Request) -> MeOut:
        ctx = ctx_of(request)
        return MeOut(
            user_id=ctx.user_id,
            account=ctx.account,
            login_name=ctx.login_name,
            name=ctx.user_name,
            tenant_code=ctx.tenant_code,
            org_id=ctx.org_id,
            org_name=ctx.org_name,
            org_kind=ctx.org_kind,
            permissions=sorted(ctx.permissions),
        )

    @post("/password", opt=SIGNED_IN, status_code=200, summary="修改自己的密码")
    async def change_password(self, request: Request, data: JSONBody[PasswordChange]) -> PasswordChanged:
        await users.change_own_password(ctx_of(request), data.old_password, data.new_password)
        return PasswordChanged(detail="密码已修改，请重新登录")

    @post("/otp/secret", opt=SIGNED_IN, status_code=200, summary="生成待绑定的动态密钥")
    async def otp_secret(self, request: Request) -> OtpSecretOut:
        ctx = ctx_of(request)
        secret = auth.new_otp_secret()
        uri = auth.otp_uri(secret, ctx.login_name)
        return OtpSecretOut(secret=secret, otp_uri=uri, qr_svg=auth.otp_qr_svg(uri))

    @post("/otp", opt=SIGNED_IN, status_code=200, summary="绑定动态密钥（提交密钥和验证器上的 6 位数字）")
    async def otp_enrol(self, request: Request, data: JSONBody[OtpEnrol]) -> OtpStatus:
        ctx = ctx_of(request)
        await auth.enrol_otp(ctx.user_id, ctx.tenant_id, data.secret, data.otp)
        return OtpStatus(otp_enrolled=True)


class OrgController(Controller):
    path = "/api/v1/orgs"
    tags = ["orgs"]
    dependencies = {"filters": OrgFilters.provide()}

    @get("/", opt={"perm": P.ORG_VIEW})
    async def list_orgs(
        self, request: Request, filters: NamedDependency[OrgFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> OrgPage:
        result = await orgs.search(ctx_of(request), params=PageParams(page, page_size), **filters.as_dict())
        return page_of(OrgOut, result.with_items([orgs.as_dict(r) for r in result.items]))

    @get("/export", opt={"perm": P.ORG_EXPORT}, responses=XLSX, summary="导出 Excel")
    async def export(self, request: Request, filters: NamedDependency[OrgFilters]) -> Response:
        return await exports.orgs_xlsx(ctx_of(request), filters)

    @post("/", opt={"perm": P.ORG_CREATE})
    async def create(self, request: Request, data: JSONBody[OrgCreate]) -> OrgOut:
        return to(OrgOut, orgs.as_dict(await orgs.create(ctx_of(request), given(data))))

    @get("/{org_id:int}", opt={"perm": P.ORG_VIEW})
    async def read(self, request: Request, org_id: FromPath[int]) -> OrgOut:
        return to(OrgOut, orgs.as_dict(await orgs.get(ctx_of(request), org_id)))

    @patch("/{org_id:int}", opt={"perm": P.ORG_UPDATE})
    async def update(self, request: Request, org_id: FromPath[int], data: JSONBody[OrgPatch]) -> OrgOut:
        return to(OrgOut, orgs.as_dict(await orgs.update(ctx_of(request), org_id, given(data))))

    @post("/{org_id:int}/restore", opt={"perm": P.ORG_DELETE}, status_code=200, summary="恢复已删除的机构")
    async def restore(self, request: Request, org_id: FromPath[int]) -> OrgOut:
        return to(OrgOut, orgs.as_dict(await orgs.restore(ctx_of(request), org_id)))

    @delete("/{org_id:int}", opt={"perm": P.ORG_DELETE}, status_code=200)
    async def remove(self, request: Request, org_id: FromPath[int]) -> OrgOut:
        return to(OrgOut, orgs.as_dict(await orgs.delete(ctx_of(request), org_id)))


class RoleController(Controller):
    path = "/api/v1/roles"
    tags = ["roles"]
    dependencies = {"filters": RoleFilters.provide()}

    @get("/", opt={"perm": P.ROLE_VIEW})
    async def list_roles(
        self, request: Request, filters: NamedDependency[RoleFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> RolePage:
        result = await roles.search(ctx_of(request), params=PageParams(page, page_size), **filters.as_dict())
        return page_of(RoleOut, result.with_items([roles.as_dict(r) for r in result.items]))

    @post("/", opt={"perm": P.ROLE_CREATE})
    async def create(self, request: Request, data: JSONBody[RoleCreate]) -> RoleOut:
        return to(RoleOut, roles.as_dict(await roles.create(ctx_of(request), given(data))))

    @get("/{role_id:int}", opt={"perm": P.ROLE_VIEW})
    async def read(self, request: Request, role_id: FromPath[int]) -> RoleOut:
        return to(RoleOut, roles.as_dict(await roles.get(ctx_of(request), role_id)))

    @patch("/{role_id:int}", opt={"perm": P.ROLE_UPDATE})
    async def update(self, request: Request, role_id: FromPath[int], data: JSONBody[RolePatch]) -> RoleOut:
        return to(RoleOut, roles.as_dict(await roles.update(ctx_of(request), role_id, given(data))))

    @delete("/{role_id:int}", opt={"perm": P.ROLE_DELETE}, status_code=200)
    async def remove(self, request: Request, role_id: FromPath[int]) -> RoleOut:
        return to(RoleOut, roles.as_dict(await roles.delete(ctx_of(request), role_id)))


def _user_out(request: Request, user: dict) -> UserOut:
    return to(UserOut, user | {"login_name": f"{user['account']}@{ctx_of(request).tenant_code}"})


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    dependencies = {"filters": UserFilters.provide()}

    @get("/", opt={"perm": P.USER_VIEW})
    async def list_users(
        self, request: Request, filters: NamedDependency[UserFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> UserPage:
        result = await users.search(ctx_of(request), params=PageParams(page, page_size), **filters.as_dict())
        return result.envelope([_user_out(request, u) for u in result.items])

    @get("/export", opt={"perm": P.USER_EXPORT}, responses=XLSX, summary="导出 Excel")
    async def export(self, request: Request, filters: NamedDependency[UserFilters]) -> Response:
        return await exports.users_xlsx(ctx_of(request), filters)

    @post("/", opt={"perm": P.USER_CREATE})
    async def create(self, request: Request, data: JSONBody[UserCreate]) -> UserOut:
        return _user_out(request, await users.create(ctx_of(request), given(data)))

    @get("/{user_id:int}", opt={"perm": P.USER_VIEW})
    async def read(self, request: Request, user_id: FromPath[int]) -> UserOut:
        return _user_out(request, await users.get(ctx_of(request), user_id))

    @patch("/{user_id:int}", opt={"perm": P.USER_UPDATE})
    async def update(self, request: Request, user_id: FromPath[int], data: JSONBody[UserPatch]) -> UserOut:
        return _user_out(request, await users.update(ctx_of(request), user_id, given(data)))

    @delete("/{user_id:int}", opt={"perm": P.USER_DELETE}, status_code=200)
    async def remove(self, request: Request, user_id: FromPath[int]) -> UserOut:
        return _user_out(request, await users.delete(ctx_of(request), user_id))

    @post("/{user_id:int}/reset-password", opt={"perm": P.USER_RESET_PASSWORD}, status_code=200)
    async def reset_password(self, request: Request, user_id: FromPath[int], data: JSONBody[PasswordReset]) -> UserOut:
        await users.reset_password(ctx_of(request), user_id, data.password or data.new_password)
        return _user_out(request, await users.get(ctx_of(request), user_id))

    @post("/{user_id:int}/reset-otp", opt={"perm": P.USER_RESET_OTP}, status_code=200)
    async def reset_otp(self, request: Request, user_id: FromPath[int]) -> UserOut:
        return _user_out(request, await users.reset_otp(ctx_of(request), user_id))

    @post("/{user_id:int}/unlock", opt={"perm": P.USER_UNLOCK}, status_code=200, summary="解锁登录（清除登录失败等待）")
    async def unlock(self, request: Request, user_id: FromPath[int]) -> UserOut:
        return _user_out(request, await users.unlock(ctx_of(request), user_id))


def _node(node: permissions.Node) -> PermissionNode:
    return PermissionNode(code=node.code, label=node.label, kind=node.kind, children=[_node(c) for c in node.children])


class MetaController(Controller):
    path = "/api/v1"
    tags = ["system"]

    @get("/permissions", opt=SIGNED_IN, summary="权限树")
    async def permission_tree(self) -> list[PermissionNode]:
        return [_node(m) for m in permissions.tree()]

    @get("/audit-log", opt={"perm": P.AUDIT_VIEW}, dependencies={"filters": AuditFilters.provide()}, summary="操作日志")
    async def audit_log(
        self, request: Request, filters: NamedDependency[AuditFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> AuditPage:
        result = await audit.search(ctx_of(request), params=PageParams(page, page_size), **filters.as_dict())
        rows = [r | {"before": _json(r["before"]), "after": _json(r["after"])} for r in result.items]
        return page_of(AuditOut, result.with_items(rows))

    @get("/settings", opt={"perm": P.SETTINGS_VIEW}, summary="系统设置")
    async def read_settings(self, request: Request) -> SettingsOut:
        return to(SettingsOut, await tenants.get_settings(ctx_of(request)))

    @patch("/settings", opt={"perm": P.SETTINGS_UPDATE}, summary="修改系统设置")
    async def update_settings(self, request: Request, data: JSONBody[SettingsPatch]) -> SettingsOut:
        return to(SettingsOut, await tenants.update_settings(ctx_of(request), given(data)))


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


ROUTES = [AuthController, OrgController, RoleController, UserController, MetaController]
