"""【排队统计】 on a constructed day of tickets: the summary cards and the table by day, service and
counter show the exact figures (waits of 60/120/300 s, services of 300/60 s) as `m分s秒`; the
filters (period, service, counter, org) narrow them; a bad or too long period is said in Chinese
on the page; the xlsx export matches; permissions are 403 and another tenant's org is 404."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from server.core import clock
from server.queue import exports
from server.queue import permissions as P
from server.queue.pages.stats import duration
from server.queue.services import setup
from server.queue.tables import QueueTicket
from tests.conftest import page_login
from tests.queue.helpers import queue_world, take
from tests.system.helpers import PASSWORD, service_org, service_user

URL = "/queue/stats"
RESULTS = {"hx-request": "true", "hx-target": "q-stats-results"}


def cards(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="(\w+)">\s*<div class="stat-value">([^<]*)<', html))


def rows(html: str) -> list[list[str]]:
    """The table's body rows as the texts of their cells."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr data-day.*?</tr>", body, re.S)
    ]


def sheet(response) -> list[list]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]


async def settle(ticket_id: int, counter_id: int | None, status: str, wait: int | None, serve: int | None = None):
    """Give a ticket exact times: taken an hour ago, first called `wait` s later, served `serve` s."""
    taken = clock.now() - timedelta(hours=1)
    values = {QueueTicket.status: status, QueueTicket.taken_at: taken, QueueTicket.counter: counter_id}
    if wait is not None:
        values |= {QueueTicket.called_at: taken + timedelta(seconds=wait)}
        values |= {QueueTicket.last_called_at: taken + timedelta(seconds=wait)}
    if serve is not None:
        started = taken + timedelta(seconds=wait + 10)
        values |= {QueueTicket.started_at: started, QueueTicket.finished_at: started + timedelta(seconds=serve)}
    await QueueTicket.update(values).where(QueueTicket.id == ticket_id)


@pytest.fixture
async def day(client, admin, tenant) -> dict:
    """Today: A001 at counter 1 (wait 60 s, served 300 s), A002 at counter 2 (wait 120 s, served
    60 s), A003 at counter 1 (wait 300 s, no-show), B001 still waiting; and yesterday one A ticket
    served at counter 2 (wait 30 s, served 30 s)."""
    w = await queue_world(client, admin)
    a1, a2, a3 = [await take(client, w["kiosk_auth"], w["a"]["id"]) for _ in range(3)]
    b1 = await take(client, w["kiosk_auth"], w["b"]["id"])
    old = await take(client, w["kiosk_auth"], w["a"]["id"])
    c1, c2 = w["c1"]["id"], w["c2"]["id"]
    await settle(a1["id"], c1, "done", 60, 300)
    await settle(a2["id"], c2, "done", 120, 60)
    await settle(a3["id"], c1, "no_show", 300)
    await settle(old["id"], c2, "done", 30, 30)
    today = date.fromisoformat(a1["day"])
    await QueueTicket.update({QueueTicket.day: today - timedelta(days=1)}).where(QueueTicket.id == old["id"])
    return w | {"today": today, "yesterday": today - timedelta(days=1), "b1": b1}


def test_duration_reads_as_minutes_and_seconds():
    assert [duration(s) for s in (None, 0, 45, 60, 160, 3725)] == ["—", "0秒", "45秒", "1分0秒", "2分40秒", "62分5秒"]


