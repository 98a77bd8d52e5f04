"""The shipment JSON API (/api/v1/shipments, /api/v1/in-transit and their exports): every
endpoint over HTTP, the shapes of ARCHITECTURE.md, the error shape and statuses, races between
two confirmations and two receipts of one line on both databases, bad input answered in Chinese
without changing a row, and tenant and subtree isolation."""

from __future__ import annotations

from server.core.tables import AuditLog, DocSequence
from server.credit.tables import CreditAccount, CreditEntry
from server.inventory.tables import Stock, StockMove
from server.logistics.tables import Shipment, ShipmentLine
from tests.api_helpers import InFlight, call, concurrently, error_of, refused
from tests.inventory.api_helpers import MONEY, sheet
from tests.inventory.helpers import on_hand
from tests.logistics.shipment_helpers import STAFF, assert_conserved, network
from tests.system.helpers import user_with

URL = "/api/v1/shipments"
TABLES = (Shipment, ShipmentLine, Stock, StockMove, CreditAccount, CreditEntry, DocSequence, AuditLog)
DOC_FIELDS = {
    "id", "no", "type", "type_name", "status", "status_name", "org_id", "org_name", "warehouse_id",
    "warehouse_code", "warehouse_name", "to_org_id", "to_org_name", "order_id", "carrier", "tracking_no", "remark",
    "created_by_name", "created_at", "submitted_at", "completed_at", "received_at", "total_qty", "total_amount",
    "lines", "device",
}  # fmt: skip
LINE_FIELDS = {
    "id", "goods_id", "goods_code", "goods_name", "unit", "spec", "qty", "price", "amount", "order_line_id",
    "confirmed", "confirmed_at", "confirmed_by_name", "received", "received_at", "received_by_name",
    "received_warehouse_id", "received_qty", "held_qty", "lost_qty", "left_qty", "in_transit", "discrepancies",
}  # fmt: skip


async def state() -> dict:
    return {t._meta.tablename: await t.select().order_by(t.id) for t in TABLES}


async def setup(client, tenant, admin) -> dict:
    n = await network(tenant)
    _, b2 = await user_with(client, admin, "b2api", n["b2"], "branch", STAFF)
    _, b3 = await user_with(client, admin, "b3api", n["b3"], "branch", STAFF)
    return n | {"b2_h": b2, "b3_h": b3}


async def confirmed(client, admin, n, *lines, to="b2") -> dict:
    body = {"type": "distribution", "warehouse_id": n["general"], "to_org_id": n[to], "carrier": "顺丰"}
    body["lines"] = [{"goods_id": g, "qty": q} for g, q in lines]
    doc = await call(client, "POST", URL, admin, body, 201)
    await call(client, "POST", f"{URL}/{doc['id']}/submit", admin)
    return await call(client, "POST", f"{URL}/{doc['id']}/confirm", admin, {})


