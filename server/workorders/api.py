"""JSON API of work orders and customers: intake, the list with its filters, the actions of the
life cycle, the status timeline and a device's history. Thin: rules live in the services."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.core.api import PageNo, PageSize, given, page_type
from server.core.openapi import XLSX
from server.core.pagination import PageParams
from server.core.web import ctx_of
from server.workorders import exports
from server.workorders import permissions as P
from server.workorders.schemas import (
    AssignIn,
    CancelIn,
    CloseIn,
    CompleteIn,
    CustomerOut,
    CustomerPatch,
    DeviceOut,
    LineIn,
    LinePatch,
    SettingsOut,
    SettingsPatch,
    ShipDeviceIn,
    StartRepairIn,
    StatusChangeOut,
    WorkOrderFilters,
    WorkOrderIn,
    WorkOrderOut,
    WorkOrderPatch,
)
from server.workorders.services import carry, customers, orders, settings
from server.workorders.services.customers import CustomerFilters

CustomerPage = page_type(CustomerOut)
WorkOrderPage = page_type(WorkOrderOut)
# the front desk reads orders and customers from the intake screen as well as from 【工单处理】
READ = (P.VIEW, P.INTAKE_VIEW)


def _order(row: dict) -> WorkOrderOut:
    return msgspec.convert(row, WorkOrderOut)


def _page(struct: type, page: Any) -> dict:
    return page.envelope([msgspec.convert(r, struct) for r in page.items])


class CustomerController(Controller):
    path = "/api/v1/customers"
    tags = ["workorders"]

    @get(
        "/",
        opt={"perm": READ},
        dependencies={"filters": CustomerFilters.provide()},
        summary="客户（按手机号或姓名查找）",
    )
    async def list_customers(
        self, request: Request, filters: NamedDependency[CustomerFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> CustomerPage:
        return _page(CustomerOut, await customers.search(ctx_of(request), filters, params=PageParams(page, page_size)))

    @get("/{customer_id:int}", opt={"perm": READ})
    async def read(self, request: Request, customer_id: FromPath[int]) -> CustomerOut:
        return msgspec.convert(await customers.get(ctx_of(request), customer_id), CustomerOut)

    @patch("/{customer_id:int}", opt={"perm": (P.INTAKE, P.UPDATE)})
    async def update(self, request: Request, customer_id: FromPath[int], data: JSONBody[CustomerPatch]) -> CustomerOut:
        return msgspec.convert(await customers.update(ctx_of(request), customer_id, given(data)), CustomerOut)


class WorkOrderController(Controller):
    path = "/api/v1/work-orders"
    tags = ["workorders"]

    @get("/", opt={"perm": READ}, dependencies={"filters": WorkOrderFilters.provide()}, summary="工单（本机构及下级）")
    async def list_orders(
        self, request: Request, filters: NamedDependency[WorkOrderFilters], page: PageNo = 1, page_size: PageSize = 50
    ) -> WorkOrderPage:
        return _page(WorkOrderOut, await orders.search(ctx_of(request), filters, params=PageParams(page, page_size)))

    @get(
        "/export",
        opt={"perm": P.EXPORT},
        dependencies={"filters": WorkOrderFilters.provide()},
        responses=XLSX,
        summary="导出 Excel（当前筛选条件）",
    )
    async def export(self, request: Request, filters: NamedDependency[WorkOrderFilters]) -> Response:
        return await exports.orders_xlsx(ctx_of(request), filters)

    @post("/", opt={"perm": P.INTAKE}, summary="工单受理")
    async def intake(self, request: Request, data: JSONBody[WorkOrderIn]) -> WorkOrderOut:
        return _order(await orders.intake(ctx_of(request), given(data)))

    @get("/{order_id:int}", opt={"perm": READ})
    async def read(self, request: Request, order_id: FromPath[int]) -> WorkOrderOut:
        return _order(await orders.get(ctx_of(request), order_id))

    @patch("/{order_id:int}", opt={"perm": (P.UPDATE, P.INTAKE)}, summary="修改受理信息（维修完毕前）")
    async def update(self, request: Request, order_id: FromPath[int], data: JSONBody[WorkOrderPatch]) -> WorkOrderOut:
        return _order(await orders.update(ctx_of(request), order_id, given(data)))

    @get("/{order_id:int}/history", opt={"perm": READ}, summary="状态时间线")
    async def history(self, request: Request, order_id: FromPath[int]) -> list[StatusChangeOut]:
        return [msgspec.convert(r, StatusChangeOut) for r in await orders.history(ctx_of(request), order_id)]

    @post("/{order_id:int}/assign", opt={"perm": P.ASSIGN}, status_code=200, summary="派工 / 改派")
    async def assign(self, request: Request, order_id: FromPath[int], data: JSONBody[AssignIn]) -> WorkOrderOut:
        return _order(await orders.assign(ctx_of(request), order_id, data.technician_id))

    @post("/{order_id:int}/start-repair", opt={"perm": P.REPAIR}, status_code=200, summary="直接维修")
    async def start_repair(
        self, request: Request, order_id: FromPath[int], data: JSONBody[StartRepairIn]
    ) -> WorkOrderOut:
        return _order(await orders.start_repair(ctx_of(request), order_id, given(data)))

    @post("/{order_id:int}/lines", opt={"perm": P.REPAIR}, status_code=200, summary="添加维修明细")
    async def add_line(self, request: Request, order_id: FromPath[int], data: JSONBody[LineIn]) -> WorkOrderOut:
        return _order(await orders.add_line(ctx_of(request), order_id, given(data)))

    @patch("/{order_id:int}/lines/{line_id:int}", opt={"perm": P.REPAIR}, summary="修改维修明细的数量")
    async def update_line(
        self, request: Request, order_id: FromPath[int], line_id: FromPath[int], data: JSONBody[LinePatch]
    ) -> WorkOrderOut:
        return _order(await orders.update_line(ctx_of(request), order_id, line_id, given(data)))

    @delete("/{order_id:int}/lines/{line_id:int}", opt={"perm": P.REPAIR}, status_code=200, summary="删除维修明细")
    async def delete_line(self, request: Request, order_id: FromPath[int], line_id: FromPath[int]) -> WorkOrderOut:
        return _order(await orders.delete_line(ctx_of(request), order_id, line_id))

    @post(
        "/{order_id:int}/complete", opt={"perm": P.REPAIR}, status_code=200, summary="维修完毕（出库、坏品入库、计费）"
    )
    async def complete(self, request: Request, order_id: FromPath[int], data: JSONBody[CompleteIn]) -> WorkOrderOut:
        return _order(await orders.complete(ctx_of(request), order_id, given(data)))

    @post(
        "/{order_id:int}/send",
        opt={"perm": P.SEND},
        status_code=200,
        summary="送修（接机点：受理的工单发往维修中心，生成送修物流单）",
    )
    async def send(self, request: Request, order_id: FromPath[int], data: JSONBody[ShipDeviceIn]) -> WorkOrderOut:
        return _order(await carry.send(ctx_of(request), order_id, given(data)))

    @post(
        "/{order_id:int}/return",
        opt={"perm": P.SEND},
        status_code=200,
        summary="返还（维修中心：维修完毕的工单发回接机点，生成送修返还物流单）",
    )
    async def give_back(self, request: Request, order_id: FromPath[int], data: JSONBody[ShipDeviceIn]) -> WorkOrderOut:
        return _order(await carry.give_back(ctx_of(request), order_id, given(data)))

    @post("/{order_id:int}/close", opt={"perm": P.CLOSE}, status_code=200, summary="结单")
    async def close(self, request: Request, order_id: FromPath[int], data: JSONBody[CloseIn]) -> WorkOrderOut:
        return _order(await orders.close(ctx_of(request), order_id, given(data)))

    @post("/{order_id:int}/cancel", opt={"perm": P.CANCEL}, status_code=200, summary="取消（维修完毕前）")
    async def cancel(self, request: Request, order_id: FromPath[int], data: JSONBody[CancelIn]) -> WorkOrderOut:
        return _order(await orders.cancel(ctx_of(request), order_id, given(data)))


class DeviceController(Controller):
    path = "/api/v1/devices"
    tags = ["workorders"]

    @get("/{serial_no:str}", opt={"perm": READ}, summary="设备的维修记录（按序列号，最新在前）与返修标记")
    async def read(self, request: Request, serial_no: FromPath[str]) -> DeviceOut:
        return msgspec.convert(await orders.device(ctx_of(request), serial_no), DeviceOut)


class SettingsController(Controller):
    path = "/api/v1/work-order-settings"
    tags = ["workorders"]

    @get("/", opt={"perm": READ}, summary="返修判定天数与各状态的时效（分钟）")
    async def read(self, request: Request) -> SettingsOut:
        return msgspec.convert(await settings.settings(ctx_of(request)), SettingsOut)

    @patch("/", opt={"perm": P.SETTINGS}, summary="修改工单设置（总部）")
    async def update(self, request: Request, data: JSONBody[SettingsPatch]) -> SettingsOut:
        return msgspec.convert(await settings.update(ctx_of(request), given(data)), SettingsOut)


ROUTES = [CustomerController, WorkOrderController, DeviceController, SettingsController]
