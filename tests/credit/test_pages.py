"""The pages of 【额度充值】, 【额度调整】 and 【额度查询】: lists with filters and pages, the document
page (line form above the lines, 暂存/提交/确认/删除), the accounts with their three record tabs
and the xlsx exports. Every refusal answers its Chinese message, never a 500: the own org,
5 decimals, a branch reaching its parent or sibling, no permission (403), another tenant (404),
lines of a submitted document, a second confirmation (409) and four-eyes (403)."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook

from server.credit import permissions as P
from server.credit.services import documents, ledger
from server.system.services import tenants
from tests.api_helpers import htmx_refusal as refused
from tests.conftest import csrf, page_login
from tests.credit.helpers import adjustment, balances, branches, recharge
from tests.system.helpers import PASSWORD, service_org, service_user

ROWS = {"hx-request": "true", "hx-target": "rows"}
LINES = {"hx-request": "true", "hx-target": "lines"}
LINE_FORM = {"hx-request": "true", "hx-target": "line-form"}


def toast(response) -> dict:
    return json.loads(response.headers["hx-trigger"])["weifu:saved"]


def location(response) -> str:
    """Where a done action sends the page (htmx navigation)."""
    return json.loads(response.headers["hx-location"])["path"]


async def post(client, url: str, data: dict | None = None):
    return await client.post(url, data=data or {}, headers=csrf(client))


async def listed(client, url: str, **filters) -> list[str]:
    response = await client.get(f"{url}?{urlencode(filters)}", headers=ROWS)
    assert response.status_code == 200, response.text
    assert "<html" not in response.text
    return re.findall(r'data-no="([^"]+)"', response.text)


def sheet(response) -> list[list]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]


@pytest.fixture
async def t(tenant) -> dict:
    return await branches(tenant)


async def test_recharge_from_new_page_to_confirmation(client, tenant, t):
    await page_login(client, "admin@ACME")
    listing = await client.get("/credit/recharges")
    assert listing.status_code == 200 and 'href="/credit/recharges/new"' in listing.text and "额度充值" in listing.text
    new = await client.get("/credit/recharges/new")
    assert new.status_code == 200 and 'id="line-form"' in new.text and "/pickers/orgs" in new.text
    assert new.text.index('id="line-form"') < new.text.index("暂无明细")  # the form sits above the lines

    # the first 【添加】 creates the draft (with the remark typed beside it) and opens it
    created = await post(
        client, "/credit/recharges", {"org_id": t["b2"], "amount": "1000", "line_remark": "首批", "remark": "开户"}
    )
    assert created.status_code == 201, created.text
    url = location(created)
    doc_id = int(url.rsplit("/", 1)[1])
    doc = await documents.get(tenant, "recharge", doc_id)
    assert (doc["status"], doc["remark"], doc["total_amount"]) == ("draft", "开户", "1000.0000")
    assert doc["lines"][0]["remark"] == "首批"

    # refusals show inline in the line form: the own org, 5 decimals, nothing chosen
    refused(await post(client, f"{url}/lines", {"org_id": tenant.org_id, "amount": "1"}), 400, "不能为本机构自己充值")
    refused(await post(client, f"{url}/lines", {"org_id": t["b3"], "amount": "1.00001"}), 400, "最多 4 位小数")
    refused(await post(client, f"{url}/lines", {"org_id": "", "amount": "1"}), 400, "请选择机构")
    refused(await post(client, f"{url}/lines", {"org_id": t["b3"], "amount": "0"}), 400, "金额必须大于 0")

    added = await post(client, f"{url}/lines", {"org_id": t["b3"], "amount": "0.0001", "line_remark": ""})
    assert added.status_code == 201, added.text
    assert toast(added)["topic"] == "recharges" and "B3网点" in toast(added)["message"]
    assert 'id="line-form"' in added.text and "<html" not in added.text and 'value="0.0001"' not in added.text
    lines = await client.get(url, headers=LINES)
    assert lines.status_code == 200 and "<html" not in lines.text
    assert "B3网点" in lines.text and "1000.0001" in lines.text

    b3_line = (await documents.get(tenant, "recharge", doc_id))["lines"][1]
    edit = await client.get(f"{url}/lines/{b3_line['id']}/edit", headers=LINE_FORM)
    assert edit.status_code == 200 and 'value="0.0001"' in edit.text and "修改明细" in edit.text
    assert (await client.get(f"{url}/lines/999999/edit", headers=LINE_FORM)).status_code == 404
    assert (await client.get(f"{url}/lines/new", headers=LINE_FORM)).status_code == 200
    changed = await post(
        client, f"{url}/lines/{b3_line['id']}", {"org_id": t["b3"], "amount": "0.5", "line_remark": "x"}
    )
    assert changed.status_code == 200 and "添加明细" in changed.text, changed.text
    refused(await post(client, f"{url}/lines/{b3_line['id']}", {"org_id": t["b3"], "amount": "abc"}), 400, "金额")
    gone = await post(client, f"{url}/lines/{b3_line['id']}/delete")
    assert gone.status_code == 200 and toast(gone)["topic"] == "recharges"
    assert len((await documents.get(tenant, "recharge", doc_id))["lines"]) == 1

    saved = await post(client, url, {"remark": "开户授信"})
    assert saved.status_code == 200 and "已暂存" in toast(saved)["message"]
    page = await client.get(url)
    assert "开户授信" in page.text and ">提交<" in page.text and ">暂存<" in page.text and ">删除<" in page.text

    submitted = await post(client, f"{url}/submit", {"remark": "开户授信（已核）"})
    assert submitted.status_code == 200 and location(submitted) == url
    doc = await documents.get(tenant, "recharge", doc_id)
    assert (doc["status"], doc["remark"]) == ("submitted", "开户授信（已核）")

    # a submitted document is read-only: no line form, its lines refused, 【确认充值】 and 【删除】 offered
    page = await client.get(url)
    assert 'id="line-form"' not in page.text and ">确认充值<" in page.text and ">删除<" in page.text
    assert "开户授信（已核）" in page.text and ">暂存<" not in page.text
    refused(await post(client, f"{url}/lines", {"org_id": t["b3"], "amount": "1"}), 409, "已提交，不能修改")
    refused(await post(client, f"{url}/lines/{doc['lines'][0]['id']}/delete"), 409, "已提交")
    refused(await post(client, f"{url}/lines/{doc['lines'][0]['id']}", {"amount": "2"}), 409, "已提交")
    refused(await client.get(f"{url}/lines/{doc['lines'][0]['id']}/edit", headers=LINE_FORM), 409, "已提交")
    refused(await post(client, url, {"remark": "改"}), 409, "已提交")
    refused(await post(client, f"{url}/submit"), 409, "已提交")
    # a page still showing the draft reloads whole (its buttons change)
    stale = await client.get(f"{url}?shown=draft", headers=LINES)
    assert stale.headers.get("hx-refresh") == "true"

    confirmed = await post(client, f"{url}/confirm")
    assert confirmed.status_code == 200 and "已确认充值" in toast(confirmed)["message"]
    assert await balances(t["b2"]) == (10_000_000, 0)
    page = await client.get(url)
    assert "已确认" in page.text and ">确认充值<" not in page.text and ">删除<" not in page.text
    # who submitted and confirmed, and when
    assert re.search(r"<dt>提交人</dt><dd>管理员 · \d{4}-\d\d-\d\d \d\d:\d\d</dd>", page.text), page.text
    assert re.search(r"<dt>确认人</dt><dd>管理员 · \d{4}-", page.text)
    refused(await post(client, f"{url}/confirm"), 409, "已确认")
    refused(await post(client, f"{url}/delete"), 409, "已确认，不能删除")
    assert await balances(t["b2"]) == (10_000_000, 0)


async def test_new_page_saves_an_empty_draft_and_deletes_it(client, tenant, t):
    await page_login(client, "admin@ACME")
    refused(await post(client, "/credit/recharges", {"org_id": tenant.org_id, "amount": "1"}), 400, "不能为本机构")
    assert (await documents.search(tenant, "recharge")).total == 0  # a refused first line creates nothing
    created = await post(client, "/credit/recharges", {"remark": "空单"})
    assert created.status_code == 201
    url = location(created)
    refused(await post(client, f"{url}/submit"), 400, "请先添加明细")
    deleted = await post(client, f"{url}/delete")
    assert deleted.status_code == 200 and location(deleted) == "/credit/recharges"
    assert (await client.get(url)).status_code == 404
    assert (await client.get("/credit/recharges/abc")).status_code == 404


async def test_lists_filter_paginate_and_refresh_their_rows(client, tenant, t):
    a = await recharge(tenant, (t["b2"], "10"))
    b = await recharge(tenant, (t["b3"], "20"), confirm=False)
    c = await documents.create(tenant, "recharge", {"lines": [{"org_id": t["s2"], "amount": "30"}]})
    d = await adjustment(tenant, (t["b2"], "decrease", "1.5"), (t["b3"], "increase", "2"))
    await page_login(client, "admin@ACME")
    assert await listed(client, "/credit/recharges") == [c["no"], b["no"], a["no"]]
    assert await listed(client, "/credit/recharges", status="submitted") == [b["no"]]
    assert await listed(client, "/credit/recharges", no=a["no"]) == [a["no"]]
    assert await listed(client, "/credit/recharges", org_id=t["b3"]) == [b["no"]]
    assert await listed(client, "/credit/recharges", page_size=1, page=2) == [b["no"]]
    refused(await client.get("/credit/recharges?status=bogus", headers=ROWS), 400, "状态")
    refused(await client.get("/credit/recharges?page=0", headers=ROWS), 400, "分页")
    page = await client.get(f"/credit/recharges?org_id={t['b3']}")
    assert 'value="B3网点"' in page.text  # the org filter shows its choice's name
    assert 'hx-trigger="live:recharges from:body' in page.text

    rows = await client.get("/credit/adjustments", headers=ROWS)
    assert d["no"] in rows.text and "1.5000" in rows.text and "2.0000" in rows.text
    assert await listed(client, "/credit/adjustments", org_id=t["s2"]) == []


async def test_adjustment_freezes_on_submit_and_shows_the_shortfall(client, tenant, t):
    await recharge(tenant, (t["b2"], "1000"))
    await page_login(client, "admin@ACME")
    new = await client.get("/credit/adjustments/new")
    assert 'name="direction"' in new.text and "增加" in new.text and "减少" in new.text
    refused(
        await post(client, "/credit/adjustments", {"org_id": t["b2"], "amount": "1", "direction": "up"}),
        400,
        "调整方向",
    )
    created = await post(client, "/credit/adjustments", {"org_id": t["b2"], "amount": "200.5", "direction": "decrease"})
    url = location(created)
    doc_id = int(url.rsplit("/", 1)[1])
    page = await client.get(url)
    assert "提交时冻结" in page.text and ">提交<" in page.text
    await post(client, f"{url}/lines", {"org_id": t["b3"], "amount": "5", "direction": "increase"})
    submitted = await post(client, f"{url}/submit")
    assert submitted.status_code == 200
    assert await balances(t["b2"]) == (10_000_000, 2_005_000)
    page = await client.get(url)
    assert "冻结中 200.5000" in page.text and ">确认调整<" in page.text and "删除后冻结的额度将释放" in page.text

    # a second decrease beyond what is available: refused with the shortfall, nothing half-applied
    other = await post(client, "/credit/adjustments", {"org_id": t["b2"], "amount": "900", "direction": "decrease"})
    other_url = location(other)
    refused(await post(client, f"{other_url}/submit"), 409, "可用额度不足：还差 100.5000")
    assert (await documents.get(tenant, "adjustment", int(other_url.rsplit("/", 1)[1])))["status"] == "draft"

    confirmed = await post(client, f"{url}/confirm")
    assert confirmed.status_code == 200 and "已确认调整" in toast(confirmed)["message"]
    assert await balances(t["b2"]) == (7_995_000, 0) and await balances(t["b3"]) == (50_000, 0)
    assert "已扣减" in (await client.get(url)).text
    refused(await post(client, f"{url}/confirm"), 409, "已确认")

    # deleting a submitted adjustment gives its freeze back
    third = await adjustment(tenant, (t["b2"], "decrease", "99.5"))
    assert await balances(t["b2"]) == (7_995_000, 995_000)
    deleted = await post(client, f"/credit/adjustments/{third['id']}/delete")
    assert deleted.status_code == 200 and location(deleted) == "/credit/adjustments"
    assert await balances(t["b2"]) == (7_995_000, 0)
    assert (await documents.get(tenant, "adjustment", doc_id))["status"] == "confirmed"


async def test_a_branch_issues_only_to_its_descendants(client, tenant, t):
    hq_doc = await recharge(tenant, (t["b2"], "10"), confirm=False)
    await page_login(client, "b2boss@ACME", PASSWORD)
    for org_id, message in (
        (tenant.org_id, "只能为本机构的下级机构"),
        (t["s2"], "只能为本机构的下级机构"),
        (t["b2"], "不能为本机构自己"),
    ):
        refused(await post(client, "/credit/recharges", {"org_id": org_id, "amount": "1"}), 400, message)
    ok = await post(client, "/credit/recharges", {"org_id": t["b3"], "amount": "1"})
    assert ok.status_code == 201
    assert await listed(client, "/credit/recharges") == [
        (await documents.search(t["b2_ctx"], "recharge")).items[0]["no"]
    ]
    # the parent's document is not the branch's to see or act on
    assert (await client.get(f"/credit/recharges/{hq_doc['id']}")).status_code == 404
    refused(await post(client, f"/credit/recharges/{hq_doc['id']}/confirm"), 404)
    refused(await post(client, f"/credit/recharges/{hq_doc['id']}/delete"), 404)
    # its accounts: its own and its child's, never the sibling's
    accounts = await client.get("/credit/accounts")
    assert "B2网点" in accounts.text and "B3网点" in accounts.text and "S2网点" not in accounts.text
    assert (await client.get(f"/credit/accounts/{t['s2']}")).status_code == 404
    assert (await client.get(f"/credit/accounts/{tenant.org_id}")).status_code == 404


async def test_permissions_are_enforced(client, tenant, t):
    doc = await recharge(tenant, (t["b2"], "10"), confirm=False)
    await service_user(tenant, "viewer", tenant.org_id, "hq", [P.RECHARGE["view"], P.ACCOUNT["view"]])
    await page_login(client, "viewer@ACME", PASSWORD)
    page = await client.get(f"/credit/recharges/{doc['id']}")
    assert page.status_code == 200 and ">确认充值<" not in page.text and ">删除<" not in page.text
    assert 'id="line-form"' not in page.text
    listing = await client.get("/credit/recharges")
    assert 'href="/credit/recharges/new"' not in listing.text
    for url in ("/credit/recharges/new", "/credit/adjustments", "/credit/accounts/export"):
        assert (await client.get(url)).status_code == 403, url
    refused(await post(client, "/credit/recharges", {"org_id": t["b2"], "amount": "1"}), 403, "没有权限")
    refused(await post(client, f"/credit/recharges/{doc['id']}/confirm"), 403, "没有权限")
    refused(await post(client, f"/credit/recharges/{doc['id']}/delete"), 403, "没有权限")
    refused(await client.get(f"/credit/accounts/{t['b2']}/export", headers={"hx-request": "true"}), 403)
    accounts = await client.get("/credit/accounts")
    assert accounts.status_code == 200 and "/credit/accounts/export" not in accounts.text
    assert (await documents.get(tenant, "recharge", doc["id"]))["status"] == "submitted"


async def test_another_tenants_documents_and_accounts_are_not_found(client, tenant, other_tenant, t):
    theirs = await service_org(other_tenant, "X2", other_tenant.org_id, level=2)
    doc = await recharge(other_tenant, (theirs["id"], "10"), confirm=False)
    await page_login(client, "admin@ACME")
    assert (await client.get(f"/credit/recharges/{doc['id']}")).status_code == 404
    for action in ("confirm", "delete", "submit"):
        refused(await post(client, f"/credit/recharges/{doc['id']}/{action}"), 404)
    refused(await post(client, f"/credit/recharges/{doc['id']}/lines", {"org_id": t["b2"], "amount": "1"}), 404)
    assert (await client.get(f"/credit/adjustments/{doc['id']}")).status_code == 404  # nor as the other kind
    assert (await client.get(f"/credit/accounts/{theirs['id']}")).status_code == 404
    assert (await client.get(f"/credit/accounts/{theirs['id']}/export")).status_code == 404
    assert await listed(client, "/credit/recharges") == []
    assert (await documents.get(other_tenant, "recharge", doc["id"]))["status"] == "submitted"


async def test_four_eyes_refuses_the_submitter_in_the_page(client, tenant, t):
    await tenants.update_settings(tenant, {"credit_four_eyes": True})
    await page_login(client, "admin@ACME")
    created = await post(client, "/credit/recharges", {"org_id": t["b2"], "amount": "10"})
    url = location(created)
    await post(client, f"{url}/submit")
    refused(await post(client, f"{url}/confirm"), 403, "确认人不能是提交人")
    assert await balances(t["b2"]) == (0, 0)
    await service_user(tenant, "checker", tenant.org_id, "hq", list(P.RECHARGE.values()))
    client.cookies.clear()
    await page_login(client, "checker@ACME", PASSWORD)
    assert (await post(client, f"{url}/confirm")).status_code == 200
    assert await balances(t["b2"]) == (100_000, 0)


async def test_accounts_page_detail_tabs_and_exports(client, tenant, t):
    top_up = await recharge(tenant, (t["b2"], "1000"), (t["b3"], "5"))
    cut = await adjustment(tenant, (t["b2"], "decrease", "200.5"))
    order = ledger.DocRef(type="order", no="DD0001", id=1)
    freeze_id = await ledger.freeze(tenant, t["b2"], 300_000, order)
    await ledger.use(tenant, freeze_id, 100_000, order)
    await page_login(client, "admin@ACME")

    page = await client.get("/credit/accounts")
    assert page.status_code == 200 and 'hx-trigger="live:credit from:body' in page.text
    row = page.text.split('data-org="B2网点"')[1].split("</tr>")[0]
    # balance 1000 − 10 used; frozen 200.5 + 20 still held by the order
    assert "990.0000" in row and "220.5000" in row and "769.5000" in row and "查看明细" in row
    assert 'data-org="B3网点"' in page.text and 'data-org="S2网点"' in page.text
    b3_row = page.text.split('data-org="B3网点"')[1].split("</tr>")[0]
    assert 'data-depth="1"' in b3_row and "5.0000" in b3_row  # a level-3 branch sits under B2
    rows = await client.get("/credit/accounts?q=B3", headers=ROWS)
    assert "B3网点" in rows.text and "B2网点" not in rows.text and "<html" not in rows.text
    paged = await client.get("/credit/accounts?page_size=1&page=2", headers=ROWS)
    assert "共 3 条" in paged.text and 'data-org="B3网点"' in paged.text

    base = f"/credit/accounts/{t['b2']}"
    detail = await client.get(base)
    assert detail.status_code == 200 and "变动记录" in detail.text and "冻结记录" in detail.text
    assert "使用记录" in detail.text and 'id="stat-available">769.5000' in detail.text
    assert top_up["no"] in detail.text and "DD0001" in detail.text and "额度充值单" in detail.text
    assert f'data-live="credit" data-live-ref="{t["b2"]}"' in detail.text  # only the account's own events
    entries = re.findall(r'data-kind="(\w+)"', detail.text)
    assert entries == ["usage", "freeze", "freeze", "recharge"]
    filtered = await client.get(f"{base}?tab=entries&doc_no=DD0001", headers=ROWS)
    assert re.findall(r'data-kind="(\w+)"', filtered.text) == ["usage", "freeze"]
    freezes = await client.get(f"{base}?tab=freezes", headers={"hx-request": "true", "hx-target": "detail"})
    assert 'aria-selected="true"' in freezes.text and 'name="tab" value="freezes"' in freezes.text
    assert re.findall(r'data-no="([^"]+)"', freezes.text) == ["DD0001", cut["no"]]
    assert "30.0000" in freezes.text and "20.0000" in freezes.text  # the order's: 30 held, 10 used, 20 open
    usage = await client.get(f"{base}?tab=usage", headers=ROWS)
    assert re.findall(r'data-no="([^"]+)"', usage.text) == ["DD0001"] and "10.0000" in usage.text
    summary = await client.get(base, headers={"hx-request": "true", "hx-target": "summary"})
    assert 'id="stat-frozen">220.5000' in summary.text and "<table" not in summary.text
    paged = await client.get(f"{base}?tab=entries&page_size=2&page=2", headers=ROWS)
    assert re.findall(r'data-kind="(\w+)"', paged.text) == ["freeze", "recharge"]
    refused(await client.get(f"{base}?tab=bogus", headers=ROWS), 400, "页签")

    # confirming the decrease: its freeze leaves the frozen records
    await documents.confirm(tenant, "adjustment", cut["id"])
    freezes = await client.get(f"{base}?tab=freezes", headers=ROWS)
    assert re.findall(r'data-no="([^"]+)"', freezes.text) == ["DD0001"]

    # exports: the filtered rows of each tab and of the accounts list
    exported = sheet(await client.get(f"{base}/export?tab=entries&doc_no=DD0001"))
    assert exported[0][:3] == ["时间", "类型", "额度变动"]
    assert [r[1] for r in exported[1:]] == ["使用", "冻结"] and [r[7] for r in exported[1:]] == ["DD0001", "DD0001"]
    assert float(exported[1][2]) == -10.0 and float(exported[1][4]) == 990.0
    everything = sheet(await client.get(f"{base}/export"))
    assert len(everything) == 1 + 5 and "调整减少" in [r[1] for r in everything]
    frozen = sheet(await client.get(f"{base}/export?tab=freezes"))
    assert frozen[0][0] == "冻结时间" and [(r[4], float(r[2])) for r in frozen[1:]] == [("DD0001", 20.0)]
    used = sheet(await client.get(f"{base}/export?tab=usage&doc_no=nothing"))
    assert used == [["使用时间", "使用额度", "变动后余额", "单据类型", "单号", "操作人", "备注"]]
    used = sheet(await client.get(f"{base}/export?tab=usage"))
    assert float(used[1][1]) == 10.0 and used[1][4] == "DD0001"
    listing = sheet(await client.get("/credit/accounts/export?q=B"))
    assert listing[0][:6] == ["机构代码", "机构名称", "机构级别", "额度余额", "冻结额度", "可用额度"]
    assert [r[0] for r in listing[1:]] == ["B2", "B3"] and float(listing[1][3]) == 789.5
    assert [r[0] for r in sheet(await client.get("/credit/accounts/export?q=S2"))[1:]] == ["S2"]
    refused(await client.get(f"{base}/export?tab=bogus", headers={"hx-request": "true"}), 400)
