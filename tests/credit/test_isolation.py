"""Scoping of credit: an org issues recharges and adjustments only to its own descendants (never
itself, a sibling or an ancestor); a branch sees its own account and its descendants', not its
parent's or siblings'; another tenant's documents and accounts are 404 for every read and write,
and nothing changes."""

from __future__ import annotations

import pytest

from tests.conftest import api_login
from tests.credit.api_helpers import ACCOUNTS, URL, account_of, api_world, call, database_state, make_doc, refused
from tests.credit.helpers import CREDIT_ALL
from tests.system.helpers import PASSWORD, service_user


@pytest.fixture
async def w(client, tenant) -> dict:
    return await api_world(client, tenant)


def line(kind: str, org_id: int, amount: str = "1", direction: str = "increase") -> dict:
    return {"org_id": org_id, "amount": amount} | ({"direction": direction} if kind == "adjustment" else {})


def every_write(kind: str, doc: dict, org_id: int) -> list[tuple[str, str, dict | None]]:
    """Every request that reads or changes one document."""
    doc_url = f"{URL[kind]}/{doc['id']}"
    line_url = f"{doc_url}/lines/{doc['lines'][0]['id']}"
    return [
        ("GET", doc_url, None),
        ("PATCH", doc_url, {"remark": "被改"}),
        ("POST", f"{doc_url}/lines", line(kind, org_id)),
        ("PATCH", line_url, {"amount": "9"}),
        ("DELETE", line_url, None),
        ("POST", f"{doc_url}/submit", None),
        ("POST", f"{doc_url}/confirm", None),
        ("DELETE", doc_url, None),
    ]


async def acme_documents(client, w: dict) -> dict[str, list[dict]]:
    """Per kind: a draft, a submitted and a confirmed document of the head office (the submitted
    adjustment holds a freeze)."""
    admin = w["admin"]
    await make_doc(client, admin, "recharge", (w["b2"], "100"), confirm=True)
    docs = {}
    for kind in URL:
        one = (w["b2"], "10") if kind == "recharge" else (w["b2"], "decrease", "10")
        docs[kind] = [
            await make_doc(client, admin, kind, one),
            await make_doc(client, admin, kind, one, submit=True),
            await make_doc(client, admin, kind, one, confirm=True),
        ]
    return docs


async def test_another_tenants_credit_is_not_found_and_stays_unchanged(client, w, other_tenant):
    docs = await acme_documents(client, w)
    other = await api_login(client, "admin@OTHER")
    before = await database_state()
    for kind, rows in docs.items():
        for doc in rows:
            for method, path, body in every_write(kind, doc, w["b2"]):
                await refused(client, method, path, other, body, 404, "not_found")
        listed = await call(client, "GET", URL[kind], other)
        assert (listed["total"], listed["items"]) == (0, [])
        # naming ACME's branch in a line of OTHER's own document is refused like any unknown org
        await refused(client, "POST", URL[kind], other, {"lines": [line(kind, w["b2"])]}, 400, "not_descendant")
    for org in (w["b2"], w["b3"], w["s2"], w["hq"]):
        for path in (f"{ACCOUNTS}/{org}", f"{ACCOUNTS}/{org}/entries", f"{ACCOUNTS}/{org}/freezes"):
            await refused(client, "GET", path, other, None, 404, "not_found")
    assert (await call(client, "GET", ACCOUNTS, other))["total"] == 0  # OTHER has no branch yet
    assert await database_state() == before
    assert await account_of(client, w["admin"], w["b2"]) == ("100.0000", "10.0000", "90.0000")


async def test_a_branch_sees_its_own_account_and_its_descendants_only(client, w, tenant):
    await make_doc(client, w["admin"], "recharge", (w["b2"], "100"), (w["b3"], "50"), (w["s2"], "7"), confirm=True)
    b2, b3 = w["b2_api"], w["b3_api"]
    assert [a["org_id"] for a in (await call(client, "GET", ACCOUNTS, b2))["items"]] == [w["b2"], w["b3"]]
    assert [a["org_id"] for a in (await call(client, "GET", ACCOUNTS, b3))["items"]] == [w["b3"]]
    assert await account_of(client, b2, w["b2"]) == ("100.0000", "0.0000", "100.0000")
    assert await account_of(client, b2, w["b3"]) == ("50.0000", "0.0000", "50.0000")
    assert (await call(client, "GET", f"{ACCOUNTS}/{w['b3']}/entries", b3))["total"] == 1
    assert (await call(client, "GET", f"{ACCOUNTS}/{w['b2']}/freezes", b2))["total"] == 0
    for headers, hidden in ((b2, (w["hq"], w["s2"])), (b3, (w["hq"], w["b2"], w["s2"]))):
        for org in hidden:
            for path in (f"{ACCOUNTS}/{org}", f"{ACCOUNTS}/{org}/entries", f"{ACCOUNTS}/{org}/freezes"):
                await refused(client, "GET", path, headers, None, 404, "not_found")
    # the sibling S2 sees only itself
    await service_user(tenant, "s2boss", w["s2"], "branch", CREDIT_ALL)
    s2 = await api_login(client, "s2boss@ACME", PASSWORD)
    assert [a["org_id"] for a in (await call(client, "GET", ACCOUNTS, s2))["items"]] == [w["s2"]]
    await refused(client, "GET", f"{ACCOUNTS}/{w['b3']}/entries", s2, None, 404, "not_found")


