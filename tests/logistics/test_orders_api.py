"""`/api/v1/orders` over HTTP: the shapes, the actions, the error answers (Chinese, never a 500,
nothing half-applied) and the race of 20 orders submitted at once against a limit that fits 7."""

from __future__ import annotations

import re

from server.credit.tables import CreditEntry, CreditFreeze
from server.logistics.tables import Order, OrderLine
from tests.api_helpers import call, concurrently, error_of, refused
from tests.conftest import api_login
from tests.logistics.helpers import account, network
from tests.system.helpers import PASSWORD

URL = "/api/v1/orders"
MONEY = re.compile(r"^\d+\.\d{4}$")


async def users(client, tenant, credit: str = "1000.0000") -> dict:
    n = await network(tenant, credit)
    return n | {
        "b2_api": await api_login(client, "b2user@ACME", PASSWORD),
        "b3_api": await api_login(client, "b3user@ACME", PASSWORD),
        "s2_api": await api_login(client, "s2user@ACME", PASSWORD),
        "hq_api": await api_login(client, "hqreview@ACME", PASSWORD),
    }


async def test_order_flow_over_the_api(client, tenant):
    n = await users(client, tenant)
    doc = await call(
        client, "POST", URL, n["b2_api"], {"remark": "补货", "lines": [{"goods_id": n["screen"], "qty": 2}]}, 201
    )
    assert doc["status"] == "draft" and doc["status_name"] == "暂存" and doc["remark"] == "补货"
    line = doc["lines"][0]
    assert set(line) == {
        "id",
        "goods_id",
        "goods_code",
        "goods_name",
        "unit",
        "spec",
        "qty",
        "unit_price",
        "amount",
        "shipped_qty",
        "received_qty",
        "open_qty",
    }
    assert MONEY.match(line["unit_price"]) and doc["total_amount"] == "220.0000"
    doc = await call(client, "POST", f"{URL}/{doc['id']}/lines", n["b2_api"], {"goods_id": n["battery"], "qty": 3}, 201)
    doc = await call(client, "PATCH", f"{URL}/{doc['id']}/lines/{doc['lines'][1]['id']}", n["b2_api"], {"qty": 4})
    assert doc["total_amount"] == "264.0000"
    doc = await call(client, "POST", f"{URL}/{doc['id']}/submit", n["b2_api"])
    assert doc["status"] == "submitted" and doc["credit"] is None

    listed = await call(client, "GET", f"{URL}?side=review&status=submitted", n["hq_api"])
    assert [d["no"] for d in listed["items"]] == [doc["no"]] and listed["total"] == 1
    assert listed["items"][0]["credit"] == {
        "limit": "1000.0000",
        "used": "0.0000",
        "balance": "1000.0000",
        "frozen": "264.0000",
        "available": "736.0000",
    }
    assert (await call(client, "GET", f"{URL}?side=own", n["hq_api"]))["total"] == 0
    doc = await call(client, "POST", f"{URL}/{doc['id']}/approve", n["hq_api"])
    assert doc["status"] == "approved"
    doc = await call(client, "POST", f"{URL}/{doc['id']}/close", n["hq_api"])
    assert doc["status"] == "closed" and doc["status_name"] == "已关闭"
    assert await account(n["b2_org"]) == (10_000_000, 0)

    other = await call(client, "POST", URL, n["b2_api"], {"lines": [{"goods_id": n["screen"], "qty": 1}]}, 201)
    await call(client, "POST", f"{URL}/{other['id']}/submit", n["b2_api"])
    await refused(client, "POST", f"{URL}/{other['id']}/reject", n["hq_api"], {}, 400)
    body = await refused(client, "POST", f"{URL}/{other['id']}/reject", n["hq_api"], {"reason": ""}, 400, "required")
    assert "驳回原因" in body["detail"]
    doc = await call(client, "POST", f"{URL}/{other['id']}/reject", n["hq_api"], {"reason": "库存不足"})
    assert doc["status"] == "rejected" and doc["reason"] == "库存不足"
    third = await call(client, "POST", URL, n["b2_api"], {"lines": [{"goods_id": n["screen"], "qty": 1}]}, 201)
    doc = await call(client, "POST", f"{URL}/{third['id']}/withdraw", n["b2_api"])
    assert doc["status"] == "withdrawn"
    assert (
        await call(
            client, "DELETE", f"{URL}/{(await call(client, 'POST', URL, n['b2_api'], {}, 201))['id']}", n["b2_api"]
        )
    )["status"] == "deleted"


