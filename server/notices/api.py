"""JSON API of customer notices: `/api/v1/notices` (list, `POST /{id}/resend`),
`/api/v1/notice-templates` (list, get, put) and `/api/v1/notice-settings` (the head office's SMS
and SMTP gateways). Thin: the rules are in server.notices.services."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.core.api import PageNo, PageSize, given, page_of, page_type, to
from server.core.pagination import Page, PageParams
from server.core.web import ctx_of
from server.notices import permissions as P
from server.notices import services
from server.notices.schemas import NoticeOut, SettingsIn, SettingsOut, TemplateIn, TemplateOut
from server.notices.services import NoticeFilters

NoticePage = page_type(NoticeOut)
TemplatePage = page_type(TemplateOut)
PAGE_SIZE = 50


class NoticeApi(Controller):
    path = "/api/v1/notices"
    tags = ["notices"]
    dependencies = {"filters": NoticeFilters.provide()}

    @get("/", opt={"perm": P.VIEW}, summary="通知记录")
    async def list_notices(
        self, request: Request, filters: NamedDependency[NoticeFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> NoticePage:  # type: ignore[valid-type]
        return page_of(NoticeOut, await services.search(ctx_of(request), filters, PageParams(page, page_size)))

    @get("/{notice_id:int}", opt={"perm": P.VIEW}, summary="一条通知")
    async def read(self, request: Request, notice_id: FromPath[int]) -> NoticeOut:
        return to(NoticeOut, await services.get(ctx_of(request), notice_id))

    @post("/{notice_id:int}/resend", opt={"perm": P.RESEND}, status_code=200, summary="重发（已发送或发送失败的通知）")
    async def resend(self, request: Request, notice_id: FromPath[int]) -> NoticeOut:
        return to(NoticeOut, await services.resend(ctx_of(request), notice_id))


class NoticeTemplateApi(Controller):
    path = "/api/v1/notice-templates"
    tags = ["notices"]

    @get("/", opt={"perm": P.SETTINGS_VIEW}, summary="通知模板（每个事件、每个渠道一个，一页列完）")
    async def list_templates(self, request: Request) -> TemplatePage:  # type: ignore[valid-type]
        texts = await services.list_templates(ctx_of(request))
        return Page(texts, len(texts), 1, PAGE_SIZE).envelope([to(TemplateOut, t) for t in texts])

    @get("/{template_id:int}", opt={"perm": P.SETTINGS_VIEW}, summary="一个通知模板")
    async def read(self, request: Request, template_id: FromPath[int]) -> TemplateOut:
        return to(TemplateOut, await services.get_template(ctx_of(request), template_id))

    @put("/{template_id:int}", opt={"perm": P.SETTINGS_MANAGE}, summary="修改通知模板（保存前用示例数据检查）")
    async def save(self, request: Request, template_id: FromPath[int], data: JSONBody[TemplateIn]) -> TemplateOut:
        return to(TemplateOut, await services.put_template(ctx_of(request), template_id, given(data)))


class NoticeSettingsApi(Controller):
    path = "/api/v1/notice-settings"
    tags = ["notices"]

    @get("/", opt={"perm": P.SETTINGS_MANAGE}, summary="短信网关与邮件服务器设置（总部，不含密钥）")
    async def read(self, request: Request) -> SettingsOut:
        return to(SettingsOut, await services.get_settings(ctx_of(request)))

    @put("/", opt={"perm": P.SETTINGS_MANAGE}, summary="保存短信网关与邮件服务器设置（总部）")
    async def save(self, request: Request, data: JSONBody[SettingsIn]) -> SettingsOut:
        return to(SettingsOut, await services.put_settings(ctx_of(request), given(data)))


ROUTES: list[Any] = [NoticeApi, NoticeTemplateApi, NoticeSettingsApi]
