"""The pages of 维修代码 and 故障原因: filtered list with category/class paths, the dialog form's
add/edit/delete and its error answers, read-only for branches, and the filtered xlsx export."""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook

from server.masterdata.services import codes, trees
from tests.conftest import csrf, page_login
from tests.masterdata.helpers import basics, branch_ctx, fault_reason, repair_code
from tests.system.helpers import PASSWORD

KINDS = [
    ("repair_code", "/masterdata/repair-codes", "repair_class_id"),
    ("fault_reason", "/masterdata/fault-reasons", "fault_class_id"),
]
ROWS = {"hx-request": "true", "hx-target": "rows"}


def toast(response) -> str:
    """The message a saved form shows (the weifu:saved event's)."""
    return json.loads(response.headers["hx-trigger"])["weifu:saved"]["message"]


def form_for(kind: str, b: dict, code: str = "C001", **fields) -> dict:
    body = {"code": code, "name": "更换屏幕", "category_id": b["iphone15"], "enabled": "1"}
    if kind == "repair_code":
        return body | {"repair_class_id": b["lcd"], "labor_fee": "80.5", "uses_material": "1"} | fields
    return body | {"fault_class_id": b["battery"]} | fields


async def listed(client, url: str, **filters) -> list[str]:
    """Codes the list region shows for `filters` (read from the rows' data-code)."""
    response = await client.get(f"{url}?{urlencode(filters)}", headers=ROWS)
    assert response.status_code == 200, response.text
    assert "<html" not in response.text
    return [part.split('"', 1)[0] for part in response.text.split('data-code="')[1:]]


async def test_repair_code_list_filters_and_paths(client, tenant):
    b = await basics(tenant)
    screen2 = await trees.create(tenant, "repair_class", {"name": "主板维修"})
    await repair_code(tenant, "R1", b["iphone15"], b["lcd"], name="更换屏幕总成", labor_fee="80.5")
    await repair_code(tenant, "R2", b["ipad"], b["lcd"], name="更换电池")
    await repair_code(tenant, "R3", b["iphone15"], screen2["id"], name="主板焊接", enabled=False)
    gone = await repair_code(tenant, "R4", b["iphone"], b["screen"], name="已删代码")
    await codes.delete(tenant, "repair_code", gone["id"])
    await page_login(client, "admin@ACME")
    url = "/masterdata/repair-codes"

    page = await client.get(url)
    assert page.status_code == 200 and "维修代码" in page.text
    assert "Apple / iPhone / iPhone 15" in page.text and "屏幕维修 / 换屏" in page.text and "80.5000" in page.text
    assert await listed(client, url) == ["R1", "R2", "R3"]  # deleted ones are hidden by default
    assert await listed(client, url, category_id=b["apple"]) == ["R1", "R2", "R3"]  # the whole subtree
    assert await listed(client, url, category_id=b["ipad"]) == ["R2"]
    assert await listed(client, url, class_id=b["screen"]) == ["R1", "R2"]
    assert await listed(client, url, class_id=screen2["id"]) == ["R3"]
    assert await listed(client, url, enabled="false") == ["R3"]
    assert await listed(client, url, enabled="true", category_id=b["iphone15"]) == ["R1"]
    assert await listed(client, url, status="deleted") == ["R4"]
    assert await listed(client, url, status="") == ["R1", "R2", "R3", "R4"]
    assert await listed(client, url, q="电池") == ["R2"]
    assert await listed(client, url, q="r1") == ["R1"]

    # the chosen filters come back with their paths in the pickers, and in the export link
    chosen = await client.get(f"{url}?category_id={b['ipad']}&class_id={b['lcd']}")
    assert 'value="Apple / iPad"' in chosen.text and 'value="屏幕维修 / 换屏"' in chosen.text
    assert f'href="{url}/export?category_id={b["ipad"]}&amp;class_id={b["lcd"]}&amp;status=active"' in chosen.text
    # bad filters answer a message, never a 500
    assert (await client.get(f"{url}?category_id=abc", headers=ROWS)).status_code == 400
    assert (await client.get(f"{url}?enabled=maybe", headers=ROWS)).status_code == 400


