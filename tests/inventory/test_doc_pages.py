"""The pages of 【入库管理】 and 【出库管理】: the filtered list and its xlsx export, a document's
header, lines (dialog add/edit, ticked delete), submit, partial confirm, delete and print; every
refusal answers its Chinese message (never a 500), branches without the permission get 403 and
another tenant's documents 404."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook

from server.core.clock import local
from server.inventory import permissions as P
from server.inventory.services import documents
from server.masterdata.services import suppliers, warehouses
from tests.conftest import csrf, page_login
from tests.inventory.helpers import inbound, on_hand, outbound, world
from tests.masterdata.helpers import CJK
from tests.system.helpers import PASSWORD, service_org, service_user

BASE = {"inbound": "/inventory/inbounds", "outbound": "/inventory/outbounds"}
ROWS = {"hx-request": "true", "hx-target": "rows"}
LINES = {"hx-request": "true", "hx-target": "lines"}


def toast(response) -> str:
    return json.loads(response.headers["hx-trigger"])["weifu:saved"]["message"]


def location(response) -> str:
    """Where a done action sends the page (htmx navigation)."""
    return json.loads(response.headers["hx-location"])["path"]


def refused(response, status: int, text: str | None = None) -> str:
    """An htmx answer refusing the action: its status and a Chinese message (never a 500)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert CJK.search(response.text), response.text
    if text is not None:
        assert text in response.text, response.text
    return response.text


async def listed(client, kind: str, **filters) -> list[str]:
    response = await client.get(f"{BASE[kind]}?{urlencode(filters)}", headers=ROWS)
    assert response.status_code == 200, response.text
    assert "<html" not in response.text
    return re.findall(r'data-no="([^"]+)"', response.text)


async def post(client, url: str, data: dict | None = None):
    return await client.post(url, data=data or {}, headers=csrf(client))


@pytest.fixture
async def w(tenant) -> dict:
    return await world(tenant)


async def test_list_filters_paginates_and_exports(client, tenant, w):
    vendor = await suppliers.create(tenant, {"code": "S1", "name": "华强配件"})
    a = await inbound(tenant, w["general"], (w["screen"], 10, "100"))
    b = await documents.create(
        tenant, "inbound", {"type": "claim", "warehouse_id": w["defective"], "supplier_id": vendor["id"]}
    )
    clerk = await service_user(tenant, "clerk", tenant.org_id, "hq", [P.INBOUND["view"], P.INBOUND["create"]])
    c = await documents.create(clerk, "inbound", {"type": "other", "warehouse_id": w["general"], "remark": "职员单"})
    await page_login(client, "admin@ACME")

    page = await client.get(BASE["inbound"])
    assert page.status_code == 200 and "入库管理" in page.text
    assert '<option value="claim">索赔入库</option>' in page.text and "华强配件" in page.text
    assert 'type="date" name="date_from"' in page.text and f'href="{BASE["inbound"]}/{a["id"]}"' in page.text
    assert f'<option value="{clerk.user_id}">clerk</option>' in page.text  # the creators filter
    assert 'href="/inventory/inbounds/new"' in page.text and 'href="/inventory/inbounds/export"' in page.text
    assert 'hx-trigger="live:inbounds from:body' in page.text

    assert await listed(client, "inbound") == [c["no"], b["no"], a["no"]]
    assert await listed(client, "inbound", no=a["no"][-4:]) == [a["no"]]
    assert await listed(client, "inbound", type="claim") == [b["no"]]
    assert await listed(client, "inbound", status="completed") == [a["no"]]
    assert await listed(client, "inbound", status="draft") == [c["no"], b["no"]]
    assert await listed(client, "inbound", warehouse_id=w["defective"]) == [b["no"]]
    assert await listed(client, "inbound", supplier_id=vendor["id"]) == [b["no"]]
    assert await listed(client, "inbound", created_by=clerk.user_id) == [c["no"]]
    today = local(a["created_at"], tenant.tz, "%Y-%m-%d")  # the day in the tenant's time zone
    assert len(await listed(client, "inbound", date_from=today, date_to=today)) == 3
    assert await listed(client, "inbound", date_from="2000-01-01", date_to="2000-01-02") == []
    assert await listed(client, "outbound") == []
    two = await client.get(f"{BASE['inbound']}?page=2&page_size=2", headers=ROWS)
    assert re.findall(r'data-no="([^"]+)"', two.text) == [a["no"]] and "2 / 2" in two.text

    # bad filters answer a message, never a 500
    refused(await client.get(f"{BASE['inbound']}?warehouse_id=abc", headers=ROWS), 400)
    refused(await client.get(f"{BASE['inbound']}?date_from=2020-13-45", headers=ROWS), 400, "开始日期格式不正确")
    refused(await client.get(f"{BASE['inbound']}?status=bogus", headers=ROWS), 400)
    refused(await client.get(f"{BASE['inbound']}?page=0", headers=ROWS), 400)

    export = await client.get(f"{BASE['inbound']}/export?status=completed")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("单号", "类型", "状态") and "成本价" in rows[0]
    assert [r[0] for r in rows[1:]] == [a["no"]] and rows[1][1] == "采购入库" and "SCR" in rows[1]


