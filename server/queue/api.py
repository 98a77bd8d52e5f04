"""JSON API of the queue: services, counters, devices, tickets with their actions, statistics.
Thin: rules live in the services. Each route declares who may call it: a person's permission
code (any one of a tuple), and the device kinds whose token may call it too (a kiosk takes
tickets; kiosks and TVs read their own org's services); every other route refuses a device."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.core.api import PageNo, PageSize, given, page_of, page_type, to
from server.core.openapi import THROTTLED, XLSX, error_response
from server.core.pagination import Page, PageParams
from server.core.web import client_ip, ctx_of
from server.queue import exports
from server.queue import permissions as P
from server.queue.schemas import (
    AppointmentFilters,
    AppointmentOut,
    BookedOut,
    BookIn,
    BookingCancelIn,
    BookingIn,
    BookingOut,
    CalendarOut,
    CancelIn,
    CheckInIn,
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
    PriorityIn,
    RatingIn,
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
from server.queue.services import appointments, devices, setup, stats, tickets
from server.queue.states import DeviceKind

ServicePage = page_type(ServiceOut)
CounterPage = page_type(CounterOut)
DevicePage = page_type(DeviceOut)
TicketPage = page_type(TicketOut)
AppointmentPage = page_type(AppointmentOut)
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

    @post(
        "/{ticket_id:int}/priority",
        opt={"perm": P.CALL},
        status_code=200,
        summary="优先通道：等候中的号设为长者优先 / VIP（空：回到原队列）",
    )
    async def priority(self, request: Request, ticket_id: FromPath[int], data: JSONBody[PriorityIn]) -> TicketOut:
        return to(TicketOut, await tickets.set_priority(ctx_of(request), ticket_id, data.priority))

    @post(
        "/{ticket_id:int}/rating",
        opt={"perm": P.CALL, "devices": (DeviceKind.KIOSK,)},
        status_code=200,
        summary="顾客评价（1–5 分，办理完成后一次）",
    )
    async def rate(self, request: Request, ticket_id: FromPath[int], data: JSONBody[RatingIn]) -> TicketOut:
        return to(TicketOut, await tickets.rate(ctx_of(request), ticket_id, data.rating))


class AppointmentController(Controller):
    path = "/api/v1/queue/appointments"
    tags = ["queue"]

    dependencies = {"filters": AppointmentFilters.provide()}

    @get("/", opt={"perm": P.APPOINTMENTS_VIEW}, summary="机构某日的预约（默认本机构、今天），按时段")
    async def list_appointments(
        self,
        request: Request,
        filters: NamedDependency[AppointmentFilters],
        page: PageNo = 1,
        page_size: PageSize = 50,
    ) -> AppointmentPage:
        return page_of(AppointmentOut, await appointments.search(ctx_of(request), filters, PageParams(page, page_size)))

    @get("/{appointment_id:int}", opt={"perm": P.APPOINTMENTS_VIEW})
    async def read(self, request: Request, appointment_id: FromPath[int]) -> AppointmentOut:
        return to(AppointmentOut, await appointments.get(ctx_of(request), appointment_id))

    @post("/{appointment_id:int}/cancel", opt={"perm": P.APPOINTMENTS_CANCEL}, status_code=200, summary="取消预约")
    async def cancel(self, request: Request, appointment_id: FromPath[int], data: JSONBody[CancelIn]) -> AppointmentOut:
        return to(AppointmentOut, await appointments.cancel(ctx_of(request), appointment_id, given(data)))

    @post(
        "/check-in",
        opt={"perm": P.TAKE, "devices": (DeviceKind.KIOSK,)},
        status_code=201,
        summary="预约签到：今天的预约按预约码或手机号签到，取得预约队列的号",
    )
    async def check_in(self, request: Request, data: JSONBody[CheckInIn]) -> TicketOut:
        return to(TicketOut, await appointments.check_in(ctx_of(request), given(data)))


def _booking(request: Request, row: dict) -> BookingOut:
    url = str(request.base_url).rstrip("/") + f"/book/{row['token']}" if row.get("token") else ""
    return BookingOut(**{f: row[f] for f in BookingOut.__struct_fields__ if f != "url"}, url=url)


class BookingController(Controller):
    path = "/api/v1/queue/booking"
    tags = ["queue"]

    dependencies = {"filters": CounterFilters.provide()}  # org_id only

    @get("/", opt={"perm": P.SETTINGS_VIEW}, summary="网上预约设置（默认本机构）")
    async def read(self, request: Request, filters: NamedDependency[CounterFilters]) -> BookingOut:
        return _booking(request, await appointments.booking(ctx_of(request), filters.org_id or None))

    @put("/", opt={"perm": P.SETTINGS_UPDATE}, summary="保存网上预约设置（首次保存生成预约链接）")
    async def update(
        self, request: Request, filters: NamedDependency[CounterFilters], data: JSONBody[BookingIn]
    ) -> BookingOut:
        return _booking(
            request, await appointments.update_booking(ctx_of(request), filters.org_id or None, given(data))
        )

    @post("/regenerate", opt={"perm": P.SETTINGS_UPDATE}, status_code=200, summary="重新生成预约链接：旧链接立即失效")
    async def regenerate(self, request: Request, filters: NamedDependency[CounterFilters]) -> BookingOut:
        return _booking(request, await appointments.regenerate_link(ctx_of(request), filters.org_id or None))


CANCEL_REFUSED = {
    404: error_response(
        "预约链接无效，或预约码与手机号后四位对不上（不论预约码是否存在，答复相同）",
        ("没有找到该预约，请核对预约码和预约手机号后四位", "not_found"),
    ),
    409: error_response("该预约已签到、已取消，或时段已过", ("该预约已签到，不能取消", "invalid_state")),
}


class PublicBookingController(Controller):
    """The online booking page's API: anyone holding the org's booking link."""

    path = "/api/v1/public/booking"
    tags = ["queue"]

    @get("/{token:str}", opt={"public": True}, summary="预约页：机构、业务类型与可约时段")
    async def calendar(self, token: FromPath[str]) -> CalendarOut:
        ctx, settings = await appointments.public_ctx(token)
        return msgspec.convert(await appointments.calendar(ctx, settings), CalendarOut)

    @post("/{token:str}", opt={"public": True}, responses=THROTTLED, summary="预约：答复预约码（到店在取号机签到）")
    async def book(self, request: Request, token: FromPath[str], data: JSONBody[BookIn]) -> BookedOut:
        ctx, settings = await appointments.public_ctx(token)
        return BookedOut(
            **appointments.receipt(await appointments.book(ctx, settings, given(data), client_ip(request)), settings)
        )

    @post(
        "/{token:str}/cancel",
        opt={"public": True},
        status_code=200,
        responses=CANCEL_REFUSED | THROTTLED,
        summary="客户取消自己的预约：预约码 + 预约手机号后四位（错误次数计入每小时限制）",
    )
    async def cancel(self, request: Request, token: FromPath[str], data: JSONBody[BookingCancelIn]) -> BookedOut:
        ctx, settings = await appointments.public_ctx(token)
        cancelled = await appointments.cancel_own(ctx, settings, given(data), client_ip(request))
        return BookedOut(**appointments.receipt(cancelled, settings))


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


ROUTES = [
    ServiceController,
    CounterController,
    DeviceController,
    TicketController,
    AppointmentController,
    BookingController,
    PublicBookingController,
    StatsController,
]