async def test_fault_reason_list_filters(client, tenant):
    b = await basics(tenant)
    await fault_reason(tenant, "F1", b["iphone15"], b["battery"], name="电池老化")
    await fault_reason(tenant, "F2", b["ipad"], b["power"], name="无法开机")
    await page_login(client, "admin@ACME")
    url = "/masterdata/fault-reasons"
    page = await client.get(url)
    assert "故障原因" in page.text and "电源故障 / 电池" in page.text and "维修劳务费" not in page.text
    assert await listed(client, url, class_id=b["power"]) == ["F1", "F2"]
    assert await listed(client, url, class_id=b["battery"]) == ["F1"]
    assert await listed(client, url, category_id=b["ipad"]) == ["F2"]
    assert await listed(client, url, q="老化") == ["F1"]


@pytest.mark.parametrize(("kind", "url", "class_key"), KINDS)
async def test_add_edit_delete_through_the_form(client, tenant, kind, url, class_key):
    b = await basics(tenant)
    label = codes.KINDS[kind].label
    await page_login(client, "admin@ACME")
    new = await client.get(f"{url}/new")
    assert new.status_code == 200 and 'name="code"' in new.text and f'name="{class_key}"' in new.text
    assert ('name="labor_fee"' in new.text) == (kind == "repair_code")

    created = await client.post(url, data=form_for(kind, b), headers=csrf(client))
    assert created.status_code == 201, created.text
    assert toast(created) == f"已添加{label} C001"
    item = (await codes.search(tenant, kind, q="C001")).items[0]
    assert (item["category_id"], item[class_key], item["enabled"]) == (
        b["iphone15"],
        form_for(kind, b)[class_key],
        True,
    )
    if kind == "repair_code":
        assert (item["labor_fee"], item["uses_material"]) == ("80.5000", True)

    duplicate = await client.post(url, data=form_for(kind, b, name="另一个"), headers=csrf(client))
    assert duplicate.status_code == 409 and duplicate.text == f"{label}编码 C001 已存在"

    edit = await client.get(f"{url}/{item['id']}/edit")
    assert edit.status_code == 200
    assert 'value="C001" readonly' in edit.text and 'name="code"' not in edit.text  # shown, never posted
    assert 'value="Apple / iPhone / iPhone 15"' in edit.text
    renamed = await client.post(f"{url}/{item['id']}", data={"code": "C002", "name": "改名"}, headers=csrf(client))
    assert renamed.status_code == 400 and renamed.text == "编码不可修改"

    changes = {"name": "改名", "category_id": b["ipad"], "enabled": "0"}
    if kind == "repair_code":
        changes |= {"labor_fee": "0.1000", "uses_material": "0"}
    updated = await client.post(f"{url}/{item['id']}", data=changes, headers=csrf(client))
    assert updated.status_code == 200, updated.text
    item = codes.as_dict(kind, await codes.get(tenant, kind, item["id"]))
    assert (item["code"], item["name"], item["category_id"], item["enabled"]) == ("C001", "改名", b["ipad"], False)
    if kind == "repair_code":
        assert (item["labor_fee"], item["uses_material"]) == ("0.1000", False)
        assert 'value="0.1000"' in (await client.get(f"{url}/{item['id']}/edit")).text

    deleted = await client.post(f"{url}/{item['id']}/delete", headers=csrf(client))
    assert deleted.status_code == 200 and toast(deleted) == f"已删除{label} C001"
    assert await listed(client, url) == []
    again = await client.post(f"{url}/{item['id']}/delete", headers=csrf(client))
    assert again.status_code == 409 and again.text == f"{label}已经删除"
    late = await client.post(f"{url}/{item['id']}", data={"name": "再改"}, headers=csrf(client))
    assert late.status_code == 409 and late.text == f"{label}已删除，不能修改"


