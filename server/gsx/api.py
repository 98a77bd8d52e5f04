"""JSON API of the GSX integration: `/api/v1/gsx/settings` (+ `/test`), `/api/v1/gsx/link`,
`/api/v1/gsx/calls`, `/api/v1/gsx/news`, `/api/v1/gsx/coverage` (before intake),
`/api/v1/gsx/repairs` (+ `/sync`), and a work order's `/api/v1/work-orders/{id}/gsx` with
`coverage`, `check`, `repair`, `acknowledge`, `note`, `refresh`. Thin: the rules are in services. Without a
complete configuration every route but the settings answers 404."""

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody

from server.core.api import PageNo, PageSize, given, page_of, page_type, to
from server.core.pagination import PageParams
from server.core.web import ctx_of
from server.gsx import permissions as P
from server.gsx import services
from server.gsx.schemas import (
    CallOut,
    CoverageCheckIn,
    CoverageCheckOut,
    GsxOrderOut,
    LinkIn,
    LinkOut,
    NewsOut,
    NoteIn,
    RepairCheckOut,
    RepairIn,
    RepairRowOut,
    SettingsIn,
    SettingsOut,
    SyncOut,
    TestOut,
)
from server.workorders import permissions as WO

SIGNED_IN = {"signed_in": True}
CallPage = page_type(CallOut)
RepairPage = page_type(RepairRowOut)


def _order(row: dict) -> GsxOrderOut:
    return msgspec.convert(row, GsxOrderOut)


class GsxApi(Controller):
    path = "/api/v1/gsx"
    tags = ["gsx"]

    @get("/settings", opt={"perm": P.MANAGE}, summary="GSX 对接设置（不含证书和私钥）")
    async def read_settings(self, request: Request) -> SettingsOut:
        return to(SettingsOut, await services.get_settings(ctx_of(request)))

    @put("/settings", opt={"perm": P.MANAGE}, summary="保存 GSX 对接设置")
    async def save_settings(self, request: Request, data: JSONBody[SettingsIn]) -> SettingsOut:
        return to(SettingsOut, await services.put_settings(ctx_of(request), given(data)))

    @post("/settings/test", opt={"perm": P.MANAGE}, status_code=200, summary="测试连接")
    async def test(self, request: Request) -> TestOut:
        return to(TestOut, await services.test_connection(ctx_of(request)))

    @get("/link", opt=SIGNED_IN, summary="我的 GSX 关联")
    async def my_link(self, request: Request) -> LinkOut:
        return to(LinkOut, await services.my_link(ctx_of(request)))

    @post("/link", opt=SIGNED_IN, status_code=200, summary="关联 GSX（Apple ID + 激活码）")
    async def link(self, request: Request, data: JSONBody[LinkIn]) -> LinkOut:
        return to(LinkOut, await services.link(ctx_of(request), data.apple_id, data.activation_token))

    @delete("/link", opt=SIGNED_IN, status_code=204, summary="解除 GSX 关联")
    async def unlink(self, request: Request) -> None:
        await services.unlink(ctx_of(request))

    @post("/coverage", opt={"perm": P.COVERAGE}, status_code=200, summary="查询保修（受理前，按序列号，不保存）")
    async def check_coverage(self, request: Request, data: JSONBody[CoverageCheckIn]) -> CoverageCheckOut:
        return to(CoverageCheckOut, await services.check_coverage(ctx_of(request), data.serial_no))

    @get("/calls", opt={"perm": P.MANAGE}, summary="GSX 调用记录")
    async def calls(self, request: Request, page: PageNo = 1, page_size: PageSize = 50) -> CallPage:  # type: ignore[valid-type]
        return page_of(CallOut, await services.calls(ctx_of(request), PageParams(page, page_size)))

    @get("/news", opt={"perm": P.NEWS}, summary="GSX 公告")
    async def news(self, request: Request) -> list[NewsOut]:
        return [to(NewsOut, n) for n in await services.news(ctx_of(request))]

    @get("/repairs", opt={"perm": WO.VIEW}, summary="GSX 维修（本机构及下级工单的 GSX 维修，已保存的状态）")
    async def repairs(self, request: Request, page: PageNo = 1, page_size: PageSize = 50) -> RepairPage:  # type: ignore[valid-type]
        return page_of(RepairRowOut, await services.repairs(ctx_of(request), PageParams(page, page_size)))

    @post("/repairs/sync", opt={"perm": P.REPAIR}, status_code=200, summary="同步 GSX 维修状态（repair/summary）")
    async def sync(self, request: Request) -> SyncOut:
        return to(SyncOut, await services.sync_repairs(ctx_of(request)))


class WorkOrderGsxApi(Controller):
    path = "/api/v1/work-orders/{order_id:int}/gsx"
    tags = ["gsx"]

    @get("/", opt={"perm": WO.VIEW}, summary="工单的 GSX 信息（保修、维修、状态）")
    async def read(self, request: Request, order_id: FromPath[int]) -> GsxOrderOut:
        return _order(await services.for_order(ctx_of(request), order_id))

    @post("/coverage", opt={"perm": P.COVERAGE}, status_code=200, summary="查询保修（按工单序列号）")
    async def coverage(self, request: Request, order_id: FromPath[int]) -> GsxOrderOut:
        return _order(await services.coverage(ctx_of(request), order_id))

    @post("/repair", opt={"perm": P.REPAIR}, status_code=201, summary="创建 GSX 维修")
    async def repair(self, request: Request, order_id: FromPath[int], data: JSONBody[RepairIn]) -> GsxOrderOut:
        return _order(await services.create_repair(ctx_of(request), order_id, given(data)))

    @post("/check", opt={"perm": P.REPAIR}, status_code=200, summary="检查维修资格与部件（不创建）")
    async def check(self, request: Request, order_id: FromPath[int], data: JSONBody[RepairIn]) -> RepairCheckOut:
        return msgspec.convert(await services.check_repair(ctx_of(request), order_id, given(data)), RepairCheckOut)

    @post("/note", opt={"perm": P.REPAIR}, status_code=200, summary="给 GSX 维修添加备注（repair/update）")
    async def note(self, request: Request, order_id: FromPath[int], data: JSONBody[NoteIn]) -> GsxOrderOut:
        return _order(await services.add_note(ctx_of(request), order_id, data.note))

    @post("/acknowledge", opt={"perm": P.REPAIR}, status_code=200, summary="确认 GSX 提示（HOLD/WARNING）")
    async def acknowledge(self, request: Request, order_id: FromPath[int]) -> GsxOrderOut:
        return _order(await services.acknowledge(ctx_of(request), order_id))

    @post("/refresh", opt={"perm": P.REPAIR}, status_code=200, summary="刷新 GSX 维修状态")
    async def refresh(self, request: Request, order_id: FromPath[int]) -> GsxOrderOut:
        return _order(await services.refresh_status(ctx_of(request), order_id))


ROUTES = [GsxApi, WorkOrderGsxApi]
