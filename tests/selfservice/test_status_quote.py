"""A quote decided on the customer's own status page (issue 21): once the phone's digits are
proven, the pending quote shows with its lines and total; 【同意报价】 needs a signature and lets
【维修完毕】 through, 【拒绝报价】 keeps it refused; a decided quote cannot be decided again, and
nobody without the digits can decide it."""

from __future__ import annotations

import asyncio
import re

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

import realtime
from server.quotes import services as quotes
from server.workorders.services import orders
from tests.masterdata.helpers import refused
from tests.quotes.test_quotes import PNG
from tests.realtime.test_live import no_local_publishing, parse  # noqa: F401  (autouse fixture)
from tests.selfservice.test_status_page import QUOTE_KEYS, QUOTE_LINE_KEYS
from tests.workorders.carry_helpers import carry_world, sent
from tests.workorders.helpers import repairing, wo_world


async def _quoted(tenant) -> tuple[dict, dict, str]:
    w = await wo_world(tenant, stock=5)
    order = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1), phone="13800004321")
    quote = await quotes.create(tenant, order["id"], {})
    return order, quote, order["status_url"].rsplit("/s/", 1)[1]


async def _prove(client, token: str) -> None:
    page = await client.get(f"/s/{token}")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    proven = await client.post(f"/s/{token}", data={"_csrf_token": csrf, "phone_last4": "4321"}, follow_redirects=False)
    assert proven.status_code == 303


def _csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


async def test_the_customer_signs_the_quote_on_the_status_page(tenant, client):
    order, quote, token = await _quoted(tenant)
    stranger = await client.post(f"/s/{token}/quote/approve", data={"signature": PNG}, follow_redirects=False)
    assert stranger.status_code in (401, 403)  # no digits proven (or no CSRF token): nothing decided
    assert (await quotes.get(tenant, quote["id"]))["status"] == "pending"

    await _prove(client, token)
    page = await client.get(f"/s/{token}")
    assert 'id="ss-quote"' in page.text and f"¥{quote['total']}" in page.text and 'id="ss-pad"' in page.text
    blank = await client.post(f"/s/{token}/quote/approve", data={"_csrf_token": _csrf(page.text), "signature": ""})
    assert blank.status_code == 400 and 'id="ss-quote-error"' in blank.text
    done = await client.post(
        f"/s/{token}/quote/approve", data={"_csrf_token": _csrf(page.text), "signature": PNG}, follow_redirects=False
    )
    assert done.status_code == 303
    approved = await quotes.get(tenant, quote["id"])
    assert approved["status"] == "approved" and approved["decided_by_name"] == "客户（进度查询页）"
    assert approved["signature_url"]
    again = await client.post(f"/s/{token}/quote/decline", data={"_csrf_token": _csrf(page.text)})
    assert again.status_code == 409 and "已处理" in again.text
    assert "您已同意本报价" in (await client.get(f"/s/{token}")).text
    assert (await orders.complete(tenant, order["id"], {"repair_result": "repaired"}))["status"] == "repaired"


async def test_the_customer_declines_and_completion_stays_refused(tenant, client):
    order, quote, token = await _quoted(tenant)
    await _prove(client, token)
    page = await client.get(f"/s/{token}")
    declined = await client.post(
        f"/s/{token}/quote/decline", data={"_csrf_token": _csrf(page.text), "reason": "太贵了"}, follow_redirects=False
    )
    assert declined.status_code == 303
    assert (await quotes.get(tenant, quote["id"]))["decline_reason"] == "太贵了"
    assert "您已拒绝本报价（太贵了）" in (await client.get(f"/s/{token}")).text
    await refused(orders.complete(tenant, order["id"], {"repair_result": "repaired"}), "quote_not_approved", 409)
    assert (await client.post(f"/s/{token}/quote/other", data={"_csrf_token": _csrf(page.text)})).status_code == 404


