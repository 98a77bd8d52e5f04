"""`Idempotency-Key` (issue 12, item 7): a write retried with its key is done once and its retries
get the first answer again (`Idempotent-Replayed: true`), API and pages alike; the same key with
another body or path is 409 `idempotency_key_reused`, and while the first is running
409 `idempotency_in_progress`; keys belong to their caller (user or kiosk); a 5xx or 429 is not
kept, so its retry runs; after 24 hours a key is forgotten and its record pruned; a claim whose
request died is taken over after a minute; a bad key is a 400. Requests without a key are as before."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from server.core import idempotency
from server.core.tables import IdempotencyRecord
from server.credit.services import documents
from server.credit.tables import CreditDoc
from server.queue.tables import QueueTicket
from tests.api_helpers import call, concurrently, error_of, htmx_refusal
from tests.conftest import api_login, csrf, page_login
from tests.credit.helpers import CREDIT_ALL
from tests.queue.helpers import Q, queue_world
from tests.system.helpers import PASSWORD, service_user

RECHARGES = "/api/v1/credit/recharges"
ADJUSTMENTS = "/api/v1/credit/adjustments"


def key(headers: dict, value: str) -> dict:
    return headers | {"Idempotency-Key": value}


async def drafts() -> list[dict]:
    return await CreditDoc.select(CreditDoc.id, CreditDoc.remark).order_by(CreditDoc.id)


async def records() -> list[dict]:
    return await IdempotencyRecord.select().order_by(IdempotencyRecord.id)


async def age(seconds: float, **where) -> None:
    """Move the claim time of the records back by `seconds` (all of them, or those of `key=`)."""
    rows = await IdempotencyRecord.select().where(
        *[getattr(IdempotencyRecord, name) == value for name, value in where.items()]
    )
    for row in rows:
        moved = row["created_at"] - timedelta(seconds=seconds)
        await IdempotencyRecord.update({IdempotencyRecord.created_at: moved}).where(IdempotencyRecord.id == row["id"])


def replayed(response) -> bool:
    return response.headers.get("idempotent-replayed") == "true"


async def test_a_retried_create_answers_the_first_draft_again(client, admin):
    first = await client.post(RECHARGES, json={"remark": "季度授信", "lines": []}, headers=key(admin, "draft-1"))
    assert first.status_code == 201, first.text
    assert not replayed(first)
    # the retry, and one whose client encoded the same JSON otherwise (key order, spacing)
    again = await client.post(RECHARGES, json={"remark": "季度授信", "lines": []}, headers=key(admin, "draft-1"))
    recoded = await client.post(
        RECHARGES,
        content='{ "lines": [],\n "remark": "季度授信" }',
        headers=key(admin, "draft-1") | {"Content-Type": "application/json"},
    )
    for retry in (again, recoded):
        assert retry.status_code == 201 and replayed(retry), retry.text
        assert retry.json() == first.json()
        assert retry.headers["content-type"] == first.headers["content-type"]
    assert [d["id"] for d in await drafts()] == [first.json()["id"]]
    # the answer was kept with the request, not its retries
    [record] = await records()
    assert (record["state"], record["status"], record["method"], record["path"]) == ("done", 201, "POST", RECHARGES)
    assert record["scope"].startswith("t") and ":u" in record["scope"]

    # a refusal is an answer too: the same refusal again, nothing done in between
    bad = {"lines": [{"org_id": 999_999, "amount": "10"}]}
    refused = await client.post(RECHARGES, json=bad, headers=key(admin, "draft-2"))
    assert refused.status_code in (400, 404), refused.text
    again = await client.post(RECHARGES, json=bad, headers=key(admin, "draft-2"))
    assert again.status_code == refused.status_code and replayed(again) and again.json() == refused.json()
    assert len(await drafts()) == 1


async def test_the_same_key_for_another_request_is_refused(client, admin):
    await call(client, "POST", RECHARGES, key(admin, "k-1"), {"remark": "一"}, 201)
    other_body = await client.post(RECHARGES, json={"remark": "二"}, headers=key(admin, "k-1"))
    error_of(other_body, 409, "idempotency_key_reused")
    other_path = await client.post(ADJUSTMENTS, json={"remark": "一"}, headers=key(admin, "k-1"))
    error_of(other_path, 409, "idempotency_key_reused")
    assert [d["remark"] for d in await drafts()] == ["一"]
    # the first request's answer is still there for its own retries
    assert replayed(await client.post(RECHARGES, json={"remark": "一"}, headers=key(admin, "k-1")))


async def test_keys_belong_to_their_caller(client, admin, tenant):
    await service_user(tenant, "clerk", tenant.org_id, "hq", CREDIT_ALL)
    clerk = await api_login(client, "clerk@ACME", PASSWORD)
    mine = await call(client, "POST", RECHARGES, key(admin, "shared-key"), {"remark": "管理员的"}, 201)
    theirs = await call(client, "POST", RECHARGES, key(clerk, "shared-key"), {"remark": "管理员的"}, 201)
    assert mine["id"] != theirs["id"] and len(await drafts()) == 2
    # each caller's retry gets their own answer
    for headers, doc in ((admin, mine), (clerk, theirs)):
        again = await client.post(RECHARGES, json={"remark": "管理员的"}, headers=key(headers, "shared-key"))
        assert replayed(again) and again.json()["id"] == doc["id"]
    assert len({r["scope"] for r in await records()}) == 2


async def test_a_kiosk_ticket_retried_is_one_ticket(client, admin):
    w = await queue_world(client, admin)
    body = {"service_id": w["a"]["id"], "phone": "13800001234"}
    first = await call(client, "POST", f"{Q}/tickets", key(w["kiosk_auth"], "tap-1"), body, 201)
    again = await client.post(f"{Q}/tickets", json=body, headers=key(w["kiosk_auth"], "tap-1"))
    assert again.status_code == 201 and replayed(again) and again.json() == first
    assert await QueueTicket.count() == 1
    assert (await records())[0]["scope"].endswith(f":d{w['kiosk']['id']}")

    # the kiosk's own screen posts a form with its token in the path
    url = f"/queue/kiosk/{w['kiosk']['token']}/tickets"
    form = {"service_id": str(w["a"]["id"]), "phone": "13900005678"}
    client.cookies.clear()
    page = await client.post(url, data=form, headers={"hx-request": "true", "Idempotency-Key": "tap-2"})
    assert page.status_code == 201, page.text
    number = re.search(r'class="q-kiosk-ticket-no">(\w+)<', page.text).group(1)
    retry = await client.post(url, data=form, headers={"hx-request": "true", "Idempotency-Key": "tap-2"})
    assert retry.status_code == 201 and replayed(retry) and retry.text == page.text
    assert number == "A002" and await QueueTicket.count() == 2
    assert w["kiosk"]["token"] in page.text  # the slip's link…
    assert w["kiosk"]["token"] not in str(await records())  # …is not kept: the token is stored only hashed
    # another phone with the same key is another request
    other = await client.post(
        url, data=form | {"phone": "13700000000"}, headers={"hx-request": "true", "Idempotency-Key": "tap-2"}
    )
    htmx_refusal(other, 409, "幂等键")
    assert other.headers["x-error-code"] == "idempotency_key_reused"
    assert await QueueTicket.count() == 2


async def test_ten_at_once_with_one_key_make_one_draft(client, admin):
    body = {"remark": "同时十次"}
    responses = await concurrently(client, [("POST", RECHARGES, key(admin, "burst"), body)] * 10)
    [doc] = await drafts()
    done = [r for r in responses if r.status_code == 201]
    busy = [r for r in responses if r.status_code == 409]
    assert len(done) + len(busy) == 10, [(r.status_code, r.text) for r in responses]
    assert len([r for r in done if not replayed(r)]) == 1
    assert {r.json()["id"] for r in done} == {doc["id"]}
    for response in busy:  # the others were told the first is still running, to retry shortly
        error_of(response, 409, "idempotency_in_progress")
        assert response.headers["retry-after"].isdigit()
    # and their retry now gets the answer
    again = await client.post(RECHARGES, json=body, headers=key(admin, "burst"))
    assert replayed(again) and again.json()["id"] == doc["id"]


async def test_a_page_post_with_a_key(client, tenant):
    """The page's 【暂存】 of a new recharge (htmx): its retry is the same draft, the same navigation."""
    await page_login(client, "admin@ACME")
    headers = csrf(client) | {"Idempotency-Key": "page-submit-1"}
    first = await client.post("/credit/recharges", data={"remark": "页面暂存"}, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post("/credit/recharges", data={"remark": "页面暂存"}, headers=headers)
    assert again.status_code == 201 and replayed(again)
    assert again.headers["hx-location"] == first.headers["hx-location"]
    assert again.headers["hx-trigger"] == first.headers["hx-trigger"]
    [doc] = await drafts()
    assert f"/credit/recharges/{doc['id']}" in json.loads(first.headers["hx-location"])["path"]
    # a changed form with the same key: refused in the form's words, as any htmx refusal
    changed = await client.post("/credit/recharges", data={"remark": "改过的"}, headers=headers)
    htmx_refusal(changed, 409, "幂等键已用于另一个请求")
    assert len(await drafts()) == 1


async def test_an_expired_key_runs_again_and_old_records_are_pruned(client, admin):
    first = await call(client, "POST", RECHARGES, key(admin, "day-old"), {"remark": "昨天"}, 201)
    assert replayed(await client.post(RECHARGES, json={"remark": "昨天"}, headers=key(admin, "day-old")))
    await age(idempotency.TTL.total_seconds() + 60)  # 24 h and a minute later
    later = await client.post(RECHARGES, json={"remark": "昨天"}, headers=key(admin, "day-old"))
    assert later.status_code == 201 and not replayed(later) and later.json()["id"] != first["id"]
    again = await client.post(RECHARGES, json={"remark": "昨天"}, headers=key(admin, "day-old"))
    assert replayed(again) and again.json()["id"] == later.json()["id"]
    assert len(await drafts()) == 2

    # records older than 24 hours are deleted by the next keyed requests, a few at a time
    for n in range(3):
        await call(client, "POST", RECHARGES, key(admin, f"old-{n}"), {"remark": "旧"}, 201)
    await age(idempotency.TTL.total_seconds() + 60)
    await call(client, "POST", RECHARGES, key(admin, "fresh"), {"remark": "新"}, 201)
    assert [r["key"] for r in await records()] == ["fresh"]


async def test_a_server_error_is_not_kept_and_its_retry_runs(client, admin, monkeypatch):
    real = documents.create

    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(documents, "create", broken)
    failed = await client.post(RECHARGES, json={"remark": "重试"}, headers=key(admin, "flaky"))
    error_of(failed, 500, "internal_error")
    assert await records() == []  # the key was given back
    monkeypatch.setattr(documents, "create", real)
    done = await call(client, "POST", RECHARGES, key(admin, "flaky"), {"remark": "重试"}, 201)
    again = await client.post(RECHARGES, json={"remark": "重试"}, headers=key(admin, "flaky"))
    assert replayed(again) and again.json()["id"] == done["id"]
    assert len(await drafts()) == 1


async def test_a_throttled_kiosk_is_not_kept(client, admin, monkeypatch):
    """A 429 says "not now": its retry with the same key, once allowed, takes the ticket."""
    from server.queue.services import tickets

    w = await queue_world(client, admin)
    monkeypatch.setattr(tickets, "KIOSK_LIMIT", 1)
    await call(client, "POST", f"{Q}/tickets", w["kiosk_auth"], {"service_id": w["a"]["id"]}, 201)
    throttled = await client.post(f"{Q}/tickets", json={"service_id": w["a"]["id"]}, headers=key(w["kiosk_auth"], "t"))
    error_of(throttled, 429)
    assert await records() == []
    monkeypatch.setattr(tickets, "KIOSK_LIMIT", 100)
    taken = await call(client, "POST", f"{Q}/tickets", key(w["kiosk_auth"], "t"), {"service_id": w["a"]["id"]}, 201)
    assert taken["no"] == "A002"
    again = await client.post(f"{Q}/tickets", json={"service_id": w["a"]["id"]}, headers=key(w["kiosk_auth"], "t"))
    assert again.status_code == 201 and replayed(again) and again.json() == taken


async def test_a_dead_request_s_claim_is_taken_over_after_a_minute(client, admin):
    """A worker killed while running a keyed request leaves its claim: retries are told to wait,
    and after a minute the key is taken over and the request runs."""
    await call(client, "POST", RECHARGES, key(admin, "crashed"), {"remark": "崩溃"}, 201)
    await CreditDoc.delete(force=True)  # as if that request had died before committing anything
    await IdempotencyRecord.update({IdempotencyRecord.state: "running", IdempotencyRecord.body: None}, force=True)
    busy = await client.post(RECHARGES, json={"remark": "崩溃"}, headers=key(admin, "crashed"))
    error_of(busy, 409, "idempotency_in_progress")
    await age(idempotency.STALE.total_seconds() + 1)
    taken = await client.post(RECHARGES, json={"remark": "崩溃"}, headers=key(admin, "crashed"))
    assert taken.status_code == 201 and not replayed(taken)
    assert len(await drafts()) == 1


async def test_an_answer_too_large_to_keep_is_not_done_twice(client, admin, monkeypatch):
    monkeypatch.setattr(idempotency, "MAX_KEPT", 16)
    await call(client, "POST", RECHARGES, key(admin, "big"), {"remark": "大"}, 201)
    again = await client.post(RECHARGES, json={"remark": "大"}, headers=key(admin, "big"))
    error_of(again, 409, "idempotency_answer_not_kept")
    assert len(await drafts()) == 1


@pytest.mark.parametrize(
    "value", ["", "x" * 101, "two words", "tab\tkey", "caf\u00e9", "\u5e42\u7b49"], ids=lambda v: repr(v)[:12]
)
async def test_a_bad_key_is_refused(client, admin, value):
    headers = [*admin.items(), ("Idempotency-Key", value.encode("utf-8"))]
    response = await client.post(RECHARGES, json={"remark": "坏键"}, headers=headers)
    error_of(response, 400, "invalid_idempotency_key")
    assert await drafts() == []


async def test_two_keys_on_one_request_are_refused(client, admin):
    headers = [*admin.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    error_of(await client.post(RECHARGES, json={}, headers=headers), 400, "invalid_idempotency_key")
    assert await drafts() == []


async def test_without_a_key_nothing_changes(client, admin):
    """No header: every request runs (two drafts), nothing is recorded; a GET ignores a key."""
    for _ in range(2):
        response = await client.post(RECHARGES, json={"remark": "无键"}, headers=admin)
        assert response.status_code == 201 and not replayed(response)
    assert len(await drafts()) == 2
    listed = await client.get(RECHARGES, headers=key(admin, "for-a-get"))
    assert listed.status_code == 200 and listed.json()["total"] == 2
    assert await records() == []


async def test_a_request_without_a_caller_ignores_its_key(client, tenant):
    """Login has no caller to keep a key for: it runs as without one (and is refused as usual)."""
    for _ in range(2):
        response = await client.post(
            "/api/v1/auth/token", json={"login": "admin@ACME", "password": "wrong"}, headers={"Idempotency-Key": "x"}
        )
        error_of(response, 401)
    assert await records() == []


class _Caller:
    tenant_id, user_id, device_id = 1, 1, None


async def _through_the_middleware(parts: list[dict], key_value: str) -> list[tuple[str, bytes, str]]:
    """Run a keyed POST whose handler answers `parts`; what the client received, each part with
    the key's state in the database at the moment it arrived."""

    async def app(scope, receive, send) -> None:
        await receive()
        for part in parts:
            await send(part)

    async def caller(scope):
        return _Caller()

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    received: list[tuple[str, bytes, str]] = []

    async def send(message) -> None:
        [state] = await IdempotencyRecord.select(IdempotencyRecord.state).output(as_list=True)
        received.append((message["type"], message.get("body", b""), state))

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "query_string": b"",
        "headers": [(b"idempotency-key", key_value.encode()), (b"content-type", b"application/json")],
    }
    await idempotency.IdempotencyMiddleware(app, caller)(scope, receive, send)
    return received


async def test_an_answer_complete_with_its_headers_leaves_only_once_kept(tenant):
    """A page's 201 has an empty body: the client holds the whole answer once the headers arrive
    and htmx sends the queued second click at once. The key must be kept by then, or that click
    gets 409 in progress (seen in the browser test of a double-click on a loaded machine)."""
    start = {
        "type": "http.response.start",
        "status": 201,
        "headers": [(b"content-length", b"0"), (b"hx-location", b"/y")],
    }
    received = await _through_the_middleware([start, {"type": "http.response.body", "body": b""}], "empty")
    assert received == [("http.response.start", b"", "done"), ("http.response.body", b"", "done")]


async def test_an_answer_too_large_to_keep_streams_and_is_settled_before_its_last_part(tenant, monkeypatch):
    monkeypatch.setattr(idempotency, "MAX_KEPT", 16)
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
    body = [{"type": "http.response.body", "body": b"0123456789", "more_body": more} for more in (True, True, False)]
    received = await _through_the_middleware([start, *body], "large")
    assert [(kind, part) for kind, part, _ in received] == [
        ("http.response.start", b""),
        ("http.response.body", b"0123456789"),
        ("http.response.body", b"0123456789"),
        ("http.response.body", b"0123456789"),
    ]
    assert received[-1][2] == "done"
    [record] = await records()
    assert record["status"] == 200 and record["body"] is None
