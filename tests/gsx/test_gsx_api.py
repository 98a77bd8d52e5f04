"""The GSX integration against the fake GSX (mutual TLS): settings without secrets, account link,
coverage, repair with outcomes, status, the call log, isolation, failures."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from server.core import secrets
from server.core.clock import now
from server.core.tables import AuditLog
from server.gsx import services
from server.gsx.tables import GsxCall, GsxLink, GsxOrder, GsxSettings
from tests.conftest import api_login
from tests.gsx.helpers import IN_WARRANTY, OUT_OF_WARRANTY, STOP, activation, configure, link, order

WO = "/api/v1/work-orders"


async def _calls(client, admin) -> list[dict]:
    response = await client.get("/api/v1/gsx/calls", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_hidden_and_404_without_configuration(client, admin, tenant, world):
    o = await order(tenant, world)
    settings = (await client.get("/api/v1/gsx/settings", headers=admin)).json()
    assert settings["configured"] is False and settings["certificate_set"] is False
    for method, url, body in [
        ("GET", "/api/v1/gsx/link", None),
        ("POST", "/api/v1/gsx/link", {"apple_id": "a@b.cn", "activation_token": "ACT-1"}),
        ("DELETE", "/api/v1/gsx/link", None),
        ("GET", "/api/v1/gsx/calls", None),
        ("GET", "/api/v1/gsx/news", None),
        ("GET", f"{WO}/{o['id']}/gsx", None),
        ("POST", f"{WO}/{o['id']}/gsx/coverage", None),
        ("POST", f"{WO}/{o['id']}/gsx/repair", {"repair_type": "CIN", "issues": []}),
        ("POST", f"{WO}/{o['id']}/gsx/acknowledge", None),
        ("POST", f"{WO}/{o['id']}/gsx/refresh", None),
        ("POST", f"{WO}/{o['id']}/gsx/check", {"repair_type": "CIN", "issues": []}),
        ("POST", f"{WO}/{o['id']}/gsx/note", {"note": "x"}),
        ("GET", "/api/v1/gsx/repairs", None),
        ("POST", "/api/v1/gsx/repairs/sync", None),
    ]:
        response = await client.request(method, url, json=body, headers=admin)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["code"] == "not_found"


async def test_settings_keep_secrets_out_of_answers_audit_and_logs(client, admin, tenant, world, fake_gsx, caplog):
    caplog.set_level(logging.DEBUG)
    saved = await configure(client, admin, fake_gsx)
    assert saved["configured"] and saved["certificate_set"] and saved["key_set"]
    assert "Weifu Partner" in saved["certificate_subject"] and saved["certificate_expires_at"]
    read = await client.get("/api/v1/gsx/settings", headers=admin)
    key_body = "".join(fake_gsx.pem("client.key").splitlines()[1:-1])[:40]
    cert_body = "".join(fake_gsx.pem("client.crt").splitlines()[1:-1])[:40]
    for text in (json.dumps(saved), read.text):
        assert "BEGIN" not in text and key_body not in text and cert_body not in text
    row = await GsxSettings.select().first()
    assert (
        key_body not in row["key_enc"] and secrets.decrypt(row["key_enc"]).strip() == fake_gsx.pem("client.key").strip()
    )
    # saving again without PEMs keeps the pair
    again = await client.put(
        "/api/v1/gsx/settings", json=fake_gsx.settings_body(certificate_pem="", key_pem=""), headers=admin
    )
    assert again.status_code == 200 and again.json()["certificate_set"]

    await link(client, admin)
    o = await order(tenant, world)
    assert (await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)).status_code == 200
    token = secrets.decrypt((await GsxLink.select().first())["token_enc"])
    assert token.startswith("TOK-")
    audit_rows = json.dumps(await AuditLog.select(), default=str, ensure_ascii=False)
    calls = json.dumps(await GsxCall.select(), default=str)
    logged = caplog.text
    for text in (audit_rows, calls, logged, json.dumps(await _calls(client, admin))):
        assert key_body not in text and cert_body not in text and token not in text and "PRIVATE KEY" not in text
    assert "修改 GSX 对接设置" in audit_rows and "关联 GSX 账号" in audit_rows


async def test_bad_certificates_refused_in_chinese(client, admin, tenant, world, fake_gsx):
    bad = await client.put(
        "/api/v1/gsx/settings", json=fake_gsx.settings_body(certificate_pem="not a pem"), headers=admin
    )
    assert bad.status_code == 400 and "证书无法读取" in bad.json()["detail"]
    mismatched = await client.put(
        "/api/v1/gsx/settings", json=fake_gsx.settings_body(key_pem=fake_gsx.pem("rogue.key")), headers=admin
    )
    assert mismatched.status_code == 400 and "不匹配" in mismatched.json()["detail"]
    half = await client.put("/api/v1/gsx/settings", json=fake_gsx.settings_body(key_pem=""), headers=admin)
    assert half.status_code == 400 and "一起上传" in half.json()["detail"]
    incomplete = await client.put(
        "/api/v1/gsx/settings", json=fake_gsx.settings_body(certificate_pem="", key_pem=""), headers=admin
    )
    assert incomplete.status_code == 400 and "证书" in incomplete.json()["detail"]


async def test_wrong_certificate_fails_with_a_clear_message(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    ok = await client.post("/api/v1/gsx/settings/test", headers=admin)
    assert ok.json()["ok"] is True and "连接成功" in ok.json()["message"]
    await configure(
        client, admin, fake_gsx, certificate_pem=fake_gsx.pem("rogue.crt"), key_pem=fake_gsx.pem("rogue.key")
    )
    test = (await client.post("/api/v1/gsx/settings/test", headers=admin)).json()
    assert test["ok"] is False and test["code"] == "gsx_certificate" and "证书" in test["message"]
    refused = await client.post(
        "/api/v1/gsx/link", json={"apple_id": "a@b.cn", "activation_token": activation()}, headers=admin
    )
    assert refused.status_code == 400 and refused.json()["code"] == "gsx_certificate"
    assert "证书" in refused.json()["detail"]


async def test_link_coverage_repair_hold_acknowledge_and_status(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    linked = await link(client, admin)
    assert linked["linked"] and linked["apple_id"] == "tech@example.com"
    assert (await client.get("/api/v1/gsx/link", headers=admin)).json()["status"] == "linked"
    o = await order(tenant, world)
    cov = (await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)).json()
    c = cov["coverage"]
    assert c["product_description"].startswith("MacBook Pro") and c["warranty_status"] == "LP"
    assert c["coverage_end_date"] == "2027-03-01" and c["purchase_country"] == "中国" and c["limited"] is False
    # stored with the order
    assert (await client.get(f"{WO}/{o['id']}/gsx", headers=admin)).json()["coverage"] == c

    bad = await client.post(f"{WO}/{o['id']}/gsx/repair", json={"repair_type": "XX", "issues": []}, headers=admin)
    assert bad.status_code == 400 and bad.json()["detail"] == "请选择 GSX 维修类型"
    body = {
        "repair_type": "CIN",
        "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}],
        "parts": ["661-12345"],
    }
    created = await client.post(f"{WO}/{o['id']}/gsx/repair", json=body, headers=admin)
    assert created.status_code == 201, created.text
    g = created.json()
    assert g["repair_id"].startswith("G") and g["repair_status"] == "CRTD"
    assert [x["action"] for x in g["outcome"]] == ["HOLD", "MESSAGE"]
    assert "暂挂" in g["outcome"][0]["explanation"] and g["outcome"][0]["messages"] == [
        "需要提供购买凭证照片后才能继续"
    ]
    assert g["needs_ack"] is True
    twice = await client.post(f"{WO}/{o['id']}/gsx/repair", json=body, headers=admin)
    assert twice.status_code == 409 and twice.json()["code"] == "gsx_repair_exists"
    acked = (await client.post(f"{WO}/{o['id']}/gsx/acknowledge", headers=admin)).json()
    assert acked["needs_ack"] is False and acked["acknowledged_by_name"]
    assert (await client.post(f"{WO}/{o['id']}/gsx/acknowledge", headers=admin)).status_code == 409

    fake_gsx.control("/fake/advance", {"repairId": g["repair_id"], "status": "RFPU"})
    refreshed = (await client.post(f"{WO}/{o['id']}/gsx/refresh", headers=admin)).json()
    assert refreshed["repair_status"] == "RFPU" and refreshed["repair_status_description"] == "维修完成，可取机"
    assert [h["status"] for h in refreshed["history"]] == ["CRTD", "RFPU"]

    calls = await _calls(client, admin)
    endpoints = [c["endpoint"] for c in reversed(calls)]
    assert endpoints == [
        "authenticate/token",
        "repair/product/details",
        "repair/eligibility",  # checked before creating, with the parts
        "parts/summary",
        "repair/create",
        "repair/update",  # the acknowledgement, sent to GSX
        "repair/details",
    ]
    assert fake_gsx.control("/fake/state")["repairs"][g["repair_id"]]["acknowledged"] is True
    assert all(c["outcome"] == "ok" and len(c["trace_id"]) == 32 and c["user_name"] for c in calls)
    assert calls[0]["work_order_id"] == o["id"]
    # the fake saw the headers GSX requires (names only)
    seen = fake_gsx.control("/fake/state")["calls"][-1]["headers"]
    for name in (
        "x-apple-soldto",
        "x-apple-shipto",
        "x-apple-auth-token",
        "x-operator-user-id",
        "x-apple-service-version",
        "x-apple-client-locale",
        "x-apple-trace-id",
    ):
        assert name in seen

    news = await client.get("/api/v1/gsx/news", headers=admin)
    assert news.status_code == 200 and news.json()[0]["title"]
    unlinked = await client.delete("/api/v1/gsx/link", headers=admin)
    assert unlinked.status_code == 204
    after = await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)
    assert after.status_code == 409 and "关联 GSX" in after.json()["detail"]


async def test_stop_and_warning_outcomes(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    body = {"repair_type": "CIN", "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}]}
    stop = await order(tenant, world, STOP)
    checked = (await client.post(f"{WO}/{stop['id']}/gsx/check", json=body, headers=admin)).json()
    assert checked["eligible"] is False and checked["outcome"][0]["action"] == "STOP"
    assert checked["outcome"][0]["messages"] == ["此设备已被报失，不能创建维修"]
    refused = await client.post(f"{WO}/{stop['id']}/gsx/repair", json=body, headers=admin)
    assert refused.status_code == 409 and refused.json()["code"] == "gsx_ineligible"
    assert refused.json()["detail"] == "GSX 判定此维修不符合资格，未创建：此设备已被报失，不能创建维修"
    assert (await client.get(f"{WO}/{stop['id']}/gsx", headers=admin)).json()["repair_id"] == ""
    assert "repair/create" not in [c["endpoint"] for c in await _calls(client, admin)]
    warn = await order(tenant, world, OUT_OF_WARRANTY)
    g = (await client.post(f"{WO}/{warn['id']}/gsx/repair", json=body, headers=admin)).json()
    assert g["repair_id"] and g["outcome"][0]["action"] == "WARNING" and g["needs_ack"] is True
    cov = (await client.post(f"{WO}/{warn['id']}/gsx/coverage", headers=admin)).json()["coverage"]
    assert cov["limited"] is True and cov["activation_lock"] == "ON"


async def test_stale_token_refreshed_once_and_401_asks_to_relink(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    # idle past 30 minutes: exchanged once before the call
    await GsxLink.update({"token_used_at": now() - timedelta(minutes=31)}).where(GsxLink.id > 0)
    assert (await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)).status_code == 200
    assert [c["endpoint"] for c in reversed(await _calls(client, admin))][1:] == [
        "authenticate/token",
        "repair/product/details",
    ]
    # GSX ended the session: the call's 401 is answered by one exchange and the call again
    fake_gsx.control("/fake/expire-tokens")
    assert (await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)).status_code == 200
    tail = [(c["endpoint"], c["http_status"]) for c in reversed(await _calls(client, admin))][3:]
    assert tail == [("repair/product/details", 401), ("authenticate/token", 200), ("repair/product/details", 200)]
    # GSX no longer knows the token: the user must link again
    fake_gsx.control("/fake/revoke-tokens")
    fake_gsx.control("/fake/expire-tokens")
    refused = await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)
    assert refused.status_code == 409 and refused.json()["code"] == "gsx_unauthorized"
    assert "重新关联" in refused.json()["detail"]
    assert (await client.get("/api/v1/gsx/link", headers=admin)).json()["status"] == "expired"
    again = await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)
    assert again.status_code == 409 and "重新关联" in again.json()["detail"]
    await link(client, admin)
    assert (await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)).status_code == 200


async def test_invalid_serial_refused_before_any_call(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world, "ABC-123")
    before = len(await GsxCall.select())
    refused = await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_serial"
    assert "序列号格式不正确" in refused.json()["detail"]
    body = {"repair_type": "CIN", "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}]}
    assert (await client.post(f"{WO}/{o['id']}/gsx/repair", json=body, headers=admin)).status_code == 400
    assert len(await GsxCall.select()) == before
    assert all("product" not in c["path"] for c in fake_gsx.control("/fake/state")["calls"])


async def test_gsx_down_does_not_block_intake(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    fake_gsx.control("/fake/mode", {"mode": "down"})
    down = await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)
    assert down.status_code == 503 and down.json()["code"] == "gsx_unavailable"
    assert (await _calls(client, admin))[0]["attempts"] == 3  # retried with backoff
    for _ in range(2):
        await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)
    fast = await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)
    assert fast.status_code == 503 and fast.json()["code"] == "gsx_circuit_open"
    assert "不可用" in fast.json()["detail"]
    assert (await _calls(client, admin))[0]["http_status"] is None  # no request left
    # intake does not touch GSX at all
    from tests.workorders.helpers import intake_body

    created = await client.post(WO, json=intake_body(world, serial_no=IN_WARRANTY, phone="13800009999"), headers=admin)
    assert created.status_code == 201, created.text


async def test_tenant_isolation(client, admin, tenant, world, other_tenant, fake_gsx):
    await configure(client, admin, fake_gsx, sold_to="1111111111")
    await link(client, admin)
    o = await order(tenant, world)
    await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)
    other = await api_login(client, "admin@OTHER")
    assert (await client.get("/api/v1/gsx/settings", headers=other)).json()["configured"] is False
    assert (await client.get("/api/v1/gsx/link", headers=other)).status_code == 404
    await configure(client, other, fake_gsx, sold_to="2222222222")
    assert (await client.get("/api/v1/gsx/settings", headers=other)).json()["sold_to"] == "2222222222"
    assert (await client.get("/api/v1/gsx/settings", headers=admin)).json()["sold_to"] == "1111111111"
    assert (await client.get("/api/v1/gsx/link", headers=other)).json()["linked"] is False
    assert (await client.get("/api/v1/gsx/calls", headers=other)).json()["items"] == []
    for method, url in [("GET", f"{WO}/{o['id']}/gsx"), ("POST", f"{WO}/{o['id']}/gsx/coverage")]:
        assert (await client.request(method, url, headers=other)).status_code == 404
    body = {"repair_type": "CIN", "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}]}
    assert (await client.post(f"{WO}/{o['id']}/gsx/repair", json=body, headers=other)).status_code == 404
    await link(client, other, "other@example.com")
    for url, data in [("check", body), ("repair", body), ("note", {"note": "x"}), ("acknowledge", None)]:
        assert (await client.post(f"{WO}/{o['id']}/gsx/{url}", json=data, headers=other)).status_code == 404
    assert (await client.post(f"{WO}/{o['id']}/gsx/repair", json=body, headers=admin)).status_code == 201
    assert (await client.get("/api/v1/gsx/repairs", headers=other)).json()["items"] == []
    assert (await client.post("/api/v1/gsx/repairs/sync", headers=other)).json()["asked"] == 0
    assert [r["work_order_id"] for r in (await client.get("/api/v1/gsx/repairs", headers=admin)).json()["items"]] == [
        o["id"]
    ]
    await client.delete("/api/v1/gsx/link", headers=other)
    assert (await client.delete("/api/v1/gsx/link", headers=other)).status_code == 404
    assert (await client.get("/api/v1/gsx/link", headers=admin)).json()["linked"] is True


async def test_one_poll_of_a_repair_at_a_time(tenant):
    at = now()
    await GsxOrder.insert(
        GsxOrder(tenant_id=tenant.tenant_id, work_order_id=1, repair_id="G1", updated_at=at, history="[]")
    )
    row = await GsxOrder.select().first()
    results = await asyncio.gather(*[services._claim(row["id"], at) for _ in range(5)])
    assert sorted(results) == [False, False, False, False, True]
    assert await services._claim(row["id"], at + services.POLL_CLAIM + timedelta(seconds=1)) is True


async def test_poller_follows_status_with_backoff(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    body = {"repair_type": "CIN", "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}]}
    g = (await client.post(f"{WO}/{o['id']}/gsx/repair", json=body, headers=admin)).json()
    assert await services.poll_due() == 0  # not due yet
    await GsxOrder.update({"next_poll_at": now() - timedelta(seconds=1)}).where(GsxOrder.id > 0)
    fake_gsx.control("/fake/advance", {"repairId": g["repair_id"], "status": "RFPU"})
    assert await services.poll_due() == 1
    row = await GsxOrder.select().first()
    assert row["repair_status"] == "RFPU" and row["next_poll_at"] > now() and row["poll_claimed_until"] is None
    shown = (await client.get(f"{WO}/{o['id']}/gsx", headers=admin)).json()
    assert "维修完毕" in shown["history"][-1]["description"]  # the tenant's mapping RFPU → repaired
    # GSX down: the next time moves further out, the claim is released
    fake_gsx.control("/fake/mode", {"mode": "down"})
    await GsxOrder.update({"next_poll_at": now() - timedelta(seconds=1)}).where(GsxOrder.id > 0)
    assert await services.poll_due() == 0
    row = await GsxOrder.select().first()
    assert row["poll_failures"] == 1 and row["next_poll_at"] > now() + services.POLL_EVERY
    assert row["poll_claimed_until"] is None


async def test_slow_gsx_times_out(client, admin, tenant, world, fake_gsx, monkeypatch):
    from server.gsx import wire

    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    monkeypatch.setattr(wire, "TIMEOUT", 0.3)  # GSX's 10 s, shortened for the test
    fake_gsx.control("/fake/mode", {"mode": "slow", "delay": 2})
    slow = await client.post(f"{WO}/{o['id']}/gsx/coverage", headers=admin)
    assert slow.status_code == 503 and slow.json()["code"] == "gsx_timeout" and "超时" in slow.json()["detail"]
    last = (await _calls(client, admin))[0]
    assert last["endpoint"] == "repair/product/details" and last["attempts"] == 3 and last["outcome"] == "gsx_timeout"


async def test_check_parts_note_and_validation_before_any_call(client, admin, tenant, world, fake_gsx, caplog):
    caplog.set_level(logging.DEBUG)
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    body = {
        "repair_type": "CIN",
        "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}],
        "parts": ["661-12345", "661-23456", "661-99999"],
    }
    checked = await client.post(f"{WO}/{o['id']}/gsx/check", json=body, headers=admin)
    assert checked.status_code == 200, checked.text
    c = checked.json()
    assert c["eligible"] is True and c["outcome"][0]["messages"] == ["设备符合维修资格"]
    assert [(p["number"], p["known"], p["price"], p["availability"]) for p in c["parts"]] == [
        ("661-12345", True, "2399.0000", "有货"),
        ("661-23456", True, "519.5000", "库存紧张"),
        ("661-99999", False, "", ""),
    ]
    assert c["unknown_parts"] == ["661-99999"] and c["parts"][0]["description"] == "Display Assembly"
    refused = await client.post(f"{WO}/{o['id']}/gsx/repair", json=body, headers=admin)
    assert refused.status_code == 400 and refused.json()["code"] == "gsx_unknown_part"
    assert "661-99999" in refused.json()["detail"]
    assert "repair/create" not in [c["endpoint"] for c in await _calls(client, admin)]
    # refused before any call: a malformed part, an empty note, a note without a repair
    before = len(await GsxCall.select())
    bad = await client.post(f"{WO}/{o['id']}/gsx/check", json=body | {"parts": ["661 12345;"]}, headers=admin)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_field"
    empty = await client.post(f"{WO}/{o['id']}/gsx/note", json={"note": " "}, headers=admin)
    assert empty.status_code == 400 and empty.json()["detail"] == "请填写备注"
    early = await client.post(f"{WO}/{o['id']}/gsx/note", json={"note": "已检测"}, headers=admin)
    assert early.status_code == 409 and early.json()["code"] == "no_gsx_repair"
    assert len(await GsxCall.select()) == before

    g = (await client.post(f"{WO}/{o['id']}/gsx/repair", json=body | {"parts": ["661-12345"]}, headers=admin)).json()
    noted = await client.post(f"{WO}/{o['id']}/gsx/note", json={"note": "客户已补充凭证"}, headers=admin)
    assert noted.status_code == 200 and noted.json()["history"][-1]["description"] == "备注：客户已补充凭证"
    assert fake_gsx.control("/fake/state")["repairs"][g["repair_id"]]["notes"] == ["客户已补充凭证"]
    fake_gsx.control("/fake/mode", {"mode": "down"})
    down = await client.post(f"{WO}/{o['id']}/gsx/note", json={"note": "再补充"}, headers=admin)
    assert (
        down.status_code == 503 and len((await client.get(f"{WO}/{o['id']}/gsx", headers=admin)).json()["history"]) == 2
    )
    token = secrets.decrypt((await GsxLink.select().first())["token_enc"])
    for text in (checked.text, noted.text, down.text, caplog.text, json.dumps(await GsxCall.select(), default=str)):
        assert token not in text and "PRIVATE KEY" not in text


async def test_repairs_list_and_sync_through_repair_summary(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    body = {"repair_type": "CIN", "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}]}
    a, b = await order(tenant, world), await order(tenant, world, phone="13800005678")
    ga = (await client.post(f"{WO}/{a['id']}/gsx/repair", json=body, headers=admin)).json()
    gb = (await client.post(f"{WO}/{b['id']}/gsx/repair", json=body, headers=admin)).json()
    listed = (await client.get("/api/v1/gsx/repairs", headers=admin)).json()
    assert [(r["work_order_no"], r["repair_status"]) for r in listed["items"]] == [(b["no"], "CRTD"), (a["no"], "CRTD")]
    assert listed["items"][0]["work_order_status_label"] == "受理" and listed["items"][0]["repair_type_label"]
    fake_gsx.control("/fake/advance", {"repairId": ga["repair_id"], "status": "INRP"})
    # a repair being polled right now is left alone
    row_b = await GsxOrder.select().where(GsxOrder.repair_id == gb["repair_id"]).first()
    assert await services._claim(row_b["id"], now())
    synced = await client.post("/api/v1/gsx/repairs/sync", headers=admin)
    assert synced.status_code == 200 and synced.json() == {"asked": 1, "changed": 1, "skipped": 1}
    assert [c["endpoint"] for c in await _calls(client, admin)][0] == "repair/summary"
    listed = (await client.get("/api/v1/gsx/repairs", headers=admin)).json()["items"]
    assert [(r["repair_status"], r["work_order_status"]) for r in listed] == [
        ("CRTD", "accepted"),
        ("INRP", "repairing"),
    ]
    row_a = await GsxOrder.select().where(GsxOrder.repair_id == ga["repair_id"]).first()
    assert row_a["poll_claimed_until"] is None and "维修中" in row_a["history"]
    fake_gsx.control("/fake/mode", {"mode": "down"})
    await GsxOrder.update({"poll_claimed_until": None}).where(GsxOrder.id > 0)
    down = await client.post("/api/v1/gsx/repairs/sync", headers=admin)
    assert down.status_code == 503 and all(r["poll_claimed_until"] is None for r in await GsxOrder.select())


async def test_a_repair_whose_poll_breaks_backs_off_and_the_round_goes_on(
    client, admin, tenant, world, fake_gsx, monkeypatch
):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    body = {"repair_type": "CIN", "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}]}
    a, b = await order(tenant, world), await order(tenant, world, phone="13800005678")
    for o in (a, b):
        assert (await client.post(f"{WO}/{o['id']}/gsx/repair", json=body, headers=admin)).status_code == 201
    await GsxOrder.update({"next_poll_at": now() - timedelta(seconds=1)}).where(GsxOrder.id > 0)
    applied = services._apply_status

    async def breaks_on_a(ctx, order_, row, details):
        if order_["id"] == a["id"]:
            raise RuntimeError("a bug")
        return await applied(ctx, order_, row, details)

    monkeypatch.setattr(services, "_apply_status", breaks_on_a)
    assert await services.poll_due() == 1
    rows = {r["work_order_id"]: r for r in await GsxOrder.select()}
    assert rows[a["id"]]["poll_failures"] == 1 and rows[a["id"]]["next_poll_at"] > now() + services.POLL_EVERY
    assert rows[a["id"]]["poll_claimed_until"] is None
    assert rows[b["id"]]["poll_failures"] == 0 and rows[b["id"]]["poll_claimed_until"] is None
