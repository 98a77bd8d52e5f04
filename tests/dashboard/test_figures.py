"""【看板】's figures equal what the lists it links to show with the same filter (every card and
chart), scoped to the caller's subtree and narrowed by `org_id`; other tenants and orgs outside
the subtree are 404; the JSON costs a bounded number of statements whatever the data."""

from __future__ import annotations

from datetime import date, timedelta

from server.core import db
from server.logistics.services.shipments import RECEIVABLE
from server.workorders.services import figures, orders
from tests.api_helpers import call, error_of
from tests.conftest import api_login
from tests.core.test_list_statements import count, statements
from tests.dashboard.helpers import URL, board_world, done
from tests.queue.helpers import take
from tests.system.helpers import PASSWORD
from tests.workorders.helpers import intake_body

WO = "/api/v1/work-orders"
# work orders 10 (today, statuses, overdue count and rows, per technician, two trends, devices
# out for repair: count and the longest out; the SLA limits are cached), queue 1, stock 2, credit 3
# (children, accounts, granted), in transit 3
STATEMENTS = 19


async def total(client, headers: dict, url: str) -> int:
    return (await call(client, "GET", url, headers))["total"]


async def test_every_figure_equals_its_list(client, tenant, admin):
    w = await board_world(tenant, client, admin)
    d = await call(client, "GET", URL, admin)
    today = d["today"]
    org = f"&org_id={d['org_id']}"
    assert d["org_id"] == tenant.org_id

    # work orders: today's intake, each status, SLA red and the longest waiting
    assert d["today_intake"] == await total(client, admin, f"{WO}?date_from={today}&date_to={today}{org}") == 8
    assert {s["status"]: s["count"] for s in d["by_status"]} == {
        "accepted": 4,  # overdue, fresh, older (3 days ago), the branch's
        "repairing": 1,
        "repaired": 2,
        "closed": 1,
        "cancelled": 1,
    }  # none sent to a repair centre: no 送修在途 nor 返还在途 (issue 20)
    for s in d["by_status"]:
        assert s["count"] == await total(client, admin, f"{WO}?status={s['status']}{org}")
    red = await call(client, "GET", f"{WO}?sla=red&sort=urgency{org}", admin)
    assert d["overdue"]["count"] == red["total"] == 1
    assert [o["id"] for o in d["overdue"]["longest"]] == [o["id"] for o in red["items"][:5]] == [w["overdue"]]
    assert d["overdue"]["longest"][0]["minutes"] >= 600

    # completions today per technician (and the trend's today)
    by_tech = {t["technician_id"]: t["count"] for t in d["completed_by_technician"]}
    assert by_tech == {w["t1"].user_id: 2, w["t2"].user_id: 1}
    assert [t["technician_name"] for t in d["completed_by_technician"]] == ["tech1", "tech2"]
    for tech_id, n in by_tech.items():
        url = f"{WO}?technician_id={tech_id}&repaired_from={today}&repaired_to={today}{org}"
        assert n == await total(client, admin, url)

    # the 30-day trend, every day of it
    assert len(d["trend"]) == 30 and d["trend"][-1]["day"] == today
    for t in d["trend"]:
        day = t["day"]
        assert t["intake"] == await total(client, admin, f"{WO}?date_from={day}&date_to={day}{org}"), day
        assert t["completed"] == await total(client, admin, f"{WO}?repaired_from={day}&repaired_to={day}{org}"), day
    three_ago = (date.fromisoformat(today) - timedelta(days=3)).isoformat()
    assert {t["day"]: t["intake"] for t in d["trend"]}[three_ago] == 1
    assert d["trend"][-1] == {"day": today, "intake": 8, "completed": 3}

    # queue: waiting now and the average wait today, per org, as 【排队统计】 shows them
    stats = await call(client, "GET", f"/api/v1/queue/stats?org_id={tenant.org_id}", admin)
    assert d["queue"]["orgs"] == [
        {
            "org_id": tenant.org_id,
            "org_name": "艾克米维修总部",
            "waiting": stats["totals"]["waiting"],
            "avg_wait_seconds": stats["totals"]["avg_wait_seconds"],
        }
    ]
    assert d["queue"]["waiting"] == 2 and stats["totals"]["avg_wait_seconds"] is not None

    # stock below safety: the count and the worst rows, as the stock list marks them
    below = await call(client, "GET", f"/api/v1/stock?below_safety=1{org}", admin)
    assert d["below_safety"]["count"] == below["total"] == 2
    rows = {r["id"]: r for r in below["items"]}
    for s in d["below_safety"]["worst"]:
        r = rows[s["stock_id"]]
        assert (s["qty"], s["safety_stock"], s["goods_id"]) == (r["qty"], r["safety_stock"], r["goods_id"])
        assert r["below_safety"]
    assert [s["short"] for s in d["below_safety"]["worst"]] == sorted(
        (r["safety_stock"] - r["qty"] for r in below["items"]), reverse=True
    )

    # credit of the child orgs: available as 【额度查询】, red under a tenth of the limit
    accounts = {a["org_id"]: a for a in (await call(client, "GET", "/api/v1/credit/accounts", admin))["items"]}
    shown = {a["org_id"]: a for a in d["credit"]["accounts"]}
    assert set(shown) == {w["b2"], w["s2"]}
    for org_id, a in shown.items():
        assert a["available"] == accounts[org_id]["available"]
    assert shown[w["b2"]]["limit"] == "1000.0000" and not shown[w["b2"]]["low"]
    assert shown[w["s2"]]["available"] == "5.0000"  # 100 granted, 95 frozen
    assert shown[w["s2"]]["limit"] == "100.0000" and shown[w["s2"]]["low"] and d["credit"]["low"] == 1

    # in transit: the 【在途库存】 list, its shipments, and what waits to be received
    transit = await call(client, "GET", "/api/v1/in-transit", admin)
    assert d["in_transit"]["lines"] == transit["total"] == 1
    assert d["in_transit"]["shipments"] == len({i["shipment_id"] for i in transit["items"]}) == 1
    receivable = 0
    for status in RECEIVABLE:
        receivable += await total(client, admin, f"/api/v1/shipments?side=in&status={status}")
    assert d["in_transit"]["to_receive"] == receivable == 1


