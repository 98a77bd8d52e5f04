from tests.api_helpers import call, refused
from tests.queue.helpers import Q, queue_world, take


async def test_golden_path(client, admin):
    w = await queue_world(client, admin)
    t1 = await take(client, w["kiosk_auth"], w["a"]["id"], "13800001111")
    assert t1["no"] == "A001" and t1["ahead"] == 0 and t1["status"] == "waiting"
    t2 = await take(client, w["kiosk_auth"], w["a"]["id"])
    assert t2["no"] == "A002" and t2["ahead"] == 1
    b1 = await take(client, admin, w["b"]["id"])
    assert b1["no"] == "B001"
    called = await call(client, "POST", f"{Q}/counters/{w['c2']['id']}/call-next", admin)
    assert called["id"] == t1["id"] and called["status"] == "called" and called["counter_number"] == 2
    await call(client, "POST", f"{Q}/tickets/{t1['id']}/recall", admin)
    await refused(client, "POST", f"{Q}/tickets/{t1['id']}/finish", admin, status=409, code="invalid_state")
    await call(client, "POST", f"{Q}/tickets/{t1['id']}/start", admin)
    done = await call(client, "POST", f"{Q}/tickets/{t1['id']}/finish", admin)
    assert done["status"] == "done"
    await refused(client, "GET", f"{Q}/tickets", w["kiosk_auth"], status=403, code="device_forbidden")
    await refused(client, "POST", f"{Q}/tickets", w["tv_auth"], {"service_id": w["a"]["id"]}, status=403)
    listed = await call(client, "GET", f"{Q}/tickets?status=waiting", admin)
    assert [t["no"] for t in listed["items"]] == ["A002", "B001"]
    stats = await call(client, "GET", f"{Q}/stats", admin)
    assert stats["totals"]["tickets"] == 3 and stats["totals"]["served"] == 1
    await call(client, "POST", f"{Q}/devices/{w['kiosk']['id']}/revoke", admin)
    await refused(client, "POST", f"{Q}/tickets", w["kiosk_auth"], {"service_id": w["a"]["id"]}, status=401)
    r = await client.get(f"{Q}/stats/export", headers=admin)
    assert r.status_code == 200
    svc = await call(client, "GET", f"{Q}/services", w["tv_auth"])
    assert svc["total"] == 2
