"""The device screens: the kiosk (its page, the service counts it refetches, 【取号】 and the printable
slip) and the TV (its page and the board it refetches). A device has no session: its token in
the path is the credential; a bad, revoked or replaced token, or one of the other kind, answers a
full-screen Chinese notice (401 / 403), never the login page or a 500; a refetch gets the same as
plain text. A kiosk's POST needs no CSRF token. Nothing of another org or tenant is ever shown."""

from __future__ import annotations

import re

import pytest

from tests.api_helpers import call
from tests.api_helpers import htmx_refusal as refused
from tests.conftest import api_login, page_login
from tests.queue.helpers import Q, queue_world, take
from tests.system.helpers import service_org

HX = {"hx-request": "true"}
INVALID = "此设备链接已失效，请联系管理员重新生成"


def kiosk_url(w: dict) -> str:
    return f"/queue/kiosk/{w['kiosk']['token']}"


def tv_url(w: dict) -> str:
    return f"/queue/tv/{w['tv']['token']}"


def notice(response, status: int, text: str) -> str:
    """A full-screen notice page (no staff layout, no socket): the status and its message."""
    assert response.status_code == status, (response.status_code, response.text)
    assert "<html" in response.text and 'class="q-screen-notice"' in response.text, response.text
    assert text in response.text, response.text
    assert "ws-connect" not in response.text and "/static/js/app.js" not in response.text
    assert 'class="sidebar"' not in response.text
    return response.text


def waiting(html: str, prefix: str) -> int:
    """The waiting count on the kiosk's button of service `prefix`."""
    match = re.search(rf'data-service-prefix="{prefix}">.*?等候 <b>(\d+)</b> 人', html, re.S)
    assert match, html
    return int(match.group(1))


@pytest.fixture
async def w(client, admin) -> dict:
    return await queue_world(client, admin)


# --- kiosk ---------------------------------------------------------------------------------------


async def test_kiosk_page_takes_tickets_without_csrf(client, w):
    page = await client.get(kiosk_url(w))
    assert page.status_code == 200
    html = page.text
    assert "艾克米维修总部" in html and "欢迎光临" in html
    assert f'ws-connect="/ws?token={w["kiosk"]["token"]}"' in html
    assert "/static/js/queue-screens.js" in html and "/static/js/app.js" not in html
    assert 'class="sidebar"' not in html and "csrf" not in html.lower()
    assert re.findall(r'data-service-prefix="([A-Z])"', html) == ["A", "B"]
    assert waiting(html, "A") == 0 and waiting(html, "B") == 0
    assert "不留手机号，直接取号" in html and 'data-key="back"' in html and 'data-key="clear"' in html

    # no cookie, no CSRF token: the token in the path is the credential
    client.cookies.clear()
    first = await client.post(f"{kiosk_url(w)}/tickets", data={"service_id": w["a"]["id"], "phone": "138-0000-1234"})
    assert first.status_code == 201, first.text
    assert "<html" not in first.text
    assert 'class="q-kiosk-ticket-no">A001<' in first.text
    assert "前面还有 <b>0</b> 人" in first.text
    assert "138****1234" in first.text and "13800001234" not in first.text
    assert re.search(r"取号时间</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d<", first.text)
    ticket_id = re.search(r'data-ticket-id="(\d+)"', first.text).group(1)
    assert f'data-print="{kiosk_url(w)}/tickets/{ticket_id}/print"' in first.text

    second = await client.post(f"{kiosk_url(w)}/tickets", data={"service_id": w["a"]["id"], "phone": ""}, headers=HX)
    assert second.status_code == 201
    assert 'class="q-kiosk-ticket-no">A002<' in second.text and "前面还有 <b>1</b> 人" in second.text
    assert "手机号" not in second.text  # none given, none shown

    # the counts the kiosk refetches on each event: the services block alone
    counts = await client.get(f"{kiosk_url(w)}/services", headers=HX)
    assert counts.status_code == 200 and "<html" not in counts.text
    assert waiting(counts.text, "A") == 2 and waiting(counts.text, "B") == 0
    listed = await call(client, "GET", f"{Q}/tickets?status=waiting", await api_login(client, "admin@ACME"))
    assert [(t["no"], t["phone"]) for t in listed["items"]] == [("A001", "13800001234"), ("A002", "")]