async def test_subtree_and_org_filter(client, tenant, other_tenant, admin):
    w = await board_world(tenant, client, admin)
    b2 = await api_login(client, "b2boss@ACME", PASSWORD)
    mine = await call(client, "GET", URL, b2)
    assert mine["org_id"] == w["b2"] and mine["today_intake"] == 1
    assert {s["status"]: s["count"] for s in mine["by_status"]}["accepted"] == 1
    assert mine["overdue"]["count"] == 0 and mine["completed_by_technician"] == []
    # sections whose lists the manager may not open are left out
    assert mine["queue"] is None and mine["credit"] is None and mine["below_safety"] is None
    # the head office narrowed to B2 sees what B2 sees of the work orders
    narrowed = await call(client, "GET", f"{URL}?org_id={w['b2']}", admin)
    assert narrowed["org_id"] == w["b2"]
    for key in ("today_intake", "by_status", "overdue", "completed_by_technician", "trend"):
        assert narrowed[key] == mine[key], key
    assert narrowed["below_safety"]["count"] == 0 and narrowed["queue"]["orgs"] == []
    # a sibling, the parent and another tenant's orgs are outside B2's subtree
    for org_id in (w["s2"], tenant.org_id, other_tenant.org_id):
        error_of(await client.get(f"{URL}?org_id={org_id}", headers=b2), 404)
    other = await api_login(client, "admin@OTHER")
    error_of(await client.get(f"{URL}?org_id={tenant.org_id}", headers=other), 404)
    theirs = await call(client, "GET", URL, other)
    assert theirs["today_intake"] == 0 and theirs["below_safety"]["count"] == 0
    assert theirs["queue"]["orgs"] == [] and theirs["in_transit"]["lines"] == 0
    # bad input is a 400 with a Chinese message, never a 500
    assert "机构" in error_of(await client.get(f"{URL}?org_id=abc", headers=admin), 400)["detail"]


async def test_dashboard_needs_its_permission(client, tenant, admin):
    w = await board_world(tenant, client, admin)
    tech = await api_login(client, "tech1@ACME", PASSWORD)
    error_of(await client.get(URL, headers=tech), 403)
    assert w["t1"].user_id


async def test_statements_are_bounded(client, tenant, admin, monkeypatch):
    """The JSON costs the same statements for a little data as for more of everything."""
    w = await board_world(tenant, client, admin)
    few = await count(client, monkeypatch, URL, admin)
    for i in range(6):
        await done(tenant, w, w["t2"] if i % 2 else w["t1"], f"1390000{i:04d}")
        await orders.intake(tenant, intake_body(w, phone=f"1370000{i:04d}"))
        await take(client, w["queue"]["kiosk_auth"], w["queue"]["b"]["id"])
    more = await count(client, monkeypatch, URL, admin)
    assert len(few) == len(more) <= STATEMENTS, "\n".join(more)
    narrowed = await count(client, monkeypatch, f"{URL}?org_id={w['b2']}", admin)
    assert len(narrowed) == len(more) + 2  # the chosen org, its subtree's org ids


async def test_trend_reuses_its_past_days_and_counts_today(client, tenant, admin, monkeypatch):
    """At a million orders the trend's 29 past days are tens of thousands of rows: a second read
    takes them from the first (two grouped statements instead of four), while today is counted
    every time."""
    w = await board_world(tenant, client, admin)
    figures._past.clear()

    async def trend() -> tuple[list[dict], list[str]]:
        with statements(monkeypatch) as seen:
            d = await call(client, "GET", URL, admin)
        return d["trend"], [s for s in seen if "GROUP BY 1" in s]

    before, cold = await trend()
    await orders.intake(tenant, intake_body(w, phone="13600000001"))
    after, warm = await trend()
    assert (len(cold), len(warm)) == (4, 2)
    assert after[:-1] == before[:-1]
    assert after[-1]["intake"] == before[-1]["intake"] + 1


async def test_trend_past_days_are_not_taken_from_another_database(client, tenant, admin):
    """Each test (and a restore) points the tables at another database: what was counted in the
    last one is not reused, though tenant ids, scopes and days are the same."""
    await board_world(tenant, client, admin)
    counted = (await call(client, "GET", URL, admin))["trend"]
    assert any(t["intake"] for t in counted[:-1])
    for key, (per_day, at, configured) in list(figures._past.items()):
        figures._past[key] = ({c: {} for c in per_day}, at, configured)  # as if from another database
    assert not any(t["intake"] for t in (await call(client, "GET", URL, admin))["trend"][:-1])
    db._writes[""] += 1  # what db.configure does
    assert (await call(client, "GET", URL, admin))["trend"] == counted
