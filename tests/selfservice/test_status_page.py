"""The customer's status page (issue 21): a random token per order, the phone's last four digits
as proof (five wrong ones per token an hour, counted atomically, then 429), one order per token
and per tenant, nothing internal in the HTML or the JSON, and a socket that hears its own order
only."""

from __future__ import annotations

import asyncio
import re

import pytest

from server.core import links
from server.workorders.services import orders
from tests.api_helpers import call, concurrently, error_of
from tests.masterdata.helpers import basics
from tests.system.helpers import service_org, service_user

STATUS = "/api/v1/public/status"
PHONE = "13800005678"
# what the JSON says, and nothing else (no ids, staff, costs, remarks, customer)
KEYS = {
    "no",
    "status",
    "status_label",
    "device",
    "serial_no",
    "fault_description",
    "created_at",
    "promised_at",
    "timeline",
    "charges",
    "centre",
    "company",
    "quote",
    "rating",
}
# a quote as the customer reads it (issue 21): no ids, staff, costs or internal codes
QUOTE_KEYS = {"status", "status_label", "valid_until", "lines", "labor", "parts", "total", "decline_reason"}
QUOTE_LINE_KEYS = {"name", "qty", "unit_price", "labor_fee", "amount"}
# the internal remark, the intake clerk's and the technician's names, the customer's whole phone
INTERNAL = ("内部备注勿外传", "clerkli", "wangtech", "13800005678")
STAFF = ["workorders.intake.create", "workorders.order.view", "workorders.order.assign", "workorders.order.repair"]


_categories: dict[int, int] = {}


@pytest.fixture(autouse=True)
def fresh_categories():
    _categories.clear()


async def take_in(ctx, phone: str = PHONE, **fields) -> dict:
    """An order taken in by `ctx` (a category of its tenant made on the first one)."""
    if ctx.tenant_id not in _categories:
        _categories[ctx.tenant_id] = (await basics(ctx))["iphone15"]
    body = {
        "customer": {"name": "张三", "phone": phone, "address": "上海市"},
        "category_id": _categories[ctx.tenant_id],
        "serial_no": "SN-STATUS-1",
        "service_type": "in_warranty",
        "fault_description": "屏幕碎裂",
        "remark": "内部备注勿外传",
    } | fields
    return await orders.intake(ctx, body)


async def staffed_order(tenant) -> dict:
    """An order taken in by clerk clerkli and assigned to technician wangtech."""
    _categories[tenant.tenant_id] = (await basics(tenant))["iphone15"]
    clerk = await service_user(tenant, "clerkli", tenant.org_id, "hq", STAFF)
    tech = await service_user(tenant, "wangtech", tenant.org_id, "hq", STAFF)
    order = await take_in(clerk)
    return await orders.assign(clerk, order["id"], tech.user_id)


def token_of(order: dict) -> str:
    return order["status_url"].rsplit("/s/", 1)[1]


async def test_intake_gives_a_random_token_and_the_absolute_url(tenant, client, admin):
    a = await take_in(tenant)
    b = await take_in(tenant)
    assert a["status_url"] == links.status_page(token_of(a))
    assert a["status_url"].startswith(("http://", "https://"))
    assert token_of(a) != token_of(b) and token_of(a) not in (str(a["id"]), a["no"])
    assert len(token_of(a)) >= 20
    listed = await call(client, "GET", f"/api/v1/work-orders/{a['id']}", admin)
    assert listed["status_url"] == a["status_url"]


async def test_json_with_the_right_digits_shows_only_the_customers_side(tenant, client, admin):
    order = await staffed_order(tenant)
    assert order["technician_name"] == "wangtech" and order["created_by_name"] == "clerkli"
    token = token_of(order)
    body = await call(client, "GET", f"{STATUS}/{token}?phone_last4=5678", {})
    assert set(body) == KEYS
    assert body["no"] == order["no"] and body["status"] == "accepted" and body["status_label"] == "已受理"
    assert [s["label"] for s in body["timeline"]] == ["已受理"]
    assert body["charges"] is None  # not before 维修完毕
    assert body["quote"] is None and body["rating"] is None  # none made, none given
    assert set(body["centre"]) == {"name", "address", "phone"}
    assert body["created_at"].endswith("+08:00")
    text = str(body)
    assert not any(word in text for word in INTERNAL), text


