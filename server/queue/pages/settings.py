"""【排队设置】: one org's services (业务类型) and counters (窗口), its kiosk and TV devices, and its
online booking (网上预约: hours, slots, places, the public page's link).
A device's URL carries its token, which is kept only as a hash: the dialog that answers 新增设备 or
重新生成链接 is the one time the URL (with its QR code) can be seen."""

from __future__ import annotations

import segno
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server.core.forms import form_data, saved
from server.core.pagination import PageParams
from server.core.tenancy import Ctx
from server.core.web import ctx_of, htmx_target, render
from server.queue import permissions as P
from server.queue.schemas import DeviceFilters
from server.queue.services import appointments, devices, setup
from server.queue.states import DeviceKind

BASE = "/queue/settings"
TOPIC = "queue"
SECTIONS = {
    "q-set-body": "body",
    "q-set-services": "services",
    "q-set-counters": "counters",
    "q-set-devices": "devices",
    "q-set-booking": "booking",
}
# an org keeps a handful of devices; one page of the most the list service allows shows them all
DEVICE_PAGE = PageParams(1, 200)


def _qr_svg(url: str) -> str:
    # a viewBox instead of a fixed size, as for the OTP code: the dialog scales it to its box
    return segno.make(url, error="m").svg_inline(scale=5, border=2, omitsize=True)


async def _org(ctx: Ctx, request: Request) -> dict:
    return await setup.org_of(ctx, request.query_params.get("org_id") or None)


def _device_link(request: Request, device: dict, *, created: bool) -> Response:
    """The answer dialog with the device's URL and QR code; it also closes the form dialog and
    refreshes the device list (htmx swaps it into #modal whatever the form asked for)."""
    url = str(request.base_url).rstrip("/") + device["path"]
    verb = "已新增" if created else "已重新生成链接："
    response = render(
        request,
        "queue/_settings_device_link.html",
        status_code=201 if created else 200,
        device=device,
        url=url,
        qr=_qr_svg(url),
        created=created,
        Kind=DeviceKind,
    )
    trigger = saved(f"{verb}{device['kind_name']} {device['name']}", TOPIC).headers["HX-Trigger"]
    response.headers.update({"HX-Trigger": trigger, "HX-Retarget": "#modal", "HX-Reswap": "innerHTML"})
    return response


async def _booking(request: Request, ctx: Ctx, org_id: int) -> dict:
    """The booking section's context: the settings, the page's URL and its QR code to print."""
    booking = await appointments.booking(ctx, org_id)
    url = str(request.base_url).rstrip("/") + f"/book/{booking['token']}" if booking["token"] else ""
    return {"booking": booking, "booking_url": url, "booking_qr": _qr_svg(url) if url else ""}


