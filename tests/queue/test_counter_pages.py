"""【叫号】: the counter chooser, the desk of a counter (its tickets being called or served, the
waiting list of its services, today's tally) and its actions 【叫号】【重呼】【过号】【开始办理】
【完成】, each answering the desk re-rendered. Refusals are their Chinese message with a desk
refresh (empty queue 409, illegal transition 409), no permission 403, another tenant's or a
sibling branch's counter 404, bad ids 400/404 — never a 500. And the intake placeholder that
【开单】 opens."""

from __future__ import annotations

import json
import re

import pytest

from tests.api_helpers import call, htmx_refusal
from tests.conftest import api_login, csrf, page_login
from tests.queue.helpers import Q, queue_world, take
from tests.system.helpers import PASSWORD, service_org, user_with

DESK = {"hx-request": "true", "hx-target": "desk"}


def toast(response) -> str:
    return json.loads(response.headers["hx-trigger"])["weifu:saved"]["message"]


def active(html: str) -> list[tuple[str, str]]:
    """The desk's current tickets: (number, state)."""
    found = re.findall(r'class="q-desk-ticket q-desk-ticket-(\w+)" data-ticket="(\w+)"', html)
    return [(no, state) for state, no in found]


def waiting(html: str) -> list[str]:
    return re.findall(r'<li class="q-desk-row" data-ticket="(\w+)"', html)


def tally(html: str) -> tuple[int, int, int]:
    return tuple(int(re.search(rf'id="q-desk-{k}">(\d+)<', html).group(1)) for k in ("waiting", "done", "noshow"))


def refused(response, status: int, text: str | None = None, refresh: bool = False) -> str:
    """A refusal (app.js shows it as a toast), which may also tell the desk to refresh."""
    htmx_refusal(response, status, text)
    if refresh:
        assert response.headers["hx-trigger"] == "desk:refresh"
    return response.text


async def post(client, url: str):
    return await client.post(url, headers=csrf(client))


@pytest.fixture
async def w(client, admin) -> dict:
    world = await queue_world(client, admin)
    await page_login(client, "admin@ACME")
    return world


async def test_chooser_and_desk(client, admin, w):
    page = await client.get("/queue/counter")
    assert page.status_code == 200
    html = page.text
    assert 'id="q-desk-chooser"' in html and "请选择您所在的窗口" in html and 'id="desk"' not in html
    assert re.findall(r'<option value="(\d+)">', html) == [str(w["c1"]["id"]), str(w["c2"]["id"])]
    assert "<optgroup" not in html  # one org: no grouping
    assert "/static/js/queue-screens.js" in html  # remembers the chosen counter

    await take(client, w["kiosk_auth"], w["a"]["id"], "13800001234")
    await take(client, w["kiosk_auth"], w["b"]["id"])
    await take(client, w["kiosk_auth"], w["a"]["id"])
    desk = await client.get(f"/queue/counter?counter_id={w['c1']['id']}")
    assert desk.status_code == 200
    html = desk.text
    assert f'<option value="{w["c1"]["id"]}" selected>' in html
    assert f'data-desk-counter="{w["c1"]["id"]}"' in html
    assert 'hx-trigger="live:queue from:body, live:resync from:body, desk:refresh from:body, every 60s"' in html
    assert 'hx-sync="this:queue last"' in html
    assert waiting(html) == ["A001", "B001", "A002"]  # oldest first, both services of counter 1
    assert "138****1234" in html and "13800001234" not in html
    assert tally(html) == (3, 0, 0) and "共 3 人" in html
    assert "下一位：A001（等候 3 人）" in html and f'hx-post="/queue/counter/{w["c1"]["id"]}/call-next"' in html
    # counter 2 serves A only
    fragment = await client.get(f"/queue/counter?counter_id={w['c2']['id']}", headers=DESK)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert waiting(fragment.text) == ["A001", "A002"]