@pytest.mark.parametrize("kind", ["inbound", "outbound"])
async def test_new_document_form_creates_a_draft(client, tenant, w, kind):
    await page_login(client, "admin@ACME")
    new = await client.get(f"{BASE[kind]}/new")
    assert new.status_code == 200 and ("新增入库单" if kind == "inbound" else "新增出库单") in new.text
    assert ('value="purchase">采购入库' if kind == "inbound" else 'value="scrap">报废出库') in new.text
    assert f'<option value="{w["general"]}">W-GEN W-GEN仓</option>' in new.text
    assert f'value="{w["unassigned"]}"' not in new.text  # only the org's usable warehouses
    assert "暂存" in new.text and "提交" not in new.text

    type_ = "purchase" if kind == "inbound" else "scrap"
    refused(await post(client, BASE[kind], {"warehouse_id": w["general"]}), 400, "请选择类型")
    refused(await post(client, BASE[kind], {"type": type_, "warehouse_id": w["unassigned"]}), 400, "所选仓库未分配")
    refused(await post(client, BASE[kind], {"type": "bogus", "warehouse_id": w["general"]}), 400, "不存在或已停用")
    refused(await post(client, BASE[kind], {"type": type_, "warehouse_id": "x"}), 400)
    refused(await post(client, BASE[kind], {"type": type_, "warehouse_id": w["general"], "supplier_id": "9999"}), 400)
    refused(await post(client, BASE[kind], {"type": type_, "warehouse_id": w["general"], "remark": "长" * 501}), 400)

    created = await post(client, BASE[kind], {"type": type_, "warehouse_id": w["general"], "remark": "首批"})
    assert created.status_code == 201, created.text
    doc = (await documents.search(tenant, kind)).items[0]
    assert (doc["status"], doc["remark"], doc["warehouse_id"]) == ("draft", "首批", w["general"])
    assert toast(created) == f"已暂存{documents.KINDS[kind].label} {doc['no']}"
    assert location(created) == f"{BASE[kind]}/{doc['id']}"

    page = await client.get(location(created))
    assert page.status_code == 200 and doc["no"] in page.text and 'id="doc-form"' in page.text
    assert f'hx-get="{BASE[kind]}/{doc["id"]}/lines/new"' in page.text
    assert 'hx-confirm="确定要删除选中的数据吗?"' in page.text and ">提交</button>" in page.text
    assert f'href="{BASE[kind]}/{doc["id"]}/print" target="_blank"' in page.text

    saved = await post(client, f"{BASE[kind]}/{doc['id']}", {"type": type_, "warehouse_id": w["defective"]})
    assert saved.status_code == 200 and toast(saved).startswith("已暂存")
    assert (await documents.get(tenant, kind, doc["id"]))["warehouse_id"] == w["defective"]
    refused(await post(client, f"{BASE[kind]}/{doc['id']}", {"warehouse_id": w["unassigned"]}), 400)

    # a supplier disabled since it was chosen still shows as the draft's, marked so
    vendor = await suppliers.create(tenant, {"code": "S9", "name": "旧供应商"})
    await post(client, f"{BASE[kind]}/{doc['id']}", {"supplier_id": vendor["id"]})
    await suppliers.update(tenant, vendor["id"], {"enabled": False})
    page = await client.get(f"{BASE[kind]}/{doc['id']}")
    assert f'<option value="{vendor["id"]}" selected>旧供应商（已停用）</option>' in page.text