async def test_wrong_digits_refused_then_throttled(tenant, client):
    token = token_of(await take_in(tenant))
    for _ in range(5):
        error_of(await client.get(f"{STATUS}/{token}?phone_last4=0000"), 403, "wrong_phone_digits")
    error_of(await client.get(f"{STATUS}/{token}?phone_last4=5678"), 429, "throttled")  # even the right ones wait
    error_of(await client.get(f"{STATUS}/{token}?phone_last4=12a4"), 400)
    other = token_of(await take_in(tenant, phone="13900001111"))
    await call(client, "GET", f"{STATUS}/{other}?phone_last4=1111", {})  # per token


async def test_right_digits_do_not_use_up_the_tries(tenant, client):
    token = token_of(await take_in(tenant))
    for _ in range(8):
        await call(client, "GET", f"{STATUS}/{token}?phone_last4=5678", {})
    for _ in range(5):
        error_of(await client.get(f"{STATUS}/{token}?phone_last4=1234"), 403)


async def test_concurrent_wrong_tries_are_counted_one_by_one(tenant, client):
    """Twelve wrong guesses at once: exactly five are checked (403), the rest wait (429)."""
    token = token_of(await take_in(tenant))
    answers = await concurrently(client, [("GET", f"{STATUS}/{token}?phone_last4=0000", {}, None)] * 12)
    codes = sorted(r.status_code for r in answers)
    assert codes == [403] * 5 + [429] * 7, codes


async def test_unknown_token_and_other_orders(tenant, other_tenant, client):
    a = await take_in(tenant)
    b = await take_in(tenant, phone="13900002222")
    foreign = await take_in(other_tenant, phone="13700005678")
    error_of(await client.get(f"{STATUS}/{'x' * 22}?phone_last4=5678"), 404, "not_found")
    error_of(await client.get(f"{STATUS}/{'x' * 200}?phone_last4=5678"), 404, "not_found")
    error_of(await client.get(f"{STATUS}/{a['id']}?phone_last4=5678"), 404)  # the id is no token
    # b's token with a's digits: refused, and never a's order
    error_of(await client.get(f"{STATUS}/{token_of(b)}?phone_last4=5678"), 403)
    assert (await call(client, "GET", f"{STATUS}/{token_of(b)}?phone_last4=2222", {}))["no"] == b["no"]
    # the other tenant's order: its own, through its own token only
    seen = await call(client, "GET", f"{STATUS}/{token_of(foreign)}?phone_last4=5678", {})
    assert seen["no"] == foreign["no"] and seen["company"] == "别家公司"
    page = await client.get(f"/s/{token_of(a)}")
    assert foreign["no"] not in page.text and b["no"] not in page.text


async def test_charges_once_repaired_and_the_centre(tenant, client):
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    from server.system.services import orgs

    await orgs.update(tenant, branch["id"], {"address": "上海市徐汇区漕溪北路 1 号", "phone": "021-66668888"})
    clerk = await service_user(
        tenant, "clerk", branch["id"], "branch", ["workorders.intake.create", "workorders.order.repair"]
    )
    _categories[tenant.tenant_id] = (await basics(tenant))["iphone15"]
    order = await take_in(clerk)
    await orders.start_repair(clerk, order["id"], {"final_service_type": "in_warranty"})
    await orders.complete(clerk, order["id"], {"repair_result": "repaired"})
    body = await call(client, "GET", f"{STATUS}/{token_of(order)}?phone_last4=5678", {})
    assert body["status_label"] == "维修完毕"
    assert [s["label"] for s in body["timeline"]] == ["已受理", "维修中", "维修完毕"]
    assert set(body["charges"]) == {"labor", "parts", "total"}
    assert body["centre"] == {"name": branch["name"], "address": "上海市徐汇区漕溪北路 1 号", "phone": "021-66668888"}


