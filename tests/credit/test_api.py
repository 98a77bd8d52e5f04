"""The credit JSON API (/api/v1/credit/recharges, /adjustments, /accounts with entries and
freezes): every endpoint, the shapes of ARCHITECTURE.md (list envelope, embedded lines, money as
strings with 4 decimals), the error shape and statuses (400 bad input, 403 no permission or
four-eyes, 404 absent, 409 state conflicts), and bad input that answers 400/404 in Chinese
without changing a row (never a 500)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.conftest import api_login
from tests.credit.api_helpers import (
    ACCOUNTS,
    MONEY,
    URL,
    account_of,
    api_world,
    call,
    database_state,
    error_of,
    make_doc,
    refused,
)
from tests.system.helpers import PASSWORD, service_user

CHECKER = [f"credit.{k}.{a}" for k in ("recharge", "adjustment") for a in ("view", "confirm")]
HUGE = 10**20
UNKNOWN = 999_999

DOC_FIELDS = {
    "id", "kind", "no", "status", "status_name", "org_id", "org_name", "remark", "created_by", "created_by_name",
    "created_at", "submitted_by", "submitted_by_name", "submitted_at", "confirmed_by", "confirmed_by_name",
    "confirmed_at", "total_amount", "lines",
}  # fmt: skip
LINE_FIELDS = {"id", "org_id", "org_name", "direction", "direction_name", "amount", "remark", "frozen"}
ACCOUNT_FIELDS = {
    "org_id", "org_code", "org_name", "level", "depth", "enabled", "balance", "frozen", "available", "updated_at",
}  # fmt: skip
ENTRY_FIELDS = {
    "id", "org_id", "kind", "kind_name", "amount", "frozen_delta", "balance_after", "frozen_after", "doc_type",
    "doc_id", "doc_no", "remark", "user_name", "created_at",
}  # fmt: skip
FREEZE_FIELDS = {
    "id", "org_id", "amount", "remaining", "doc_type", "doc_id", "doc_no", "user_name", "created_at", "closed_at",
}  # fmt: skip


@pytest.fixture
async def w(client, tenant) -> dict:
    return await api_world(client, tenant)


def assert_envelope(body: dict, total: int, fields: set[str]) -> list[dict]:
    assert set(body) == {"items", "total", "page", "page_size"}, body
    assert body["total"] == total and body["page"] == 1 and body["page_size"] == 50, body
    for item in body["items"]:
        assert set(item) == fields, item
    return body["items"]


def assert_doc(doc: dict, kind: str, status: str) -> None:
    assert set(doc) == DOC_FIELDS, doc
    assert doc["kind"] == kind and doc["status"] == status, doc
    assert doc["no"].startswith("CZ" if kind == "recharge" else "TZ"), doc
    assert MONEY.match(doc["total_amount"]), doc
    for stamp in (doc["created_at"], doc["submitted_at"], doc["confirmed_at"]):
        assert stamp is None or datetime.fromisoformat(stamp).utcoffset() is not None, doc  # ISO 8601 with offset
    for line in doc["lines"]:
        assert set(line) == LINE_FIELDS and MONEY.match(line["amount"]), line
        assert isinstance(line["id"], int) and isinstance(line["org_id"], int), line


async def test_recharge_life_cycle(client, w):
    admin, url = w["admin"], URL["recharge"]
    body = {"remark": "首次授信", "lines": [{"org_id": w["b2"], "amount": "1000", "remark": "季度额度"}]}
    doc = await call(client, "POST", url, admin, body, 201)
    assert_doc(doc, "recharge", "draft")
    assert doc["org_id"] == w["hq"] and doc["remark"] == "首次授信" and doc["created_by_name"]
    assert doc["submitted_at"] is None and doc["confirmed_by"] is None
    assert [(li["org_id"], li["org_name"], li["amount"], li["direction"], li["remark"]) for li in doc["lines"]] == [
        (w["b2"], "B2网点", "1000.0000", "increase", "季度额度")
    ]
    doc_url = f"{url}/{doc['id']}"
    assert await call(client, "GET", doc_url, admin) == doc

    doc = await call(client, "PATCH", doc_url, admin, {"remark": "改备注"})
    assert doc["remark"] == "改备注" and len(doc["lines"]) == 1
    doc = await call(client, "POST", f"{doc_url}/lines", admin, {"org_id": w["b3"], "amount": "0.0001"}, 201)
    assert doc["total_amount"] == "1000.0001" and len(doc["lines"]) == 2
    line_url = f"{doc_url}/lines/{doc['lines'][1]['id']}"
    doc = await call(client, "PATCH", line_url, admin, {"amount": "12.3456", "remark": "补"})
    assert (doc["lines"][1]["amount"], doc["lines"][1]["remark"], doc["lines"][1]["org_id"]) == (
        "12.3456",
        "补",
        w["b3"],
    )
    extra = await call(client, "POST", f"{doc_url}/lines", admin, {"org_id": w["s2"], "amount": "5"}, 201)
    doc = await call(client, "DELETE", f"{doc_url}/lines/{extra['lines'][2]['id']}", admin)
    assert [li["org_id"] for li in doc["lines"]] == [w["b2"], w["b3"]] and doc["total_amount"] == "1012.3456"

    listed = await call(client, "GET", url, admin)
    assert assert_envelope(listed, 1, DOC_FIELDS) == [doc]
    for params, total in (
        ({"no": doc["no"]}, 1),
        ({"no": "CZ19990101"}, 0),
        ({"status": "draft"}, 1),
        ({"status": "confirmed"}, 0),
        ({"org_id": w["b3"]}, 1),
        ({"org_id": w["s2"]}, 0),  # its line was deleted
    ):
        assert (await client.get(url, params=params, headers=admin)).json()["total"] == total, params

    doc = await call(client, "POST", f"{doc_url}/submit", admin)
    assert_doc(doc, "recharge", "submitted")
    assert doc["submitted_by_name"] and doc["submitted_at"] and not any(li["frozen"] for li in doc["lines"])
    assert await account_of(client, admin, w["b2"]) == ("0.0000", "0.0000", "0.0000")  # nothing posted yet
    # submitted documents are read-only
    await refused(client, "PATCH", doc_url, admin, {"remark": "x"}, 409, "not_draft")
    await refused(client, "POST", f"{doc_url}/lines", admin, {"org_id": w["b2"], "amount": "1"}, 409, "not_draft")
    await refused(client, "PATCH", line_url, admin, {"amount": "1"}, 409, "not_draft")
    await refused(client, "DELETE", line_url, admin, None, 409, "not_draft")
    await refused(client, "POST", f"{doc_url}/submit", admin, None, 409, "not_draft")
    assert await call(client, "GET", doc_url, admin) == doc

    doc = await call(client, "POST", f"{doc_url}/confirm", admin)
    assert_doc(doc, "recharge", "confirmed")
    assert doc["confirmed_by_name"] and doc["confirmed_at"]
    assert await account_of(client, admin, w["b2"]) == ("1000.0000", "0.0000", "1000.0000")
    assert await account_of(client, admin, w["b3"]) == ("12.3456", "0.0000", "12.3456")
    await refused(client, "POST", f"{doc_url}/confirm", admin, None, 409, "already_confirmed")
    await refused(client, "DELETE", doc_url, admin, None, 409, "confirmed")
    await refused(client, "PATCH", doc_url, admin, {"remark": "x"}, 409, "not_draft")
    assert await account_of(client, admin, w["b2"]) == ("1000.0000", "0.0000", "1000.0000")

    entries = assert_envelope(await call(client, "GET", f"{ACCOUNTS}/{w['b2']}/entries", admin), 1, ENTRY_FIELDS)
    assert {k: entries[0][k] for k in ("kind", "kind_name", "amount", "frozen_delta", "balance_after")} == {
        "kind": "recharge",
        "kind_name": "充值",
        "amount": "1000.0000",
        "frozen_delta": "0.0000",
        "balance_after": "1000.0000",
    }
    assert (entries[0]["doc_type"], entries[0]["doc_id"], entries[0]["doc_no"]) == ("recharge", doc["id"], doc["no"])
    assert entries[0]["remark"] == "季度额度" and entries[0]["user_name"]


async def test_a_draft_or_submitted_recharge_can_be_deleted(client, w):
    admin, url = w["admin"], URL["recharge"]
    draft = await make_doc(client, admin, "recharge", (w["b2"], "10"))
    submitted = await make_doc(client, admin, "recharge", (w["b2"], "20"), submit=True)
    for doc in (draft, submitted):
        gone = await call(client, "DELETE", f"{url}/{doc['id']}", admin)
        assert gone["status"] == "deleted" and gone["id"] == doc["id"]
        error_of(await client.get(f"{url}/{doc['id']}", headers=admin), 404, "not_found")
        for method, path in (("POST", "submit"), ("POST", "confirm"), ("DELETE", "")):
            await refused(client, method, f"{url}/{doc['id']}/{path}".rstrip("/"), admin, None, 404, "not_found")
    assert (await call(client, "GET", url, admin))["total"] == 0
    assert (await client.get(url, params={"status": "deleted"}, headers=admin)).json()["total"] == 2
    assert await account_of(client, admin, w["b2"]) == ("0.0000", "0.0000", "0.0000")


async def test_adjustment_life_cycle_freezes_and_uses(client, w):
    admin, url = w["admin"], URL["adjustment"]
    await make_doc(client, admin, "recharge", (w["b2"], "1000"), confirm=True)
    body = {
        "lines": [
            {"org_id": w["b2"], "direction": "decrease", "amount": "200.5"},
            {"org_id": w["b2"], "direction": "increase", "amount": "10", "remark": "奖励"},
        ]
    }
    doc = await call(client, "POST", url, admin, body, 201)
    assert_doc(doc, "adjustment", "draft")
    assert [(li["direction"], li["direction_name"], li["frozen"]) for li in doc["lines"]] == [
        ("decrease", "减少", False),
        ("increase", "增加", False),
    ]
    doc_url = f"{url}/{doc['id']}"
    line_url = f"{doc_url}/lines/{doc['lines'][1]['id']}"
    doc = await call(client, "PATCH", line_url, admin, {"direction": "decrease", "amount": "1"})
    doc = await call(client, "PATCH", line_url, admin, {"direction": "increase", "amount": "10"})
    assert (doc["lines"][1]["direction"], doc["lines"][1]["amount"]) == ("increase", "10.0000")

    doc = await call(client, "POST", f"{doc_url}/submit", admin)
    assert [li["frozen"] for li in doc["lines"]] == [True, False]
    assert await account_of(client, admin, w["b2"]) == ("1000.0000", "200.5000", "799.5000")
    freezes = assert_envelope(await call(client, "GET", f"{ACCOUNTS}/{w['b2']}/freezes", admin), 1, FREEZE_FIELDS)
    assert {k: freezes[0][k] for k in ("amount", "remaining", "doc_type", "doc_id", "doc_no", "closed_at")} == {
        "amount": "200.5000",
        "remaining": "200.5000",
        "doc_type": "adjustment",
        "doc_id": doc["id"],
        "doc_no": doc["no"],
        "closed_at": None,
    }
    frozen_entries = (await client.get(f"{ACCOUNTS}/{w['b2']}/entries?kind=freeze", headers=admin)).json()["items"]
    assert [(e["amount"], e["frozen_delta"], e["frozen_after"]) for e in frozen_entries] == [
        ("0.0000", "200.5000", "200.5000")
    ]

    doc = await call(client, "POST", f"{doc_url}/confirm", admin)
    assert doc["status"] == "confirmed"
    assert await account_of(client, admin, w["b2"]) == ("809.5000", "0.0000", "809.5000")
    assert (await call(client, "GET", f"{ACCOUNTS}/{w['b2']}/freezes", admin))["items"] == []  # used: not open
    closed = (await client.get(f"{ACCOUNTS}/{w['b2']}/freezes?open=false", headers=admin)).json()["items"]
    assert [(f["remaining"], f["closed_at"] is not None) for f in closed] == [("0.0000", True)]
    kinds = [e["kind"] for e in (await call(client, "GET", f"{ACCOUNTS}/{w['b2']}/entries", admin))["items"]]
    assert kinds == ["increase", "decrease", "freeze", "recharge"]  # newest first
    decrease = (await client.get(f"{ACCOUNTS}/{w['b2']}/entries", params={"kind": "decrease"}, headers=admin)).json()
    assert [(e["amount"], e["frozen_delta"], e["kind_name"]) for e in decrease["items"]] == [
        ("-200.5000", "-200.5000", "调整减少")
    ]
    by_no = await client.get(f"{ACCOUNTS}/{w['b2']}/entries", params={"doc_no": doc["no"]}, headers=admin)
    assert by_no.json()["total"] == 3
    assert (await client.get(f"{ACCOUNTS}/{w['b2']}/entries?kind=usage", headers=admin)).json()["total"] == 0


async def test_deleting_a_submitted_adjustment_releases_its_freezes(client, w):
    admin, url = w["admin"], URL["adjustment"]
    await make_doc(client, admin, "recharge", (w["b2"], "100"), (w["b3"], "100"), confirm=True)
    doc = await make_doc(
        client, admin, "adjustment", (w["b2"], "decrease", "30"), (w["b3"], "decrease", "40"), submit=True
    )
    assert await account_of(client, admin, w["b3"]) == ("100.0000", "40.0000", "60.0000")
    gone = await call(client, "DELETE", f"{url}/{doc['id']}", admin)
    assert gone["status"] == "deleted"
    for org in (w["b2"], w["b3"]):
        assert await account_of(client, admin, org) == ("100.0000", "0.0000", "100.0000")
        assert (await call(client, "GET", f"{ACCOUNTS}/{org}/freezes", admin))["total"] == 0
        released = (await client.get(f"{ACCOUNTS}/{org}/entries?kind=release", headers=admin)).json()["items"]
        assert [(e["doc_no"], e["kind_name"]) for e in released] == [(doc["no"], "释放")]
    await refused(client, "POST", f"{url}/{doc['id']}/confirm", admin, None, 404, "not_found")


async def test_a_decrease_beyond_available_is_a_409_with_the_shortfall(client, w):
    admin, url = w["admin"], URL["adjustment"]
    await make_doc(client, admin, "recharge", (w["b2"], "100"), confirm=True)
    await make_doc(client, admin, "adjustment", (w["b2"], "decrease", "60"), submit=True)
    doc = await make_doc(client, admin, "adjustment", (w["b3"], "increase", "1"), (w["b2"], "decrease", "50.0001"))
    before = await database_state()
    body = await refused(client, "POST", f"{url}/{doc['id']}/submit", admin, None, 409, "insufficient_credit")
    assert body["detail"] == "可用额度不足：还差 10.0001"
    assert await database_state() == before  # the whole submit rolled back: still a draft, nothing frozen
    assert (await call(client, "GET", f"{url}/{doc['id']}", admin))["status"] == "draft"


async def test_an_empty_document_cannot_be_submitted(client, w):
    for url in URL.values():
        doc = await call(client, "POST", url, w["admin"], {}, 201)
        assert doc["lines"] == [] and doc["total_amount"] == "0.0000"
        await refused(client, "POST", f"{url}/{doc['id']}/submit", w["admin"], None, 400, "no_lines")
        await refused(client, "POST", f"{url}/{doc['id']}/confirm", w["admin"], None, 409, "not_submitted")
        assert (await call(client, "GET", f"{url}/{doc['id']}", w["admin"]))["status"] == "draft"


async def test_four_eyes_is_a_403_for_the_submitter(client, tenant, w):
    admin = w["admin"]
    await call(client, "PATCH", "/api/v1/settings", admin, {"credit_four_eyes": True})
    for kind, url in URL.items():
        line = (w["b2"], "10") if kind == "recharge" else (w["b2"], "increase", "10")
        doc = await make_doc(client, admin, kind, line, submit=True)
        await refused(client, "POST", f"{url}/{doc['id']}/confirm", admin, None, 403, "four_eyes")
        assert (await call(client, "GET", f"{url}/{doc['id']}", admin))["status"] == "submitted"
        # b2boss is no ancestor of this document's org: it cannot even see it
        await refused(client, "POST", f"{url}/{doc['id']}/confirm", w["b2_api"], None, 404, "not_found")
    await service_user(tenant, "checker", w["hq"], "hq", CHECKER)
    headers = await api_login(client, "checker@ACME", PASSWORD)
    for url in URL.values():
        listed = (await call(client, "GET", url, admin))["items"]
        assert (await call(client, "POST", f"{url}/{listed[0]['id']}/confirm", headers))["status"] == "confirmed"
    assert await account_of(client, admin, w["b2"]) == ("20.0000", "0.0000", "20.0000")
    # off again: the submitter may confirm
    await call(client, "PATCH", "/api/v1/settings", admin, {"credit_four_eyes": False})
    doc = await make_doc(client, admin, "recharge", (w["b2"], "1"), confirm=True)
    assert doc["submitted_by"] == doc["confirmed_by"]


async def test_each_action_needs_its_permission(client, tenant, w):
    admin = w["admin"]
    await service_user(tenant, "viewer", w["hq"], "hq", ["credit.recharge.view", "credit.adjustment.view"])
    headers = await api_login(client, "viewer@ACME", PASSWORD)
    docs = {
        "recharge": await make_doc(client, admin, "recharge", (w["b2"], "10")),
        "adjustment": await make_doc(client, admin, "adjustment", (w["b2"], "increase", "10")),
    }
    before = await database_state()
    for kind, url in URL.items():
        doc_url = f"{url}/{docs[kind]['id']}"
        line_url = f"{doc_url}/lines/{docs[kind]['lines'][0]['id']}"
        assert (await call(client, "GET", url, headers))["total"] == 1
        assert (await call(client, "GET", doc_url, headers))["id"] == docs[kind]["id"]
        line = {"org_id": w["b2"], "amount": "1"} | ({"direction": "increase"} if kind == "adjustment" else {})
        for method, path, body in (
            ("POST", url, {"lines": [line]}),
            ("PATCH", doc_url, {"remark": "x"}),
            ("POST", f"{doc_url}/lines", line),
            ("PATCH", line_url, {"amount": "2"}),
            ("DELETE", line_url, None),
            ("POST", f"{doc_url}/submit", None),
            ("POST", f"{doc_url}/confirm", None),
            ("DELETE", doc_url, None),
        ):
            await refused(client, method, path, headers, body, 403, "forbidden")
    # no credit.account.view: the accounts are closed to it
    for path in (ACCOUNTS, f"{ACCOUNTS}/{w['b2']}", f"{ACCOUNTS}/{w['b2']}/entries", f"{ACCOUNTS}/{w['b2']}/freezes"):
        await refused(client, "GET", path, headers, None, 403, "forbidden")
    assert await database_state() == before
    # and one with the account codes only sees no documents
    await service_user(tenant, "auditor", w["hq"], "hq", ["credit.account.view"])
    auditor = await api_login(client, "auditor@ACME", PASSWORD)
    assert (await call(client, "GET", ACCOUNTS, auditor))["total"] == 3
    for url in URL.values():
        await refused(client, "GET", url, auditor, None, 403, "forbidden")


async def test_submit_needs_submit_and_confirm_needs_confirm(client, tenant, w):
    """A clerk who may create but not confirm, and a checker who may confirm but not create."""
    await service_user(tenant, "clerk", w["hq"], "hq", ["credit.recharge.view", "credit.recharge.create"])
    clerk = await api_login(client, "clerk@ACME", PASSWORD)
    doc = await make_doc(client, clerk, "recharge", (w["b2"], "10"))
    await refused(client, "POST", f"{URL['recharge']}/{doc['id']}/submit", clerk, None, 403, "forbidden")
    await call(client, "POST", f"{URL['recharge']}/{doc['id']}/submit", w["admin"])
    await refused(client, "POST", f"{URL['recharge']}/{doc['id']}/confirm", clerk, None, 403, "forbidden")
    await refused(client, "DELETE", f"{URL['recharge']}/{doc['id']}", clerk, None, 403, "forbidden")


async def test_accounts_list_one_entries_and_freezes(client, w):
    admin = w["admin"]
    await make_doc(client, admin, "recharge", (w["b2"], "1000"), (w["b3"], "0.5"), confirm=True)
    await make_doc(client, admin, "adjustment", (w["b2"], "decrease", "0.0001"), submit=True)
    items = assert_envelope(await call(client, "GET", ACCOUNTS, admin), 3, ACCOUNT_FIELDS)
    by_org = {a["org_id"]: a for a in items}
    assert set(by_org) == {w["b2"], w["b3"], w["s2"]}  # the head office has no account
    assert [a["org_id"] for a in items] == [w["b2"], w["b3"], w["s2"]]  # tree order
    assert (by_org[w["b2"]]["balance"], by_org[w["b2"]]["frozen"], by_org[w["b2"]]["available"]) == (
        "1000.0000",
        "0.0001",
        "999.9999",
    )
    assert by_org[w["s2"]]["balance"] == "0.0000" and by_org[w["s2"]]["updated_at"] is None  # never posted
    one = await call(client, "GET", f"{ACCOUNTS}/{w['b2']}", admin)
    assert set(one) == ACCOUNT_FIELDS and one["org_name"] == "B2网点" and one["level"] == 2
    assert {k: one[k] for k in ("balance", "frozen", "available")} == {
        k: by_org[w["b2"]][k] for k in ("balance", "frozen", "available")
    }
    for item in items:
        assert all(MONEY.match(item[k]) for k in ("balance", "frozen", "available")), item
    assert (await client.get(ACCOUNTS, params={"q": "B3"}, headers=admin)).json()["total"] == 1
    paged = (await client.get(ACCOUNTS, params={"page": 2, "page_size": 2}, headers=admin)).json()
    assert (paged["total"], [a["org_id"] for a in paged["items"]]) == (3, [w["s2"]])
    await refused(client, "GET", f"{ACCOUNTS}/{w['hq']}", admin, None, 404, "not_found")
    entries = (await client.get(f"{ACCOUNTS}/{w['b2']}/entries", params={"page_size": 1}, headers=admin)).json()
    assert entries["total"] == 2 and [e["kind"] for e in entries["items"]] == ["freeze"]
    s2 = await call(client, "GET", f"{ACCOUNTS}/{w['s2']}/entries", admin)
    assert (s2["total"], s2["items"]) == (0, [])


BAD_QUERIES = [
    ("{accounts}", {"page": "abc"}),
    ("{accounts}", {"page": "0"}),
    ("{accounts}", {"page_size": "1000"}),
    ("{accounts}", {"q": "x" * 1000}),
    ("{accounts}/{b2}/entries", {"kind": "bogus"}),
    ("{accounts}/{b2}/entries", {"page_size": "0"}),
    ("{accounts}/{b2}/entries", {"doc_no": "x" * 1000}),
    ("{accounts}/{b2}/freezes", {"open": "maybe"}),
    ("{accounts}/{b2}/freezes", {"page": "-1"}),
    ("{accounts}/{b2}/freezes", {"doc_no": "x" * 1000}),
    ("{recharges}", {"status": "gone"}),
    ("{recharges}", {"org_id": "abc"}),
    ("{recharges}", {"org_id": str(HUGE)}),
    ("{recharges}", {"no": "x" * 1000}),
    ("{adjustments}", {"page_size": "201"}),
    ("{adjustments}", {"status": "void"}),
]


async def test_bad_query_parameters_are_a_400_in_chinese(client, w):
    failures = []
    for path, params in BAD_QUERIES:
        url = path.format(accounts=ACCOUNTS, recharges=URL["recharge"], adjustments=URL["adjustment"], b2=w["b2"])
        response = await client.get(url, params=params, headers=w["admin"])
        try:
            error_of(response, 400)
        except AssertionError:
            failures.append(f"{url} {params}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


async def test_unknown_and_huge_ids_in_the_path_are_404_or_400_never_500(client, w):
    admin = w["admin"]
    doc = await make_doc(client, admin, "adjustment", (w["b2"], "increase", "1"))
    before = await database_state()
    for bad in (UNKNOWN, HUGE, 0, -1):
        for url in URL.values():
            for method, path, body in (
                ("GET", f"{url}/{bad}", None),
                ("PATCH", f"{url}/{bad}", {"remark": "x"}),
                ("DELETE", f"{url}/{bad}", None),
                ("POST", f"{url}/{bad}/submit", None),
                ("POST", f"{url}/{bad}/confirm", None),
                ("POST", f"{url}/{bad}/lines", {"org_id": w["b2"], "direction": "increase", "amount": "1"}),
                ("PATCH", f"{url}/{bad}/lines/1", {"amount": "1"}),
                ("DELETE", f"{url}/{bad}/lines/1", None),
            ):
                response = await client.request(method, path, json=body, headers=admin)
                assert response.status_code in (400, 404), (method, path, response.text)
                error_of(response, response.status_code)
        for path in (f"{ACCOUNTS}/{bad}", f"{ACCOUNTS}/{bad}/entries", f"{ACCOUNTS}/{bad}/freezes"):
            response = await client.get(path, headers=admin)
            assert response.status_code in (400, 404), (path, response.text)
            error_of(response, response.status_code)
        line_url = f"{URL['adjustment']}/{doc['id']}/lines/{bad}"
        for method, body in (("PATCH", {"amount": "1"}), ("DELETE", None)):
            response = await client.request(method, line_url, json=body, headers=admin)
            assert response.status_code in (400, 404), (method, line_url, response.text)
    # a line of another document is not a line of this one
    other = await make_doc(client, admin, "adjustment", (w["b3"], "increase", "1"))
    before = await database_state()
    foreign = f"{URL['adjustment']}/{doc['id']}/lines/{other['lines'][0]['id']}"
    await refused(client, "PATCH", foreign, admin, {"amount": "2"}, 404, "not_found")
    await refused(client, "DELETE", foreign, admin, None, 404, "not_found")
    await refused(client, "PATCH", f"{URL['recharge']}/{doc['id']}", admin, {"remark": "x"}, 404, "not_found")
    assert await database_state() == before


# --- the bad-input sweep -----------------------------------------------------------------------

RAW_BODIES = [b"{not json", b"", b"null", b"[]", b'"text"']
AMOUNTS = {
    "zero": "0",
    "negative": "-1",
    "minus zero decimals": "-0.0000",
    "5 decimals": "0.00001",
    "5 decimals on a whole": "1.00005",
    "beyond NUMERIC(18,4)": "100000000000000",
    "far beyond": "1e30",
    "not a number": "abc",
    "empty": "",
    "blank": "   ",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "number for string": 5,
    "float for string": 1.5,
    "bool for string": True,
    "null": None,
    "list": ["1"],
}
ORG_IDS = {
    "string for id": "abc",
    "numeric string for id": "12",
    "float for id": 1.5,
    "bool for id": True,
    "zero": 0,
    "negative": -1,
    "beyond INTEGER": 2**31,
    "huge": HUGE,
    "null": None,
    "unknown": UNKNOWN,
}
DIRECTIONS = {"unknown": "sideways", "Chinese name": "增加", "upper case": "INCREASE", "empty": "", "number": 1}
REMARKS = {"10,000 characters": "长" * 10_000, "number for string": 12345, "list": ["x"]}


def line_cases(kind: str, valid: dict, required: tuple[str, ...]) -> list[tuple[str, dict]]:
    """(label, line) for every way one valid line can be broken."""
    cases = [(f"amount {label}", valid | {"amount": v}) for label, v in AMOUNTS.items()]
    cases += [(f"org_id {label}", valid | {"org_id": v}) for label, v in ORG_IDS.items()]
    cases += [(f"remark {label}", valid | {"remark": v}) for label, v in REMARKS.items()]
    if kind == "adjustment":
        cases += [(f"direction {label}", valid | {"direction": v}) for label, v in DIRECTIONS.items()]
        cases.append(("direction null", valid | {"direction": None}))
    cases += [(f"missing {key}", {k: v for k, v in valid.items() if k != key}) for key in required]
    return cases


def bad_bodies(kind: str, w: dict) -> dict[str, list[tuple[str, dict | bytes]]]:
    """Per endpoint (method, path template), the broken bodies."""
    valid = {"org_id": w["b3"], "amount": "1.2345", "remark": "r"} | (
        {"direction": "decrease"} if kind == "adjustment" else {}
    )
    required = ("org_id", "amount", "direction") if kind == "adjustment" else ("org_id", "amount")
    raw = [(f"raw body {b!r}", b) for b in RAW_BODIES]
    lines = line_cases(kind, valid, required)
    patches = [(label, line) for label, line in lines if not label.startswith("missing")]
    own = [
        ("own org", valid | {"org_id": w["b2"]}),
        ("parent org", valid | {"org_id": w["hq"]}),
        ("sibling org", valid | {"org_id": w["s2"]}),
    ]
    create = [(f"line {label}", {"lines": [valid, line]}) for label, line in lines + own]
    create += [
        ("lines not a list", {"lines": valid}),
        ("lines a string", {"lines": "x"}),
        ("a line not an object", {"lines": [1]}),
        ("501 lines", {"lines": [valid] * 501}),
        ("remark too long", {"remark": "长" * 501, "lines": [valid]}),
        ("remark a number", {"remark": 1, "lines": [valid]}),
    ]
    return {
        "POST {url}": create + raw,
        "PATCH {url}/{doc}": [("remark too long", {"remark": "长" * 501}), ("remark a list", {"remark": []})] + raw,
        "POST {url}/{doc}/lines": lines + own + raw,
        "PATCH {url}/{doc}/lines/{line}": patches + own + raw,
    }


async def send(client, method: str, path: str, body: dict | bytes, headers: dict):
    if isinstance(body, bytes):
        return await client.request(method, path, content=body, headers=headers | {"content-type": "application/json"})
    return await client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("kind", ["recharge", "adjustment"])
async def test_bad_bodies_are_refused_in_chinese_without_changing_anything(client, w, kind):
    """As b2boss, whose own org is B2: B3 is its only descendant."""
    headers = w["b2_api"]
    url = URL[kind]
    await make_doc(client, w["admin"], "recharge", (w["b3"], "100"), confirm=True)  # so decreases could freeze
    line = (w["b3"], "5") if kind == "recharge" else (w["b3"], "decrease", "5")
    doc = await make_doc(client, headers, kind, line)
    where = {"url": url, "doc": doc["id"], "line": doc["lines"][0]["id"]}
    before = await database_state()
    failures = []
    for endpoint, cases in bad_bodies(kind, w).items():
        method, template = endpoint.split(" ")
        path = template.format(**where)
        for label, body in cases:
            response = await send(client, method, path, body, headers)
            unknown = "unknown" in label or "huge" in label or "beyond INTEGER" in label
            problem = None
            if response.status_code not in ((400, 404) if unknown else (400,)):
                problem = f"status {response.status_code}: {response.text[:200]}"
            else:
                try:
                    error_of(response, response.status_code)
                except AssertionError as exc:
                    problem = str(exc)[:200]
            if problem:
                failures.append(f"{endpoint} {label} {json.dumps(body, ensure_ascii=False)[:80]}: {problem}")
    assert not failures, f"{kind}:\n" + "\n".join(failures)
    assert await database_state() == before
    # the undamaged bodies are accepted, so each refusal above came from the damage
    valid = {"org_id": w["b3"], "amount": "99999999999999.9999"} | (
        {"direction": "increase"} if kind != "recharge" else {}
    )
    doc = await call(client, "POST", url, headers, {"lines": [valid]}, 201)
    assert doc["total_amount"] == "99999999999999.9999"
    doc = await call(client, "PATCH", f"{url}/{doc['id']}/lines/{doc['lines'][0]['id']}", headers, {"amount": "0.0001"})
    assert doc["lines"][0]["amount"] == "0.0001"