async def test_actions_answer_the_desk(client, admin, w):
    c1 = w["c1"]["id"]
    a1 = await take(client, w["kiosk_auth"], w["a"]["id"], "13800001234")
    b1 = await take(client, w["kiosk_auth"], w["b"]["id"])

    called = await post(client, f"/queue/counter/{c1}/call-next")
    assert called.status_code == 200 and "<html" not in called.text
    assert toast(called) == "请 A001 号到 1 号窗口"
    assert active(called.text) == [("A001", "called")] and waiting(called.text) == ["B001"]
    assert f"/workorders/intake?phone=13800001234&amp;queue_ticket_id={a1['id']}" in called.text

    recalled = await post(client, f"/queue/counter/{c1}/tickets/{a1['id']}/recall")
    assert toast(recalled) == "已重呼 A001" and "已呼 2 次" in recalled.text
    started = await post(client, f"/queue/counter/{c1}/tickets/{a1['id']}/start")
    assert toast(started) == "A001 开始办理" and active(started.text) == [("A001", "serving")]
    assert "重呼" not in started.text.split('data-ticket="A001"')[1].split("</article>")[0]
    finished = await post(client, f"/queue/counter/{c1}/tickets/{a1['id']}/finish")
    assert toast(finished) == "A001 已完成" and active(finished.text) == []
    assert tally(finished.text) == (1, 1, 0)

    await post(client, f"/queue/counter/{c1}/call-next")
    skipped = await post(client, f"/queue/counter/{c1}/tickets/{b1['id']}/skip")
    assert toast(skipped) == "B001 已过号" and active(skipped.text) == [] and tally(skipped.text) == (0, 1, 1)
    states = {t["no"]: t["status"] for t in (await call(client, "GET", f"{Q}/tickets", admin))["items"]}
    assert states == {"A001": "done", "B001": "no_show"}


async def test_refusals(client, admin, w):
    c1 = w["c1"]["id"]
    refused(await post(client, f"/queue/counter/{c1}/call-next"), 409, "当前没有等候的顾客", refresh=True)
    a1 = await take(client, w["kiosk_auth"], w["a"]["id"])
    base = f"/queue/counter/{c1}/tickets/{a1['id']}"
    refused(await post(client, f"{base}/start"), 409, "当前状态为「等候中」，不能开始办理", refresh=True)
    await post(client, f"/queue/counter/{c1}/call-next")
    refused(await post(client, f"{base}/finish"), 409, "A001 当前状态为「已叫号」，不能完成", refresh=True)
    await post(client, f"{base}/start")
    refused(await post(client, f"{base}/start"), 409, "不能开始办理", refresh=True)
    refused(await post(client, f"{base}/recall"), 409, "不能重呼", refresh=True)
    refused(await post(client, f"{base}/skip"), 409, "不能过号", refresh=True)

    # bad ids and unknown actions: 400/404 with their message
    refused(await post(client, f"/queue/counter/{c1}/tickets/99999999/start"), 404, "排队号不存在")
    refused(await post(client, "/queue/counter/99999999/call-next"), 404, "窗口不存在")
    refused(await post(client, f"/queue/counter/99999999/tickets/{a1['id']}/finish"), 404, "窗口不存在")
    refused(await post(client, f"{base}/explode"), 404, "操作不存在")
    refused(await post(client, "/queue/counter/abc/call-next"), 404)
    refused(await post(client, f"/queue/counter/{c1}/tickets/abc/start"), 404)
    refused(await post(client, "/queue/counter/99999999999/call-next"), 400)
    refused(await client.get("/queue/counter?counter_id=abc", headers=DESK), 400, "窗口")
    refused(await client.get("/queue/counter?counter_id=99999999", headers=DESK), 404, "窗口不存在")
    page = await client.get("/queue/counter?counter_id=99999999")
    assert page.status_code == 404 and "窗口不存在" in page.text and 'id="q-desk-chooser"' in page.text

    # a disabled counter: shown, but 【叫号】 is refused
    await call(client, "PATCH", f"{Q}/counters/{w['c2']['id']}", admin, {"enabled": False})
    await take(client, w["kiosk_auth"], w["a"]["id"])
    disabled = await client.get(f"/queue/counter?counter_id={w['c2']['id']}")
    assert disabled.status_code == 200 and "该窗口已停用" in disabled.text
    refused(await post(client, f"/queue/counter/{w['c2']['id']}/call-next"), 409, "2 号窗口已停用")

    # a session POST without the CSRF token
    no_csrf = await client.post(f"/queue/counter/{c1}/call-next", headers={"hx-request": "true"})
    refused(no_csrf, 403, "CSRF")


async def test_permissions(client, admin, tenant, w):
    c1 = w["c1"]["id"]
    await take(client, w["kiosk_auth"], w["a"]["id"])
    await user_with(client, admin, "watcher", tenant.org_id, "hq", ["queue.counter.view"])
    await user_with(client, admin, "nobody", tenant.org_id, "hq", ["queue.stats.view"])

    client.cookies.clear()
    await page_login(client, "watcher@ACME", PASSWORD)
    page = await client.get(f"/queue/counter?counter_id={c1}")
    assert page.status_code == 200 and waiting(page.text) == ["A001"]
    assert "call-next" not in page.text and 'id="q-desk-call"' not in page.text  # may look, not call
    refused(await post(client, f"/queue/counter/{c1}/call-next"), 403, "没有权限")
    refused(await post(client, f"/queue/counter/{c1}/tickets/1/recall"), 403, "没有权限")
    assert (
        await client.get("/workorders/intake?phone=1&queue_ticket_id=1")
    ).status_code == 403  # 工单受理 is its own right

    client.cookies.clear()
    await page_login(client, "nobody@ACME", PASSWORD)
    assert (await client.get("/queue/counter")).status_code == 403
    refused(await client.get(f"/queue/counter?counter_id={c1}", headers=DESK), 403)
    assert (await client.get("/workorders/intake")).status_code == 403