async def test_page_asks_then_remembers_the_browser(tenant, client):
    order = await staffed_order(tenant)
    token = token_of(order)
    page = await client.get(f"/s/{token}")
    assert page.status_code == 200 and "手机号后四位" in page.text and order["no"] not in page.text
    wrong = await client.post(
        f"/s/{token}", data={"phone_last4": "0000", "_csrf_token": client.cookies.get("csrftoken", "")}
    )
    assert wrong.status_code == 403 and "手机号后四位不正确" in wrong.text
    right = await client.post(
        f"/s/{token}",
        data={"phone_last4": "5678", "_csrf_token": client.cookies.get("csrftoken", "")},
        follow_redirects=False,
    )
    assert right.status_code == 303 and right.headers["location"] == f"/s/{token}"
    assert f"Path=/s/{token}" in right.headers["set-cookie"] and "HttpOnly" in right.headers["set-cookie"]
    page = await client.get(f"/s/{token}")  # a reload: no question again
    assert order["no"] in page.text and "已受理" in page.text and 'ws-connect="/s/' in page.text
    html = page.text
    assert not any(word in html for word in INTERNAL), html
    assert not re.search(r"admin|技师|受理人", html)
    progress = await client.get(f"/s/{token}/progress")
    assert progress.status_code == 200 and order["no"] in progress.text
    # a forged or another token's cookie opens nothing
    client.cookies.set("weifu_status", "0" * 64, path=f"/s/{token}")
    client.cookies.delete("weifu_status", path=f"/s/{token}")
    other = token_of(await take_in(tenant, phone="13900003333"))
    assert "手机号后四位" in (await client.get(f"/s/{other}")).text
    assert (await client.get(f"/s/{other}/progress")).status_code == 401


async def test_unknown_link_is_a_plain_notice(client, tenant):
    page = await client.get(f"/s/{'y' * 22}")
    assert page.status_code == 404 and "查询链接不存在" in page.text and "login" not in page.text


@pytest.mark.parametrize("digits", ["0000"])
async def test_page_throttles_too(tenant, client, digits):
    token = token_of(await take_in(tenant))
    data = {"phone_last4": digits, "_csrf_token": ""}
    await client.get(f"/s/{token}")
    data["_csrf_token"] = client.cookies.get("csrftoken", "")
    for _ in range(5):
        assert (await client.post(f"/s/{token}", data=data)).status_code == 403
    refused = await client.post(f"/s/{token}", data=data | {"phone_last4": "5678"})
    assert refused.status_code == 429 and "错误次数过多" in refused.text


async def _proven_client(client, token: str, digits: str = "5678") -> None:
    await client.get(f"/s/{token}")
    answer = await client.post(
        f"/s/{token}",
        data={"phone_last4": digits, "_csrf_token": client.cookies.get("csrftoken", "")},
        follow_redirects=False,
    )
    assert answer.status_code == 303


async def test_socket_hears_its_own_order_only(tenant, other_tenant, client):
    """Another order of the tenant, and the other tenant's order, move first: the socket hears
    only its own order's moves."""
    a = await take_in(tenant)
    b = await take_in(tenant, phone="13900004444")
    foreign = await take_in(other_tenant)
    await _proven_client(client, token_of(a))
    with await client.websocket_connect(f"/s/{token_of(a)}/ws") as ws:
        await orders.start_repair(tenant, b["id"], {"final_service_type": "in_warranty"})
        await orders.start_repair(other_tenant, foreign["id"], {"final_service_type": "in_warranty"})
        await orders.start_repair(tenant, a["id"], {"final_service_type": "in_warranty"})
        message = await asyncio.wait_for(asyncio.to_thread(ws.receive_text), 5)
        assert f'data-ref="{a["id"]}"' in message and 'data-kind="repairing"' in message
        await orders.cancel(tenant, b["id"], {"reason": "客户取回"})
        await orders.complete(tenant, a["id"], {"repair_result": "repaired"})
        message = await asyncio.wait_for(asyncio.to_thread(ws.receive_text), 5)
        assert f'data-ref="{a["id"]}"' in message and 'data-kind="repaired"' in message


async def test_socket_needs_the_proof(tenant, client):
    from litestar.exceptions import WebSocketDisconnect

    a = await take_in(tenant)
    with await client.websocket_connect(f"/s/{token_of(a)}/ws") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 4401


async def test_the_operation_is_documented_with_its_refusals(client):
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/v1/public/status/{token}"]["get"]
    assert {"200", "400", "403", "404", "429"} <= set(operation["responses"])
    assert not operation.get("security")
    query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert query["phone_last4"]["required"] is True
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schemas = document["components"]["schemas"]
    assert set(schemas[ok]["properties"]) == KEYS
    quote = next(s["$ref"] for s in schemas[ok]["properties"]["quote"]["oneOf"] if "$ref" in s).rsplit("/", 1)[1]
    assert set(schemas[quote]["properties"]) == QUOTE_KEYS
    line = schemas[quote]["properties"]["lines"]["items"]["$ref"].rsplit("/", 1)[1]
    assert set(schemas[line]["properties"]) == QUOTE_LINE_KEYS
    rating = document["paths"]["/api/v1/public/status/{token}/rating"]["post"]
    assert {"200", "400", "403", "404", "409", "429"} <= set(rating["responses"]) and not rating.get("security")