async def test_lines_in_the_dialog_then_submit_and_partial_confirm(client, tenant, w):
    draft = await documents.create(tenant, "inbound", {"type": "purchase", "warehouse_id": w["general"]})
    url = f"{BASE['inbound']}/{draft['id']}"
    await page_login(client, "admin@ACME")

    dialog = await client.get(f"{url}/lines/new", headers={"hx-request": "true"})
    assert dialog.status_code == 200 and "<dialog" in dialog.text and "添加明细" in dialog.text
    assert 'data-source="/pickers/categories"' in dialog.text and 'data-source="/pickers/goods"' in dialog.text
    assert 'data-include="#line-form input[name=category_id]"' in dialog.text
    assert 'name="cost_price"' in dialog.text and 'name="qty"' in dialog.text

    refused(await post(client, f"{url}/lines", {"goods_id": w["screen"], "qty": "2"}), 400, "请填写成本价")
    refused(await post(client, f"{url}/lines", {"goods_id": w["screen"], "qty": "0", "cost_price": "1"}), 400)
    refused(await post(client, f"{url}/lines", {"goods_id": w["screen"], "qty": "1.5", "cost_price": "1"}), 400)
    refused(await post(client, f"{url}/lines", {"goods_id": "", "qty": "1", "cost_price": "1"}), 400, "请选择货品")
    refused(await post(client, f"{url}/lines", {"goods_id": w["screen"], "qty": "1", "cost_price": "-1"}), 400)
    refused(await post(client, f"{url}/lines", {"goods_id": w["screen"], "qty": "1", "cost_price": "abc"}), 400)

    body = {"category_id": w["iphone15"], "goods_id": w["screen"], "qty": "10", "cost_price": "100"}
    added = await post(client, f"{url}/lines", body)
    assert added.status_code == 201 and toast(added) == "已添加明细 SCR iPhone 15 屏幕"
    assert json.loads(added.headers["hx-trigger"])["weifu:saved"]["topic"] == "inbounds"
    await post(client, f"{url}/lines", {"goods_id": w["battery"], "qty": "4", "cost_price": "0.5"})
    await post(client, f"{url}/lines", {"goods_id": w["battery"], "qty": "1", "cost_price": "9"})
    doc = await documents.get(tenant, "inbound", draft["id"])
    screen, battery, extra = doc["lines"]

    region = await client.get(f"{url}?shown=draft", headers=LINES)
    assert region.status_code == 200 and "<html" not in region.text and 'id="doc-form"' not in region.text
    assert re.findall(r'data-goods="([^"]+)"', region.text) == ["SCR", "BAT", "BAT"]
    assert "合计（3 行）" in region.text and ">15<" in region.text and "1011.0000" in region.text

    edit = await client.get(f"{url}/lines/{battery['id']}/edit", headers={"hx-request": "true"})
    assert edit.status_code == 200 and "修改明细" in edit.text
    assert 'value="BAT iPhone 15 电池"' in edit.text and 'value="0.5000"' in edit.text and 'value="4"' in edit.text
    changed = await post(
        client, f"{url}/lines/{battery['id']}", {"goods_id": w["battery"], "qty": "5", "cost_price": "0.5"}
    )
    assert changed.status_code == 200 and toast(changed) == "已修改明细 BAT iPhone 15 电池"
    refused(await post(client, f"{url}/lines/{battery['id']}", {"qty": "-2"}), 400)
    refused(await client.get(f"{url}/lines/99999/edit", headers={"hx-request": "true"}), 404, "明细不存在")

    refused(await post(client, f"{url}/lines/delete"), 400, "请勾选要删除的明细")
    refused(await post(client, f"{url}/lines/delete", {"line_ids": "99999"}), 404)
    removed = await post(client, f"{url}/lines/delete", {"line_ids": str(extra["id"])})
    assert removed.status_code == 200 and toast(removed) == "已删除 1 行明细"
    doc = await documents.get(tenant, "inbound", doc["id"])
    assert [(li["goods_code"], li["qty"]) for li in doc["lines"]] == [("SCR", 10), ("BAT", 5)]

    # 【提交】 saves the header as shown, then submits; the page is shown again read-only
    submitted = await post(
        client, f"{url}/submit", {"type": "purchase", "warehouse_id": w["general"], "remark": "提交"}
    )
    assert submitted.status_code == 200 and location(submitted) == url and toast(submitted).startswith("已提交入库单")
    doc = await documents.get(tenant, "inbound", doc["id"])
    assert (doc["status"], doc["remark"]) == ("submitted", "提交")
    stale = await client.get(f"{url}?shown=draft", headers=LINES)
    assert stale.headers.get("hx-refresh") == "true"  # another state: the whole page is drawn again

    page = await client.get(url)
    assert 'id="doc-form"' not in page.text and "已提交" in page.text and ">确认入库</button>" in page.text
    assert page.text.count('name="line_ids"') == 2 and "/lines/new" not in page.text
    # lines of a submitted document cannot change
    refused(await client.get(f"{url}/lines/new", headers={"hx-request": "true"}), 409, "已提交，不能修改")
    refused(await client.get(f"{url}/lines/{screen['id']}/edit", headers={"hx-request": "true"}), 409)
    refused(await post(client, f"{url}/lines", {"goods_id": w["screen"], "qty": "1", "cost_price": "1"}), 409)
    refused(await post(client, f"{url}/lines/{screen['id']}", {"qty": "1"}), 409)
    refused(await post(client, f"{url}/lines/delete", {"line_ids": str(screen["id"])}), 409)
    refused(await post(client, url, {"remark": "改"}), 409)
    refused(await post(client, f"{url}/submit"), 409)

    refused(await post(client, f"{url}/confirm"), 400, "请勾选要确认的明细")
    refused(await post(client, f"{url}/confirm", {"line_ids": "abc"}), 400)
    done = await post(client, f"{url}/confirm", {"line_ids": str(screen["id"])})
    assert done.status_code == 200 and toast(done) == f"已确认入库 {doc['no']}（1 行）" and location(done) == url
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 10
    again = refused(await post(client, f"{url}/confirm", {"line_ids": str(screen["id"])}), 409, "不能重复确认")
    assert "SCR" in again
    refused(await post(client, f"{url}/delete"), 409, "已确认，不能删除")

    page = await client.get(url)
    assert (
        "部分确认" in page.text and page.text.count('name="line_ids"') == 1 and "已确认</span> 管理员 · " in page.text
    )
    assert ">删除</button>" not in page.text
    await post(client, f"{url}/confirm", {"line_ids": str(battery["id"])})
    page = await client.get(url)
    assert "已完成" in page.text and 'name="line_ids"' not in page.text and "确认入库</button>" not in page.text
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 5
    refused(await post(client, f"{url}/confirm", {"line_ids": str(battery["id"])}), 409, "已全部确认")