async def test_kiosk_refusals_are_shown_on_the_screen(client, admin, tenant, w):
    url = f"{kiosk_url(w)}/tickets"
    bad = await client.post(url, data={"service_id": w["a"]["id"], "phone": "138abc"}, headers=HX)
    refused(bad, 400, "请输入 11 位手机号码")
    assert bad.headers["x-error-code"] == "invalid_phone"
    for phone in ("139", "12345678901", "23800001111"):  # issue 15: `139` got a ticket
        refused(
            await client.post(url, data={"service_id": w["a"]["id"], "phone": phone}, headers=HX),
            400,
            "请输入 11 位手机号码",
        )
    refused(await client.post(url, data={"phone": ""}, headers=HX), 400, "请选择业务类型")
    refused(await client.post(url, data={"service_id": "abc"}, headers=HX), 400, "业务类型")
    refused(await client.post(url, data={"service_id": "99999999"}, headers=HX), 404, "业务类型不存在")

    await call(client, "PATCH", f"{Q}/services/{w['b']['id']}", admin, {"enabled": False})
    refused(await client.post(url, data={"service_id": w["b"]["id"]}, headers=HX), 409, "业务「取机」已暂停取号")
    page = await client.get(kiosk_url(w))
    assert re.findall(r'data-service-prefix="([A-Z])"', page.text) == ["A"]  # a paused service has no button

    # another org's service (a branch below the kiosk's own org) and another tenant's: not found
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    theirs = await call(
        client, "POST", f"{Q}/services", admin, {"name": "网点维修", "prefix": "A", "org_id": branch["id"]}, 201
    )
    refused(await client.post(url, data={"service_id": theirs["id"]}, headers=HX), 404, "不存在")

    # a browser posting the form without htmx gets the full-screen notice
    plain = await client.post(url, data={"service_id": w["a"]["id"], "phone": "12ab"})
    notice(plain, 400, "请输入 11 位手机号码")
    assert (await call(client, "GET", f"{Q}/tickets", admin))["total"] == 0


async def test_kiosk_with_no_enabled_service_says_so(client, admin, w):
    for s in (w["a"], w["b"]):
        await call(client, "PATCH", f"{Q}/services/{s['id']}", admin, {"enabled": False})
    page = await client.get(kiosk_url(w))
    assert page.status_code == 200 and "暂停取号" in page.text and "data-service-id" not in page.text


async def test_printable_ticket(client, admin, w):
    ticket = await take(client, w["kiosk_auth"], w["a"]["id"], "13912345678")
    base = f"{kiosk_url(w)}/tickets/{ticket['id']}/print"
    wide = await client.get(base)
    assert wide.status_code == 200
    html = wide.text
    # from the tenant's slip template of that width (printing): an 80 mm roll unless asked
    assert "size: 80mm 110mm" in html and "q-screen" not in html
    assert 'class="q-ticket-no">A001<' in html and "维修" in html and "艾克米维修总部" in html
    assert "前面还有 0 人" in html and "请留意叫号屏与语音提示" in html
    assert "139****5678" in html and "13912345678" not in html
    assert re.search(r"取号时间</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d<", html)
    narrow = await client.get(f"{base}?width=58")
    assert narrow.status_code == 200 and "size: 58mm 100mm" in narrow.text
    assert 'class="q-ticket-no">A001<' in narrow.text
    notice(await client.get(f"{base}?width=100"), 400, "小票宽度只能是 58 或 80")
    notice(await client.get(f"{kiosk_url(w)}/tickets/99999999/print"), 404, "排队号不存在")
    # the TV's token does not print, nor does a revoked kiosk
    assert (await client.get(f"/queue/tv/{w['tv']['token']}/tickets/{ticket['id']}/print")).status_code == 404
    notice(await client.get(f"/queue/kiosk/{w['tv']['token']}/tickets/{ticket['id']}/print"), 403, "不能用作取号机")


async def test_print_of_another_orgs_or_tenants_ticket_is_not_found(client, admin, tenant, other_tenant, w):
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    b = await queue_world(client, admin, org_id=branch["id"])
    mine = await take(client, w["kiosk_auth"], w["a"]["id"])
    branch_ticket = await take(client, b["kiosk_auth"], b["a"]["id"])
    other_admin = await api_login(client, "admin@OTHER")
    o = await queue_world(client, other_admin)
    foreign = await take(client, o["kiosk_auth"], o["a"]["id"])
    # a kiosk prints its own org's tickets only: not the branch below it, not another tenant's
    notice(await client.get(f"{kiosk_url(w)}/tickets/{branch_ticket['id']}/print"), 404, "排队号不存在")
    notice(await client.get(f"{kiosk_url(w)}/tickets/{foreign['id']}/print"), 404, "排队号不存在")
    notice(await client.get(f"{kiosk_url(b)}/tickets/{mine['id']}/print"), 404, "排队号不存在")
    assert (await client.get(f"{kiosk_url(b)}/tickets/{branch_ticket['id']}/print")).status_code == 200


