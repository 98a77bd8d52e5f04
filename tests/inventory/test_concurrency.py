"""Concurrency over HTTP, on SQLite and on PostgreSQL (TEST_DATABASE_URL). The requests go
through the whole app truly at once (api_helpers.concurrently: asyncio.gather over the
AsyncTestClient would run them one by one), and each test proves that they overlapped.

- 50 outbound confirmations that together want more than the stock: exactly the ones that fit
  succeed, every other one is 409 `insufficient_stock` naming its shortage, and stock ends ≥ 0
  and equal to the sum of its moves. Documents take two goods in opposite line orders, so two
  batches lock the same rows from both ends (PostgreSQL must not deadlock).
- 20 confirmations of the same line post it once: one 200, the rest 409 `already_confirmed`.
- Document numbers stay unique and gapless when documents are created at once, also when some
  of those creations fail and roll back.
- Confirm, delete and edits racing on one document: one wins, each loser is told the true reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from server.core import numbering
from server.inventory.services import documents
from server.inventory.tables import StockDoc, StockDocLine, StockMove
from tests.inventory.api_helpers import URL, InFlight, call, concurrently, error_of
from tests.inventory.helpers import inbound, on_hand, world

SHORTAGE = re.compile(r"(\w+) [^；：]*?需要 (\d+)，库存 (\d+)")  # "SCR iPhone 15 屏幕 需要 3，库存 1"


async def test_concurrent_outbound_confirmations_never_oversell(client, tenant, admin, monkeypatch):
    w = await world(tenant)
    start = {w["screen"]: 60, w["battery"]: 70}
    await inbound(tenant, w["general"], (w["screen"], 60, "10"), (w["battery"], 70, "5"))
    wants: list[dict[int, int]] = []
    docs = []
    for i in range(50):
        want = {w["screen"]: 1 + i * 7 % 4, w["battery"]: 1 + i * 5 % 4}
        order = list(want.items()) if i % 2 else list(reversed(want.items()))
        body = {"type": "scrap", "warehouse_id": w["general"], "lines": [{"goods_id": g, "qty": q} for g, q in order]}
        doc = await documents.create(tenant, "outbound", body)
        docs.append(await documents.submit(tenant, "outbound", doc["id"]))
        wants.append(want)
    assert sum(x[w["screen"]] for x in wants) > 60 and sum(x[w["battery"]] for x in wants) > 70

    confirming = InFlight(monkeypatch, documents, "confirm")
    responses = await concurrently(
        client, [("POST", f"{URL['outbound']}/{d['id']}/confirm", admin, None) for d in docs]
    )
    assert confirming.most > 1

    final = {g: await on_hand(tenant.org_id, w["general"], g) for g in start}
    codes = {"SCR": w["screen"], "BAT": w["battery"]}
    succeeded = [i for i, r in enumerate(responses) if r.status_code == 200]
    refused = [i for i, r in enumerate(responses) if r.status_code != 200]
    assert succeeded and refused
    for i in refused:
        body = error_of(responses[i], 409, "insufficient_stock")
        shortages = SHORTAGE.findall(body["detail"])
        assert shortages, body
        for code, wanted, have in shortages:
            # the shortage is real: what was left then was less than wanted, and at least what is left now
            assert int(wanted) == wants[i][codes[code]] and final[codes[code]] <= int(have) < int(wanted), body
        # exactly the ones that fit succeed: nothing refused would fit into what is left at the end
        assert any(wants[i][g] > final[g] for g in start), (wants[i], final)
    for g in start:
        assert final[g] >= 0
        assert final[g] == start[g] - sum(wants[i][g] for i in succeeded)
        moves = await StockMove.select(StockMove.delta).where(
            (StockMove.goods_id == g) & (StockMove.warehouse_id == w["general"])
        )
        assert sum(m["delta"] for m in moves) == final[g] and len(moves) == 1 + len(succeeded)
    ids = {d["id"]: i for i, d in enumerate(docs)}
    statuses = await StockDoc.select(StockDoc.id, StockDoc.status).where(StockDoc.id.is_in(list(ids)))
    assert {r["id"]: r["status"] for r in statuses} == {
        d["id"]: "completed" if i in succeeded else "submitted" for i, d in enumerate(docs)
    }
    lines = await StockDocLine.select(StockDocLine.doc, StockDocLine.confirmed_at).where(
        StockDocLine.doc.is_in(list(ids))
    )
    assert all((r["confirmed_at"] is not None) == (ids[r["doc"]] in succeeded) for r in lines)


@pytest.mark.parametrize("kind", ["inbound", "outbound"])
async def test_confirming_the_same_line_at_once_posts_it_once(client, tenant, admin, kind, monkeypatch):
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 10, "10"), (w["battery"], 10, "10"))
    lines = [{"goods_id": w["screen"], "qty": 4}, {"goods_id": w["battery"], "qty": 3}]
    if kind == "inbound":
        lines = [li | {"cost_price": "1"} for li in lines]
    doc = await documents.create(
        tenant,
        kind,
        {"type": "purchase" if kind == "inbound" else "scrap", "warehouse_id": w["general"], "lines": lines},
    )
    doc = await documents.submit(tenant, kind, doc["id"])
    first, second = (li["id"] for li in doc["lines"])
    url = f"{URL[kind]}/{doc['id']}/confirm"
    sign = 1 if kind == "inbound" else -1

    # the same ticked line, 20 times at once (the document stays open: its second line is left)
    confirming = InFlight(monkeypatch, documents, "confirm")
    responses = await concurrently(client, [("POST", url, admin, {"line_ids": [first]})] * 20)
    assert confirming.most > 1
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    for r in responses:
        if r.status_code == 409:
            assert "已确认" in error_of(r, 409, "already_confirmed")["detail"]
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 10 + sign * 4
    # every remaining line (no body), 20 times at once: the document completes once
    confirming.most = 0
    responses = await concurrently(client, [("POST", url, admin, None)] * 20)
    assert confirming.most > 1
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    assert all(error_of(r, 409, "already_confirmed") for r in responses if r.status_code == 409)
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 10 + sign * 3

    moves = await StockMove.select(StockMove.line_id, StockMove.delta).where(StockMove.doc_id == doc["id"])
    assert sorted((m["line_id"], m["delta"]) for m in moves) == [(first, sign * 4), (second, sign * 3)]
    done = await call(client, "GET", f"{URL[kind]}/{doc['id']}", admin)
    assert done["status"] == "completed" and all(li["confirmed"] for li in done["lines"])


FIXED_NOW = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)  # 00:30 on the 25th in Shanghai


async def test_numbers_are_unique_and_gapless_under_concurrent_creation(client, tenant, admin, monkeypatch):
    monkeypatch.setattr(numbering, "utc_now", lambda: FIXED_NOW)
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 5, "10"))
    inbound_body = {
        "type": "purchase",
        "warehouse_id": w["general"],
        "lines": [{"goods_id": w["screen"], "qty": 1, "cost_price": "1"}],
    }
    fits = {"type": "scrap", "warehouse_id": w["general"], "lines": [{"goods_id": w["screen"], "qty": 5}]}
    too_many = {"type": "scrap", "warehouse_id": w["general"], "lines": [{"goods_id": w["screen"], "qty": 6}]}
    # outbound creations that fail take a number inside their transaction and must give it back
    requests = [("inbound", inbound_body)] * 30 + [("outbound", fits)] * 10 + [("outbound", too_many)] * 10
    requests = [requests[i] for i in sorted(range(len(requests)), key=lambda i: i * 37 % len(requests))]
    creating = InFlight(monkeypatch, documents, "create")
    responses = await concurrently(client, [("POST", URL[k], admin, body) for k, body in requests])
    assert creating.most > 1

    created = {"inbound": [], "outbound": []}
    for (kind, body), response in zip(requests, responses, strict=True):
        if body is too_many:
            error_of(response, 409, "insufficient_stock")
        else:
            assert response.status_code == 201, response.text
            created[kind].append(response.json()["no"])
    # the first document of the day was the setup's inbound (RK…-0001)
    assert sorted(created["inbound"]) == [f"RK20261125-{i:04d}" for i in range(2, 32)]
    assert sorted(created["outbound"]) == [f"CK20261125-{i:04d}" for i in range(1, 11)]
    listed = (await call(client, "GET", f"{URL['outbound']}?page_size=200", admin))["items"]
    assert sorted(d["no"] for d in listed) == sorted(created["outbound"]) and len(set(created["outbound"])) == 10


async def test_racing_confirm_delete_and_edit_each_get_the_true_reason(client, tenant, admin, monkeypatch):
    """Per document one of the racing calls wins and every loser is told why: a document confirmed
    meanwhile cannot be deleted (409 `confirmed`), one deleted meanwhile is not found (404)."""
    w = await world(tenant)
    submitted = [await inbound(tenant, w["general"], (w["screen"], 1, "1"), confirm=False) for _ in range(8)]
    drafts = [
        await documents.create(tenant, "inbound", {"type": "purchase", "warehouse_id": w["general"]}) for _ in range(8)
    ]
    line = {"goods_id": w["screen"], "qty": 1, "cost_price": "1"}
    races = [
        [
            ("POST", f"{URL['inbound']}/{d['id']}/confirm", admin, None),
            ("DELETE", f"{URL['inbound']}/{d['id']}", admin, None),
        ]
        for d in submitted
    ] + [
        [("DELETE", f"{URL['inbound']}/{d['id']}", admin, None)] * 2
        + [
            ("POST", f"{URL['inbound']}/{d['id']}/lines", admin, line),
            ("PATCH", f"{URL['inbound']}/{d['id']}", admin, {"remark": "改"}),
        ]
        for d in drafts
    ]
    deleting = InFlight(monkeypatch, documents, "delete")
    responses = iter(await concurrently(client, [request for race in races for request in race]))
    answers = [[next(responses) for _ in race] for race in races]
    assert deleting.most > 1
    for confirm, remove in answers[: len(submitted)]:
        if confirm.status_code == 200:
            error_of(remove, 409, "confirmed")
        else:
            error_of(confirm, 404, "not_found")
            assert remove.status_code == 200, remove.text
    for first, second, add, patch in answers[len(submitted) :]:
        assert sorted([first.status_code, second.status_code]) == [200, 404], (first.text, second.text)
        error_of(first if first.status_code == 404 else second, 404, "not_found")
        for edit in (add, patch):
            assert edit.status_code in (200, 201) or error_of(edit, 404, "not_found")