async def test_the_day_figures_cards_and_table(client, tenant, day):
    await page_login(client, "admin@ACME")
    page = await client.get(URL)
    assert page.status_code == 200 and "排队统计" in page.text
    assert 'id="filters"' in page.text and "live:queue from:body" in page.text
    assert f'name="date_from" value="{day["today"]}"' in page.text  # today by default
    assert cards(page.text) == {
        "tickets": "4",
        "served": "2",
        "no_shows": "1",
        "avg_wait_seconds": "2分40秒",  # (60 + 120 + 300) / 3
        "p90_wait_seconds": "5分0秒",
        "avg_service_seconds": "3分0秒",  # (300 + 60) / 2
        "p90_service_seconds": "5分0秒",
        "avg_rating": "—",
    }
    assert "仍在等候 1 人" in page.text
    t = str(day["today"])
    assert rows(page.text) == [
        [t, "维修", "1 号窗口", "2", "1", "1", "0", "3分0秒", "5分0秒", "5分0秒", "5分0秒", "—"],
        [t, "维修", "2 号窗口", "1", "1", "0", "0", "2分0秒", "2分0秒", "1分0秒", "1分0秒", "—"],
        [t, "取机", "未叫号", "1", "0", "0", "1", "—", "—", "—", "—", "—"],
    ]
    assert re.search(r"<tfoot>.*合计.*4.*2分40秒", page.text, re.S)

    # the live refresh answers the figures only
    live = await client.get(URL, headers=RESULTS)
    assert live.status_code == 200 and "<html" not in live.text and 'id="filters"' not in live.text
    assert cards(live.text)["tickets"] == "4"

    # filters: a period of two days, a service, a counter
    y = str(day["yesterday"])
    both = await client.get(f"{URL}?date_from={y}&date_to={t}", headers=RESULTS)
    assert cards(both.text)["tickets"] == "5" and cards(both.text)["avg_wait_seconds"] == "2分8秒"  # 510 / 4, rounded
    assert rows(both.text)[0] == [y, "维修", "2 号窗口", "1", "1", "0", "0", "30秒", "30秒", "30秒", "30秒", "—"]
    only_b = await client.get(f"{URL}?service_id={day['b']['id']}", headers=RESULTS)
    assert cards(only_b.text)["tickets"] == "1" and [r[2] for r in rows(only_b.text)] == ["未叫号"]
    at_c1 = await client.get(f"{URL}?counter_id={day['c1']['id']}&date_from={y}&date_to={t}", headers=RESULTS)
    assert cards(at_c1.text)["tickets"] == "2"
    assert {r[2] for r in rows(at_c1.text)} == {"1 号窗口"}
    # the filter region (after a change) keeps the choices and the options of the org
    region = await client.get(
        f"{URL}?service_id={day['a']['id']}", headers={"hx-request": "true", "hx-target": "q-stats"}
    )
    assert region.status_code == 200 and 'id="filters"' in region.text and "<html" not in region.text
    assert f'<option value="{day["a"]["id"]}" selected>A 维修</option>' in region.text
    assert f'<option value="{day["c2"]["id"]}">2 号窗口</option>' in region.text

    empty = await client.get(f"{URL}?date_from=2020-01-01&date_to=2020-01-02", headers=RESULTS)
    assert "所选期间没有取号记录" in empty.text and cards(empty.text)["avg_wait_seconds"] == "—"


async def test_bad_periods_are_said_on_the_page(client, tenant, day):
    await page_login(client, "admin@ACME")
    for query, message in (
        ("date_from=2026-13-01", "开始日期格式应为 YYYY-MM-DD"),
        ("date_to=yesterday", "结束日期格式应为 YYYY-MM-DD"),
        ("date_from=2025-03-02&date_to=2025-03-01", "开始日期不能晚于结束日期"),
        ("date_from=2025-01-01&date_to=2025-04-03", "统计区间最长 92 天"),
        ("service_id=abc", None),  # not one of the org's services: no filter
    ):
        page = await client.get(f"{URL}?{query}")
        assert page.status_code == 200, page.text
        if message:
            assert message in page.text and 'class="form-error"' in page.text and 'id="filters"' in page.text
            live = await client.get(f"{URL}?{query}", headers=RESULTS)
            assert live.status_code == 200 and message in live.text
        else:
            assert cards(page.text)["tickets"] == "4"
    ninety_two = await client.get(f"{URL}?date_from=2025-01-01&date_to=2025-04-02", headers=RESULTS)
    assert ninety_two.status_code == 200 and "所选期间没有取号记录" in ninety_two.text
    export = await client.get(f"{URL}/export?date_from=2025-01-01&date_to=2025-12-31")
    assert export.status_code == 400 and "统计区间最长 92 天" in export.text


async def test_the_export_matches_the_page(client, tenant, day):
    await page_login(client, "admin@ACME")
    t, y = str(day["today"]), str(day["yesterday"])
    page = await client.get(f"{URL}?date_from={y}&date_to={t}")
    assert f'href="/queue/stats/export?org_id={tenant.org_id}&amp;date_from={y}&amp;date_to={t}"' in page.text
    got = sheet(await client.get(f"{URL}/export?org_id={tenant.org_id}&date_from={y}&date_to={t}"))
    assert got[0] == exports.HEADERS
    assert got[1:] == [
        [y, "维修", "2 号窗口", 1, 1, 0, 0, 30, 30, 30, 30, 0, None],
        [t, "维修", "1 号窗口", 2, 1, 1, 0, 180, 300, 300, 300, 0, None],
        [t, "维修", "2 号窗口", 1, 1, 0, 0, 120, 120, 60, 60, 0, None],
        [t, "取机", "未叫号", 1, 0, 0, 1, None, None, None, None, 0, None],
        ["合计", None, None, 5, 3, 1, 1, 128, 300, 130, 300, 0, None],
    ]
    assert len(rows(page.text)) == len(got) - 2
    only_c2 = sheet(await client.get(f"{URL}/export?counter_id={day['c2']['id']}&date_from={y}&date_to={t}"))
    assert [r[2] for r in only_c2[1:-1]] == ["2 号窗口", "2 号窗口"] and only_c2[-1][3] == 2