# --- TV ------------------------------------------------------------------------------------------


async def test_tv_page_and_board(client, admin, w):
    page = await client.get(tv_url(w))
    assert page.status_code == 200
    html = page.text
    assert f'ws-connect="/ws?token={w["tv"]["token"]}"' in html and "/static/js/app.js" not in html
    assert "请稍候" in html and 'id="tv-waiting-total">0<' in html
    assert 'data-clock="seconds"' in html
    # the voice button is a small one in the header (shown by the script where needed), no overlay
    header = html.split('class="q-tv-header"', 1)[1].split("</header>", 1)[0]
    assert re.search(r'<button type="button" class="q-tv-voice" id="q-tv-voice" data-voice-on hidden>', header)
    assert "点击开启语音" in header and html.count("q-tv-voice") == 2  # its class and id: nothing else
    assert f'hx-get="{tv_url(w)}/board"' in html

    a1 = await take(client, w["kiosk_auth"], w["a"]["id"], "13800001234")
    await take(client, w["kiosk_auth"], w["a"]["id"])
    await take(client, w["kiosk_auth"], w["b"]["id"])
    board = await client.get(f"{tv_url(w)}/board", headers=HX)
    assert board.status_code == 200 and "<html" not in board.text and "q-tv-header" not in board.text
    assert 'id="tv-waiting-total">3<' in board.text
    assert re.search(r'data-service="A">.*?<b>2</b> 人', board.text, re.S)
    assert re.search(r'data-service="B">.*?<b>1</b> 人', board.text, re.S)
    assert "13800001234" not in board.text and "1234" not in board.text  # no phone on the TV

    await call(client, "POST", f"{Q}/counters/{w['c2']['id']}/call-next", admin)  # A001 → 2 号窗口
    await call(client, "POST", f"{Q}/counters/{w['c1']['id']}/call-next", admin)  # A002 → 1 号窗口
    board = (await client.get(f"{tv_url(w)}/board", headers=HX)).text
    current = re.search(r'<section class="q-tv-current" id="tv-current"([^>]*)>(.*?)</section>', board, re.S)
    assert current, board
    assert 'data-say="请 A002 号到 1 号窗口"' in current.group(1)
    assert re.search(r'data-called-ms="\d{13}"', current.group(1))
    assert "A002" in current.group(2) and "请到 <b data-counter>1</b> 号窗口" in current.group(2)
    assert re.findall(r'class="q-tv-recent-no">(\w+)<', board) == ["A001"]
    assert 'data-say="请 A001 号到 2 号窗口"' in board and "2 号窗口" in board
    assert 'id="tv-waiting-total">1<' in board

    await call(client, "POST", f"{Q}/tickets/{a1['id']}/recall", admin)  # a recall is the current call again
    board = (await client.get(f"{tv_url(w)}/board", headers=HX)).text
    assert 'data-say="请 A001 号到 2 号窗口"' in re.search(r'id="tv-current"[^>]*>', board).group(0)
    assert "第 2 次呼叫" in board
    assert re.findall(r'class="q-tv-recent-no">(\w+)<', board) == ["A002"]


async def test_tv_shows_only_its_own_org(client, admin, tenant, other_tenant, w):
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    b = await queue_world(client, admin, org_id=branch["id"])
    await take(client, b["kiosk_auth"], b["a"]["id"])
    await call(client, "POST", f"{Q}/counters/{b['c1']['id']}/call-next", admin)
    other_admin = await api_login(client, "admin@OTHER")
    o = await queue_world(client, other_admin)
    await take(client, o["kiosk_auth"], o["b"]["id"])
    # the head office's TV sees nothing of its branch (nor of another tenant), the branch's sees its own
    hq_board = (await client.get(f"{tv_url(w)}/board", headers=HX)).text
    assert 'id="tv-waiting-total">0<' in hq_board and "请稍候" in hq_board and "A001" not in hq_board
    branch_board = (await client.get(f"{tv_url(b)}/board", headers=HX)).text
    assert "A001" in branch_board and "B1网点" in (await client.get(tv_url(b))).text
    assert "B1网点" not in (await client.get(kiosk_url(w))).text


# --- tokens --------------------------------------------------------------------------------------


