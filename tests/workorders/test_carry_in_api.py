"""The carry-in flow through the API (issue 20): `POST /work-orders/{id}/send` and `/return`,
device shipments received or refused through `/shipments/{id}/receive` and `/refuse`; another
tenant and an org of neither side get 404, the org not holding the device 403, all in the API's
error shape; every move reaches both orgs live."""

from __future__ import annotations

import asyncio

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

import realtime
from server.logistics.services import shipments
from server.workorders.services import carry, orders
from tests.api_helpers import call, error_of
from tests.conftest import api_login, csrf, page_login
from tests.realtime.test_live import no_local_publishing, parse  # noqa: F401  (autouse fixture)
from tests.system.helpers import PASSWORD
from tests.workorders.carry_helpers import SHIP, carry_world, repaired_at_centre, sent, shipment_of
from tests.workorders.helpers import URL, intake_body

SHIPMENTS = "/api/v1/shipments"


async def test_the_flow_through_the_api_and_who_gets_what(client, tenant, other_tenant):
    w = await carry_world(tenant)
    point = await api_login(client, "point@ACME", PASSWORD)
    centre = await api_login(client, "centre@ACME", PASSWORD)
    other = await api_login(client, "other@ACME", PASSWORD)
    stranger = await api_login(client, "admin@OTHER")
    order = await orders.intake(w["point"], intake_body(w))
    o = f"{URL}/{order['id']}"
    for bad in ({}, {"carrier": "顺丰"}, {"carrier": 1, "tracking_no": "x"}):
        error_of(await client.post(f"{o}/send", json=bad, headers=point), 400)
    for headers in (other, stranger):  # out of scope, other tenant: not found
        error_of(await client.post(f"{o}/send", json=SHIP, headers=headers), 404, "not_found")
    sending = await call(client, "POST", f"{o}/send", point, SHIP)
    assert sending["status"] == "sending" and sending["sent_at"] and sending["can_act"]
    send_id = await shipment_of(order["id"], "device_send")
    listed = await call(client, "GET", f"{SHIPMENTS}?side=in&type=device_send", centre)
    assert [d["id"] for d in listed["items"]] == [send_id] and listed["items"][0]["device"]["serial_no"] == "SN001"
    for headers in (other, stranger):
        error_of(await client.post(f"{SHIPMENTS}/{send_id}/receive", json={}, headers=headers), 404, "not_found")
        error_of(await client.post(f"{SHIPMENTS}/{send_id}/refuse", json={"reason": "x"}, headers=headers), 404)
    error_of(await client.post(f"{SHIPMENTS}/{send_id}/receive", json={}, headers=point), 403, "not_receiver")
    error_of(await client.post(f"{SHIPMENTS}/{send_id}/recall", headers=point), 409)
    body = {"final_service_type": "in_warranty"}
    error_of(await client.post(f"{o}/start-repair", json=body, headers=centre), 403, "not_holder")
    received = await call(client, "POST", f"{SHIPMENTS}/{send_id}/receive", centre, {})
    assert received["status"] == "received" and received["warehouse_id"] is None
    error_of(await client.post(f"{SHIPMENTS}/{send_id}/receive", json={}, headers=centre), 409, "already_received")
    assert (await call(client, "GET", o, point))["can_act"] is False
    error_of(await client.post(f"{o}/lines", json={"repair_code_id": w["diag_code"]}, headers=point), 403)
    await repaired_at_centre(w, order)
    for headers in (other, stranger):
        error_of(await client.post(f"{o}/return", json=SHIP, headers=headers), 404, "not_found")
    error_of(await client.post(f"{o}/return", json=SHIP, headers=point), 403, "not_holder")
    assert (await call(client, "POST", f"{o}/return", centre, SHIP))["status"] == "returning"
    return_id = await shipment_of(order["id"], "device_return")
    error_of(await client.post(f"{SHIPMENTS}/{return_id}/refuse", json={}, headers=point), 400)
    await call(client, "POST", f"{SHIPMENTS}/{return_id}/receive", point, {})
    home = await call(client, "GET", o, point)
    assert home["status"] == "repaired" and home["carry_charge"] == "170.0000"
    close = {"closing_method": "onsite", "amount_received": "210.0000", "payment_method": "cash"}
    error_of(await client.post(f"{o}/close", json=close, headers=centre), 403, "not_holder")
    assert (await call(client, "POST", f"{o}/close", point, close))["status"] == "closed"
    # the lists filter by each org
    assert (await call(client, "GET", f"{URL}?repair_org_id={w['c2']['id']}", point))["total"] == 1
    assert (await call(client, "GET", f"{URL}?intake_org_id={w['p3']['id']}", centre))["total"] == 1