async def test_every_endpoint(client, tenant, admin):
    n = await setup(client, tenant, admin)
    body = {"type": "distribution", "warehouse_id": n["general"], "to_org_id": n["b2"], "tracking_no": "SF1"}
    doc = await call(client, "POST", URL, admin, body | {"lines": [{"goods_id": n["screen"], "qty": 4}]}, 201)
    assert set(doc) == DOC_FIELDS and set(doc["lines"][0]) == LINE_FIELDS, set(doc) ^ DOC_FIELDS
    assert MONEY.match(doc["total_amount"]) and doc["total_amount"] == "440.0000"
    did = doc["id"]
    doc = await call(client, "PATCH", f"{URL}/{did}", admin, {"carrier": "京东"})
    doc = await call(client, "POST", f"{URL}/{did}/lines", admin, {"goods_id": n["battery"], "qty": 2}, 201)
    line2 = doc["lines"][1]["id"]
    doc = await call(client, "PATCH", f"{URL}/{did}/lines/{line2}", admin, {"qty": 3})
    assert [li["qty"] for li in doc["lines"]] == [4, 3]
    doc = await call(client, "DELETE", f"{URL}/{did}/lines/{line2}", admin)
    doc = await call(client, "POST", f"{URL}/{did}/submit", admin)
    doc = await call(client, "POST", f"{URL}/{did}/confirm", admin, {"line_ids": [doc["lines"][0]["id"]]})
    assert (doc["status"], doc["carrier"], doc["lines"][0]["in_transit"]) == ("completed", "京东", 4)

    listed = await call(client, "GET", f"{URL}?side=in&type=distribution", n["b2_h"])
    assert [d["no"] for d in listed["items"]] == [doc["no"]] and listed["total"] == 1
    transit = await call(client, "GET", "/api/v1/in-transit", n["b2_h"])
    assert [(r["shipment_no"], r["qty"], r["age_days"]) for r in transit["items"]] == [(doc["no"], 4, 0)]
    receipt = {"warehouse_id": n["good"], "line_ids": [doc["lines"][0]["id"]]}
    doc = await call(client, "POST", f"{URL}/{did}/receive", n["b2_h"], receipt)
    assert (doc["status_name"], doc["lines"][0]["received_warehouse_id"]) == ("已收货", n["good"])
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 4

    rows = sheet(await client.get(f"{URL}/export", headers=admin))
    assert rows[0][:3] == ("单号", "类型", "状态") and rows[1][0] == doc["no"] and rows[1][12] == 4
    rows = sheet(await client.get("/api/v1/in-transit/export", headers=admin))
    assert rows[0][0] == "物流单号" and len(rows) == 1

    other = await call(client, "POST", URL, admin, body, 201)
    await call(client, "DELETE", f"{URL}/{other['id']}", admin)
    await refused(client, "GET", f"{URL}/{other['id']}", admin, status=404, code="not_found")


async def test_two_confirms_of_one_line_post_once(client, tenant, admin):
    n = await setup(client, tenant, admin)
    body = {"type": "distribution", "warehouse_id": n["general"], "to_org_id": n["b2"]}
    doc = await call(client, "POST", URL, admin, body | {"lines": [{"goods_id": n["screen"], "qty": 5}]}, 201)
    await call(client, "POST", f"{URL}/{doc['id']}/submit", admin)
    url, line = f"{URL}/{doc['id']}/confirm", {"line_ids": [doc["lines"][0]["id"]]}
    answers = await concurrently(client, [("POST", url, admin, line)] * 2)
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    error_of(next(r for r in answers if r.status_code == 409), 409, "already_confirmed")
    assert await on_hand(n["hq"], n["general"], n["screen"]) == 15
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], 40)


async def test_two_receipts_of_one_line_post_once(client, tenant, admin, monkeypatch):
    n = await setup(client, tenant, admin)
    doc = await confirmed(client, admin, n, (n["screen"], 5))
    from server.inventory.services import stock

    flight = InFlight(monkeypatch, stock, "post_moves")
    url, receipt = f"{URL}/{doc['id']}/receive", {"warehouse_id": n["general"], "line_ids": [doc["lines"][0]["id"]]}
    answers = await concurrently(client, [("POST", url, n["b2_h"], receipt)] * 2)
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    assert error_of(next(r for r in answers if r.status_code == 409), 409)["code"] in ("already_received",)
    assert flight.calls == 1
    assert await on_hand(n["b2"], n["general"], n["screen"]) == 25
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], 40)


async def test_returns_refund_over_http(client, tenant, admin):
    n = await setup(client, tenant, admin)
    body = {"type": "defective_return", "warehouse_id": n["general"], "lines": [{"goods_id": n["screen"], "qty": 2}]}
    doc = await call(client, "POST", URL, n["b2_h"], body, 201)
    assert doc["to_org_id"] == n["hq"]
    await call(client, "POST", f"{URL}/{doc['id']}/submit", n["b2_h"])
    doc = await call(client, "POST", f"{URL}/{doc['id']}/confirm", n["b2_h"])
    receipt = {"warehouse_id": n["general"], "line_ids": [doc["lines"][0]["id"]]}
    await refused(client, "POST", f"{URL}/{doc['id']}/receive", admin, receipt, 400, "warehouse_unusable")
    await call(client, "POST", f"{URL}/{doc['id']}/receive", admin, receipt | {"warehouse_id": n["bad"]})
    account = await call(client, "GET", f"/api/v1/credit/accounts/{n['b2']}", admin)
    assert account["balance"] == "220.0000", account


