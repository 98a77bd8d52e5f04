"""The notices API: lists, resend, texts and settings; another tenant's rows are 404; the
settings are the head office's; refusals in Chinese, in the API's error shape."""

from __future__ import annotations

import asyncio

from server.core import jobs
from server.notices import permissions as P
from server.notices import services
from server.workorders.services import orders
from tests.masterdata.helpers import branch_ctx, error_of
from tests.notices.conftest import gateway_mode
from tests.notices.test_notices import sms_on
from tests.workorders.helpers import intake_body, wo_world


async def failed_notice(tenant, fake_sms) -> dict:
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    await gateway_mode(fake_sms, "fail")
    await orders.intake(tenant, intake_body(w))
    await jobs.drain()
    await gateway_mode(fake_sms, "ok")
    return (await services.search(tenant)).items[0]


async def test_list_filter_and_resend(client, admin, tenant, fake_sms):
    n = await failed_notice(tenant, fake_sms)
    listed = (await client.get("/api/v1/notices?status=failed&channel=sms", headers=admin)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == n["id"] and listed["items"][0]["to"] == "13800001234"
    assert (await client.get("/api/v1/notices?status=sent", headers=admin)).json()["total"] == 0
    error_of(await client.get("/api/v1/notices?status=nope", headers=admin), 400)
    again = await client.post(f"/api/v1/notices/{n['id']}/resend", headers=admin)
    assert again.status_code == 200 and again.json()["status"] == "queued"
    refused = error_of(await client.post(f"/api/v1/notices/{n['id']}/resend", headers=admin), 409, "notice_queued")
    assert "正在发送" in refused["detail"]
    for _ in range(200):  # the job runs in the app's own loop: wait for it there
        if (await client.get(f"/api/v1/notices/{n['id']}", headers=admin)).json()["status"] != "queued":
            break
        await asyncio.sleep(0.05)
    assert (await client.get(f"/api/v1/notices/{n['id']}", headers=admin)).json()["status"] == "sent"


async def test_texts(client, admin, tenant):
    texts = (await client.get("/api/v1/notice-templates", headers=admin)).json()["items"]
    assert {(t["event"], t["channel"]) for t in texts} == {
        (e, c) for e in ("accepted", "repaired", "closed") for c in ("sms", "email")
    }
    sms = next(t for t in texts if (t["event"], t["channel"]) == ("repaired", "sms"))
    saved = await client.put(
        f"/api/v1/notice-templates/{sms['id']}", headers=admin, json={"body": "{{ no }} 可取机", "enabled": False}
    )
    assert saved.status_code == 200 and (saved.json()["body"], saved.json()["enabled"]) == ("{{ no }} 可取机", False)
    bad = error_of(
        await client.put(f"/api/v1/notice-templates/{sms['id']}", headers=admin, json={"body": "{% for %}"}),
        400,
        "template_invalid",
    )
    assert bad["detail"].startswith("模板有误")
    error_of(
        await client.put(f"/api/v1/notice-templates/{sms['id']}", headers=admin, json={"body": "{{ config.items() }}"}),
        400,
        "template_invalid",
    )


async def test_settings_keep_secrets_and_check_input(client, admin, tenant):
    body = {
        "sms_enabled": True,
        "sms_url": "http://127.0.0.1:9/sms",
        "sms_secret_headers": {"Authorization": "Bearer xyz"},
        "smtp_password": "pw",
    }
    saved = await client.put("/api/v1/notice-settings", headers=admin, json=body)
    assert saved.status_code == 200 and saved.json()["sms_secret_header_names"] == ["Authorization"]
    read = (await client.get("/api/v1/notice-settings", headers=admin)).text
    assert "xyz" not in read and '"smtp_password_set":true' in read.replace(" ", "")
    refused = error_of(await client.put("/api/v1/notice-settings", headers=admin, json={"sms_enabled": True}), 400)
    assert refused["detail"] == "请填写短信网关地址"
    refused = error_of(
        await client.put("/api/v1/notice-settings", headers=admin, json={"sms_body": "[1]"}), 400, "template_invalid"
    )
    refused = error_of(
        await client.put(
            "/api/v1/notice-settings",
            headers=admin,
            json={"email_enabled": True, "smtp_host": "h", "smtp_from": "nobody"},
        ),
        400,
    )
    assert refused["detail"] == "发件人须是邮箱地址"


async def test_settings_are_the_head_offices(tenant):
    branch = await branch_ctx(tenant, [P.SETTINGS_MANAGE, P.SETTINGS_VIEW])
    for call in (services.get_settings(branch), services.put_settings(branch, {})):
        try:
            await call
        except Exception as exc:
            assert exc.status_code == 403 and "总部" in exc.detail
        else:
            raise AssertionError("a branch changed the notice settings")


async def test_another_tenants_notices_and_texts_are_404(client, tenant, other_tenant, fake_sms):
    from tests.conftest import api_login

    n = await failed_notice(tenant, fake_sms)
    text = (await services.list_templates(tenant))[0]
    other = await api_login(client, "admin@OTHER")
    error_of(await client.get(f"/api/v1/notices/{n['id']}", headers=other), 404)
    error_of(await client.post(f"/api/v1/notices/{n['id']}/resend", headers=other), 404)
    error_of(await client.get(f"/api/v1/notice-templates/{text['id']}", headers=other), 404)
    error_of(await client.put(f"/api/v1/notice-templates/{text['id']}", headers=other, json={"body": "x"}), 404)
    assert (await client.get("/api/v1/notices", headers=other)).json()["total"] == 0
    assert "13800001234" not in (await client.get("/api/v1/notice-settings", headers=other)).text
