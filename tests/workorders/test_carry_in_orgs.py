"""Work orders name their intake org and repair org (issue 20, step 2): both the intake org at
intake, in the API and on the order page; the list filters by each, one org exactly."""

from __future__ import annotations

from server.workorders.services import orders
from server.workorders.tables import WorkOrder
from tests.conftest import page_login
from tests.workorders.helpers import URL, intake_body, wo_world


async def test_an_order_is_taken_in_and_repaired_where_it_is_accepted(client, tenant, admin):
    w = await wo_world(tenant, stock=0)
    order = await orders.intake(tenant, intake_body(w))
    assert (order["intake_org_id"], order["repair_org_id"]) == (tenant.org_id, tenant.org_id)
    read = (await client.get(f"{URL}/{order['id']}", headers=admin)).json()
    assert (read["intake_org_id"], read["repair_org_id"]) == (tenant.org_id, tenant.org_id)
    assert read["intake_org_name"] == read["repair_org_name"] != ""
    await page_login(client, "admin@ACME")
    html = (await client.get(f"/workorders/{order['id']}")).text
    assert f'id="wo-intake-org">{read["intake_org_name"]}<' in html
    assert f'id="wo-repair-org">{read["repair_org_name"]}<' in html


async def test_lists_filter_by_intake_and_repair_org(client, tenant, admin):
    w = await wo_world(tenant, stock=0)
    here = await orders.intake(tenant, intake_body(w))
    there = await orders.intake(tenant, intake_body(w, serial_no="SN002"))
    # as a carry-in point's order repaired at a centre will be (the send action comes next)
    await WorkOrder.update({WorkOrder.repair_org_id: 424242}).where(WorkOrder.id == there["id"])

    async def ids(**params) -> list[int]:
        response = await client.get(URL, params=params, headers=admin)
        assert response.status_code == 200, response.text
        return sorted(o["id"] for o in response.json()["items"])

    assert await ids(intake_org_id=tenant.org_id) == [here["id"], there["id"]]
    assert await ids(repair_org_id=tenant.org_id) == [here["id"]]
    assert await ids(repair_org_id=424242) == [there["id"]]
    assert await ids(intake_org_id=424242) == []
    for bad in ("x", "-1", "0"):
        for key in ("intake_org_id", "repair_org_id"):
            response = await client.get(URL, params={key: bad}, headers=admin)
            assert response.status_code == 400, response.text
            assert response.json()["detail"]
    await page_login(client, "admin@ACME")
    html = (await client.get("/workorders", params={"repair_org_id": tenant.org_id})).text
    assert f'name="repair_org_id" value="{tenant.org_id}"' in html


async def test_the_migration_backfills_existing_orders(tenant):
    """Orders from before the columns existed (0 in both) were taken in and repaired at their org."""
    from importlib import import_module

    migration = import_module("server.workorders.piccolo_migrations.workorders_2026_12_07t05_55_00_000000")
    w = await wo_world(tenant, stock=0)
    order = await orders.intake(tenant, intake_body(w))
    await WorkOrder.update({WorkOrder.intake_org_id: 0, WorkOrder.repair_org_id: 0}).where(WorkOrder.id == order["id"])
    backfill = [s for s in migration.STATEMENTS if s.startswith("UPDATE")]
    assert len(backfill) == 1
    await WorkOrder.raw(backfill[0])  # on the test database (the engine tables use)
    row = (
        await WorkOrder.select(WorkOrder.intake_org_id, WorkOrder.repair_org_id)
        .where(WorkOrder.id == order["id"])
        .first()
    )
    assert row == {"intake_org_id": tenant.org_id, "repair_org_id": tenant.org_id}
