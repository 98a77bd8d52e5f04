"""JSON API of the queue: services, counters, devices, tickets with their actions, statistics.
Thin: rules live in the services. Each route declares who may call it: a person's permission
code (any one of a tuple), and the device kinds whose token may call it too (a kiosk takes
tickets; kiosks and TVs read their own org's services); every other route refuses a device."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.core.api import PageNo, PageSize, given, page_of, page_type, to
from server.core.openapi import THROTTLED, XLSX
from server.core.pagination import Page, PageParams
from server.core.web import ctx_of
from server.queue import exports
from server.queue import permissions as P
from server.queue.schemas import (
    CounterFilters,
    CounterIn,
    CounterOut,
    CounterPatch,
    CounterServiceOut,
    DeviceFilters,
    DeviceIn,
    DeviceOut,
    DevicePatch,
    DeviceTokenOut,
    ServiceFilters,
    ServiceIn,
    ServiceOut,
    ServicePatch,
    StatsFilters,
    StatsOut,
    TicketFilters,
    TicketIn,
    TicketOut,
)
from server.queue.services import devices, setup, stats, tickets
from server.queue.states import DeviceKind

ServicePage = page_type(ServiceOut)
CounterPage = page_type(CounterOut)
DevicePage = page_type(DeviceOut)
TicketPage = page_type(TicketOut)
# an org's services and counters are read by the pages of 叫号, 排队统计 and 排队设置 alike
VIEW = (P.SETTINGS_VIEW, P.COUNTER_VIEW, P.STATS_VIEW)
KINDS = (DeviceKind.KIOSK, DeviceKind.TV)  # the kiosk's buttons and the TV's board show the org's services


def _all(out, rows: list[dict]) -> dict:
    """A short list (an org's services or counters) in the list envelope, on one page."""
    return Page([out(r) for r in rows], len(rows), 1, max(len(rows), 1)).envelope()


class ServiceController(Controller):
    path = "/api/v1/queue/services"
    tags = ["queue"]

    dependencies = {"filters": ServiceFilters.provide()}

    @get("/", opt={"perm": VIEW, "devices": KINDS}, summary="机构的业务类型（默认本机构；设备：其所属机构）")
    async def list_services(self, request: Request, filters: NamedDependency[ServiceFilters]) -> ServicePage:
        rows = await setup.services(ctx_of(request), filters.org_id or None, enabled_only=filters.enabled)
        return _all(lambda r: to(ServiceOut, r), rows)

    @post("/", opt={"perm": P.SETTINGS_UPDATE})
    async def create(self, request: Request, data: JSONBody[ServiceIn]) -> ServiceOut:
        return to(ServiceOut, await setup.create_service(ctx_of(request), given(data)))

    @get("/{service_id:int}", opt={"perm": VIEW, "devices": KINDS})
    async def read(self, request: Request, service_id: FromPath[int]) -> ServiceOut:
        return to(ServiceOut, await setup.get_service(ctx_of(request), service_id))

    @patch("/{service_id:int}", opt={"perm": P.SETTINGS_UPDATE})
    async def update(self, request: Request, service_id: FromPath[int], data: JSONBody[ServicePatch]) -> ServiceOut:
        return to(ServiceOut, await setup.update_service(ctx_of(request), service_id, given(data)))

    @delete(
        "/{service_id:int}", opt={"perm": P.SETTINGS_UPDATE}, status_code=200, summary="删除（仍有人排队时不能删除）"
    )
    async def remove(self, request: Request, service_id: FromPath[int]) -> ServiceOut:
        return to(ServiceOut, await setup.delete_service(ctx_of(request), service_id))


def _counter(row: dict) -> CounterOut:
    return CounterOut(
        **{f: row[f] for f in CounterOut.__struct_fields__ if f != "services"},
        services=[to(CounterServiceOut, s) for s in row["services"]],
    )


class CounterController(Controller):
    path = "/api/v1/queue/counters"
    tags = ["queue"]

    dependencies = {"filters": CounterFilters.provide()}

    @get("/", opt={"perm": VIEW})
    async def list_counters(self, request: Request, filters: NamedDependency[CounterFilters]) -> CounterPage:
        return _all(_counter, await setup.counters(ctx_of(request), filters.org_id or None))

    @post("/", opt={"perm": P.SETTINGS_UPDATE})
    async def create(self, request: Request, data: JSONBody[CounterIn]) -> CounterOut:
        return _counter(await setup.create_counter(ctx_of(request), given(data)))

    @get("/{counter_id:int}", opt={"perm": VIEW})
    async def read(self, request: Request, counter_id: FromPath[int]) -> CounterOut:
        return _counter(await setup.get_counter(ctx_of(request), counter_id))

    @patch("/{counter_id:int}", opt={"perm": P.SETTINGS_UPDATE})
    async def update(self, request: Request, counter_id: FromPath[int], data: JSONBody[CounterPatch]) -> CounterOut:
        return _counter(await setup.update_counter(ctx_of(request), counter_id, given(data)))

    @delete("/{counter_id:int}", opt={"perm": P.SETTINGS_UPDATE}, status_code=200)
    async def remove(self, request: Request, counter_id: FromPath[int]) -> CounterOut:
        return _counter(await setup.delete_counter(ctx_of(request), counter_id))

    @post(
        "/{counter_id:int}/call-next", opt={"perm": P.CALL}, status_code=200, summary="叫号：本窗口业务中最早的等候号"
    )
    async def call_next(self, request: Request, counter_id: FromPath[int]) -> TicketOut:
        return to(TicketOut, await tickets.call_next(ctx_of(request), counter_id))


def _with_url(request: Request, row: dict) -> DeviceTokenOut:
    url = str(request.base_url).rstrip("/") + row["path"]
    return DeviceTokenOut(**{f: row[f] for f in DeviceOut.__struct_fields__}, token=row["token"], url=url)


class DeviceController(Controller):
    path = "/api/v1/queue/devices"
    tags = ["queue"]

    dependencies = {"filters": DeviceFilters.provide()}

    @get("/", opt={"perm": P.DEVICE})
    async def list_devices(
        self, request: Request, filters: NamedDependency[DeviceFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> DevicePage:
        return page_of(DeviceOut, await devices.search(ctx_of(request), filters, PageParams(page, page_size)))

    @post("/", opt={"perm": P.DEVICE}, summary="新增设备：答复中的 token / url 只出现这一次")
    async def create(self, request: Request, data: JSONBody[DeviceIn]) -> DeviceTokenOut:
        return _with_url(request, await devices.create(ctx_of(request), given(data)))

    @get("/{device_id:int}", opt={"perm": P.DEVICE})
    async def read(self, request: Request, device_id: FromPath[int]) -> DeviceOut:
        return to(DeviceOut, await devices.get(ctx_of(request), device_id))

    @patch("/{device_id:int}", opt={"perm": P.DEVICE})
    async def update(self, request: Request, device_id: FromPath[int], data: JSONBody[DevicePatch]) -> DeviceOut:
        return to(DeviceOut, await devices.update(ctx_of(request), device_id, given(data)))

    @delete("/{device_id:int}", opt={"perm": P.DEVICE}, status_code=200)
    async def remove(self, request: Request, device_id: FromPath[int]) -> DeviceOut:
        return to(DeviceOut, await devices.delete(ctx_of(request), device_id))

    @post("/{device_id:int}/revoke", opt={"perm": P.DEVICE}, status_code=200, summary="停用令牌：设备立即断开")
    async def revoke(self, request: Request, device_id: FromPath[int]) -> DeviceOut:
        return to(DeviceOut, await devices.revoke(ctx_of(request), device_id))

    @post(
        "/{device_id:int}/regenerate", opt={"perm": P.DEVICE}, status_code=200, summary="重新生成令牌：旧令牌立即失效"
    )
    async def regenerate(self, request: Request, device_id: FromPath[int]) -> DeviceTokenOut:
        return _with_url(request, await devices.regenerate(ctx_of(request), device_id))


class TicketController(Controller):
    path = "/api/v1/queue/tickets"
    tags = ["queue"]

    dependencies = {"filters": TicketFilters.provide()}

    @get("/", opt={"perm": P.COUNTER_VIEW})
    async def list_tickets(
        self, request: Request, filters: NamedDependency[TicketFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> TicketPage:
        return page_of(TicketOut, await tickets.search(ctx_of(request), filters, PageParams(page, page_size)))

    @post(
        "/",
        opt={"perm": P.TAKE, "devices": (DeviceKind.KIOSK,)},
        responses=THROTTLED,
        summary="取号（取号机的设备令牌或员工）",
    )
    async def take(self, request: Request, data: JSONBody[TicketIn]) -> TicketOut:
        return to(TicketOut, await tickets.take(ctx_of(request), given(data)))

    @get("/{ticket_id:int}", opt={"perm": P.COUNTER_VIEW})
    async def read(self, request: Request, ticket_id: FromPath[int]) -> TicketOut:
        return to(TicketOut, await tickets.get(ctx_of(request), ticket_id))

    @post("/{ticket_id:int}/recall", opt={"perm": P.CALL}, status_code=200, summary="重呼")
    async def recall(self, request: Request, ticket_id: FromPath[int]) -> TicketOut:
        return to(TicketOut, await tickets.recall(ctx_of(request), ticket_id))

    @post("/{ticket_id:int}/skip", opt={"perm": P.CALL}, status_code=200, summary="过号")
    async def skip(self, request: Request, ticket_id: FromPath[int]) -> TicketOut:
        return to(TicketOut, await tickets.skip(ctx_of(request), ticket_id))

    @post("/{ticket_id:int}/start", opt={"perm": P.CALL}, status_code=200, summary="开始办理")
    async def start(self, request: Request, ticket_id: FromPath[int]) -> TicketOut:
        return to(TicketOut, await tickets.start(ctx_of(request), ticket_id))

    @post("/{ticket_id:int}/finish", opt={"perm": P.CALL}, status_code=200, summary="完成")
    async def finish(self, request: Request, ticket_id: FromPath[int]) -> TicketOut:
        return to(TicketOut, await tickets.finish(ctx_of(request), ticket_id))


class StatsController(Controller):
    path = "/api/v1/queue/stats"
    tags = ["queue"]
    dependencies = {"filters": StatsFilters.provide()}

    @get("/", opt={"perm": P.STATS_VIEW}, summary="按日期、业务类型、窗口统计（默认今天、本机构）")
    async def read(self, request: Request, filters: NamedDependency[StatsFilters]) -> StatsOut:
        return msgspec.convert(await stats.compute(ctx_of(request), filters), StatsOut)

    @get("/export", opt={"perm": P.STATS_EXPORT}, responses=XLSX, summary="导出 Excel（当前筛选条件）")
    async def export(self, request: Request, filters: NamedDependency[StatsFilters]) -> Response:
        return await exports.stats_xlsx(ctx_of(request), filters)


ROUTES = [ServiceController, CounterController, DeviceController, TicketController, StatsController]
