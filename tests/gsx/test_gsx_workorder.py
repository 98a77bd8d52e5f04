"""GSX status → the work order (issue 19, follow-up): the tenant's `status_map` allows only what
the work-order service does without a person (`repairing` moves an accepted order, `repaired`
only tells the technician), GSX events in the order's one timeline, and refused mappings."""

from __future__ import annotations

from datetime import timedelta

import realtime
from server.core.clock import now
from server.core.tables import AuditLog
from server.gsx import services
from server.gsx.tables import GsxOrder
from server.workorders.tables import WorkOrderStatusLog
from tests.conftest import api_login
from tests.gsx.helpers import configure, link, order

WO = "/api/v1/work-orders"
REPAIR = {"repair_type": "CIN", "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}]}


async def test_status_map_allows_only_unattended_transitions(client, admin, tenant, world, fake_gsx):
    s = await configure(client, admin, fake_gsx)
    assert s["status_map"] == {"INRP": "repairing", "RFPU": "repaired"}  # the default
    for status_map, words in [
        ({"RFPU": "closed"}, ["RFPU", "已结单", "人工"]),
        ({"CLSD": "cancelled"}, ["CLSD", "已取消"]),
        ({"INRP": "accepted"}, ["受理"]),
        ({"INRP": "fly"}, ["不是可用的工单动作"]),
        ({"rfpu": "repaired"}, ["格式不正确"]),
    ]:
        refused = await client.put(
            "/api/v1/gsx/settings", json=fake_gsx.settings_body(status_map=status_map), headers=admin
        )
        assert refused.status_code == 400, (status_map, refused.text)
        assert refused.json()["code"] == "invalid_field"
        assert all(w in refused.json()["detail"] for w in words), refused.json()["detail"]
    kept = await configure(client, admin, fake_gsx, status_map={"AWTP": "repairing", "RFPU": ""})
    assert kept["status_map"] == {"AWTP": "repairing"}  # 不处理 is no entry


async def test_mapped_status_starts_the_repair_and_fills_the_timeline(
    client, admin, tenant, world, fake_gsx, monkeypatch
):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    assert o["status"] == "accepted"
    g = (await client.post(f"{WO}/{o['id']}/gsx/repair", json=REPAIR, headers=admin)).json()
    timeline = (await client.get(f"{WO}/{o['id']}/history", headers=admin)).json()
    assert [(t["kind"], t["to_status"]) for t in timeline] == [("status", "accepted"), ("gsx", "")]
    assert timeline[1]["to_label"] == f"GSX：创建维修 {g['repair_id']}" and timeline[1]["user_name"]
    assert timeline[1]["minutes"] is None and timeline[0]["minutes"] is not None

    # GSX says the repair is in progress: the order moves (【直接维修】 of the work-order service)
    fake_gsx.control("/fake/advance", {"repairId": g["repair_id"], "status": "INRP"})
    refreshed = (await client.post(f"{WO}/{o['id']}/gsx/refresh", headers=admin)).json()
    assert "工单已转为维修中" in refreshed["history"][-1]["description"] and refreshed["status_hint"] == ""
    moved = (await client.get(f"{WO}/{o['id']}", headers=admin)).json()
    assert moved["status"] == "repairing" and moved["final_service_type"] == o["service_type"]
    log = (
        await WorkOrderStatusLog.select()
        .where(WorkOrderStatusLog.work_order == o["id"])
        .order_by(WorkOrderStatusLog.id)
    )
    creator = (await GsxOrder.select().first())["repair_created_by"]  # admin, who acts for GSX here
    assert [r["to_status"] for r in log] == ["accepted", "repairing"] and log[-1]["user_id"] == creator
    assert await AuditLog.count().where((AuditLog.action == "start_repair") & (AuditLog.entity_id == o["id"])) == 1
    timeline = (await client.get(f"{WO}/{o['id']}/history", headers=admin)).json()
    assert [(t["kind"], t["to_status"]) for t in timeline] == [
        ("status", "accepted"),
        ("gsx", ""),
        ("status", "repairing"),
        ("gsx", ""),
    ]
    assert timeline[3]["to_label"].startswith("GSX：维修中") and timeline[3]["user_name"] == "Apple GSX"
    assert [t["at"] for t in timeline] == sorted(t["at"] for t in timeline)

    # ready for pickup (by the poller, as the repair's creator): a hint and a live notice, no completion
    sent: list[tuple] = []
    monkeypatch.setattr(realtime, "emit_users", lambda *a, **k: sent.append((a, k)))
    fake_gsx.control("/fake/advance", {"repairId": g["repair_id"], "status": "RFPU"})
    await GsxOrder.update({"next_poll_at": now() - timedelta(seconds=1)}).where(GsxOrder.id > 0)
    assert await services.poll_due() == 1
    assert (await client.get(f"{WO}/{o['id']}", headers=admin)).json()["status"] == "repairing"
    shown = (await client.get(f"{WO}/{o['id']}/gsx", headers=admin)).json()
    assert "【维修完毕】" in shown["status_hint"] and "不会自动完成" in shown["status_hint"]
    (tenant_id, users, topic, kind, ref), extra = sent[-1]
    assert (topic, kind, ref) == ("my_repairs", "gsx", o["id"]) and creator in users
    assert o["no"] in extra["note"] and "维修完毕" in extra["note"]
    page = await client.get(f"/workorders/{o['id']}/gsx", headers=admin)
    assert 'id="gsx-status-hint"' in page.text
    detail = await client.get(f"/workorders/{o['id']}", headers=admin)
    assert "GSX：维修完成，可取机" in detail.text and "wo-timeline-gsx" in detail.text


async def test_mapped_transition_that_cannot_run_is_said_not_forced(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    g = (await client.post(f"{WO}/{o['id']}/gsx/repair", json=REPAIR, headers=admin)).json()
    cancelled = await client.post(f"{WO}/{o['id']}/cancel", json={"reason": "客户取回"}, headers=admin)
    assert cancelled.status_code == 200, cancelled.text
    fake_gsx.control("/fake/advance", {"repairId": g["repair_id"], "status": "INRP"})
    refreshed = (await client.post(f"{WO}/{o['id']}/gsx/refresh", headers=admin)).json()
    assert refreshed["repair_status"] == "INRP" and "转为维修中" not in refreshed["history"][-1]["description"]
    assert (await client.get(f"{WO}/{o['id']}", headers=admin)).json()["status"] == "cancelled"


async def test_a_refused_start_is_noted_in_the_gsx_history(client, admin, tenant, world, fake_gsx, monkeypatch):
    from server.core.errors import Conflict
    from server.workorders.services import orders

    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    g = (await client.post(f"{WO}/{o['id']}/gsx/repair", json=REPAIR, headers=admin)).json()

    async def refuse(*args, **kwargs):
        raise Conflict("工单已被他人修改", code="invalid_state")

    monkeypatch.setattr(orders, "start_repair", refuse)
    fake_gsx.control("/fake/advance", {"repairId": g["repair_id"], "status": "INRP"})
    refreshed = await client.post(f"{WO}/{o['id']}/gsx/refresh", headers=admin)
    assert refreshed.status_code == 200
    assert "未能自动执行：工单已被他人修改" in refreshed.json()["history"][-1]["description"]


async def test_timeline_of_another_tenant_stays_hidden(client, admin, tenant, world, other_tenant, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    await client.post(f"{WO}/{o['id']}/gsx/repair", json=REPAIR, headers=admin)
    other = await api_login(client, "admin@OTHER")
    assert (await client.get(f"{WO}/{o['id']}/history", headers=other)).status_code == 404
    assert (await client.post(f"{WO}/{o['id']}/gsx/refresh", headers=other)).status_code == 404
    assert await services._timeline(other_tenant, o["id"]) == []
