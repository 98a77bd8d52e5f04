"""Customer notices: written with the move that causes them (nothing for a rolled-back move),
one per event and channel however often the move or the job runs, sent through the fake SMS
gateway and an SMTP sink, retried on a 5xx, timed out on a gateway that hangs, drained after a
crash between commit and hand-off."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as email_policy

import pytest

from server.core import hooks, jobs
from server.core.db import atomic
from server.core.tables import Job
from server.notices import providers, services
from server.notices.providers import webhook
from server.notices.tables import Notice, NoticeTemplate
from server.workorders.services import orders
from tests.notices.conftest import gateway_mode, received
from tests.workorders.helpers import intake_body, repairing, wo_world


async def sms_on(ctx, base: str, **extra) -> None:
    await services.put_settings(
        ctx,
        {
            "sms_enabled": True,
            "sms_url": f"{base}/sms",
            "sms_headers": {"X-App": "weifu"},
            "sms_secret_headers": {"X-Token": "s3cret-token"},
            "sms_body": '{"mobile": "{{ phone }}", "content": "{{ text }}", "sign": "维服"}',
        }
        | extra,
    )


async def notices(**where) -> list[dict]:
    rows = await Notice.select().order_by(Notice.id)
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


async def test_intake_sends_one_sms_with_the_order_in_it(tenant, fake_sms):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    order = await orders.intake(tenant, intake_body(w))
    await jobs.drain()
    [n] = await notices()
    assert (n["event"], n["channel"], n["recipient"], n["status"], n["attempts"]) == (
        "accepted",
        "sms",
        "13800001234",
        "sent",
        1,
    )
    assert order["no"] in n["body"] and "张三" in n["body"] and "iPhone 15" in n["body"]
    [msg] = (await received(fake_sms))["messages"]
    assert msg == {"mobile": "13800001234", "content": n["body"], "sign": "维服"}
    assert n["answer"].startswith("HTTP 200")


async def test_settings_never_show_secrets(tenant, fake_sms):
    await sms_on(tenant, fake_sms, email_enabled=False, smtp_password="pw-123")
    shown = await services.get_settings(tenant)
    assert shown["sms_secret_header_names"] == ["X-Token"] and shown["smtp_password_set"]
    assert "s3cret-token" not in str(shown) and "pw-123" not in str(shown)


async def test_one_notice_per_event_even_when_the_move_and_the_job_run_twice(tenant, fake_sms):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    order = await orders.intake(tenant, intake_body(w))
    async with atomic():  # the same event seen again (a replayed hook)
        await hooks.work_order_moved(tenant, {"id": order["id"], "org_path": tenant.org_path}, "accepted")
    await jobs.drain()
    [job] = await Job.select().where(Job.name == services.SEND_JOB)
    await Job.update({Job.status: jobs.JobStatus.QUEUED}).where(Job.id == job["id"])
    await jobs.run(job["id"])  # the job runs a second time
    assert len(await notices()) == 1 and len((await received(fake_sms))["messages"]) == 1


async def test_nothing_is_sent_for_a_rolled_back_move(tenant, fake_sms):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    with pytest.raises(RuntimeError):
        async with atomic():
            await orders.intake(tenant, intake_body(w))
            raise RuntimeError("rolled back")
    await jobs.drain()
    assert await notices() == [] and await Job.count() == 0 and (await received(fake_sms))["messages"] == []


async def test_a_gateway_500_is_retried_then_sent(tenant, fake_sms):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    await gateway_mode(fake_sms, "fail", times=2)
    await orders.intake(tenant, intake_body(w))
    await jobs.drain()
    [n] = await notices()
    assert (n["status"], n["attempts"]) == ("sent", 3)
    assert (await received(fake_sms))["refused"] == 2
    [job] = await Job.select().where(Job.name == services.SEND_JOB)
    assert (job["status"], job["attempts"]) == ("done", 3)


async def test_a_gateway_failing_five_times_fails_the_notice(tenant, fake_sms):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    await gateway_mode(fake_sms, "fail")
    await orders.intake(tenant, intake_body(w))
    await jobs.drain()
    [n] = await notices()
    assert (n["status"], n["attempts"]) == ("failed", services.MAX_TRIES) and "HTTP 500" in n["answer"]


async def test_a_gateway_that_hangs_times_out(fake_sms):
    await gateway_mode(fake_sms, "hang")
    config = {"url": f"{fake_sms}/sms", "headers": {}, "body": ""}
    with pytest.raises(providers.SendFailed) as caught:
        await webhook.send(config, providers.Message("13800001234", "", "hi"), timeout=0.3)
    assert caught.value.retry and "超时" in caught.value.answer


async def test_a_refusal_is_not_retried(tenant, fake_sms):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms, sms_url=f"{fake_sms}/nowhere")  # 404
    await orders.intake(tenant, intake_body(w))
    await jobs.drain()
    [n] = await notices()
    assert (n["status"], n["attempts"]) == ("failed", 1) and "HTTP 404" in n["answer"]


async def test_the_outbox_drains_after_a_crash(tenant, fake_sms, monkeypatch):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    monkeypatch.setattr(jobs, "_start", lambda *args: None)  # the process dies after commit
    await orders.intake(tenant, intake_body(w))
    assert (await notices())[0]["status"] == "queued" and (await received(fake_sms))["messages"] == []
    monkeypatch.undo()
    assert await jobs.run_due() == 1  # the next process's drainer
    assert await jobs.run_due() == 0  # and only once
    assert (await notices())[0]["status"] == "sent" and len((await received(fake_sms))["messages"]) == 1


async def test_repaired_and_closed_send_too_but_not_to_a_customer_who_declined(tenant, fake_sms):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    order = await repairing(tenant, w)
    await orders.complete(tenant, order["id"], {"repair_result": "repaired"})
    await orders.close(tenant, order["id"], {"closing_method": "onsite"})
    await jobs.drain()
    assert [n["event"] for n in await notices()] == ["accepted", "repaired", "closed"]
    declined = await orders.intake(
        tenant,
        intake_body(w, phone="13900009999") | {"customer": {"name": "李四", "phone": "13900009999", "no_notify": True}},
    )
    await jobs.drain()
    assert not await notices(work_order_id=declined["id"])


async def test_a_broken_text_fails_its_notice_not_the_move(tenant, fake_sms):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    [text] = [t for t in await services.list_templates(tenant) if (t["event"], t["channel"]) == ("accepted", "sms")]
    with pytest.raises(Exception) as refused:
        await services.put_template(tenant, text["id"], {"body": "{{ no "})
    assert "模板有误" in str(refused.value.detail)
    await NoticeTemplate.update({NoticeTemplate.body: "{{ nothing_here }}"}).where(NoticeTemplate.id == text["id"])
    order = await orders.intake(tenant, intake_body(w))
    assert order["status"] == "accepted"
    [n] = await notices()
    assert n["status"] == "failed" and "模板有误" in n["answer"] and await Job.count() == 0


async def test_email_through_smtp(tenant, smtp_sink):
    w = await wo_world(tenant)
    await services.put_settings(
        tenant,
        {
            "email_enabled": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
            "smtp_security": "none",
            "smtp_from": "service@acme.example",
        },
    )
    await orders.intake(
        tenant, intake_body(w) | {"customer": {"name": "张三", "phone": "13800001234", "email": "zhang@example.com"}}
    )
    await jobs.drain()
    [n] = await notices()
    assert (n["channel"], n["status"], n["recipient"]) == ("email", "sent", "zhang@example.com")
    [envelope] = smtp_sink.messages
    mail = message_from_bytes(envelope.content, policy=email_policy)
    assert envelope.rcpt_tos == ["zhang@example.com"] and "已受理" in mail["Subject"]
    assert mail.get_content().strip() == n["body"]


async def test_resend(tenant, fake_sms):
    w = await wo_world(tenant)
    await sms_on(tenant, fake_sms)
    await gateway_mode(fake_sms, "fail")
    await orders.intake(tenant, intake_body(w))
    await jobs.drain()
    [n] = await notices()
    assert n["status"] == "failed"
    await gateway_mode(fake_sms, "ok")
    again = await services.resend(tenant, n["id"])
    assert again["status"] == "queued"
    await jobs.drain()
    assert (await services.get(tenant, n["id"]))["status"] == "sent"