async def test_refusals_answer_in_chinese_and_change_nothing(client, tenant, other_tenant):
    n = await users(client, tenant, credit="100.0000")
    hq_apply = await client.post(URL, json={}, headers=await api_login(client, "admin@ACME"))
    error_of(hq_apply, 403, "no_parent")
    for bad in (
        {"lines": [{"goods_id": n["screen"], "qty": 0}]},
        {"lines": [{"goods_id": n["screen"], "qty": "两个"}]},
        {"lines": [{"goods_id": n["closed"], "qty": 1}]},
        {"lines": [{"goods_id": n["screen"], "qty": 1}, {"goods_id": n["screen"], "qty": 1}]},
        {"lines": [{"qty": 1}]},
        {"remark": "x" * 501},
        {"lines": "many"},
    ):
        error_of(await client.post(URL, json=bad, headers=n["b2_api"]), 400)
    assert await Order.count() == 0 and await OrderLine.count() == 0

    doc = await call(client, "POST", URL, n["b2_api"], {"lines": [{"goods_id": n["screen"], "qty": 1}]}, 201)
    body = error_of(await client.post(f"{URL}/{doc['id']}/submit", headers=n["b2_api"]), 409, "insufficient_credit")
    assert "额度不足" in body["detail"] and "10.0000" in body["detail"]
    assert await CreditFreeze.count() == 0 and await CreditEntry.count().where(CreditEntry.kind == "freeze") == 0
    assert (await call(client, "GET", f"{URL}/{doc['id']}", n["b2_api"]))["status"] == "draft"

    # not the parent: 403; out of the subtree or another tenant: 404
    error_of(await client.post(f"{URL}/{doc['id']}/approve", headers=n["b2_api"]), 403)
    other_admin = await api_login(client, "admin@OTHER")
    for headers in (n["s2_api"], n["b3_api"], other_admin):
        error_of(await client.get(f"{URL}/{doc['id']}", headers=headers), 404, "not_found")
        error_of(await client.post(f"{URL}/{doc['id']}/withdraw", headers=headers), 404)
        error_of(
            await client.post(f"{URL}/{doc['id']}/lines", json={"goods_id": n["screen"], "qty": 1}, headers=headers),
            404,
        )
    error_of(await client.post(f"{URL}/{doc['id']}/approve", headers=other_admin), 404)
    error_of(await client.get(f"{URL}?side=everything", headers=n["b2_api"]), 400)
    error_of(await client.get(f"{URL}?status=lost", headers=n["b2_api"]), 400)
    # permissions: the applicant cannot review, a reviewer without order rights cannot apply
    error_of(await client.post(f"{URL}/{doc['id']}/close", headers=n["b3_api"]), 403)
    error_of(await client.post(URL, json={}, headers=n["hq_api"]), 403)


async def test_twenty_orders_submitted_at_once_against_credit_for_seven_freeze_exactly_seven(client, tenant):
    n = await users(client, tenant, credit="800.0000")  # 7 × 110 = 770 fits, 8 × 110 does not
    docs = [
        await call(client, "POST", URL, n["b2_api"], {"lines": [{"goods_id": n["screen"], "qty": 1}]}, 201)
        for _ in range(20)
    ]
    responses = await concurrently(client, [("POST", f"{URL}/{d['id']}/submit", n["b2_api"], None) for d in docs])
    ok = [r for r in responses if r.status_code == 200]
    refusals = [error_of(r, 409, "insufficient_credit") for r in responses if r.status_code != 200]
    assert len(ok) == 7 and len(refusals) == 13
    assert all("还差 80.0000" in b["detail"] for b in refusals)
    assert await account(n["b2_org"]) == (8_000_000, 7_700_000)
    statuses = [(await call(client, "GET", f"{URL}/{d['id']}", n["b2_api"]))["status"] for d in docs]
    assert statuses.count("submitted") == 7 and statuses.count("draft") == 13
    assert await CreditFreeze.count() == 7
