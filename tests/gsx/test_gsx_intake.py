"""【查询保修】 at intake (issue 19, follow-up): by serial before the order exists, nothing stored
until the order is saved, then the checked coverage is the order's; invalid serials refused
before any call, GSX down says so and intake still works, tokens stay in their tenant."""

from __future__ import annotations

from server.core import secrets
from server.gsx.tables import GsxCall, GsxOrder
from server.workorders.services import orders
from tests.conftest import api_login, csrf, page_login
from tests.gsx.helpers import IN_WARRANTY, OUT_OF_WARRANTY, configure, link
from tests.workorders.helpers import intake_body

URL = "/api/v1/gsx/coverage"


async def test_check_before_saving_stores_nothing_then_attaches(client, admin, tenant, world, fake_gsx):
    assert (await client.post(URL, json={"serial_no": IN_WARRANTY}, headers=admin)).status_code == 404  # hidden
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    checked = await client.post(URL, json={"serial_no": f" {IN_WARRANTY} "}, headers=admin)
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert body["serial_no"] == IN_WARRANTY and body["coverage"]["product_description"].startswith("MacBook Pro")
    assert body["coverage"]["coverage_end_date"] == "2027-03-01" and body["token"]
    assert "TOK-" not in checked.text and IN_WARRANTY not in body["token"]  # sealed, not readable
    assert await GsxOrder.count() == 0  # nothing stored before the order
    logged = await GsxCall.select().order_by(GsxCall.id, ascending=False).first()
    assert logged["endpoint"] == "repair/product/details" and logged["work_order_id"] is None  # logged all the same

    o = await orders.intake(tenant, intake_body(world, serial_no=IN_WARRANTY) | {"gsx_coverage": body["token"]})
    shown = (await client.get(f"/api/v1/work-orders/{o['id']}/gsx", headers=admin)).json()
    assert shown["coverage"] == body["coverage"] and shown["coverage_by_name"] and shown["coverage_at"]

    # a token for another serial, a tampered one: the order saves, nothing is attached
    for token in (body["token"], body["token"][:-4] + "AAAA", "not-a-token"):
        other = await orders.intake(
            tenant, intake_body(world, serial_no=OUT_OF_WARRANTY, phone="13800005678") | {"gsx_coverage": token}
        )
        assert (
            other["id"]
            and (await client.get(f"/api/v1/work-orders/{other['id']}/gsx", headers=admin)).json()["coverage"] is None
        )


async def test_invalid_serial_refused_before_any_call(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    before, logged = len(fake_gsx.control("/fake/state")["calls"]), await GsxCall.count()
    for serial in ("ABC-123", "", "X" * 19, "序列号"):
        refused = await client.post(URL, json={"serial_no": serial}, headers=admin)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_serial"
        assert "序列号格式不正确" in refused.json()["detail"]
    assert await GsxCall.count() == logged and len(fake_gsx.control("/fake/state")["calls"]) == before


async def test_gsx_down_is_said_and_intake_still_works(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    fake_gsx.control("/fake/mode", {"mode": "down"})
    down = await client.post(URL, json={"serial_no": IN_WARRANTY}, headers=admin)
    assert down.status_code == 503 and down.json()["code"] == "gsx_unavailable"
    await page_login(client, "admin@ACME")
    page = await client.post("/workorders/intake/gsx", data={"serial_no": IN_WARRANTY}, headers=csrf(client))
    assert page.status_code == 200 and 'id="gsx-intake-error"' in page.text and "不影响受理" in page.text
    assert 'name="gsx_coverage"' not in page.text
    created = await client.post(
        "/api/v1/work-orders", json=intake_body(world, serial_no=IN_WARRANTY, phone="13800009999"), headers=admin
    )
    assert created.status_code == 201, created.text


async def test_intake_page_button_only_where_configured(client, admin, tenant, world, fake_gsx):
    await page_login(client, "admin@ACME")
    page = csrf(client)
    assert (await client.get("/workorders/intake/gsx", headers=page)).text == ""
    hidden = await client.post("/workorders/intake/gsx", data={"serial_no": IN_WARRANTY}, headers=page)
    assert hidden.status_code == 404
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    assert 'id="gsx-intake-check"' in (await client.get("/workorders/intake/gsx", headers=page)).text
    shown = await client.post("/workorders/intake/gsx", data={"serial_no": IN_WARRANTY}, headers=page)
    assert 'id="gsx-intake-coverage"' in shown.text and "MacBook Pro" in shown.text
    assert 'name="gsx_coverage"' in shown.text and await GsxOrder.count() == 0
    bad = await client.post("/workorders/intake/gsx", data={"serial_no": "ABC-123"}, headers=page)
    assert "序列号格式不正确" in bad.text


async def test_a_token_never_crosses_tenants(client, admin, tenant, world, other_tenant, fake_gsx):
    from tests.workorders.helpers import wo_world

    await configure(client, admin, fake_gsx)
    await link(client, admin)
    token = (await client.post(URL, json={"serial_no": IN_WARRANTY}, headers=admin)).json()["token"]
    other = await api_login(client, "admin@OTHER")
    assert (await client.post(URL, json={"serial_no": IN_WARRANTY}, headers=other)).status_code == 404
    o = await orders.intake(
        other_tenant, intake_body(await wo_world(other_tenant), serial_no=IN_WARRANTY) | {"gsx_coverage": token}
    )
    assert o["id"] and await GsxOrder.count() == 0
    assert secrets.decrypt(token)  # a real token: refused for its tenant, not for its form
