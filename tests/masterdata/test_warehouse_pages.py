"""The htmx pages of 【仓库定义】 and 【仓库设置】 (SPEC 2.6): the definition dialog and its refusals,
【仓库套用机构】 in one idempotent save, the per-row 停用/启用 that leaves other orgs alone, read-only
pages for branch users, and the .xlsx exports of the filtered lists."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from server.masterdata import permissions as P
from server.masterdata.services import warehouses
from server.masterdata.tables import OrgWarehouse, Warehouse
from tests.conftest import csrf, page_login
from tests.masterdata.helpers import branch_ctx, hq_ctx, warehouse
from tests.system.helpers import PASSWORD, service_org

DEFS = "/masterdata/warehouses"
ASSIGN = "/masterdata/warehouse-assignments"
ROWS = {"hx-request": "true", "hx-target": "rows"}


def toast(response) -> str:
    """The message the page shows after a successful save (HX-Trigger weifu:saved)."""
    assert response.status_code in (200, 201), response.text
    return json.loads(response.headers["hx-trigger"])["weifu:saved"]["message"]


def sheet(response) -> list[tuple]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


async def pairs() -> list[dict]:
    return await OrgWarehouse.select().order_by(OrgWarehouse.id)


@pytest.fixture
async def branches(tenant) -> list[int]:
    b1 = await service_org(tenant, "B1", tenant.org_id, level=2)
    b2 = await service_org(tenant, "B2", tenant.org_id, level=2)
    return [b1["id"], b2["id"]]


async def test_definition_dialog_add_edit_delete_and_refusals(client, tenant):
    await page_login(client, "admin@ACME")
    page = await client.get(DEFS)
    assert page.status_code == 200 and "仓库定义" in page.text and 'hx-get="/masterdata/warehouses/new"' in page.text
    form = await client.get(f"{DEFS}/new")
    assert form.status_code == 200 and all(label in form.text for label in warehouses.TYPES.values())

    created = await client.post(
        DEFS, data={"code": "WH-A", "name": "总仓", "type": "good", "enabled": "1"}, headers=csrf(client)
    )
    assert created.status_code == 201 and toast(created) == "已添加仓库 总仓"
    duplicate = await client.post(
        DEFS, data={"code": "WH-A", "name": "另一个", "type": "general"}, headers=csrf(client)
    )
    assert duplicate.status_code == 409 and duplicate.text == "仓库编码 WH-A 已存在"
    for bad in (
        {"code": "WH-B", "name": "", "type": "good"},
        {"code": "WH-B", "name": "X", "type": "freezer"},
        {"code": "WH B!", "name": "X", "type": "good"},
        {"code": "WH-B", "name": "X", "type": ""},
    ):
        refused = await client.post(DEFS, data=bad, headers=csrf(client))
        assert refused.status_code == 400 and refused.text and "<" not in refused.text, (bad, refused.text)
    assert await Warehouse.count() == 1

    wid = (await warehouses.search(tenant, q="WH-A")).items[0]["id"]
    edit = await client.get(f"{DEFS}/{wid}/edit")
    assert edit.status_code == 200 and "编码不可修改" in edit.text and 'value="good" selected' in edit.text
    immutable = await client.post(f"{DEFS}/{wid}", data={"code": "WH-Z", "name": "总仓"}, headers=csrf(client))
    assert immutable.status_code == 400 and immutable.text == "仓库编码不可修改"
    changed = await client.post(
        f"{DEFS}/{wid}", data={"name": "坏件仓", "type": "defective", "enabled": "0"}, headers=csrf(client)
    )
    assert toast(changed) == "已修改仓库 坏件仓"
    row = await warehouses.get(tenant, wid)
    assert (row["code"], row["name"], row["type"], row["enabled"]) == ("WH-A", "坏件仓", "defective", False)

    rows = await client.get(f"{DEFS}?type=defective&enabled=false", headers=ROWS)
    assert "坏件仓" in rows.text and "<html" not in rows.text and "坏品库" in rows.text
    assert "坏件仓" not in (await client.get(f"{DEFS}?type=good", headers=ROWS)).text
    assert (await client.get(f"{DEFS}?type=freezer")).status_code == 400
    assert (await client.get(f"{DEFS}?enabled=maybe")).status_code == 400

    assert toast(await client.post(f"{DEFS}/{wid}/delete", headers=csrf(client))) == "已删除仓库 坏件仓"
    assert "坏件仓" not in (await client.get(DEFS)).text
    assert "坏件仓" in (await client.get(f"{DEFS}?status=deleted")).text
    again = await client.post(f"{DEFS}/{wid}/delete", headers=csrf(client))
    assert again.status_code == 409 and again.text == "仓库已经删除"
    assert (await client.get(f"{DEFS}/999999/edit")).status_code == 404


async def test_assign_dialog_nothing_checked_then_two_by_two_then_again_changes_nothing(client, tenant, branches):
    w1, w2 = await warehouse(tenant, "W1"), await warehouse(tenant, "W2", "good")
    off = await warehouse(tenant, "W3", enabled=False)
    await page_login(client, "admin@ACME")

    dialog = await client.get(f"{ASSIGN}/assign")
    assert dialog.status_code == 200 and "仓库套用机构" in dialog.text
    assert f'name="warehouse_ids" value="{w1["id"]}"' in dialog.text
    assert f'name="warehouse_ids" value="{off["id"]}"' not in dialog.text  # a disabled one cannot be assigned
    assert all(f'name="org_ids" value="{o}"' in dialog.text for o in [tenant.org_id, *branches])

    nothing = await client.post(ASSIGN, data={}, headers=csrf(client))
    assert nothing.status_code == 400 and nothing.text == "请至少勾选一个仓库"
    no_org = await client.post(ASSIGN, data={"warehouse_ids": [str(w1["id"])]}, headers=csrf(client))
    assert no_org.status_code == 400 and no_org.text == "请至少勾选一个机构"
    no_wh = await client.post(ASSIGN, data={"org_ids": [str(branches[0])]}, headers=csrf(client))
    assert no_wh.status_code == 400 and no_wh.text == "请至少勾选一个仓库"
    disabled = await client.post(
        ASSIGN, data={"warehouse_ids": [str(off["id"])], "org_ids": [str(branches[0])]}, headers=csrf(client)
    )
    assert disabled.status_code == 400 and "已停用" in disabled.text
    junk = await client.post(
        ASSIGN, data={"warehouse_ids": ["abc"], "org_ids": [str(branches[0])]}, headers=csrf(client)
    )
    assert junk.status_code == 400 and junk.text
    assert await pairs() == []

    body = {"warehouse_ids": [str(w1["id"]), str(w2["id"])], "org_ids": [str(b) for b in branches]}
    first = await client.post(ASSIGN, data=body, headers=csrf(client))
    assert toast(first) == "仓库套用机构完成：新增 4 条"
    before = await pairs()
    assert len(before) == 4 and all(p["enabled"] for p in before)
    second = await client.post(ASSIGN, data=body, headers=csrf(client))
    assert toast(second) == "所选仓库已全部套用到所选机构，没有新增"
    assert await pairs() == before
    # one more org on top: only its two pairs are new
    wider = body | {"org_ids": [*body["org_ids"], str(tenant.org_id)]}
    assert toast(await client.post(ASSIGN, data=wider, headers=csrf(client))) == "仓库套用机构完成：新增 2 条"

    listing = await client.get(f"{ASSIGN}?org_id={branches[0]}")
    assert (
        listing.status_code == 200 and listing.text.count('data-org="B1"') == 2 and 'data-org="B2"' not in listing.text
    )
    assert 'value="B1网点"' in listing.text  # the org picker shows the filtered org's name
    by_type = await client.get(f"{ASSIGN}?type=good", headers=ROWS)
    assert by_type.text.count('data-warehouse="W2"') == 3 and 'data-warehouse="W1"' not in by_type.text
    by_wh = await client.get(f"{ASSIGN}?warehouse_id={w1['id']}", headers=ROWS)
    assert by_wh.text.count('data-warehouse="W1"') == 3
    for bad in ("org_id=abc", "type=freezer", "warehouse_id=-1", "page=0"):
        assert (await client.get(f"{ASSIGN}?{bad}")).status_code == 400, bad


async def test_disabling_one_assignment_leaves_other_orgs_enabled(client, tenant, branches):
    w = await warehouse(tenant, "W1")
    await warehouses.assign(tenant, [w["id"]], branches)
    items = (await warehouses.assignments(tenant, warehouse_id=w["id"])).items
    mine, other = (next(a for a in items if a["org_id"] == b) for b in branches)
    await page_login(client, "admin@ACME")

    off = await client.post(f"{ASSIGN}/{mine['id']}/enabled", data={"enabled": "0"}, headers=csrf(client))
    assert toast(off) == "已停用 B1网点 的仓库 W1仓"
    assert not (await warehouses.get_assignment(tenant, mine["id"]))["enabled"]
    assert (await warehouses.get_assignment(tenant, other["id"]))["enabled"]
    assert [r["org_id"] for r in await warehouses.usable_for_org(tenant, branches[0])] == []
    assert [r["warehouse_id"] for r in await warehouses.usable_for_org(tenant, branches[1])] == [w["id"]]

    rows = (await client.get(ASSIGN, headers=ROWS)).text
    b1_row = rows.split('data-org="B1"')[1].split("</tr>")[0]
    b2_row = rows.split('data-org="B2"')[1].split("</tr>")[0]
    assert "停用</span>" in b1_row and '"enabled": "1"' in b1_row  # shows 停用 and offers 启用
    assert "启用</span>" in b2_row and '"enabled": "0"' in b2_row

    # re-assigning the pair does not silently re-enable it
    await client.post(
        ASSIGN, data={"warehouse_ids": [str(w["id"])], "org_ids": [str(branches[0])]}, headers=csrf(client)
    )
    assert not (await warehouses.get_assignment(tenant, mine["id"]))["enabled"]
    on = await client.post(f"{ASSIGN}/{mine['id']}/enabled", data={"enabled": "1"}, headers=csrf(client))
    assert toast(on) == "已启用 B1网点 的仓库 W1仓"
    bad = await client.post(f"{ASSIGN}/{mine['id']}/enabled", data={"enabled": "perhaps"}, headers=csrf(client))
    assert bad.status_code == 400 and bad.text
    missing = await client.post(f"{ASSIGN}/999999/enabled", data={"enabled": "0"}, headers=csrf(client))
    assert missing.status_code == 404

    # disabling the definition: the row stays enabled but says the warehouse cannot be used
    await warehouses.update(tenant, w["id"], {"enabled": False})
    assert "仓库已停用" in (await client.get(ASSIGN, headers=ROWS)).text


async def test_branch_user_reads_but_every_write_is_403(client, tenant):
    w = await warehouse(tenant, "W1")
    branch = await branch_ctx(tenant)
    await warehouses.assign(tenant, [w["id"]], [branch.org_id])
    assignment = (await warehouses.assignments(branch)).items[0]
    await page_login(client, "ubr@ACME", PASSWORD)

    defs = await client.get(DEFS)
    assert defs.status_code == 200 and "W1仓" in defs.text
    assert f'{DEFS}/new"' not in defs.text and "/delete" not in defs.text and "/edit" not in defs.text
    listing = await client.get(ASSIGN)
    assert listing.status_code == 200 and "W1仓" in listing.text
    assert f"{ASSIGN}/assign" not in listing.text and "/enabled" not in listing.text

    before = (await Warehouse.select(), await pairs())
    writes = [
        (DEFS, {"code": "W9", "name": "网点仓", "type": "general"}),
        (f"{DEFS}/{w['id']}", {"name": "改名"}),
        (f"{DEFS}/{w['id']}/delete", {}),
        (ASSIGN, {"warehouse_ids": [str(w["id"])], "org_ids": [str(branch.org_id)]}),
        (f"{ASSIGN}/{assignment['id']}/enabled", {"enabled": "0"}),
    ]
    for url, data in writes:
        response = await client.post(url, data=data, headers=csrf(client))
        assert response.status_code == 403 and response.text == "基础数据只能由总部维护", (url, response.text)
    assert (await client.get(f"{ASSIGN}/assign")).status_code == 403
    assert (await Warehouse.select(), await pairs()) == before


async def test_exports_hold_the_filtered_rows(client, tenant, branches):
    w1 = await warehouse(tenant, "W1")
    w2 = await warehouse(tenant, "W2", "good")
    await warehouse(tenant, "W3", "good", enabled=False)
    await warehouses.assign(tenant, [w1["id"], w2["id"]], branches)
    await page_login(client, "admin@ACME")

    page = (await client.get(f"{DEFS}?type=good")).text
    assert 'href="/masterdata/warehouses/export?type=good&amp;status=active"' in page
    good = sheet(await client.get(f"{DEFS}/export?type=good"))
    assert good == [
        warehouses.EXPORT_HEADERS,
        ("W2", "W2仓", "良品库", "是", "正常"),
        ("W3", "W3仓", "良品库", "否", "正常"),
    ]
    enabled_good = sheet(await client.get(f"{DEFS}/export?type=good&enabled=true"))
    assert [r[0] for r in enabled_good[1:]] == ["W2"]
    assert (await client.get(f"{DEFS}/export?type=freezer")).status_code == 400

    mine = sheet(await client.get(f"{ASSIGN}/export?org_id={branches[1]}"))
    assert mine == [
        warehouses.ASSIGNMENT_EXPORT_HEADERS,
        ("B2", "B2网点", "W1", "W1仓", "通用库", "是", "是"),
        ("B2", "B2网点", "W2", "W2仓", "良品库", "是", "是"),
    ]
    typed = sheet(await client.get(f"{ASSIGN}/export?type=good"))
    assert [(r[0], r[2]) for r in typed[1:]] == [("B1", "W2"), ("B2", "W2")]


async def test_export_needs_the_export_permission(client, tenant):
    await hq_ctx(tenant, [P.WAREHOUSE["view"], P.ASSIGNMENT["view"]])
    await page_login(client, "clerk@ACME", PASSWORD)
    page = await client.get(DEFS)
    assert page.status_code == 200 and "/export" not in page.text and f'{DEFS}/new"' not in page.text
    assert (await client.get(f"{DEFS}/export")).status_code == 403
    assert (await client.get(f"{ASSIGN}/export")).status_code == 403
    assert (await client.get(f"{ASSIGN}/assign")).status_code == 403