@pytest.mark.parametrize("kind", ["recharge", "adjustment"])
async def test_an_org_issues_only_to_its_own_descendants(client, w, kind):
    url, b2, b3 = URL[kind], w["b2_api"], w["b3_api"]
    doc = await call(client, "POST", url, b2, {"lines": [line(kind, w["b3"])]}, 201)
    assert doc["org_id"] == w["b2"] and doc["lines"][0]["org_id"] == w["b3"]
    before = await database_state()
    doc_url = f"{url}/{doc['id']}"
    line_url = f"{doc_url}/lines/{doc['lines'][0]['id']}"
    for org, code in ((w["b2"], "own_org"), (w["s2"], "not_descendant"), (w["hq"], "not_descendant")):
        await refused(client, "POST", url, b2, {"lines": [line(kind, org)]}, 400, code)
        await refused(client, "POST", f"{doc_url}/lines", b2, line(kind, org), 400, code)
        await refused(client, "PATCH", line_url, b2, {"org_id": org}, 400, code)
    # B3 is a leaf: nobody is below it, not itself nor its parent
    for org, code in ((w["b3"], "own_org"), (w["b2"], "not_descendant")):
        await refused(client, "POST", url, b3, {"lines": [line(kind, org)]}, 400, code)
    # the head office has no account to give to itself
    await refused(client, "POST", url, w["admin"], {"lines": [line(kind, w["hq"])]}, 400, "own_org")
    assert await database_state() == before


@pytest.mark.parametrize("kind", ["recharge", "adjustment"])
async def test_lines_of_a_document_are_for_the_issuers_descendants_whoever_edits_it(client, w, kind):
    """The head office may edit B2's draft (it sees its subtree's documents) but cannot make B2
    recharge or adjust itself, nor B2's sibling."""
    doc = await call(client, "POST", URL[kind], w["b2_api"], {"lines": [line(kind, w["b3"])]}, 201)
    doc_url = f"{URL[kind]}/{doc['id']}"
    before = await database_state()
    for org, code in ((w["b2"], "own_org"), (w["s2"], "not_descendant")):
        await refused(client, "POST", f"{doc_url}/lines", w["admin"], line(kind, org), 400, code)
        line_url = f"{doc_url}/lines/{doc['lines'][0]['id']}"
        await refused(client, "PATCH", line_url, w["admin"], {"org_id": org}, 400, code)
    assert await database_state() == before
    doc = await call(client, "POST", f"{doc_url}/lines", w["admin"], line(kind, w["b3"], "2"), 201)
    assert [li["org_id"] for li in doc["lines"]] == [w["b3"], w["b3"]]


async def test_documents_are_seen_within_the_issuers_subtree_only(client, w, tenant):
    """B2's documents are seen by B2 and the head office; the head office's by nobody below it,
    even when they recharge B2; B3 (the receiver) and the sibling S2 do not see B2's."""
    await service_user(tenant, "s2boss", w["s2"], "branch", CREDIT_ALL)
    s2 = await api_login(client, "s2boss@ACME", PASSWORD)
    await make_doc(client, w["admin"], "recharge", (w["b3"], "100"), confirm=True)
    for kind in URL:
        hq_doc = await make_doc(
            client, w["admin"], kind, (w["b2"], "1") if kind == "recharge" else (w["b2"], "increase", "1")
        )
        b2_doc = await make_doc(
            client, w["b2_api"], kind, (w["b3"], "1") if kind == "recharge" else (w["b3"], "decrease", "1")
        )
        before = await database_state()
        for headers in (w["b2_api"], w["b3_api"], s2):
            for method, path, body in every_write(kind, hq_doc, w["b3"]):
                await refused(client, method, path, headers, body, 404, "not_found")
        for headers in (w["b3_api"], s2):
            for method, path, body in every_write(kind, b2_doc, w["b3"]):
                await refused(client, method, path, headers, body, 404, "not_found")
        assert await database_state() == before
        assert [d["id"] for d in (await call(client, "GET", URL[kind], w["b2_api"]))["items"]] == [b2_doc["id"]]
        assert (await call(client, "GET", URL[kind], w["b3_api"]))["total"] == 0
        assert (await call(client, "GET", URL[kind], s2))["total"] == 0
        assert {d["id"] for d in (await call(client, "GET", URL[kind], w["admin"]))["items"]} >= {
            hq_doc["id"],
            b2_doc["id"],
        }
        # B2 runs its own document through; the head office could too
        await call(client, "POST", f"{URL[kind]}/{b2_doc['id']}/submit", w["b2_api"])
        done = await call(client, "POST", f"{URL[kind]}/{b2_doc['id']}/confirm", w["admin"])
        assert done["status"] == "confirmed" and done["org_id"] == w["b2"]
    assert await account_of(client, w["b3_api"], w["b3"]) == ("100.0000", "0.0000", "100.0000")