async def test_a_device_out_for_repair_reads_as_sent_for_repair(tenant, client):
    """Issue 20: while a carry-in point's device travels to its repair centre the customer reads
    送修中 (staff: 送修在途)."""
    w = await carry_world(tenant)
    order = await sent(w, phone="13800004321")
    token = order["status_url"].rsplit("/s/", 1)[1]
    seen = await client.get(f"/api/v1/public/status/{token}?phone_last4=4321")
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["status"] == "sending" and body["status_label"] == "送修中"
    assert [s["label"] for s in body["timeline"]] == ["已受理", "送修中"]


async def test_the_json_carries_the_quote_as_the_page_shows_it_and_nothing_internal(tenant, client):
    order, quote, token = await _quoted(tenant)
    body = (await client.get(f"/api/v1/public/status/{token}?phone_last4=4321")).json()
    seen = body["quote"]
    assert set(seen) == QUOTE_KEYS and all(set(ln) == QUOTE_LINE_KEYS for ln in seen["lines"])
    assert seen | {"lines": []} == {
        "status": "pending",
        "status_label": "待确认",
        "valid_until": quote["valid_until"],
        "lines": [],
        "labor": quote["labor"],
        "parts": quote["parts"],
        "total": quote["total"],
        "decline_reason": "",
    }
    [line] = quote["lines"]
    code, name = line["repair_code"].split(" ", 1)
    part_code, part = line["goods_name"].split(" ", 1)
    assert seen["lines"] == [
        {
            "name": f"{name} · {part}",
            "qty": 1,
            "unit_price": line["price"],
            "labor_fee": line["labor_fee"],
            "amount": line["amount"],
        }
    ]
    await _prove(client, token)
    page = (await client.get(f"/s/{token}")).text
    assert f"{name} · {part}" in page and f"¥{line['amount']}" in page  # the page says the same
    # no quote id, no staff who made it, no internal codes, no stock cost (100 a screen), no remark
    text = str(body)
    for internal in (quote["created_by_name"], f"'{code} ", part_code, "100.0000", "'id'", "work_order"):
        assert internal not in text, internal
    await quotes.decline(tenant, quote["id"], "太贵了")
    declined = (await client.get(f"/api/v1/public/status/{token}?phone_last4=4321")).json()["quote"]
    assert (declined["status"], declined["status_label"], declined["decline_reason"]) == (
        "declined",
        "已拒绝",
        "太贵了",
    )


async def test_a_quote_decided_elsewhere_reloads_the_customers_page(tenant, client):
    """The quote sits outside the page's refreshed region (a signature may be being drawn): a
    progress refresh that carries the shown quote's fingerprint answers a full reload once the
    quote changed elsewhere (the front desk's iPad), and the region itself while it has not."""
    order, quote, token = await _quoted(tenant)
    await _prove(client, token)
    page = await client.get(f"/s/{token}")
    shown = re.search(r'/progress\?quote=([0-9a-f]*)"', page.text).group(1)
    assert shown
    same = await client.get(f"/s/{token}/progress?quote={shown}")
    assert same.status_code == 200 and 'id="ss-status"' in same.text and "hx-refresh" not in same.headers

    await quotes.approve(tenant, quote["id"], PNG)  # on the iPad
    stale = await client.get(f"/s/{token}/progress?quote={shown}")
    assert stale.headers.get("hx-refresh") == "true"
    fresh = re.search(r'/progress\?quote=([0-9a-f]*)"', (await client.get(f"/s/{token}")).text).group(1)
    assert fresh != shown
    assert "hx-refresh" not in (await client.get(f"/s/{token}/progress?quote={fresh}")).headers


async def test_the_status_page_hears_its_quote_change(tenant):
    """A quote made or decided reaches the order's own channel, which its status page listens to."""
    order, quote, _ = await _quoted(tenant)
    async with ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True) as plugin:
        realtime.bind(plugin)
        channel = [realtime.order_channel(tenant.tenant_id, order["id"])]
        async with plugin.start_subscription(channel) as subscriber:
            await quotes.decline(tenant, quote["id"], "太贵")
            event = parse(await asyncio.wait_for(anext(subscriber.iter_events()), 2.0))
            assert (event["topic"], event["kind"], event["ref"]) == ("order", "quote", str(order["id"]))