async def test_every_move_reaches_both_orgs_live(tenant):
    """C2 sits above P3 here, so P3's own events reach C2 anyway: what this proves is that the
    centre's moves reach the carry-in point (the other org's path), and every move reaches C2."""
    w = await carry_world(tenant)
    c2, p3 = w["c2"]["id"], w["p3"]["id"]
    async with ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True) as plugin:
        realtime.bind(plugin)
        channel = {org: realtime.org_channel(tenant.tenant_id, org, "workorders") for org in (c2, p3)}
        async with plugin.start_subscription([channel[p3]]) as at_p3, plugin.start_subscription([channel[c2]]) as at_c2:
            got: dict[int, list] = {p3: [], c2: []}

            async def keep(org: int, subscriber) -> None:
                async for event in subscriber.iter_events():
                    s = parse(event)
                    got[org].append((s["kind"], s["ref"]))

            readers = [asyncio.create_task(keep(p3, at_p3)), asyncio.create_task(keep(c2, at_c2))]

            async def heard(org: int) -> list[tuple[str, str]]:
                """Every signal the org's channel got since last asked (published after commit)."""
                await asyncio.sleep(0.2)
                out, got[org] = got[org], []
                return out

            async def both(kind: str, ref: str) -> None:
                for org in (p3, c2):
                    assert (kind, ref) in await heard(org), (org, kind)

            order = await sent(w)
            ref = str(order["id"])
            await both("status", ref)
            await shipments.receive(w["centre"], "shipment", await shipment_of(order["id"], "device_send"), {})
            await both("status", ref)
            await orders.assign(w["centre"], order["id"], w["centre"].user_id)
            await both("assigned", ref)
            await repaired_at_centre(w, order)
            await both("lines", ref)
            await carry.give_back(w["centre"], order["id"], SHIP)
            await both("status", ref)
            await shipments.receive(w["point"], "shipment", await shipment_of(order["id"], "device_return"), {})
            await both("status", ref)
            for reader in readers:
                reader.cancel()


async def test_pages_offer_no_action_on_a_device_in_transit(client, tenant):
    w = await carry_world(tenant)
    order = await sent(w)
    send_id = await shipment_of(order["id"], "device_send")
    for login in ("point@ACME", "centre@ACME"):
        client.cookies.clear()
        await page_login(client, login, PASSWORD)
        listed = (await client.get("/workorders")).text
        assert order["no"] in listed and "送修在途" in listed
        assert f"/workorders/{order['id']}/" not in listed  # the list links the order, no action
        page = (await client.get(f"/workorders/{order['id']}")).text
        assert 'id="wo-carry-note"' in page and "等待维修中心收货" in page
        assert f'hx-post="/workorders/{order["id"]}/' not in page, login  # no form posts anything
    receipt = (await client.get(f"/logistics/receiving/{send_id}")).text  # the centre's
    assert 'id="device-info"' in receipt and "SN001" in receipt and 'id="refuse-form"' in receipt
    refused = await client.post(f"/logistics/receiving/{send_id}/refuse", data={"reason": ""}, headers=csrf(client))
    assert refused.status_code in (400, 422) and "拒收原因" in refused.text
    done = await client.post(
        f"/logistics/receiving/{send_id}/refuse", data={"reason": "型号不符"}, headers=csrf(client)
    )
    assert done.status_code == 200 and done.headers.get("hx-location"), done.text
    assert (await orders.get(w["point"], order["id"]))["status"] == "accepted"