async def test_bad_tokens_get_a_full_screen_notice(client, admin, w):
    for url in ("/queue/kiosk/dev_unknown", "/queue/tv/dev_unknown", "/queue/tv/not-a-device-token"):
        notice(await client.get(url), 401, INVALID)
    # a person's API token is no device token
    person = admin["Authorization"].split()[1]
    notice(await client.get(f"/queue/tv/{person}"), 401, INVALID)
    refused(await client.get("/queue/tv/dev_unknown/board", headers=HX), 401, INVALID)
    refused(await client.post("/queue/kiosk/dev_unknown/tickets", data={"service_id": w["a"]["id"]}, headers=HX), 401)
    notice(await client.get("/queue/kiosk/dev_unknown/tickets/1/print"), 401, INVALID)

    # a token of the other kind: 403, on every screen route
    kiosk_token, tv_token = w["kiosk"]["token"], w["tv"]["token"]
    notice(await client.get(f"/queue/tv/{kiosk_token}"), 403, "这是取号机的链接，不能用作叫号屏")
    refused(await client.get(f"/queue/tv/{kiosk_token}/board", headers=HX), 403, "不能用作叫号屏")
    notice(await client.get(f"/queue/kiosk/{tv_token}"), 403, "这是叫号屏的链接，不能用作取号机")
    refused(await client.get(f"/queue/kiosk/{tv_token}/services", headers=HX), 403)
    wrong = await client.post(f"/queue/kiosk/{tv_token}/tickets", data={"service_id": w["a"]["id"]}, headers=HX)
    refused(wrong, 403, "不能用作取号机")
    assert (await call(client, "GET", f"{Q}/tickets", admin))["total"] == 0

    # a staff session in the same browser changes nothing: still the notice, never the login page
    await page_login(client, "admin@ACME")
    response = await client.get("/queue/tv/dev_unknown", follow_redirects=False)
    notice(response, 401, INVALID)


async def test_revoked_replaced_and_deleted_devices_stop_working(client, admin, w):
    assert (await client.get(tv_url(w))).status_code == 200
    await call(client, "POST", f"{Q}/devices/{w['tv']['id']}/revoke", admin)
    notice(await client.get(tv_url(w)), 401, INVALID)
    refused(await client.get(f"{tv_url(w)}/board", headers=HX), 401, INVALID)

    renewed = await call(client, "POST", f"{Q}/devices/{w['kiosk']['id']}/regenerate", admin)
    notice(await client.get(kiosk_url(w)), 401, INVALID)
    refused(await client.post(f"{kiosk_url(w)}/tickets", data={"service_id": w["a"]["id"]}, headers=HX), 401)
    fresh = f"/queue/kiosk/{renewed['token']}"
    assert (await client.get(fresh)).status_code == 200
    taken = await client.post(f"{fresh}/tickets", data={"service_id": w["a"]["id"]}, headers=HX)
    assert taken.status_code == 201 and "A001" in taken.text

    await call(client, "DELETE", f"{Q}/devices/{w['kiosk']['id']}", admin)
    notice(await client.get(fresh), 401, INVALID)


async def test_a_disabled_org_switches_its_screens_off(client, admin, tenant):
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    b = await queue_world(client, admin, org_id=branch["id"])
    assert (await client.get(tv_url(b))).status_code == 200
    await call(client, "PATCH", f"/api/v1/orgs/{branch['id']}", admin, {"enabled": False})
    notice(await client.get(tv_url(b)), 401, INVALID)
    notice(await client.get(kiosk_url(b)), 401, INVALID)


async def test_tv_names_the_service_once(client, admin, w):
    """Issue 15: a counter named after its service showed "维修 · 维修"; a counter with a name of
    its own is still named."""
    await call(client, "PATCH", f"{Q}/counters/{w['c1']['id']}", admin, {"name": "维修"})
    await call(client, "PATCH", f"{Q}/counters/{w['c2']['id']}", admin, {"name": "快修"})
    meta = re.compile(r'class="q-tv-current-meta" data-meta>([^<]*)<')
    await take(client, w["kiosk_auth"], w["a"]["id"])
    await take(client, w["kiosk_auth"], w["a"]["id"])
    await call(client, "POST", f"{Q}/counters/{w['c1']['id']}/call-next", admin)
    board = (await client.get(f"{tv_url(w)}/board", headers=HX)).text
    assert meta.findall(board) == ["维修"] and "维修 · 维修" not in board
    await call(client, "POST", f"{Q}/counters/{w['c2']['id']}/call-next", admin)
    assert meta.findall((await client.get(f"{tv_url(w)}/board", headers=HX)).text) == ["维修 · 快修"]
