"""【库存查询】 page: the list with value and the below-safety marker, each filter, the xlsx export of
the filtered rows, the move history dialog, permissions, tenant isolation and bad filters."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from server.inventory import permissions as P
from server.inventory.services import documents
from server.masterdata.services import warehouses
from tests.conftest import page_login
from tests.inventory.helpers import inbound, outbound, world
from tests.masterdata.helpers import CJK, make_goods
from tests.system.helpers import PASSWORD, service_org, service_user

ROWS = {"hx-request": "true", "hx-target": "rows"}
ROW = re.compile(r'data-stock="(\d+)" data-code="([^"]+)" data-warehouse="([^"]+)"')
DOC_PERMS = [*P.INBOUND.values(), *P.OUTBOUND.values()]


def rows_of(html: str) -> list[tuple[str, str]]:
    """(goods code, warehouse code) of each listed stock row, in order."""
    return [(code, wh) for _, code, wh in ROW.findall(html)]


def stock_id(html: str, code: str, warehouse: str) -> int:
    return next(int(i) for i, c, w in ROW.findall(html) if (c, w) == (code, warehouse))


@pytest.fixture
async def stocked(tenant) -> dict:
    """Head office: screen 3 (safety 5: below) and battery 10 in 通用库, screen 2 in 坏品库 (one out
    again); a branch with its own 通用库 stock of 4 screens, put in by a branch user."""
    w = await world(tenant)
    first = await inbound(tenant, w["general"], (w["screen"], 3, "100"), (w["battery"], 10, "20"))
    second = await inbound(tenant, w["defective"], (w["screen"], 2, "80"))
    out = await outbound(tenant, w["defective"], (w["screen"], 1))
    await documents.confirm(tenant, "outbound", out["id"])
    branch = await service_org(tenant, "SZ", tenant.org_id, level=2, name="深圳分公司")
    await warehouses.assign(tenant, [w["general"]], [branch["id"]])
    clerk = await service_user(tenant, "szclerk", branch["id"], "branch", [*DOC_PERMS, *P.STOCK.values()])
    await inbound(clerk, w["general"], (w["screen"], 4, "90"))
    return w | {"first": first, "second": second, "out": out, "branch": branch["id"]}


async def test_list_shows_value_and_marks_rows_below_safety_stock(client, tenant, stocked):
    await page_login(client, "admin@ACME")
    page = await client.get("/inventory/stock")
    assert page.status_code == 200 and "<html" in page.text
    assert 'href="/inventory/stock"' in page.text  # the menu links the page
    assert rows_of(page.text) == [("BAT", "W-GEN"), ("SCR", "W-BAD"), ("SCR", "W-GEN"), ("SCR", "W-GEN")]
    row = page.text.split('data-code="SCR" data-warehouse="W-GEN"')[1].split("</tr>")[0]  # the head office's
    # the org's moving average over both warehouses: (3×100 + 2×80) / 5 = 92; value 3 × 92
    assert "艾克米维修总部" in row and "W-GEN仓" in row and "iPhone 15 屏幕" in row and "个" in row
    assert "<strong>3</strong>" in row and "92.0000" in row and "276.0000" in row
    assert '<span class="badge badge-red">低于安全库存</span>' in row and "Apple / iPhone / iPhone 15" in row
    assert 'class="stock-row below-safety" data-stock' in page.text
    battery = page.text.split('data-code="BAT"')[1].split("</tr>")[0]
    assert "<strong>10</strong>" in battery and "200.0000" in battery and "低于安全库存" not in battery
    assert '<tr class="stock-row" data-stock' in page.text
    assert 'href="/inventory/stock/export"' in page.text
    assert 'hx-trigger="live:stock from:body' in page.text and "live:resync from:body" in page.text
    assert 'hx-include="#filters, #rows-page"' in page.text

    fragment = await client.get("/inventory/stock?page_size=2&page=2", headers=ROWS)
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="filters"' not in fragment.text
    assert rows_of(fragment.text) == [("SCR", "W-GEN"), ("SCR", "W-GEN")]
    assert 'id="rows-page" name="page" value="2"' in fragment.text  # the live refresh keeps the page
    # a refresh of a page that rows have left shows the last page there is
    beyond = await client.get("/inventory/stock?below_safety=true&page=3", headers=ROWS)
    assert beyond.status_code == 200 and len(rows_of(beyond.text)) == 3 and 'value="1"' in beyond.text


async def test_each_filter_narrows_the_list(client, tenant, stocked):
    w = stocked
    await page_login(client, "admin@ACME")

    async def listed(query: str, full: bool = False) -> list[tuple[str, str]]:
        response = await client.get(f"/inventory/stock?{query}", headers=None if full else ROWS)
        assert response.status_code == 200, response.text
        return rows_of(response.text)

    assert await listed(f"org_id={w['branch']}") == [("SCR", "W-GEN")]
    assert len(await listed(f"org_id={tenant.org_id}")) == 4  # the org and its descendants
    assert await listed(f"warehouse_id={w['defective']}") == [("SCR", "W-BAD")]
    assert len(await listed(f"category_id={w['iphone']}")) == 4  # the category's subtree
    assert await listed(f"category_id={w['ipad']}") == []
    assert await listed(f"goods_id={w['battery']}") == [("BAT", "W-GEN")]
    assert await listed("q=BA") == [("BAT", "W-GEN")]
    assert await listed("q=电池") == [("BAT", "W-GEN")]
    # below safety stock (5): head office 通用库 3 and 坏品库 1, the branch's 4; not the battery (safety 0)
    assert await listed("below_safety=true") == [("SCR", "W-BAD"), ("SCR", "W-GEN"), ("SCR", "W-GEN")]
    assert await listed(f"below_safety=true&org_id={w['branch']}&warehouse_id={w['general']}") == [("SCR", "W-GEN")]

    # a full page shows the chosen filters back in the pickers and the select
    full = await client.get(
        f"/inventory/stock?org_id={w['branch']}&category_id={w['iphone15']}&goods_id={w['screen']}"
        f"&warehouse_id={w['general']}&below_safety=true&q=SC"
    )
    assert rows_of(full.text) == [("SCR", "W-GEN")]
    assert 'value="深圳分公司"' in full.text and 'value="Apple / iPhone / iPhone 15"' in full.text
    assert 'value="SCR iPhone 15 屏幕"' in full.text
    assert f'<option value="{w["general"]}" selected>' in full.text
    assert 'name="below_safety" value="true" checked' in full.text
    assert 'data-include="#filters input[name=category_id]"' in full.text  # goods narrow by category
    # pagination and export links carry the filters
    assert f"org_id={w['branch']}" in full.text.split('href="/inventory/stock/export?')[1].split('"')[0]


async def test_export_downloads_the_filtered_rows(client, tenant, stocked):
    await page_login(client, "admin@ACME")
    response = await client.get(f"/inventory/stock/export?below_safety=true&org_id={tenant.org_id}&q=SCR")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("机构", "仓库", "货品编码")
    body = sorted((r[1], r[2], r[6], r[-1]) for r in rows[1:])
    assert body == [("W-BAD仓", "SCR", 1, "是"), ("W-GEN仓", "SCR", 3, "是"), ("W-GEN仓", "SCR", 4, "是")]
    bad = await client.get("/inventory/stock/export?org_id=x")
    assert bad.status_code == 400 and CJK.search(bad.text)


async def test_history_dialog_lists_the_rows_moves_with_document_links(client, tenant, stocked):
    w = stocked
    await page_login(client, "admin@ACME")
    listing = (await client.get(f"/inventory/stock?warehouse_id={w['defective']}", headers=ROWS)).text
    sid = stock_id(listing, "SCR", "W-BAD")
    assert f'hx-get="/inventory/stock/{sid}/moves" hx-target="#modal"' in listing and ">流水</button>" in listing

    dialog = await client.get(f"/inventory/stock/{sid}/moves", headers={"hx-request": "true", "hx-target": "modal"})
    assert dialog.status_code == 200 and "<dialog" in dialog.text and "库存流水" in dialog.text
    assert 'id="stock-moves-qty">1<' in dialog.text
    docs = re.findall(r'<tr data-doc="([^"]+)">', dialog.text)
    assert docs == [w["out"]["no"], w["second"]["no"]]  # newest first
    assert f'href="/inventory/outbounds/{w["out"]["id"]}">{w["out"]["no"]}</a>' in dialog.text
    assert f'href="/inventory/inbounds/{w["second"]["id"]}">{w["second"]["no"]}</a>' in dialog.text
    assert "出库单" in dialog.text and "入库单" in dialog.text
    assert re.search(r"delta-out\"[^>]*>-1<", dialog.text) and re.search(r"delta-in\"[^>]*>\+2<", dialog.text)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", dialog.text)
    assert "系统" in dialog.text.split(f'data-doc="{w["out"]["no"]}"')[1].split("</tr>")[0]

    # paging inside the dialog: 12 more moves, 10 a page, the table alone is answered
    for _ in range(12):
        await inbound(tenant, w["defective"], (w["screen"], 1, "80"))
    second = await client.get(
        f"/inventory/stock/{sid}/moves?page=2", headers={"hx-request": "true", "hx-target": "stock-moves"}
    )
    assert second.status_code == 200 and "<dialog" not in second.text
    assert re.findall(r'<tr data-doc="([^"]+)">', second.text)[-2:] == [w["out"]["no"], w["second"]["no"]]
    assert "2 / 2" in second.text and 'id="moves-page" name="page" value="2"' in second.text
    assert 'id="stock-moves-qty">13<' in second.text
    gone = await client.get(f"/inventory/stock/{sid}/moves?page=9", headers={"hx-request": "true"})
    assert gone.status_code == 200 and "2 / 2" in gone.text


async def test_permissions_and_branch_scope(client, tenant, stocked):
    w = stocked
    # a head-office user without the stock permissions: 403 on every route, no menu link
    await service_user(tenant, "clerk", tenant.org_id, "hq", [P.INBOUND["view"]])
    await page_login(client, "clerk@ACME", PASSWORD)
    assert 'href="/inventory/stock"' not in (await client.get("/")).text
    for url in ("/inventory/stock", "/inventory/stock/export", "/inventory/stock/1/moves"):
        response = await client.get(url, headers={"hx-request": "true"})
        assert response.status_code == 403 and response.text == "没有权限执行此操作", url
    # view without export: the list, no 【导出】, and the export is refused
    await service_user(tenant, "viewer", tenant.org_id, "hq", [P.STOCK["view"]])
    client.cookies.clear()
    await page_login(client, "viewer@ACME", PASSWORD)
    page = await client.get("/inventory/stock")
    assert page.status_code == 200 and len(rows_of(page.text)) == 4 and "/inventory/stock/export" not in page.text
    assert (await client.get("/inventory/stock/export")).status_code == 403
    # a document link shows only to those who may open the document
    sid = stock_id(page.text, "SCR", "W-BAD")
    dialog = await client.get(f"/inventory/stock/{sid}/moves")
    assert w["out"]["no"] in dialog.text and "/inventory/outbounds/" not in dialog.text

    # the branch user sees its own subtree only; the head office's rows answer 404
    client.cookies.clear()
    await page_login(client, "szclerk@ACME", PASSWORD)
    page = await client.get("/inventory/stock")
    assert rows_of(page.text) == [("SCR", "W-GEN")] and "深圳分公司" in page.text
    assert (await client.get(f"/inventory/stock/{sid}/moves")).status_code == 404
    assert (await client.get(f"/inventory/stock?org_id={tenant.org_id}", headers=ROWS)).status_code == 404
    export = await client.get("/inventory/stock/export")
    assert [r[2] for r in load_workbook(io.BytesIO(export.content)).active.iter_rows(min_row=2, values_only=True)] == [
        "SCR"
    ]


async def test_another_tenants_stock_row_is_not_found(client, tenant, other_tenant):
    w = await world(other_tenant)
    await inbound(other_tenant, w["general"], (w["screen"], 2, "10"))
    await page_login(client, "admin@ACME")
    from server.inventory.services import stock

    theirs = (await stock.search(other_tenant)).items[0]["id"]
    for headers in ({"hx-request": "true", "hx-target": "modal"}, {}):
        response = await client.get(f"/inventory/stock/{theirs}/moves", headers=headers)
        assert response.status_code == 404 and "库存不存在" in response.text
    assert rows_of((await client.get("/inventory/stock")).text) == []
    assert "暂无库存" in (await client.get("/inventory/stock")).text
    # their goods as a filter finds nothing here
    assert rows_of((await client.get(f"/inventory/stock?goods_id={w['screen']}", headers=ROWS)).text) == []


@pytest.mark.parametrize(
    "query",
    [
        "org_id=abc",
        "org_id=-3",
        "org_id=99999",
        "warehouse_id=1.5",
        "warehouse_id=99999999999",
        "category_id=x",
        "category_id=99999",
        "goods_id=%E5%B1%8F",
        "below_safety=maybe",
        "q=" + "长" * 65,
        "page=0",
        "page=abc",
        "page_size=1000",
    ],
)
async def test_bad_filters_answer_a_chinese_message(client, tenant, query):
    await page_login(client, "admin@ACME")
    for headers in (ROWS, {}):
        response = await client.get(f"/inventory/stock?{query}", headers=headers)
        assert response.status_code in (400, 404), (query, response.status_code, response.text)
        assert CJK.search(response.text), response.text
    moves = await client.get("/inventory/stock/1/moves?page=x", headers={"hx-request": "true"})
    assert moves.status_code in (400, 404) and CJK.search(moves.text)


async def test_goods_gone_from_the_catalogue_still_shows_an_empty_goods_label(client, tenant):
    w = await world(tenant)
    extra = await make_goods(tenant, "EXT", w["iphone15"], name="iPhone 15 后盖")
    await page_login(client, "admin@ACME")
    page = await client.get(f"/inventory/stock?goods_id={extra['id']}")
    assert page.status_code == 200 and 'value="EXT iPhone 15 后盖"' in page.text and "暂无库存" in page.text
    missing = await client.get("/inventory/stock?goods_id=999999")
    assert missing.status_code == 200 and "暂无库存" in missing.text
