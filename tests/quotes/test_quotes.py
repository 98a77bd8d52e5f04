"""Quotes (issue 21): priced as completion charges, signed or declined once, and 【维修完毕】
refused until the order's current quote is approved; an order without a quote completes as
before. Another tenant's or another branch's quotes do not exist for the caller."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

from server.core import permissions
from server.core.errors import BusinessError
from server.masterdata.services import warehouses
from server.quotes import services as quotes
from server.quotes.tables import Quote
from server.workorders.services import orders
from tests.api_helpers import call, error_of
from tests.conftest import api_login
from tests.images import png
from tests.masterdata.helpers import refused
from tests.system.helpers import service_org, service_user, user_with
from tests.workorders.helpers import URL, intake_body, repairing, wo_world

PNG = "data:image/png;base64," + base64.b64encode(png(40, 20)).decode()
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="80"><path d="M10 10 L190 70" stroke="#000"/></svg>'
ALL = sorted(c for c in permissions.all_codes() if c.startswith("workorders."))


async def _order(ctx, w=None):
    w = w or await wo_world(ctx)
    return await repairing(ctx, w, (w["lcd_code"], w["screen"], 1), (w["diag_code"], None, 1)), w


async def _complete(ctx, order_id):
    return await orders.complete(ctx, order_id, {"repair_result": "repaired"})


async def test_a_quote_prices_the_lines_as_completion_charges_them(tenant):
    order, _ = await _order(tenant)
    quote = await quotes.create(tenant, order["id"], {})
    assert quote["status"] == "pending" and quote["status_label"] == "待确认"
    assert quote["labor"] == "70.5000"  # LCD 50 + DIAG 20.5
    assert [ln["repair_code"].split()[0] for ln in quote["lines"]] == ["LCD", "DIAG"]
    assert quote["valid_until"] == (quotes.today(tenant) + timedelta(days=7)).isoformat()
    await quotes.approve(tenant, quote["id"], PNG)
    done = await _complete(tenant, order["id"])
    assert done["charges"] == {"labor": quote["labor"], "parts": quote["parts"], "total": quote["total"]}


async def test_completion_is_refused_until_the_quote_is_approved(tenant):
    w = await wo_world(tenant, stock=10)
    # pending
    order, _ = await _order(tenant, w)
    await quotes.create(tenant, order["id"], {})
    exc = await refused(_complete(tenant, order["id"]), "quote_not_approved", 409)
    assert "等待客户确认" in exc.detail
    assert (await orders.get(tenant, order["id"]))["status"] == "repairing"  # the move rolled back
    # expired
    late, _ = await _order(tenant, w)
    q = await quotes.create(tenant, late["id"], {})
    await Quote.update({Quote.valid_until: quotes.today(tenant) - timedelta(days=1)}).where(Quote.id == q["id"])
    assert (await quotes.get(tenant, q["id"]))["status_label"] == "已过期"
    assert "已过期" in (await refused(_complete(tenant, late["id"]), "quote_not_approved", 409)).detail
    await refused(quotes.approve(tenant, q["id"], PNG), "quote_expired", 409)
    # declined
    no, _ = await _order(tenant, w)
    q = await quotes.create(tenant, no["id"], {})
    declined = await quotes.decline(tenant, q["id"], "太贵了")
    assert declined["status"] == "declined" and declined["decline_reason"] == "太贵了"
    assert "拒绝" in (await refused(_complete(tenant, no["id"]), "quote_not_approved", 409)).detail
    # approved: completes; no quote at all: completes as before
    yes, _ = await _order(tenant, w)
    q = await quotes.create(tenant, yes["id"], {})
    await quotes.approve(tenant, q["id"], SVG)
    assert (await _complete(tenant, yes["id"]))["status"] == "repaired"
    plain, _ = await _order(tenant, w)
    assert (await _complete(tenant, plain["id"]))["status"] == "repaired"


async def test_a_new_quote_supersedes_a_pending_one_never_an_approved_one_silently(tenant):
    order, _ = await _order(tenant)
    first = await quotes.create(tenant, order["id"], {})
    second = await quotes.create(tenant, order["id"], {"valid_until": str(quotes.today(tenant) + timedelta(days=3))})
    assert (await quotes.get(tenant, first["id"]))["status"] == "superseded"
    await refused(quotes.approve(tenant, first["id"], PNG), "invalid_state", 409)
    await quotes.approve(tenant, second["id"], PNG)
    await refused(quotes.create(tenant, order["id"], {}), "quote_approved", 409)
    third = await quotes.create(tenant, order["id"], {"replace_approved": True})
    assert (await quotes.get(tenant, second["id"]))["status"] == "superseded"
    assert (await quotes.current(tenant, order["id"]))["id"] == third["id"]
    await refused(_complete(tenant, order["id"]), "quote_not_approved", 409)  # the customer signs again
    for bad in ("2020-01-01", "明天", str(quotes.today(tenant) + timedelta(days=91))):
        await refused(quotes.create(tenant, order["id"], {"valid_until": bad}))


async def test_only_a_repairing_order_with_lines_is_quoted(tenant):
    w = await wo_world(tenant)
    empty = await repairing(tenant, w)
    await refused(quotes.create(tenant, empty["id"], {}), "no_lines")
    intake = await orders.intake(tenant, intake_body(w))
    await refused(quotes.create(tenant, intake["id"], {}), "invalid_state", 409)


async def test_approve_and_decline_at_once_one_wins(tenant):
    order, _ = await _order(tenant)
    q = await quotes.create(tenant, order["id"], {})
    results = await asyncio.gather(
        quotes.approve(tenant, q["id"], PNG), quotes.decline(tenant, q["id"], "不修了"), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, BusinessError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].status_code == 409
    final = await quotes.get(tenant, q["id"])
    assert final["status"] == won[0]["status"]
    assert (final["signature_url"] is not None) == (final["status"] == "approved")


async def test_two_quotes_at_once_leave_one_pending(tenant):
    order, _ = await _order(tenant)
    results = await asyncio.gather(*(quotes.create(tenant, order["id"], {}) for _ in range(4)), return_exceptions=True)
    assert all(isinstance(r, dict) or (isinstance(r, BusinessError) and r.status_code == 409) for r in results)
    live = await Quote.select(Quote.id).where((Quote.work_order_id == order["id"]) & (Quote.status == "pending"))
    assert len(live) == 1 and live[0]["id"] == (await quotes.current(tenant, order["id"]))["id"]


async def test_the_api_creates_reads_approves_and_declines(client, tenant, admin):
    order, _ = await _order(tenant)
    base = f"{URL}/{order['id']}/quote"
    error_of(await client.get(base, headers=admin), 404, "not_found")
    quote = await call(client, "POST", base, admin, {}, status=201)
    assert quote == await call(client, "GET", base, admin)
    assert quote["total"].count(".") == 1 and len(quote["total"].split(".")[1]) == 4
    url = f"/api/v1/quotes/{quote['id']}"
    for body, code in (
        ({"signature": ""}, "required"),
        ({"signature": "data:image/png;base64,@@@"}, "invalid_signature"),
        ({"signature": "data:image/png;base64," + base64.b64encode(b"GIF89a....").decode()}, "invalid_signature"),
        ({"signature": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'}, "invalid_signature"),
        (
            {"signature": '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0" onload="x()"/></svg>'},
            "invalid_signature",
        ),
        ({"signature": '<!DOCTYPE svg [<!ENTITY a "b">]><svg/>'}, "invalid_signature"),
        ({"signature": '<svg xmlns="http://www.w3.org/2000/svg"></svg>'}, "empty_signature"),
        ({"signature": "data:image/png;base64," + "A" * 800_000}, "signature_too_large"),
        ({"signature": "hello"}, "invalid_signature"),
    ):
        error_of(await client.post(f"{url}/approve", json=body, headers=admin), 400, code)
    approved = await call(client, "POST", f"{url}/approve", admin, {"signature": PNG})
    assert approved["status"] == "approved" and approved["decided_by_name"] and approved["decided_at"]
    image = await client.get(approved["signature_url"], headers=admin)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content == base64.b64decode(PNG.split(",", 1)[1])
    error_of(await client.post(f"{url}/approve", json={"signature": PNG}, headers=admin), 409, "invalid_state")
    error_of(await client.post(f"{url}/decline", json={"reason": ""}, headers=admin), 409, "invalid_state")
    # approve after a decline
    again = await call(client, "POST", base, admin, {"replace_approved": True}, status=201)
    declined = await call(client, "POST", f"/api/v1/quotes/{again['id']}/decline", admin, {"reason": "再想想"})
    assert declined["status_label"] == "已拒绝"
    error_of(
        await client.post(f"/api/v1/quotes/{again['id']}/approve", json={"signature": SVG}, headers=admin),
        409,
        "invalid_state",
    )


async def test_other_tenants_and_branches_quotes_are_not_found(client, tenant, other_tenant, admin):
    b1 = await service_org(tenant, "B1", tenant.org_id, level=2)
    b2 = await service_org(tenant, "B2", tenant.org_id, level=2)
    clerk = await service_user(tenant, "clerk2", b2["id"], "branch", ALL)
    w = await wo_world(tenant, stock=0)
    await warehouses.assign(tenant, [w["general"], w["defective"]], [b2["id"]])
    order = await repairing(clerk, w, (w["diag_code"], None, 1))
    quote = await quotes.create(clerk, order["id"], {})
    signed = await quotes.create(clerk, (await repairing(clerk, w, (w["diag_code"], None, 1)))["id"], {})
    signed = await quotes.approve(clerk, signed["id"], PNG)
    _, b1_headers = await user_with(client, admin, "clerk1", b1["id"], "branch", ALL)
    other = await api_login(client, "admin@OTHER")
    for headers in (b1_headers, other):
        for method, url, body in (
            ("GET", f"{URL}/{order['id']}/quote", None),
            ("POST", f"{URL}/{order['id']}/quote", {}),
            ("GET", f"/api/v1/quotes/{quote['id']}", None),
            ("POST", f"/api/v1/quotes/{quote['id']}/approve", {"signature": PNG}),
            ("POST", f"/api/v1/quotes/{quote['id']}/decline", {"reason": "别人的"}),
            ("GET", signed["signature_url"], None),
        ):
            error_of(await client.request(method, url, json=body, headers=headers), 404, "not_found")
    assert (await quotes.get(clerk, quote["id"]))["status"] == "pending"
    assert await Quote.count().where(Quote.work_order_id == order["id"]) == 1


async def test_the_order_page_shows_the_card_and_the_quote_pages_render(client, tenant, monkeypatch):
    """…and reads the quote only once the order has one (whether it has is read with the order)."""
    from tests.conftest import csrf, page_login
    from tests.core.test_list_statements import statements

    def quote_reads(seen: list[str]) -> int:
        return sum('"qt_quote"."id"' in sql for sql in seen)

    order, _ = await _order(tenant)
    await page_login(client, "admin@ACME")
    with statements(monkeypatch) as seen:
        page = (await client.get(f"/workorders/{order['id']}")).text
    assert 'id="qt-card"' in page and "尚未报价" in page and 'id="qt-create-form"' in page
    assert quote_reads(seen) == 0
    made = await client.post(f"/workorders/{order['id']}/quote", data={"valid_until": ""}, headers=csrf(client))
    quote = await quotes.current(tenant, order["id"])
    assert made.headers["hx-redirect"] == f"/quotes/{quote['id']}/sign"
    sign = (await client.get(f"/quotes/{quote['id']}/sign")).text
    assert "data-signature-pad" in sign and quote["total"] in sign
    refusal = await client.post(f"/quotes/{quote['id']}/approve", data={"signature": ""}, headers=csrf(client))
    assert refusal.status_code == 400 and "签字" in refusal.text
    await client.post(f"/quotes/{quote['id']}/approve", data={"signature": PNG}, headers=csrf(client))
    with statements(monkeypatch) as seen:
        page = (await client.get(f"/workorders/{order['id']}")).text
    assert "已同意" in page and 'id="qt-signature-img"' in page and quote_reads(seen) == 1
    printed = await client.get(f"/quotes/{quote['id']}/print")  # the tenant's 报价单 template
    assert printed.status_code == 200 and "维修报价单" in printed.text and "标准报价单（A4）（默认）" in printed.text
    assert 'id="quote-signature" src="data:image/png;base64,' in printed.text
    assert f'id="pr-back" href="/workorders/{order["id"]}"' in printed.text