async def test_recall_over_http(client, tenant, admin):
    n = await setup(client, tenant, admin)
    doc = await confirmed(client, admin, n, (n["screen"], 3))
    await refused(client, "POST", f"{URL}/{doc['id']}/recall", n["b2_h"], status=404, code="not_found")
    doc = await call(client, "POST", f"{URL}/{doc['id']}/recall", admin)
    assert doc["status"] == "submitted" and await on_hand(n["hq"], n["general"], n["screen"]) == 20
    await refused(client, "POST", f"{URL}/{doc['id']}/recall", admin, status=409, code="invalid_state")


async def test_flows_an_org_may_not_start_are_403(client, tenant, admin):
    n = await setup(client, tenant, admin)
    up = {"type": "write_off", "warehouse_id": n["general"], "lines": []}
    await refused(client, "POST", URL, admin, up, 403, "wrong_direction")
    down = {"type": "distribution", "warehouse_id": n["general"], "to_org_id": n["b3"]}
    await refused(client, "POST", URL, admin, down, 403, "wrong_direction")
    doc = await confirmed(client, admin, n, (n["screen"], 1))
    receipt = {"warehouse_id": n["general"], "line_ids": [doc["lines"][0]["id"]]}
    await refused(client, "POST", f"{URL}/{doc['id']}/receive", admin, receipt, 403, "not_receiver")


async def test_bad_input_is_400_in_chinese_and_changes_nothing(client, tenant, admin):
    n = await setup(client, tenant, admin)
    doc = await confirmed(client, admin, n, (n["screen"], 2))
    before = await state()
    base = {"type": "distribution", "warehouse_id": n["general"], "to_org_id": n["b2"]}
    for body, status in (
        ({}, 400),
        (base | {"type": "礼品"}, 400),
        (base | {"warehouse_id": "一"}, 400),
        (base | {"warehouse_id": 2**40}, 400),
        (base | {"to_org_id": 999_999}, 404),
        (base | {"lines": [{"goods_id": n["screen"], "qty": 10**9}]}, 400),
        (base | {"lines": [{"goods_id": n["screen"], "qty": 21}]}, 409),
        (base | {"lines": "x"}, 400),
        (base | {"tracking_no": "1" * 65}, 400),
    ):
        await refused(client, "POST", URL, admin, body, status)
    receive = f"{URL}/{doc['id']}/receive"
    line = doc["lines"][0]["id"]
    for body, status in (
        ({}, 400),
        ({"warehouse_id": n["general"]}, 400),
        ({"warehouse_id": n["general"], "line_ids": []}, 400),
        ({"warehouse_id": n["general"], "line_ids": ["a"]}, 400),
        ({"warehouse_id": 999_999, "line_ids": [line]}, 400),
        (
            {
                "warehouse_id": n["general"],
                "line_ids": [line],
                "discrepancies": [{"line_id": line, "kind": "short", "qty": 1}],
            },
            400,
        ),
    ):
        await refused(client, "POST", receive, n["b2_h"], body, status)
    for filters in ("status=gone", "type=gift", "side=up", "from_org_id=x"):
        await refused(client, "GET", f"{URL}?{filters}", admin, status=400)
    await refused(client, "GET", "/api/v1/in-transit?type=gift", admin, status=400)
    assert await state() == before


async def test_other_tenants_and_subtrees_get_404(client, tenant, other_tenant, admin):
    n = await setup(client, tenant, admin)
    doc = await confirmed(client, admin, n, (n["screen"], 1))
    from tests.conftest import api_login

    other = await api_login(client, "admin@OTHER")
    for headers in (other, n["b3_h"]):
        await refused(client, "GET", f"{URL}/{doc['id']}", headers, status=404, code="not_found")
        body = {"warehouse_id": n["general"], "line_ids": [doc["lines"][0]["id"]]}
        await refused(client, "POST", f"{URL}/{doc['id']}/receive", headers, body, 404, "not_found")
        await refused(client, "POST", f"{URL}/{doc['id']}/recall", headers, status=404, code="not_found")
        assert (await call(client, "GET", URL, headers))["total"] == 0
        assert (await call(client, "GET", "/api/v1/in-transit", headers))["total"] == 0