async def test_permissions_and_other_orgs(client, tenant, other_tenant, day):
    b2 = await service_org(tenant, "B2", tenant.org_id, level=2)
    s2 = await service_org(tenant, "S2", tenant.org_id, level=2)
    await service_user(tenant, "nostats", tenant.org_id, "hq", [P.COUNTER_VIEW, P.SETTINGS_VIEW])
    await service_user(tenant, "reader", tenant.org_id, "hq", [P.STATS_VIEW])
    await service_user(tenant, "b2stats", b2["id"], "branch", [P.STATS_VIEW, P.STATS_EXPORT])

    await page_login(client, "nostats@ACME", PASSWORD)
    assert (await client.get(URL)).status_code == 403
    assert (await client.get(URL, headers=RESULTS)).status_code == 403
    assert (await client.get(f"{URL}/export")).status_code == 403

    # reading without exporting; the filters list the org's services and counters, as for anyone
    client.cookies.clear()
    await page_login(client, "reader@ACME", PASSWORD)
    page = await client.get(URL)
    assert page.status_code == 200 and cards(page.text)["tickets"] == "4"
    assert "/queue/stats/export" not in page.text
    assert f'<option value="{day["a"]["id"]}">A 维修</option>' in page.text
    assert f'<option value="{day["c1"]["id"]}">1 号窗口</option>' in page.text
    export = await client.get(f"{URL}/export")
    assert export.status_code == 403 and "没有权限" in export.text

    page = await client.get(f"{URL}?org_id={other_tenant.org_id}")
    assert page.status_code == 404 and "机构不存在" in page.text
    assert (await client.get(f"{URL}/export?org_id={other_tenant.org_id}")).status_code == 403

    # a branch sees its own org (empty here), not its sibling's nor another tenant's
    client.cookies.clear()
    await page_login(client, "b2stats@ACME", PASSWORD)
    own = await client.get(URL)
    assert own.status_code == 200 and cards(own.text)["tickets"] == "0" and 'value="B2网点"' in own.text
    assert (await client.get(f"{URL}?org_id={s2['id']}")).status_code == 404
    assert (await client.get(f"{URL}?org_id={tenant.org_id}", headers=RESULTS)).status_code == 404
    assert (await client.get(f"{URL}/export?org_id={other_tenant.org_id}")).status_code == 404
    assert (await client.get(f"{URL}/export")).status_code == 200
    # the HQ's services are not the branch's filter options
    assert f'value="{day["a"]["id"]}"' not in own.text
    assert await setup.services(tenant, b2["id"]) == []


async def test_the_page_opens_on_the_first_org_with_a_queue(client, admin, tenant):
    """Issue 15: the head office has no queue; opened from the menu, the page shows the first org
    of the caller's subtree (tree order) that has one, and an org asked for stays as asked."""
    b1 = await service_org(tenant, "B1", tenant.org_id, level=2)
    b2 = await service_org(tenant, "B2", tenant.org_id, level=2)
    b3 = await service_org(tenant, "B3", tenant.org_id, level=2)
    await queue_world(client, admin, b2["id"])
    w3 = await queue_world(client, admin, b3["id"])
    await take(client, w3["kiosk_auth"], w3["a"]["id"])
    await page_login(client, "admin@ACME")

    page = await client.get(URL)
    assert page.status_code == 200 and 'value="B2网点"' in page.text  # b1 has none, the HQ none
    assert f'href="/queue/stats/export?org_id={b2["id"]}&amp;' in page.text
    asked = await client.get(f"{URL}?org_id={b3['id']}")
    assert 'value="B3网点"' in asked.text and cards(asked.text)["tickets"] == "1"
    hq = await client.get(f"{URL}?org_id={tenant.org_id}")
    assert 'value="艾克米维修总部"' in hq.text and cards(hq.text)["tickets"] == "0"
    # a deleted service is no queue: the next org with one
    await setup.delete_service(tenant, (await setup.services(tenant, b2["id"]))[0]["id"])
    await setup.delete_service(tenant, (await setup.services(tenant, b2["id"]))[0]["id"])
    assert 'value="B3网点"' in (await client.get(URL)).text
    # an org's own queue comes first: the HQ with a service of its own opens on itself
    await queue_world(client, admin)
    assert 'value="艾克米维修总部"' in (await client.get(URL)).text
    assert b1  # created first, without a queue: never chosen
