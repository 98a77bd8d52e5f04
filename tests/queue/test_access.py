"""Who may call each queue route, said once on the route (`opt`): the table below is the queue's
access as the services used to check it. A person without the code is refused with 403
`forbidden` before anything is read or changed; a device token only on its kind's routes (403
`device_forbidden`, tests/queue/test_devices.py); the kiosk and TV screens are public because the
token in their path is checked by the screen itself."""

from __future__ import annotations

import re
from typing import Any

import pytest

from server.core import permissions
from server.queue import permissions as P
from tests.api_helpers import error_of, htmx_refusal
from tests.conftest import api_login, csrf, page_login
from tests.queue.helpers import queue_state, queue_world
from tests.system.helpers import PASSWORD, service_user

VIEW = (P.SETTINGS_VIEW, P.COUNTER_VIEW, P.STATS_VIEW)  # an org's services and counters
DEVICES = ("kiosk", "tv")
EXPECTED: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    # (method, path): (codes any one of which lets a person in, device kinds let in)
    ("GET", "/api/v1/queue/services"): (VIEW, DEVICES),
    ("GET", "/api/v1/queue/services/{service_id:int}"): (VIEW, DEVICES),
    ("POST", "/api/v1/queue/services"): ((P.SETTINGS_UPDATE,), ()),
    ("PATCH", "/api/v1/queue/services/{service_id:int}"): ((P.SETTINGS_UPDATE,), ()),
    ("DELETE", "/api/v1/queue/services/{service_id:int}"): ((P.SETTINGS_UPDATE,), ()),
    ("GET", "/api/v1/queue/counters"): (VIEW, ()),
    ("GET", "/api/v1/queue/counters/{counter_id:int}"): (VIEW, ()),
    ("POST", "/api/v1/queue/counters"): ((P.SETTINGS_UPDATE,), ()),
    ("PATCH", "/api/v1/queue/counters/{counter_id:int}"): ((P.SETTINGS_UPDATE,), ()),
    ("DELETE", "/api/v1/queue/counters/{counter_id:int}"): ((P.SETTINGS_UPDATE,), ()),
    ("POST", "/api/v1/queue/counters/{counter_id:int}/call-next"): ((P.CALL,), ()),
    ("GET", "/api/v1/queue/devices"): ((P.DEVICE,), ()),
    ("POST", "/api/v1/queue/devices"): ((P.DEVICE,), ()),
    ("GET", "/api/v1/queue/devices/{device_id:int}"): ((P.DEVICE,), ()),
    ("PATCH", "/api/v1/queue/devices/{device_id:int}"): ((P.DEVICE,), ()),
    ("DELETE", "/api/v1/queue/devices/{device_id:int}"): ((P.DEVICE,), ()),
    ("POST", "/api/v1/queue/devices/{device_id:int}/revoke"): ((P.DEVICE,), ()),
    ("POST", "/api/v1/queue/devices/{device_id:int}/regenerate"): ((P.DEVICE,), ()),
    ("GET", "/api/v1/queue/tickets"): ((P.COUNTER_VIEW,), ()),
    ("POST", "/api/v1/queue/tickets"): ((P.TAKE,), ("kiosk",)),
    ("GET", "/api/v1/queue/tickets/{ticket_id:int}"): ((P.COUNTER_VIEW,), ()),
    ("POST", "/api/v1/queue/tickets/{ticket_id:int}/recall"): ((P.CALL,), ()),
    ("POST", "/api/v1/queue/tickets/{ticket_id:int}/skip"): ((P.CALL,), ()),
    ("POST", "/api/v1/queue/tickets/{ticket_id:int}/start"): ((P.CALL,), ()),
    ("POST", "/api/v1/queue/tickets/{ticket_id:int}/finish"): ((P.CALL,), ()),
    ("POST", "/api/v1/queue/tickets/{ticket_id:int}/priority"): ((P.CALL,), ()),
    ("POST", "/api/v1/queue/tickets/{ticket_id:int}/rating"): ((P.CALL,), ("kiosk",)),
    ("GET", "/api/v1/queue/appointments"): ((P.APPOINTMENTS_VIEW,), ()),
    ("GET", "/api/v1/queue/appointments/{appointment_id:int}"): ((P.APPOINTMENTS_VIEW,), ()),
    ("POST", "/api/v1/queue/appointments/{appointment_id:int}/cancel"): ((P.APPOINTMENTS_CANCEL,), ()),
    ("POST", "/api/v1/queue/appointments/check-in"): ((P.TAKE,), ("kiosk",)),
    ("GET", "/api/v1/queue/booking"): ((P.SETTINGS_VIEW,), ()),
    ("PUT", "/api/v1/queue/booking"): ((P.SETTINGS_UPDATE,), ()),
    ("POST", "/api/v1/queue/booking/regenerate"): ((P.SETTINGS_UPDATE,), ()),
    ("GET", "/api/v1/queue/stats"): ((P.STATS_VIEW,), ()),
    ("GET", "/api/v1/queue/stats/export"): ((P.STATS_EXPORT,), ()),
    ("GET", "/queue/counter"): ((P.COUNTER_VIEW,), ()),
    ("POST", "/queue/counter/{counter_id:int}/call-next"): ((P.CALL,), ()),
    ("POST", "/queue/counter/{counter_id:int}/tickets/{ticket_id:int}/{action:str}"): ((P.CALL,), ()),
    ("POST", "/queue/counter/{counter_id:int}/priority/{ticket_id:int}"): ((P.CALL,), ()),
    ("GET", "/queue/appointments"): ((P.APPOINTMENTS_VIEW,), ()),
    ("POST", "/queue/appointments/{appointment_id:int}/cancel"): ((P.APPOINTMENTS_CANCEL,), ()),
    ("GET", "/queue/settings/booking/edit"): ((P.SETTINGS_UPDATE,), ()),
    ("POST", "/queue/settings/booking"): ((P.SETTINGS_UPDATE,), ()),
    ("POST", "/queue/settings/booking/regenerate"): ((P.SETTINGS_UPDATE,), ()),
    ("GET", "/queue/stats"): ((P.STATS_VIEW,), ()),
    ("GET", "/queue/stats/export"): ((P.STATS_EXPORT,), ()),
    ("GET", "/queue/settings"): ((P.SETTINGS_VIEW,), ()),
    **{
        (method, f"/queue/settings/{path}"): ((P.SETTINGS_UPDATE,), ())
        for method, path in [
            ("GET", "services/new"),
            ("POST", "services"),
            ("GET", "services/{service_id:int}/edit"),
            ("POST", "services/{service_id:int}"),
            ("POST", "services/{service_id:int}/delete"),
            ("GET", "counters/new"),
            ("POST", "counters"),
            ("GET", "counters/{counter_id:int}/edit"),
            ("POST", "counters/{counter_id:int}"),
            ("POST", "counters/{counter_id:int}/delete"),
        ]
    },
    **{
        (method, f"/queue/settings/{path}"): ((P.DEVICE,), ())
        for method, path in [
            ("GET", "devices/new"),
            ("POST", "devices"),
            ("POST", "devices/{device_id:int}/regenerate"),
            ("POST", "devices/{device_id:int}/revoke"),
            ("POST", "devices/{device_id:int}/delete"),
        ]
    },
}
SCREENS = {
    ("GET", "/queue/kiosk/{token:str}"),
    ("GET", "/queue/kiosk/{token:str}/services"),
    ("POST", "/queue/kiosk/{token:str}/tickets"),
    ("POST", "/queue/kiosk/{token:str}/check-in"),
    ("GET", "/queue/kiosk/{token:str}/rate"),
    ("POST", "/queue/kiosk/{token:str}/tickets/{ticket_id:int}/rating"),
    ("GET", "/queue/kiosk/{token:str}/tickets/{ticket_id:int}/print"),
    ("GET", "/queue/tv/{token:str}"),
    ("GET", "/queue/tv/{token:str}/board"),
}


