"""The pages of 【订货申请】 and 【订单审核】: the branch drafts, adds lines through the orderable
goods picker, submits (【额度不足】 with the shortfall when short) and withdraws; the parent lists
its children's orders with their credit, approves, rejects with a reason and closes short. Every
refusal answers its Chinese message, never a 500."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import urlencode

from openpyxl import load_workbook

from server.logistics.services import orders
from tests.api_helpers import htmx_refusal
from tests.conftest import api_login, csrf, page_login
from tests.credit.helpers import recharge
from tests.logistics.helpers import account, network, order
from tests.system.helpers import PASSWORD

ROWS = {"hx-request": "true", "hx-target": "rows"}
LINES = {"hx-request": "true", "hx-target": "lines"}
BASE, REVIEW = "/logistics/orders", "/logistics/order-reviews"


def location(response) -> str:
    return json.loads(response.headers["hx-location"])["path"]


async def post(client, url: str, data: dict | None = None):
    return await client.post(url, data=data or {}, headers=csrf(client))


async def listed(client, url: str, **filters) -> list[str]:
    response = await client.get(f"{url}?{urlencode(filters)}", headers=ROWS)
    assert response.status_code == 200, response.text
    assert "<html" not in response.text
    return re.findall(r'data-no="([^"]+)"', response.text)


async def test_branch_applies_and_withdraws_from_the_pages(client, tenant):
    n = await network(tenant, credit="300.0000")
    await page_login(client, "b2user@ACME", PASSWORD)
    home = await client.get("/")
    assert "物流管理" in home.text and f'href="{BASE}"' in home.text and f'href="{REVIEW}"' in home.text
    assert (await client.get(f"{BASE}/new")).status_code == 200

    created = await post(client, BASE, {"remark": "本周补货"})
    assert created.status_code == 201, created.text
    url = location(created)
    page = await client.get(url)
    assert page.status_code == 200 and "本周补货" in page.text and "提交" in page.text

    # the picker offers only what B2 may order
    picker = await client.get(f"{BASE}/goods?q=")
    assert "SCR" in picker.text and "BAT" in picker.text and "NOO" not in picker.text
    form = await client.get(f"{url}/lines/new", headers={"hx-request": "true"})
    assert f"{BASE}/goods" in form.text
    assert (await post(client, f"{url}/lines", {"goods_id": n["screen"], "qty": "3"})).status_code == 201
    htmx_refusal(await post(client, f"{url}/lines", {"goods_id": n["closed"], "qty": "1"}), 400, "不允许本机构订购")
    htmx_refusal(await post(client, f"{url}/lines", {"goods_id": n["battery"], "qty": "零"}), 400, "数量")
    lines = await client.get(f"{url}?shown=draft", headers=LINES)
    assert "330.0000" in lines.text and "<html" not in lines.text

    # 【提交】 short of credit: 额度不足 with the shortfall, still a draft
    refused = await post(client, f"{url}/submit", {"remark": "本周补货"})
    htmx_refusal(refused, 409, "额度不足：还差 30.0000")
    doc_id = int(url.rsplit("/", 1)[1])
    line_id = (await orders.get(tenant, "order", doc_id))["lines"][0]["id"]
    assert (await post(client, f"{url}/lines/{line_id}", {"qty": "2"})).status_code == 200
    submitted = await post(client, f"{url}/submit", {"remark": "本周补货"})
    assert submitted.status_code == 200 and location(submitted) == url
    assert await account(n["b2_org"]) == (3_000_000, 2_200_000)
    assert await listed(client, BASE) == [(await orders.get(tenant, "order", doc_id))["no"]]
    page = await client.get(url)
    assert "撤回" in page.text and 'hx-post="' + url + '/approve"' not in page.text

    withdrawn = await post(client, f"{url}/withdraw")
    assert withdrawn.status_code == 200
    assert (await orders.get(tenant, "order", doc_id))["status"] == "withdrawn"
    assert await account(n["b2_org"]) == (3_000_000, 0)
    htmx_refusal(await post(client, f"{url}/withdraw"), 409, "已撤回")


async def test_parent_reviews_with_the_childs_credit_beside_each_order(client, tenant, other_tenant):
    n = await network(tenant)
    first = await order(n["b2"], (n["screen"], 2))
    second = await order(n["b2"], (n["battery"], 1))
    draft = await order(n["b2"], (n["battery"], 3), submit=False)
    await page_login(client, "hqreview@ACME", PASSWORD)
    page = await client.get(REVIEW)
    assert page.status_code == 200 and "订单审核" in page.text and "B2网点" in page.text
    assert await listed(client, REVIEW) == [second["no"], first["no"]]  # waiting for review, newest first
    rows = (await client.get(REVIEW, headers=ROWS)).text
    assert "1000.0000" in rows and "231.0000" in rows and "769.0000" in rows  # limit, frozen, available
    assert draft["no"] not in await listed(client, REVIEW, status="")

    detail = await client.get(f"{REVIEW}/{first['id']}")
    assert detail.status_code == 200 and "审核通过" in detail.text and "驳回" in detail.text
    assert "已发货" in detail.text and "已收货" in detail.text and 'id="order-credit"' in detail.text
    approved = await post(client, f"{REVIEW}/{first['id']}/approve")
    assert approved.status_code == 200 and location(approved) == f"{REVIEW}/{first['id']}"
    htmx_refusal(await post(client, f"{REVIEW}/{first['id']}/approve"), 409, "已审核")

    dialog = await client.get(f"{REVIEW}/{second['id']}/reject", headers={"hx-request": "true"})
    assert dialog.status_code == 200 and "驳回原因" in dialog.text
    htmx_refusal(await post(client, f"{REVIEW}/{second['id']}/reject", {"reason": ""}), 400, "驳回原因")
    assert (await post(client, f"{REVIEW}/{second['id']}/reject", {"reason": "重复订货"})).status_code == 200
    closed = await post(client, f"{REVIEW}/{first['id']}/close")
    assert closed.status_code == 200
    assert await account(n["b2_org"]) == (10_000_000, 0)
    assert await listed(client, REVIEW, status="closed") == [first["no"]]

    # no permission to apply (403); another tenant's or an unknown order (404)
    htmx_refusal(await post(client, BASE, {"remark": "x"}), 403)
    other = await order(n["s2"], (n["screen"], 1), submit=False)
    await page_login(client, "admin@OTHER")
    assert (await client.get(f"{REVIEW}/{other['id']}")).status_code == 404
    htmx_refusal(await post(client, f"{REVIEW}/{other['id']}/approve"), 404)


def sheet(response) -> list[list]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]


async def test_both_lists_and_the_api_export_what_they_show(client, tenant):
    n = await network(tenant)
    await recharge(tenant, (n["s2_org"], "100.0000"))
    mine = await order(n["b2"], (n["screen"], 2))
    other = await order(n["s2"], (n["battery"], 1))
    await page_login(client, "b2user@ACME", PASSWORD)
    rows = sheet(await client.get(f"{BASE}/export"))
    assert rows[0][:6] == ["单号", "状态", "订货机构", "审核机构", "制单人", "提交时间"]
    assert rows[0][6:] == ["货品编码", "货品名称", "单位", "订货数量", "单价", "金额", "已发货", "已收货"]
    assert [(r[0], r[1], r[2], r[6], r[9], r[10], r[11], r[12]) for r in rows[1:]] == [
        (mine["no"], "已提交", "B2网点", "SCR", 2, 110, 220, 0)
    ]
    headers = await api_login(client, "b2user@ACME", PASSWORD)
    api = sheet(await client.get("/api/v1/orders/export", params={"side": "own"}, headers=headers))
    assert [r[0] for r in api[1:]] == [mine["no"]]

    # the parent's review list: its children's orders, waiting first (the list's default filter)
    await page_login(client, "hqreview@ACME", PASSWORD)
    reviewed = sheet(await client.get(f"{REVIEW}/export"))
    assert sorted(r[0] for r in reviewed[1:]) == sorted([mine["no"], other["no"]])
    assert sheet(await client.get(f"{REVIEW}/export", params={"org_id": n["s2_org"]}))[1:][0][0] == other["no"]
