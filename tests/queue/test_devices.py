"""Queue device tokens: a kiosk's token takes tickets and reads services of its own org only; a
TV's reads services; neither opens any other endpoint of the API. A token stops working when it
is revoked, replaced or its device deleted, or when its org is disabled, and the device's live
socket (`/ws?token=…`) is closed with 4403 at once. A device's socket hears its own org's queue
events, the call announcement among them, and never those of another org or tenant."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect

from server.queue.tables import QueueDevice, QueueTicket
from tests.api_helpers import call, refused
from tests.conftest import api_login
from tests.queue.helpers import Q, act, call_next, queue_state, queue_world, take
from tests.system.helpers import make_org

SIGNAL = re.compile(r'data-([a-z-]+)="([^"]*)"')


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def w(client, admin) -> dict:
    return await queue_world(client, admin)


# --- what a token opens -------------------------------------------------------------------------


async def test_kiosk_takes_tickets_for_its_own_org_only(client, admin, tenant, other_tenant, w):
    kiosk = w["kiosk_auth"]
    mine = await call(client, "POST", f"{Q}/tickets", kiosk, {"service_id": w["a"]["id"], "phone": "13800001111"}, 201)
    assert (mine["no"], mine["org_id"], mine["taken_by_name"]) == ("A001", tenant.org_id, "取号机：门口取号机")
    assert await QueueTicket.select(QueueTicket.device_id).where(QueueTicket.id == mine["id"]).first() == {
        "device_id": w["kiosk"]["id"]
    }
    named = {"service_id": w["b"]["id"], "org_id": tenant.org_id}
    assert (await call(client, "POST", f"{Q}/tickets", kiosk, named, 201))["no"] == "B001"

    branch = await make_org(client, admin, "B1", tenant.org_id)
    bw = await queue_world(client, admin, branch["id"])
    other = await queue_world(client, await api_login(client, "admin@OTHER"))
    before = await queue_state()
    for body in (
        {"service_id": bw["a"]["id"]},  # a service of the branch below
        {"service_id": w["a"]["id"], "org_id": branch["id"]},  # its own service, another org named
        {"service_id": bw["a"]["id"], "org_id": branch["id"]},
        {"service_id": other["a"]["id"]},  # another tenant's
        {"service_id": w["a"]["id"], "org_id": other_tenant.org_id},
    ):
        await refused(client, "POST", f"{Q}/tickets", kiosk, body, 404, "not_found")
    # and the branch's kiosk cannot take a ticket of the head office above it
    above = await refused(client, "POST", f"{Q}/tickets", bw["kiosk_auth"], {"service_id": w["a"]["id"]}, 404)
    assert above == {"detail": "业务类型不存在", "code": "not_found"}  # the row, not its org, is what is missing
    assert await queue_state() == before


async def test_devices_read_their_own_orgs_services_only(client, admin, tenant, w):
    branch = await make_org(client, admin, "B1", tenant.org_id)
    bw = await queue_world(client, admin, branch["id"])
    await call(client, "PATCH", f"{Q}/services/{w['b']['id']}", admin, {"enabled": False})
    for device in (w["kiosk_auth"], w["tv_auth"]):
        listed = await call(client, "GET", f"{Q}/services", device)
        assert [(s["prefix"], s["enabled"]) for s in listed["items"]] == [("A", True), ("B", False)]
        enabled = await call(client, "GET", f"{Q}/services?enabled=true", device)
        assert [s["prefix"] for s in enabled["items"]] == ["A"]
        assert (await call(client, "GET", f"{Q}/services?org_id={tenant.org_id}", device))["total"] == 2
        assert (await call(client, "GET", f"{Q}/services/{w['a']['id']}", device))["name"] == "维修"
        await refused(client, "GET", f"{Q}/services?org_id={branch['id']}", device, status=404, code="not_found")
        await refused(client, "GET", f"{Q}/services/{bw['a']['id']}", device, status=404, code="not_found")
    branch_services = await call(client, "GET", f"{Q}/services", bw["tv_auth"])
    assert [s["id"] for s in branch_services["items"]] == [bw["a"]["id"], bw["b"]["id"]]
    await refused(client, "GET", f"{Q}/services?org_id={tenant.org_id}", bw["tv_auth"], status=404)
    # a paused service takes no tickets, from the kiosk or from staff
    for who in (w["kiosk_auth"], admin):
        body = await refused(client, "POST", f"{Q}/tickets", who, {"service_id": w["b"]["id"]}, 409, "service_disabled")
        assert body["detail"] == "业务「取机」已暂停取号"


async def test_a_tv_takes_no_ticket(client, w):
    before = await queue_state()
    body = await refused(client, "POST", f"{Q}/tickets", w["tv_auth"], {"service_id": w["a"]["id"]}, 403)
    assert body == {"detail": "设备令牌只能用于取号机或叫号屏的功能", "code": "device_forbidden"}
    assert await queue_state() == before


def filled(path: str) -> str:
    """A route path with every parameter given a plausible value."""
    return re.sub(r"\{[^}:]+:(int|str|path|uuid)\}", lambda m: "1" if m.group(1) == "int" else "x", path)


def api_routes(app) -> list[tuple[str, str, dict]]:
    """Every route of the queue API, and of every other part of the API one per area and method."""
    out, seen = [], set()
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        area = route.path.split("/")[3]
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(getattr(handler, "http_methods", ())):
                if not route.path.startswith(Q) and (area, method) in seen:
                    continue
                seen.add((area, method))
                out.append((method, filled(route.path), handler.opt))
    return out


async def test_device_tokens_open_no_staff_endpoint(client, app, w):
    """Each route with each device token: only the kiosk's and the TV's own routes answer."""
    routes = api_routes(app)
    assert len({path.split("/")[3] for _, path, _ in routes}) > 5
    before = await queue_state()
    allowed = 0
    for method, path, opt in routes:
        if opt.get("public"):
            continue
        for kind in ("kiosk", "tv"):
            if kind in opt.get("devices", ()):
                allowed += 1
                continue
            body: Any = {} if method in ("POST", "PATCH", "PUT") else None
            response = await client.request(method, path, json=body, headers=w[f"{kind}_auth"])
            assert response.status_code == 403, (kind, method, path, response.text)
            assert response.json() == {"detail": "设备令牌只能用于取号机或叫号屏的功能", "code": "device_forbidden"}
    # GET services (both), GET a service (both), POST tickets, a rating and a check-in (kiosk)
    assert allowed == 7
    assert await queue_state() == before


# --- ending a token -----------------------------------------------------------------------------


async def test_revoke_regenerate_and_delete_end_the_token(client, admin, w):
    kiosk, dev = w["kiosk_auth"], w["kiosk"]
    assert dev["token"].startswith("dev_") and dev["url"].endswith(f"/queue/kiosk/{dev['token']}")
    assert dev["active"] is True and dev["revoked_at"] is None
    row = await QueueDevice.select().where(QueueDevice.id == dev["id"]).first()
    assert row["token_hash"] != dev["token"] and dev["token"] not in str(row)  # only a hash is kept
    await take(client, kiosk, w["a"]["id"])
    assert (await call(client, "GET", f"{Q}/devices/{dev['id']}", admin))["last_seen_at"] is not None

    revoked = await call(client, "POST", f"{Q}/devices/{dev['id']}/revoke", admin)
    assert revoked["active"] is False and revoked["revoked_at"] is not None and "token" not in revoked
    for method, path, body in (("POST", f"{Q}/tickets", {"service_id": w["a"]["id"]}), ("GET", f"{Q}/services", None)):
        await refused(client, method, path, kiosk, body, 401, "unauthorized")
    assert await QueueTicket.count() == 1

    fresh = await call(client, "POST", f"{Q}/devices/{dev['id']}/regenerate", admin)
    assert fresh["active"] is True and fresh["revoked_at"] is None
    assert fresh["token"].startswith("dev_") and fresh["token"] != dev["token"]
    assert fresh["url"].endswith(f"/queue/kiosk/{fresh['token']}")
    assert (await take(client, bearer(fresh["token"]), w["a"]["id"]))["no"] == "A002"
    await refused(client, "GET", f"{Q}/services", kiosk, status=401)

    # regenerating a working token kills it too
    newer = await call(client, "POST", f"{Q}/devices/{dev['id']}/regenerate", admin)
    await refused(client, "GET", f"{Q}/services", bearer(fresh["token"]), status=401)
    await call(client, "GET", f"{Q}/services", bearer(newer["token"]))

    deleted = await call(client, "DELETE", f"{Q}/devices/{dev['id']}", admin)
    assert deleted["id"] == dev["id"]
    await refused(client, "GET", f"{Q}/services", bearer(newer["token"]), status=401)
    await refused(client, "GET", f"{Q}/devices/{dev['id']}", admin, status=404, code="not_found")
    await refused(client, "POST", f"{Q}/devices/{dev['id']}/regenerate", admin, status=404, code="not_found")
    listed = await call(client, "GET", f"{Q}/devices", admin)
    assert [d["id"] for d in listed["items"]] == [w["tv"]["id"]]
    # the other device was never touched
    await call(client, "GET", f"{Q}/services", w["tv_auth"])


async def test_a_disabled_org_silences_its_devices(client, admin, tenant):
    branch = await make_org(client, admin, "B1", tenant.org_id)
    bw = await queue_world(client, admin, branch["id"])
    await take(client, bw["kiosk_auth"], bw["a"]["id"])
    await call(client, "PATCH", f"/api/v1/orgs/{branch['id']}", admin, {"enabled": False})
    await refused(client, "POST", f"{Q}/tickets", bw["kiosk_auth"], {"service_id": bw["a"]["id"]}, 401)
    await refused(client, "GET", f"{Q}/services", bw["tv_auth"], status=401)
    await call(client, "PATCH", f"/api/v1/orgs/{branch['id']}", admin, {"enabled": True})
    assert (await take(client, bw["kiosk_auth"], bw["a"]["id"]))["no"] == "A002"


# --- the device's live socket -------------------------------------------------------------------


async def test_disabling_its_org_disconnects_a_device(client, admin, tenant):
    branch = await make_org(client, admin, "B1", tenant.org_id)
    bw = await queue_world(client, admin, branch["id"])
    with await client.websocket_connect(f"/ws?token={bw['tv']['token']}") as ws:
        await call(client, "PATCH", f"/api/v1/orgs/{branch['id']}", admin, {"enabled": False})
        assert receive(ws)["kick"] == "1"
        assert closed_with(ws) == 4403


def signal(message: str) -> dict[str, str]:
    assert 'id="live-signal"' in message, message
    return dict(SIGNAL.findall(message))


def receive(ws, timeout: float = 3.0) -> dict[str, str]:
    return signal(ws.receive_text(timeout=timeout))


def closed_with(ws) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            ws.receive_text(timeout=3.0)
    return closed.value.code


@pytest.mark.parametrize("action", ["revoke", "regenerate", "delete"])
async def test_ending_a_tvs_token_disconnects_it(client, admin, w, action):
    url = f"{Q}/devices/{w['tv']['id']}" + ("" if action == "delete" else f"/{action}")
    with await client.websocket_connect(f"/ws?token={w['tv']['token']}") as ws:
        ticket = await take(client, w["kiosk_auth"], w["a"]["id"])
        heard = receive(ws)
        assert (heard["topic"], heard["kind"], heard["ref"]) == ("queue", "ticket", str(ticket["id"]))
        await call(client, "DELETE" if action == "delete" else "POST", url, admin)
        kick = receive(ws)
        assert (kick["topic"], kick["kind"], kick["kick"]) == ("session", "kick", "1")
        assert closed_with(ws) == 4403
    # the old token opens no new socket either
    with await client.websocket_connect(f"/ws?token={w['tv']['token']}") as ws:
        assert closed_with(ws) == 4401


async def test_a_tv_hears_calls_with_the_words_to_say(client, admin, w):
    with await client.websocket_connect(f"/ws?token={w['tv']['token']}") as ws:
        ticket = await take(client, w["kiosk_auth"], w["a"]["id"])
        assert receive(ws)["kind"] == "ticket"
        await call_next(client, admin, w["c2"]["id"])
        heard = receive(ws)
        assert (heard["kind"], heard["ref"], heard["say"]) == ("call", str(ticket["id"]), "请 A001 号到 2 号窗口")
        await act(client, admin, ticket["id"], "recall")
        heard = receive(ws)
        assert (heard["kind"], heard["say"]) == ("recall", "请 A001 号到 2 号窗口")
        await act(client, admin, ticket["id"], "start")
        await act(client, admin, ticket["id"], "finish")
        assert [(s["kind"], "say" in s) for s in (receive(ws), receive(ws))] == [("start", False), ("finish", False)]
        await call(client, "PATCH", f"{Q}/services/{w['b']['id']}", admin, {"name": "取机维修"})
        assert receive(ws)["kind"] == "settings"


async def test_a_device_hears_only_its_own_org(client, admin, tenant, other_tenant):
    """Head office ← B1 ← B1A, and B2 beside B1; another tenant too. B1's TV hears B1 alone (not
    the sibling, not the branch below it, not the head office above it); the head office's TV
    hears the head office alone."""
    hq = await queue_world(client, admin)
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    b2 = await make_org(client, admin, "B2", tenant.org_id)
    b1a = await make_org(client, admin, "B1A", b1["id"])
    worlds = {
        "hq": hq,
        "b1": await queue_world(client, admin, b1["id"]),
        "b2": await queue_world(client, admin, b2["id"]),
        "b1a": await queue_world(client, admin, b1a["id"]),
    }
    other_admin = await api_login(client, "admin@OTHER")
    other = await queue_world(client, other_admin)

    async def take_and_call(world: dict, staff: dict) -> tuple[int, int]:
        ticket = await take(client, world["kiosk_auth"], world["a"]["id"])
        await call_next(client, staff, world["c2"]["id"])
        return ticket["id"], world["c2"]["id"]

    with (
        await client.websocket_connect(f"/ws?token={hq['tv']['token']}") as hq_ws,
        await client.websocket_connect(f"/ws?token={worlds['b1']['tv']['token']}") as b1_ws,
        await client.websocket_connect(f"/ws?token={worlds['b1']['kiosk']['token']}") as b1_kiosk_ws,
    ):
        await take_and_call(worlds["b2"], admin)
        await take_and_call(worlds["b1a"], admin)
        await take_and_call(other, other_admin)
        hq_ticket, _ = await take_and_call(hq, admin)
        b1_ticket, _ = await take_and_call(worlds["b1"], admin)
        marker = await take(client, hq["kiosk_auth"], hq["a"]["id"])

        def brief(ws, n: int) -> list[tuple[str, str, str]]:
            return [(s["kind"], s["ref"], s.get("say", "")) for s in (receive(ws) for _ in range(n))]

        say = "请 A001 号到 2 号窗口"
        assert brief(b1_ws, 2) == [("ticket", str(b1_ticket), ""), ("call", str(b1_ticket), say)]
        assert brief(b1_kiosk_ws, 2) == [("ticket", str(b1_ticket), ""), ("call", str(b1_ticket), say)]
        assert brief(hq_ws, 3) == [
            ("ticket", str(hq_ticket), ""),
            ("call", str(hq_ticket), say),
            ("ticket", str(marker["id"]), ""),
        ]
        # B1's marker: nothing else was waiting before it on B1's sockets
        marker = await take(client, worlds["b1"]["kiosk_auth"], worlds["b1"]["a"]["id"])
        assert brief(b1_ws, 1) == brief(b1_kiosk_ws, 1) == [("ticket", str(marker["id"]), "")]