def queue_routes(app) -> list[tuple[str, str, Any]]:
    """(method, path, handler) of every route of the queue: its API, its pages and screens (the
    intake form a ticket's 【开单】 opens belongs to work orders)."""
    out = []
    for route in app.routes:
        if not route.path.startswith(("/api/v1/queue/", "/queue/")):
            continue
        for handler in getattr(route, "route_handlers", []):
            if handler.handler_name != "options_handler":
                out += [(method, route.path, handler) for method in sorted(handler.http_methods)]
    return out


def codes(perm: str | tuple[str, ...] | None) -> tuple[str, ...]:
    return () if perm is None else (perm,) if isinstance(perm, str) else tuple(perm)


def filled(path: str) -> str:
    return re.sub(r"\{[^}:]+:(int|str)\}", lambda m: "1" if m.group(1) == "int" else "recall", path)


async def test_every_queue_route_declares_its_access_as_the_table_says(app):
    routes = queue_routes(app)
    assert permissions.undeclared([h for _, _, h in routes]) == []
    declared = {(m, p) for m, p, _ in routes}
    assert declared == set(EXPECTED) | SCREENS
    for method, path, handler in routes:
        opt = handler.opt
        if (method, path) in SCREENS:
            assert opt.get("public") and "devices" not in opt, path
            continue
        # people are always named: a device kind alone would let no person in
        assert (codes(opt.get("perm")), tuple(opt.get("devices", ()))) == EXPECTED[(method, path)], (method, path)