async def test_outbound_defaults_to_the_org_price_and_refuses_more_than_stock(client, tenant, w):
    await inbound(tenant, w["general"], (w["screen"], 10, "100"))
    doc = await documents.create(tenant, "outbound", {"type": "scrap", "warehouse_id": w["general"]})
    url = f"{BASE['outbound']}/{doc['id']}"
    await page_login(client, "admin@ACME")
    dialog = await client.get(f"{url}/lines/new", headers={"hx-request": "true"})
    assert 'name="unit_price"' in dialog.text and 'placeholder="留空则按本机构价格"' in dialog.text

    short = refused(await post(client, f"{url}/lines", {"goods_id": w["screen"], "qty": "11", "unit_price": ""}), 409)
    assert short == "库存不足：SCR iPhone 15 屏幕 需要 11，库存 10"
    assert (
        await post(client, f"{url}/lines", {"goods_id": w["screen"], "qty": "3", "unit_price": ""})
    ).status_code == 201
    line = (await documents.get(tenant, "outbound", doc["id"]))["lines"][0]
    assert line["unit_price"] == "100.0000"  # the head office's (level 1) order price
    # stock taken meanwhile by another document: submit checks again, confirm refuses atomically
    other = await outbound(tenant, w["general"], (w["screen"], 8))
    await documents.confirm(tenant, "outbound", other["id"])
    assert (await post(client, f"{url}/submit")).status_code == 409
    await inbound(tenant, w["general"], (w["screen"], 1, "100"))
    assert (await post(client, f"{url}/submit")).status_code == 200
    await outbound(tenant, w["general"], (w["screen"], 1))
    taken = await documents.search(tenant, "outbound", documents.StockDocFilters(status="submitted"))
    await documents.confirm(tenant, "outbound", next(d for d in taken.items if d["id"] != doc["id"])["id"])
    short = refused(await post(client, f"{url}/confirm", {"line_ids": str(line["id"])}), 409, "库存不足")
    assert "需要 3，库存 2" in short
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 2

    export = await client.get(f"{BASE['outbound']}/export?status=submitted")
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert "单价" in rows[0] and [r[0] for r in rows[1:]] == [doc["no"]] and rows[1][1] == "报废出库"


