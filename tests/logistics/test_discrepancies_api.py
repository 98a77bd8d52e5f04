"""The discrepancy API: a receipt with `discrepancies` over HTTP, each line's discrepancies on
`GET /api/v1/shipments/{id}`, `/api/v1/shipment-discrepancies` (list, filters, one, resolve),
two resolutions of one discrepancy at once (one applies, on both databases), bad input in
Chinese changing nothing, the shipper's org only, and tenant and subtree isolation (404)."""

from __future__ import annotations

from server.core.tables import AuditLog
from server.inventory.tables import Stock, StockMove
from server.logistics.tables import Shipment, ShipmentDiscrepancy, ShipmentLine
from tests.api_helpers import InFlight, call, concurrently, error_of, refused
from tests.inventory.api_helpers import sheet
from tests.logistics.shipment_helpers import assert_conserved
from tests.logistics.test_shipments_api import confirmed, setup

URL = "/api/v1/shipment-discrepancies"
TABLES = (Shipment, ShipmentLine, ShipmentDiscrepancy, Stock, StockMove, AuditLog)
FIELDS = {
    "id", "shipment_id", "shipment_no", "line_id", "goods_id", "goods_code", "goods_name", "unit", "org_id",
    "org_name", "to_org_id", "to_org_name", "kind", "kind_name", "qty", "reason", "warehouse_id", "status",
    "status_name", "resolution", "resolution_name", "remark", "recorded_by_name", "recorded_at",
    "resolved_by_name", "resolved_at", "photos",
}  # fmt: skip


async def state() -> dict:
    return {t._meta.tablename: await t.select().order_by(t.id) for t in TABLES}


async def short_of(client, admin, n, qty: int = 2) -> tuple[dict, dict]:
    """HQ ships 5 screens to B2, which receives them `qty` short: the shipment and its short."""
    doc = await confirmed(client, admin, n, (n["screen"], 5))
    line = doc["lines"][0]["id"]
    body = {"warehouse_id": n["good"], "line_ids": [line]}
    body["discrepancies"] = [{"line_id": line, "kind": "short", "qty": qty, "reason": "箱内短少"}]
    doc = await call(client, "POST", f"/api/v1/shipments/{doc['id']}/receive", n["b2_h"], body)
    return doc, doc["lines"][0]["discrepancies"][0]


async def test_every_endpoint(client, tenant, admin):
    n = await setup(client, tenant, admin)
    doc, found = await short_of(client, admin, n)
    assert set(found) == FIELDS and (found["kind"], found["status"], found["resolution"]) == ("short", "open", None)
    shown = await call(client, "GET", f"/api/v1/shipments/{doc['id']}", admin)
    line = shown["lines"][0]
    assert (line["received_qty"], line["held_qty"], line["in_transit"]) == (3, 2, 2)
    assert [d["id"] for d in line["discrepancies"]] == [found["id"]]
    assert (await call(client, "GET", "/api/v1/in-transit", admin))["items"][0]["qty"] == 2

    listed = await call(client, "GET", f"{URL}?status=open&kind=short&no={doc['no']}&org_id={n['b2']}", admin)
    assert [d["id"] for d in listed["items"]] == [found["id"]] and listed["total"] == 1
    assert (await call(client, "GET", f"{URL}?status=resolved", admin))["total"] == 0
    assert (await call(client, "GET", URL, n["b2_h"]))["total"] == 1  # the receiver reads it too
    assert (await call(client, "GET", f"{URL}/{found['id']}", n["b2_h"]))["qty"] == 2
    exported = sheet(await client.get(f"{URL}/export?kind=short", headers=admin))
    assert exported[0][:2] == ("物流单号", "发货机构") and exported[1][5:8] == ("短少", 2, "箱内短少")

    await refused(client, "POST", f"{URL}/{found['id']}/resolve", n["b2_h"], {"resolution": "lost"}, 403, "not_shipper")
    done = await call(client, "POST", f"{URL}/{found['id']}/resolve", admin, {"resolution": "lost", "remark": "丢失"})
    assert (done["status"], done["resolution"], done["resolution_name"]) == ("resolved", "lost", "确认丢失")
    body = {"resolution": "found_resent"}
    await refused(client, "POST", f"{URL}/{found['id']}/resolve", admin, body, 409, "invalid_state")
    assert (await call(client, "GET", "/api/v1/in-transit", admin))["total"] == 0
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], 40)