@pytest.fixture
async def w(client, admin) -> dict:
    return await queue_world(client, admin)


async def test_a_person_without_the_code_is_refused_on_every_route(client, app, tenant, w):
    """Each route, asked by someone holding every queue code but the ones it names (through the
    API with a token, a page with a session and its CSRF token): 403, nothing changed."""
    everything = {c for c in permissions.all_codes() if c.startswith("queue.") and c.count(".") == 2}
    groups: dict[frozenset[str], list[tuple[str, str]]] = {}
    for method, path, handler in queue_routes(app):
        if not handler.opt.get("public"):
            groups.setdefault(frozenset(codes(handler.opt["perm"])), []).append((method, path))
    before = await queue_state()
    for n, (allowed, routes) in enumerate(groups.items()):
        await service_user(tenant, f"noq{n}", tenant.org_id, "hq", sorted(everything - allowed))
        bearer = await api_login(client, f"noq{n}@ACME", PASSWORD)
        client.cookies.clear()
        await page_login(client, f"noq{n}@ACME", PASSWORD)
        for method, path in routes:
            if path.startswith("/api/"):
                body: Any = {} if method in ("POST", "PATCH") else None
                response = await client.request(method, filled(path), json=body, headers=bearer)
                assert error_of(response, 403, "forbidden")["detail"] == "没有权限执行此操作", (method, path)
            else:
                response = await client.request(method, filled(path), headers=csrf(client))
                assert htmx_refusal(response, 403) == "没有权限执行此操作", (method, path)
    assert len(groups) >= 6
    assert await queue_state() == before


async def test_a_kiosk_is_refused_on_staff_routes_and_a_tv_cannot_take(client, w):
    refusal = {"detail": "设备令牌只能用于取号机或叫号屏的功能", "code": "device_forbidden"}
    for method, path in (
        ("GET", "/api/v1/queue/tickets"),
        ("POST", f"/api/v1/queue/counters/{w['c1']['id']}/call-next"),
    ):
        response = await client.request(method, path, headers=w["kiosk_auth"])
        assert (response.status_code, response.json()) == (403, refusal), path
    response = await client.post("/api/v1/queue/tickets", json={"service_id": w["a"]["id"]}, headers=w["tv_auth"])
    assert (response.status_code, response.json()) == (403, refusal)
