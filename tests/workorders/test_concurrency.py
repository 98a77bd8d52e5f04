"""Concurrency over HTTP (SQLite and PostgreSQL): requests truly at once (api_helpers.concurrently),
each test proving that they overlapped.

- Two orders completing for the last unit of a part: exactly one succeeds, the other is 409
  `insufficient_stock` and stays `repairing`.
- The same order completed, or closed, many times at once posts once: one 200, the rest 409
  `invalid_state`.
"""

from __future__ import annotations

from server.inventory.tables import StockMove
from server.workorders.services import orders
from server.workorders.tables import WorkOrderStatusLog
from tests.api_helpers import InFlight, concurrently, error_of
from tests.inventory.helpers import on_hand
from tests.workorders.helpers import URL, repairing, wo_world


async def test_two_orders_for_the_last_unit_exactly_one_completes(client, tenant, admin, monkeypatch):
    w = await wo_world(tenant, stock=1)
    a = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1))
    b = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1))
    running = InFlight(monkeypatch, orders, "complete")
    body = {"repair_result": "repaired"}
    responses = await concurrently(
        client, [("POST", f"{URL}/{o['id']}/complete", admin, body) for o in (a, b) for _ in range(3)]
    )
    assert running.most > 1
    ok = [r for r in responses if r.status_code == 200]
    assert len(ok) == 1
    for r in responses:
        if r.status_code != 200:
            assert error_of(r, 409)["code"] in ("insufficient_stock", "invalid_state")
    winner = ok[0].json()["id"]
    loser = b["id"] if winner == a["id"] else a["id"]
    assert (await orders.get(tenant, loser))["status"] == "repairing"
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 0
    assert await on_hand(tenant.org_id, w["defective"], w["screen"]) == 1


async def test_completing_and_closing_the_same_order_at_once_posts_once(client, tenant, admin, monkeypatch):
    w = await wo_world(tenant, stock=5)
    order = await repairing(tenant, w, (w["lcd_code"], w["screen"], 2))
    moves = await StockMove.count()
    running = InFlight(monkeypatch, orders, "complete")
    url = f"{URL}/{order['id']}"
    responses = await concurrently(client, [("POST", f"{url}/complete", admin, {"repair_result": "repaired"})] * 8)
    assert running.most > 1
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    for r in responses:
        if r.status_code == 409:
            error_of(r, 409, "invalid_state")
    assert await StockMove.count() == moves + 2  # out of the 通用库, into the 坏品库: once
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 3

    closing = InFlight(monkeypatch, orders, "close")
    body = {"closing_method": "onsite", "amount_received": "10", "payment_method": "cash"}
    responses = await concurrently(client, [("POST", f"{url}/close", admin, body)] * 8)
    assert closing.most > 1
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    logs = await WorkOrderStatusLog.select().where(WorkOrderStatusLog.work_order == order["id"])
    assert [r["to_status"] for r in logs] == ["accepted", "repairing", "repaired", "closed"]