@pytest.mark.parametrize("kind", ["inbound", "outbound"])
async def test_delete_a_draft_or_an_unconfirmed_document(client, tenant, w, kind):
    await inbound(tenant, w["general"], (w["screen"], 5, "1"))
    body = {"type": "purchase" if kind == "inbound" else "scrap", "warehouse_id": w["general"]}
    draft = await documents.create(tenant, kind, body)
    line = {"goods_id": w["screen"], "qty": 1, "cost_price": "1"}
    sent = await documents.submit(tenant, kind, (await documents.create(tenant, kind, body | {"lines": [line]}))["id"])
    await page_login(client, "admin@ACME")
    page = await client.get(f"{BASE[kind]}/{sent['id']}")
    assert f'hx-confirm="确定要删除{documents.KINDS[kind].label} {sent["no"]} 吗？"' in page.text
    for doc in (draft, sent):
        gone = await post(client, f"{BASE[kind]}/{doc['id']}/delete")
        assert gone.status_code == 200 and location(gone) == BASE[kind] and toast(gone).startswith("已删除")
        refused(await post(client, f"{BASE[kind]}/{doc['id']}/delete"), 404)
        assert (await client.get(f"{BASE[kind]}/{doc['id']}")).status_code == 404
    assert await listed(client, kind, no=sent["no"]) == []


