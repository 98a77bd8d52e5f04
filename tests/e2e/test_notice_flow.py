"""【通知记录】 in a real browser: an order's SMS sent through the fake gateway and another's that
failed five times are listed, 重发 sends the failed one (the server's own job, through the same
gateway) and the list shows it sent without a reload, the filters narrow the list; 【客户通知设置】
shows the texts and never a secret. Screenshots of the list (desktop and phone) and of the
settings page."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect

from server.core import jobs, secrets
from server.notices import services
from server.workorders.services import orders
from tests.e2e.conftest import DESKTOP, PHONE, login, new_page, screenshot
from tests.workorders.helpers import intake_body, wo_world


@pytest.fixture
async def notices(tenant, gateway, settings, monkeypatch) -> dict:
    monkeypatch.setattr(jobs, "BACKOFF", timedelta(0))
    secrets.bind(settings.secret_key)  # sealed as the live server will open it
    w = await wo_world(tenant)
    secret = {"Authorization": "Bearer never-shown"}
    await services.put_settings(
        tenant, {"sms_enabled": True, "sms_url": f"{gateway}/sms", "sms_secret_headers": secret}
    )
    sent = await orders.intake(tenant, intake_body(w))
    await jobs.drain()
    async with httpx.AsyncClient() as c:
        await c.post(f"{gateway}/fake/mode", json={"mode": "fail"})
        failed = await orders.intake(
            tenant, intake_body(w, phone="13900002222") | {"customer": {"name": "李四", "phone": "13900002222"}}
        )
        await jobs.drain()
        await c.post(f"{gateway}/fake/mode", json={"mode": "ok"})
    return {"sent": sent, "failed": failed}


def test_notice_records_and_resend(notices, gateway, browser, live_server, admin_api):
    page = new_page(browser, live_server, DESKTOP)
    login(page, "admin@ACME")
    page.goto("/workorders/notices")
    table = page.locator("#notice-table")
    sent = table.locator("tr", has_text=notices["sent"]["no"])
    failed = table.locator("tr", has_text=notices["failed"]["no"])
    expect(sent.locator(".badge")).to_have_text("已发送")
    expect(failed.locator(".badge")).to_have_text("发送失败")
    expect(failed).to_contain_text("HTTP 500")
    expect(failed).to_contain_text("5 次")
    screenshot(page, "notices-list")

    page.on("dialog", lambda d: d.accept())  # hx-confirm
    page.evaluate("window.__same_document = true")  # gone if the page were reloaded
    failed.get_by_role("button", name="重发").click()
    # the server's job sends it through the gateway; the list follows live (topic notices)
    expect(failed.locator(".badge")).to_have_text("已发送")
    assert page.evaluate("window.__same_document === true")
    took = httpx.get(f"{gateway}/fake/messages").json()["messages"]
    assert [m["phone"] for m in took] == ["13800001234", "13900002222"]

    page.locator("#filters select[name=status]").select_option("failed")
    expect(table.locator("tbody tr")).to_have_text(["暂无数据"])
    page.locator("#filters select[name=status]").select_option("")
    expect(table.locator("tbody tr[data-notice]")).to_have_count(2)

    phone = new_page(browser, live_server, PHONE)
    login(phone, "admin@ACME")
    phone.goto("/workorders/notices")
    expect(phone.locator("#notice-table tr[data-notice]")).to_have_count(2)
    screenshot(phone, "notices-list-phone", full_page=True)

    page.goto(f"/workorders/{notices['sent']['id']}")
    expect(page.locator("#wo-timeline")).to_contain_text("短信通知 · 受理 · 已发送")

    page.goto("/system/notices")
    expect(page.locator("#notice-secret-state")).to_contain_text("Authorization")
    assert "never-shown" not in page.content()
    text = page.locator("#notice-text-repaired-sms")
    text.get_by_role("button", name="预览").click()
    expect(text.locator(".notice-preview")).to_contain_text("已维修完毕")
    screenshot(page, "notices-settings", full_page=True)

    text.locator("textarea[name=body]").fill("{{ device }} 已修好，请来取：{{ no }}")
    text.get_by_role("button", name="保存").click()
    # the template's own toast: the page already says 已保存 of the gateway's secret headers
    expect(page.locator("body")).to_contain_text(re.compile("通知模板「[^」]+」已保存"))
    texts = admin_api.call("GET", "/api/v1/notice-templates")["items"]
    assert next(t for t in texts if (t["event"], t["channel"]) == ("repaired", "sms"))["body"] == (
        "{{ device }} 已修好，请来取：{{ no }}"
    )
    text.locator("textarea[name=body]").fill("{{ no")
    text.get_by_role("button", name="保存").click()
    expect(text.locator(".form-error")).to_contain_text("模板有误")

    form = page.locator("#notice-settings")
    form.locator("#smtp_host").fill("smtp.example.com")
    form.get_by_role("button", name="保存").click()
    expect(page.locator("body")).to_contain_text("客户通知设置已保存")
    kept = admin_api.call("GET", "/api/v1/notice-settings")
    assert kept["smtp_host"] == "smtp.example.com" and kept["sms_secret_header_names"] == ["Authorization"]