@pytest.mark.parametrize(("kind", "url", "class_key"), KINDS)
async def test_form_refuses_bad_input_with_a_message(client, tenant, kind, url, class_key):
    b = await basics(tenant)
    await page_login(client, "admin@ACME")
    await trees.delete(tenant, "category", b["ipad"])
    await trees.delete(tenant, "category", b["iphone"])  # iPhone 15 lies under it
    cases = [
        ({"category_id": b["ipad"]}, "所选品类已删除（或其上级已删除），不能使用"),
        ({"category_id": b["iphone15"]}, "所选品类已删除（或其上级已删除），不能使用"),
        ({"category_id": ""}, "请选择品类"),
        ({"category_id": "999999"}, "所选品类不存在"),
        ({class_key: ""}, f"请选择{'维修分类' if kind == 'repair_code' else '故障分类'}"),
        ({"code": ""}, "请填写编码"),
        ({"code": "有 空格"}, "编码只能包含字母、数字、点、下划线和短横线（最多 32 位）"),
        ({"name": ""}, "请填写名称"),
    ]
    if kind == "repair_code":
        cases += [
            ({"labor_fee": "1.23456"}, "维修劳务费最多 4 位小数"),
            ({"labor_fee": "-1"}, "维修劳务费不能为负数"),
            ({"labor_fee": "abc"}, "维修劳务费格式不正确"),
        ]
    for fields, message in cases:
        response = await client.post(url, data=form_for(kind, b, category_id=b["apple"]) | fields, headers=csrf(client))
        assert (response.status_code, response.text) == (400, message), fields
    assert (await codes.search(tenant, kind, status="")).total == 0

    made = await client.post(url, data=form_for(kind, b, category_id=b["apple"]), headers=csrf(client))
    assert made.status_code == 201, made.text
    item_id = (await codes.search(tenant, kind)).items[0]["id"]
    moved = await client.post(f"{url}/{item_id}", data={"category_id": b["ipad"]}, headers=csrf(client))
    assert (moved.status_code, moved.text) == (400, "所选品类已删除（或其上级已删除），不能使用")
    if kind == "repair_code":
        fee = await client.post(f"{url}/{item_id}", data={"labor_fee": "0.00001"}, headers=csrf(client))
        assert (fee.status_code, fee.text) == (400, "维修劳务费最多 4 位小数")
        assert (await codes.get(tenant, kind, item_id))["labor_fee"] == 805_000
    assert (await client.get(f"{url}/999999/edit")).status_code == 404


@pytest.mark.parametrize(("kind", "url", "class_key"), KINDS)
async def test_branch_user_reads_but_cannot_write(client, tenant, kind, url, class_key):
    b = await basics(tenant)
    make = repair_code if kind == "repair_code" else fault_reason
    item = await make(tenant, "C001", b["iphone15"], b["lcd"] if kind == "repair_code" else b["battery"])
    await branch_ctx(tenant)  # a branch user holding every master data permission
    await page_login(client, "ubr@ACME", PASSWORD)

    page = await client.get(url)
    assert page.status_code == 200 and "C001" in page.text
    assert f'hx-get="{url}/new"' not in page.text and "/edit" not in page.text and "/delete" not in page.text
    assert (await client.get(f"{url}/export")).status_code == 200  # reading includes exporting
    for path, data in (
        ("", form_for(kind, b, "C002")),
        (f"/{item['id']}", {"name": "分公司改名"}),
        (f"/{item['id']}/delete", {}),
    ):
        response = await client.post(f"{url}{path}", data=data, headers=csrf(client))
        assert (response.status_code, response.text) == (403, "基础数据只能由总部维护")
    assert [(i["code"], i["name"], i["status"]) for i in (await codes.search(tenant, kind, status="")).items] == [
        ("C001", item["name"], "active")
    ]


async def test_user_without_the_permission_gets_403(client, tenant):
    await branch_ctx(tenant, permissions=["masterdata.category.view"])
    await page_login(client, "ubr@ACME", PASSWORD)
    assert (await client.get("/masterdata/repair-codes")).status_code == 403
    assert (await client.get("/masterdata/fault-reasons/export")).status_code == 403


async def test_export_holds_only_the_filtered_rows(client, tenant):
    b = await basics(tenant)
    await repair_code(tenant, "R1", b["iphone15"], b["lcd"], name="更换屏幕", labor_fee="0.1000", uses_material=True)
    await repair_code(tenant, "R2", b["ipad"], b["lcd"], name="更换电池")
    await repair_code(tenant, "R3", b["iphone15"], b["lcd"], name="停用代码", enabled=False)
    await fault_reason(tenant, "F1", b["iphone15"], b["battery"], name="电池老化")
    await page_login(client, "admin@ACME")

    response = await client.get(f"/masterdata/repair-codes/export?category_id={b['iphone']}&enabled=true")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows == [
        ("维修代码编码", "维修代码名称", "维修劳务费", "是否用料", "品类", "维修分类", "是否启用", "状态"),
        ("R1", "更换屏幕", "0.1000", "是", "Apple / iPhone / iPhone 15", "屏幕维修 / 换屏", "是", "正常"),
    ]

    response = await client.get("/masterdata/fault-reasons/export?q=老化")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows == [
        ("故障原因编码", "故障原因名称", "品类", "故障分类", "是否启用", "状态"),
        ("F1", "电池老化", "Apple / iPhone / iPhone 15", "电源故障 / 电池", "是", "正常"),
    ]