async def test_print_view_is_a_standalone_a4_page(client, tenant, w):
    doc = await inbound(tenant, w["general"], (w["screen"], 10, "100"), (w["battery"], 2, "0.5"))
    await page_login(client, "admin@ACME")
    page = await client.get(f"{BASE['inbound']}/{doc['id']}/print")
    assert page.status_code == 200 and page.text.startswith("<!doctype html>")
    assert (
        '<link rel="stylesheet" href="/static/css/print_page.css">' in page.text
        and 'class="sidebar"' not in page.text
        and "/static/css/app.css" not in page.text
    )
    # printed with the tenant's default template (printing): the paper in mm, the template's own
    # <style> allowed on this page alone, its scripts still only ours
    assert "@page { size: 210mm 297mm;" in page.text and "标准入库单（A4）（默认）" in page.text
    assert "style-src 'self' 'unsafe-inline'" in page.headers["content-security-policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert doc["no"] in page.text and "iPhone 15 屏幕" in page.text and "合计（2 行）" in page.text
    assert ">12<" in page.text and "1001.0000" in page.text and "仓管员：" in page.text
    assert (await client.get(f"{BASE['inbound']}/99999/print")).status_code == 404


async def test_branch_users_need_the_permission_and_see_only_their_subtree(client, tenant, w):
    hq_doc = await inbound(tenant, w["general"], (w["screen"], 1, "1"), confirm=False)
    branch = await service_org(tenant, "BR", tenant.org_id, level=2)
    await warehouses.assign(tenant, [w["general"]], [branch["id"]])
    await service_user(tenant, "nobody", branch["id"], "branch", ["masterdata.goods.view"])
    await page_login(client, "nobody@ACME", PASSWORD)
    url = BASE["inbound"]
    for response in (
        await client.get(url),
        await client.get(f"{url}/new"),
        await client.get(f"{url}/export"),
        await client.get(f"{url}/{hq_doc['id']}"),
        await client.get(f"{url}/{hq_doc['id']}/print"),
    ):
        assert response.status_code == 403 and "没有权限" in response.text
    refused(await post(client, url, {"type": "purchase", "warehouse_id": w["general"]}), 403)
    refused(await post(client, f"{url}/{hq_doc['id']}/confirm", {"line_ids": "1"}), 403)
    refused(await post(client, f"{url}/{hq_doc['id']}/delete"), 403)

    client.cookies.clear()
    keeper = await service_user(tenant, "keeper", branch["id"], "branch", list(P.INBOUND.values()))
    await page_login(client, "keeper@ACME", PASSWORD)
    assert await listed(client, "inbound") == []  # the head office's documents are not theirs
    assert (await client.get(f"{url}/{hq_doc['id']}")).status_code == 404
    refused(await post(client, f"{url}/{hq_doc['id']}/confirm", {"line_ids": "1"}), 404)
    created = await post(client, url, {"type": "purchase", "warehouse_id": w["general"]})
    assert created.status_code == 201
    mine = (await documents.search(keeper, "inbound")).items[0]
    assert mine["org_id"] == branch["id"] and await listed(client, "inbound") == [mine["no"]]
    # a viewer only: no 【新增】, no buttons on the document
    client.cookies.clear()
    await service_user(tenant, "viewer", branch["id"], "branch", [P.INBOUND["view"]])
    await page_login(client, "viewer@ACME", PASSWORD)
    page = await client.get(url)
    assert page.status_code == 200 and f'href="{url}/new"' not in page.text and "/export" not in page.text
    doc_page = await client.get(f"{url}/{mine['id']}")
    assert (
        'id="doc-form"' not in doc_page.text
        and "/lines/new" not in doc_page.text
        and ">删除</button>" not in doc_page.text
    )
    assert (await client.get(f"{BASE['outbound']}")).status_code == 403


async def test_another_tenants_document_is_not_found(client, tenant, other_tenant, w):
    theirs = await world(other_tenant)
    doc = await inbound(other_tenant, theirs["general"], (theirs["screen"], 3, "1"), confirm=False)
    await page_login(client, "admin@ACME")
    url = f"{BASE['inbound']}/{doc['id']}"
    assert (await client.get(url)).status_code == 404
    assert (await client.get(f"{url}/print")).status_code == 404
    refused(await client.get(f"{url}/lines/new", headers={"hx-request": "true"}), 404)
    refused(await post(client, f"{url}/confirm", {"line_ids": str(doc["lines"][0]["id"])}), 404)
    refused(await post(client, f"{url}/delete"), 404)
    refused(await post(client, f"{url}/lines", {"goods_id": theirs["screen"], "qty": "1", "cost_price": "1"}), 404)
    assert await listed(client, "inbound", no=doc["no"]) == []
    assert (await documents.get(other_tenant, "inbound", doc["id"]))["status"] == "submitted"
    assert await on_hand(other_tenant.org_id, theirs["general"], theirs["screen"]) == 0