async def test_two_resolutions_of_one_discrepancy_apply_once(client, tenant, admin, monkeypatch):
    n = await setup(client, tenant, admin)
    _, found = await short_of(client, admin, n)
    from server.logistics.services import shipments

    flight = InFlight(monkeypatch, shipments, "settle")
    url = f"{URL}/{found['id']}/resolve"
    answers = await concurrently(
        client, [("POST", url, admin, {"resolution": "lost"}), ("POST", url, admin, {"resolution": "found_resent"})]
    )
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    assert error_of(next(r for r in answers if r.status_code == 409), 409)["code"] == "invalid_state"
    assert flight.calls == 1
    winner = next(r for r in answers if r.status_code == 200).json()["resolution"]
    lines = await ShipmentLine.select(ShipmentLine.held_qty, ShipmentLine.lost_qty)
    assert lines == [{"held_qty": 0, "lost_qty": 2 if winner == "lost" else 0}]
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], 40)


async def test_two_receipts_with_a_short_post_once(client, tenant, admin, monkeypatch):
    n = await setup(client, tenant, admin)
    doc = await confirmed(client, admin, n, (n["screen"], 5))
    line = doc["lines"][0]["id"]
    from server.inventory.services import stock

    flight = InFlight(monkeypatch, stock, "post_moves")
    body = {"warehouse_id": n["good"], "line_ids": [line]}
    body["discrepancies"] = [{"line_id": line, "kind": "short", "qty": 1, "reason": "少一件"}]
    url = f"/api/v1/shipments/{doc['id']}/receive"
    answers = await concurrently(client, [("POST", url, n["b2_h"], body)] * 2)
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    assert flight.calls == 1 and await ShipmentDiscrepancy.count() == 1
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], 40)


async def test_bad_input_is_400_in_chinese_and_changes_nothing(client, tenant, admin):
    n = await setup(client, tenant, admin)
    doc, found = await short_of(client, admin, n)
    before = await state()
    url = f"{URL}/{found['id']}/resolve"
    for body in (
        {},
        {"resolution": "gone"},
        {"resolution": "acknowledged"},
        {"resolution": "lost", "remark": "长" * 201},
    ):
        await refused(client, "POST", url, admin, body, 400)
    for filters in ("status=x", "kind=x", "org_id=x", "side=up", "no=" + "1" * 25):
        await refused(client, "GET", f"{URL}?{filters}", admin, status=400)
    receive = f"/api/v1/shipments/{doc['id']}/receive"
    line = doc["lines"][0]["id"]
    for found_ in ({"line_id": line, "kind": "short", "qty": "x", "reason": "少"}, {"line_id": line, "kind": 1}):
        body = {"warehouse_id": n["good"], "line_ids": [line], "discrepancies": [found_]}
        await refused(client, "POST", receive, n["b2_h"], body, 400)
    assert await state() == before


async def test_other_tenants_and_subtrees_get_404(client, tenant, other_tenant, admin):
    n = await setup(client, tenant, admin)
    _, found = await short_of(client, admin, n)
    from tests.conftest import api_login

    other = await api_login(client, "admin@OTHER")
    for headers in (other, n["b3_h"]):
        await refused(client, "GET", f"{URL}/{found['id']}", headers, status=404, code="not_found")
        body = {"resolution": "lost"}
        await refused(client, "POST", f"{URL}/{found['id']}/resolve", headers, body, 404, "not_found")
        assert (await call(client, "GET", URL, headers))["total"] == 0
    assert (await ShipmentDiscrepancy.select(ShipmentDiscrepancy.status).first())["status"] == "open"