async def test_another_tenants_and_a_sibling_branchs_counters_are_not_found(client, admin, tenant, other_tenant, w):
    b1 = await service_org(tenant, "B1", tenant.org_id, level=2)
    b2 = await service_org(tenant, "B2", tenant.org_id, level=2)
    one = await queue_world(client, admin, org_id=b1["id"])
    two = await queue_world(client, admin, org_id=b2["id"])
    other = await queue_world(client, await api_login(client, "admin@OTHER"))
    ticket = await take(client, two["kiosk_auth"], two["a"]["id"])

    # the head office sees its branches' counters, grouped by org
    page = await client.get("/queue/counter")
    assert re.findall(r'<optgroup label="([^"]+)">', page.text) == ["艾克米维修总部", "B1网点", "B2网点"]
    assert str(other["c1"]["id"]) not in re.findall(r'<option value="(\d+)"', page.text)
    refused(await client.get(f"/queue/counter?counter_id={other['c1']['id']}", headers=DESK), 404, "窗口不存在")
    refused(await post(client, f"/queue/counter/{other['c1']['id']}/call-next"), 404, "窗口不存在")

    # a user of B1 sees B1 only: B2's counter and ticket are not found
    await user_with(
        client,
        admin,
        "clerk",
        b1["id"],
        "branch",
        ["queue.counter.view", "queue.counter.call", "workorders.intake.view"],
    )
    client.cookies.clear()
    await page_login(client, "clerk@ACME", PASSWORD)
    page = await client.get("/queue/counter")
    assert re.findall(r'<option value="(\d+)"', page.text) == [str(one["c1"]["id"]), str(one["c2"]["id"])]
    refused(await client.get(f"/queue/counter?counter_id={two['c1']['id']}", headers=DESK), 404, "不存在")
    refused(await post(client, f"/queue/counter/{two['c1']['id']}/call-next"), 404, "不存在")
    own = f"/queue/counter/{one['c1']['id']}/tickets/{ticket['id']}/recall"
    refused(await post(client, own), 404, "不存在")
    assert (await client.get(f"/workorders/intake?queue_ticket_id={ticket['id']}")).status_code == 404
    # nothing happened to B2's ticket
    assert (await call(client, "GET", f"{Q}/tickets/{ticket['id']}", admin))["status"] == "waiting"


async def test_a_single_counter_opens_at_once(client, admin, tenant):
    b1 = await service_org(tenant, "B1", tenant.org_id, level=2)
    world = await queue_world(client, admin, org_id=b1["id"])
    await call(client, "DELETE", f"{Q}/counters/{world['c2']['id']}", admin)
    await user_with(client, admin, "clerk", b1["id"], "branch", ["queue.counter.view", "queue.counter.call"])
    await page_login(client, "clerk@ACME", PASSWORD)
    page = await client.get("/queue/counter")
    assert page.status_code == 200 and f'data-desk-counter="{world["c1"]["id"]}"' in page.text


async def test_no_counter_yet(client, admin):
    await page_login(client, "admin@ACME")
    page = await client.get("/queue/counter")
    assert page.status_code == 200 and "还没有可用的窗口" in page.text


async def test_open_intake_from_a_ticket(client, admin, w):
    """【开单】 opens the work-order intake form with the ticket's phone and id (tests/workorders)."""
    ticket = await take(client, w["kiosk_auth"], w["a"]["id"], "13800001234")
    page = await client.get(f"/workorders/intake?phone=13800001234&queue_ticket_id={ticket['id']}")
    assert page.status_code == 200
    assert re.search(r'id="intake-ticket">排队号 A001', page.text)
    assert 'name="customer.phone" value="13800001234"' in page.text
    assert f'name="queue_ticket_id" value="{ticket["id"]}"' in page.text
    assert 'href="/queue/counter"' in page.text and 'class="sidebar"' in page.text
    bare = await client.get("/workorders/intake")
    assert bare.status_code == 200 and 'name="customer.phone" value=""' in bare.text
    assert (await client.get("/workorders/intake?queue_ticket_id=99999999")).status_code == 404
    assert (await client.get("/workorders/intake?queue_ticket_id=abc")).status_code == 400
    escaped = await client.get("/workorders/intake?phone=<script>")
    assert "<script>" not in escaped.text.split('name="customer.phone"')[1][:40]
