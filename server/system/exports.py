"""Excel exports of the org and user lists, with the filters the list currently shows."""

from __future__ import annotations

from litestar import Response

from server.core.clock import local
from server.core.pagination import PageParams
from server.core.tenancy import Ctx
from server.core.xlsx import MAX_EXPORT_ROWS, xlsx_response, yes_no
from server.system.schemas import OrgFilters, UserFilters
from server.system.services import orgs, users

ALL = PageParams(1, MAX_EXPORT_ROWS)


async def orgs_xlsx(ctx: Ctx, filters: OrgFilters) -> Response:
    page = await orgs.search(ctx, params=ALL, **filters.as_dict())
    rows = (
        [
            o["code"],
            o["name"],
            o["parent_name"] or "",
            orgs.KINDS[o["kind"]],
            o["level"],
            o["depth"],
            yes_no(o["enabled"]),
            orgs.STATUSES[o["status"]],
            o["contact"],
            o["phone"],
            o["address"],
            o["remark"],
        ]
        for o in page.items
    )
    return await xlsx_response(
        "机构.xlsx",
        "机构",
        [
            "机构代码",
            "机构名称",
            "上级机构",
            "机构类型",
            "机构级别",
            "层级",
            "是否启用",
            "状态",
            "联系人",
            "电话",
            "地址",
            "备注",
        ],
        rows,
    )


async def users_xlsx(ctx: Ctx, filters: UserFilters) -> Response:
    page = await users.search(ctx, params=ALL, **filters.as_dict())
    rows = (
        [
            f"{u['account']}@{ctx.tenant_code}",
            u["name"],
            u["org_name"],
            "、".join(u["role_names"]),
            u["phone"],
            u["email"],
            yes_no(u["enabled"]),
            users.STATUSES[u["status"]],
            yes_no(u["otp_enrolled"]),
            local(u["last_login_at"], ctx.tz),
        ]
        for u in page.items
    )
    return await xlsx_response(
        "用户.xlsx",
        "用户",
        ["登录名", "姓名", "所属机构", "角色", "电话", "邮箱", "是否启用", "状态", "已绑定动态密钥", "最后登录"],
        rows,
    )
