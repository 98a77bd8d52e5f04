"""The per-(tenant, org, status) counts 【看板】 reads (wo_status_count, kept by the database's
triggers on wo_order) always equal COUNT(*) of the orders: after random transitions through the
services, after direct updates of status and org and deletes, and after transitions running at
once over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

import random

from server.core.errors import BusinessError
from server.workorders.services import orders
from server.workorders.tables import WorkOrder, WorkOrderStatusCount
from tests.api_helpers import InFlight, concurrently
from tests.system.helpers import service_org
from tests.workorders.helpers import URL, intake_body, repairing, wo_world


async def counted() -> dict:
    rows = await WorkOrderStatusCount.select().where(WorkOrderStatusCount.n != 0)
    return {(r["tenant_id"], r["org_id"], r["status"]): r["n"] for r in rows}


async def actual() -> dict:
    rows = await WorkOrder.select(WorkOrder.tenant_id, WorkOrder.org_id, WorkOrder.status)
    out: dict = {}
    for r in rows:
        key = (r["tenant_id"], r["org_id"], r["status"])
        out[key] = out.get(key, 0) + 1
    return out


async def test_random_transitions_keep_the_counts(tenant, other_tenant):
    rng = random.Random(18)
    w = await wo_world(tenant, stock=0)
    ow = await wo_world(other_tenant, stock=0)
    branch = await service_org(tenant, "B2", tenant.org_id, level=2)
    made = []
    for i in range(24):
        ctx, world = (tenant, w) if i % 3 else (other_tenant, ow)
        step = rng.choice(["intake", "repairing", "complete", "close", "cancel", "move", "delete"])
        if step in ("intake", "repairing") or not made:
            order = (
                await orders.intake(ctx, intake_body(world, phone=f"1380000{i:04d}"))
                if step == "intake"
                else await repairing(ctx, world, phone=f"1380000{i:04d}")
            )
            made.append((ctx, order["id"]))
        else:
            octx, oid = rng.choice(made)
            try:
                if step == "complete":
                    await orders.complete(octx, oid, {"repair_result": "repaired"})
                elif step == "close":
                    await orders.close(octx, oid, {"closing_method": "onsite", "amount_received": "0"})
                elif step == "cancel":
                    await orders.cancel(octx, oid, {"reason": "不修了"})
                elif step == "move":  # status and org changed by hand (a data repair, a bulk load)
                    status = rng.choice(["accepted", "repairing", "repaired", "closed", "cancelled"])
                    org = branch["id"] if octx is tenant and rng.random() < 0.5 else octx.org_id
                    await WorkOrder.update({WorkOrder.status: status, WorkOrder.org_id: org}).where(WorkOrder.id == oid)
                else:
                    await WorkOrder.delete().where(WorkOrder.id == oid)
                    made.remove((octx, oid))
            except BusinessError:
                pass  # a transition its state refuses changes nothing
        assert await counted() == await actual(), step
    assert len({k[0] for k in await counted()}) == 2  # both tenants counted, each its own


async def test_transitions_at_once_keep_the_counts(client, tenant, admin, monkeypatch):
    w = await wo_world(tenant, stock=0)
    many = [await repairing(tenant, w, phone=f"1390000{i:04d}") for i in range(4)]
    running = InFlight(monkeypatch, orders, "complete")
    body = {"repair_result": "repaired"}
    # each order completed twice at once, all at the same time: four win, four are refused
    responses = await concurrently(client, [("POST", f"{URL}/{o['id']}/complete", admin, body) for o in many * 2])
    assert running.most > 1
    assert sorted(r.status_code for r in responses) == [200] * 4 + [409] * 4
    assert await counted() == await actual() == {(tenant.tenant_id, tenant.org_id, "repaired"): 4}
    cancelling = InFlight(monkeypatch, orders, "cancel")
    fresh = [await orders.intake(tenant, intake_body(w, phone=f"1370000{i:04d}")) for i in range(4)]
    responses = await concurrently(
        client, [("POST", f"{URL}/{o['id']}/cancel", admin, {"reason": "不修了"}) for o in fresh * 2]
    )
    assert cancelling.most > 1
    assert sorted(r.status_code for r in responses) == [200] * 4 + [409] * 4
    assert await counted() == await actual()
    assert (await counted())[(tenant.tenant_id, tenant.org_id, "cancelled")] == 4