class SettingsPages(Controller):
    path = BASE

    @get("/", opt={"perm": P.SETTINGS_VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        """The whole page, or one region of it (`q-set-body` after choosing another org, a section
        after a save or a live event)."""
        ctx = ctx_of(request)
        org = await _org(ctx, request)
        block = SECTIONS.get(htmx_target(request) or "")
        wants = {block} if block and block != "body" else {"services", "counters", "devices", "booking"}
        may_devices = ctx.can(P.DEVICE)
        return render(
            request,
            "queue/settings.html",
            block=block,
            title="排队设置",
            org=org,
            services=await setup.services(ctx, org["id"]) if "services" in wants else [],
            counters=await setup.counters(ctx, org["id"]) if "counters" in wants else [],
            devices=(await devices.search(ctx, DeviceFilters(org_id=str(org["id"])), DEVICE_PAGE)).items
            if may_devices and "devices" in wants
            else [],
            may_update=ctx.can(P.SETTINGS_UPDATE),
            may_devices=may_devices,
            **(await _booking(request, ctx, org["id"]) if "booking" in wants else {}),
        )

    # --- online booking --------------------------------------------------------------------------

    @get("/booking/edit", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def edit_booking(self, request: Request) -> Response:
        org = await _org(ctx_of(request), request)
        booking = await appointments.booking(ctx_of(request), org["id"])
        return render(request, "queue/_settings_booking_form.html", booking=booking)

    @post("/booking", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def update_booking(self, request: Request) -> Response:
        data = await form_data(request)
        row = await appointments.update_booking(ctx_of(request), data.get("org_id"), data)
        return saved(f"已保存 {row['org_name']} 的网上预约设置", TOPIC)

    @post("/booking/regenerate", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def regenerate_booking(self, request: Request) -> Response:
        row = await appointments.regenerate_link(ctx_of(request), request.query_params.get("org_id"))
        return saved(f"已为 {row['org_name']} 生成新的预约链接，旧链接已失效", TOPIC)

    # --- services ------------------------------------------------------------------------------

    @get("/services/new", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def new_service(self, request: Request) -> Response:
        org = await _org(ctx_of(request), request)
        return render(request, "queue/_settings_service_form.html", item=None, org=org)

    @post("/services", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def create_service(self, request: Request) -> Response:
        row = await setup.create_service(ctx_of(request), await form_data(request))
        return saved(f"已新增业务类型 {row['prefix']} {row['name']}", TOPIC, status_code=201)

    @get("/services/{service_id:int}/edit", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def edit_service(self, request: Request, service_id: FromPath[int]) -> Response:
        item = await setup.get_service(ctx_of(request), service_id)
        return render(request, "queue/_settings_service_form.html", item=item, org=None)

    @post("/services/{service_id:int}", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def update_service(self, request: Request, service_id: FromPath[int]) -> Response:
        row = await setup.update_service(ctx_of(request), service_id, await form_data(request))
        return saved(f"已修改业务类型 {row['prefix']} {row['name']}", TOPIC)

    @post("/services/{service_id:int}/delete", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def delete_service(self, request: Request, service_id: FromPath[int]) -> Response:
        row = await setup.delete_service(ctx_of(request), service_id)
        return saved(f"已删除业务类型 {row['prefix']} {row['name']}", TOPIC)

    # --- counters ------------------------------------------------------------------------------

    @get("/counters/new", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def new_counter(self, request: Request) -> Response:
        ctx = ctx_of(request)
        org = await _org(ctx, request)
        return render(
            request,
            "queue/_settings_counter_form.html",
            item=None,
            org=org,
            services=await setup.services(ctx, org["id"]),
        )

    @post("/counters", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def create_counter(self, request: Request) -> Response:
        row = await setup.create_counter(ctx_of(request), await form_data(request, lists=("service_ids",)))
        return saved(f"已新增 {row['label']}", TOPIC, status_code=201)

    @get("/counters/{counter_id:int}/edit", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def edit_counter(self, request: Request, counter_id: FromPath[int]) -> Response:
        ctx = ctx_of(request)
        item = await setup.get_counter(ctx, counter_id)
        services = await setup.services(ctx, item["org_id"])
        return render(request, "queue/_settings_counter_form.html", item=item, org=None, services=services)

    @post("/counters/{counter_id:int}", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def update_counter(self, request: Request, counter_id: FromPath[int]) -> Response:
        data = await form_data(request, lists=("service_ids",))
        row = await setup.update_counter(ctx_of(request), counter_id, data)
        return saved(f"已修改 {row['label']}", TOPIC)

    @post("/counters/{counter_id:int}/delete", opt={"perm": P.SETTINGS_UPDATE}, include_in_schema=False)
    async def delete_counter(self, request: Request, counter_id: FromPath[int]) -> Response:
        row = await setup.delete_counter(ctx_of(request), counter_id)
        return saved(f"已删除 {row['label']}", TOPIC)

    # --- devices -------------------------------------------------------------------------------

    @get("/devices/new", opt={"perm": P.DEVICE}, include_in_schema=False)
    async def new_device(self, request: Request) -> Response:
        org = await _org(ctx_of(request), request)
        return render(request, "queue/_settings_device_form.html", org=org, Kind=DeviceKind)

    @post("/devices", opt={"perm": P.DEVICE}, include_in_schema=False)
    async def create_device(self, request: Request) -> Response:
        device = await devices.create(ctx_of(request), await form_data(request))
        return _device_link(request, device, created=True)

    @post("/devices/{device_id:int}/regenerate", opt={"perm": P.DEVICE}, include_in_schema=False)
    async def regenerate_device(self, request: Request, device_id: FromPath[int]) -> Response:
        device = await devices.regenerate(ctx_of(request), device_id)
        return _device_link(request, device, created=False)

    @post("/devices/{device_id:int}/revoke", opt={"perm": P.DEVICE}, include_in_schema=False)
    async def revoke_device(self, request: Request, device_id: FromPath[int]) -> Response:
        row = await devices.revoke(ctx_of(request), device_id)
        return saved(f"已停用{row['kind_name']} {row['name']}，设备已断开", TOPIC)

    @post("/devices/{device_id:int}/delete", opt={"perm": P.DEVICE}, include_in_schema=False)
    async def delete_device(self, request: Request, device_id: FromPath[int]) -> Response:
        row = await devices.delete(ctx_of(request), device_id)
        return saved(f"已删除{row['kind_name']} {row['name']}", TOPIC)


ROUTES = [SettingsPages]
