"""The 货品管理 pages: list with filters, export and import, the add/edit page (price tiers,
per-store prices, 【自定义】 goods type) and the price preview, including every error path."""

from __future__ import annotations

import asyncio
import io
import json
import re
from urllib.parse import urlencode

import pytest
from openpyxl import Workbook, load_workbook

from server.masterdata import permissions as P
from server.masterdata.services import goods, goods_io
from server.masterdata.tables import Goods, GoodsPrice, GoodsStorePrice, GoodsType
from tests.conftest import ADMIN_PASSWORD, csrf, page_login
from tests.masterdata.helpers import ALL_MD, basics, branch_ctx, hq_ctx, level_orgs, make_goods
from tests.system.helpers import PASSWORD

BASE = "/masterdata/goods"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS = {"hx-request": "true", "hx-target": "rows"}


@pytest.fixture
async def world(tenant) -> dict:
    return await basics(tenant) | {"orgs": await level_orgs(tenant)}


async def admin_page(client) -> None:
    await page_login(client, "admin@ACME")


async def type_id(ctx, name: str) -> int:
    return next(t["id"] for t in await goods.goods_types(ctx) if t["name"] == name)


async def state() -> tuple:
    return tuple([await t.select().order_by(t.id) for t in (Goods, GoodsPrice, GoodsStorePrice, GoodsType)])


def form(**fields) -> dict:
    """A filled add form: four tiers (1 级 100/150 … 4 级 130/180, 4 级 not orderable)."""
    data = {"code": "IP15-SCR", "name": "iPhone 15 屏幕", "unit": "片", "spec": "6.1 寸", "purchase_cost": "0.1000"}
    data |= {"safety_stock": "5", "is_intake_item": "0", "enabled": "1", "per_store_pricing": "0"}
    for level in (1, 2, 3, 4):
        data |= {
            f"order_price_{level}": f"{90 + 10 * level}.0000",
            f"retail_price_{level}": f"{140 + 10 * level}.0000",
            f"orderable_{level}": "1" if level < 4 else "0",
        }
    return data | fields


async def post(client, url: str, data: dict | list):
    """An htmx form post; a list of pairs repeats keys (the per-store rows) as a browser does."""
    pairs = list(data.items()) if isinstance(data, dict) else data
    headers = csrf(client) | {"content-type": "application/x-www-form-urlencoded"}
    return await client.post(url, content=urlencode(pairs), headers=headers)


def refused(response, status: int, message: str) -> None:
    """An htmx error answer: the status and the plain Chinese message app.js shows in the form."""
    assert response.status_code == status, response.text
    assert response.text == message, response.text


# --- list, filters, export ----------------------------------------------------------------------


async def test_list_shows_the_columns_and_filters_by_every_field(client, tenant, world):
    part = await type_id(tenant, "配件")
    await make_goods(
        tenant, "SCR-15", world["iphone15"], name="屏幕", goods_type_id=part, unit="片", spec="6.1", safety_stock=3
    )
    await make_goods(tenant, "IP15", world["iphone15"], name="iPhone 15 整机", is_intake_item=True)
    await make_goods(tenant, "IPAD-BAT", world["ipad"], name="iPad 电池", enabled=False, purchase_cost="0.1000")
    gone = await make_goods(tenant, "OLD", world["ipad"], name="旧货品")
    await goods.delete(tenant, gone["id"])
    await admin_page(client)

    page = await client.get(BASE)
    assert page.status_code == 200 and "货品管理" in page.text
    assert 'href="/masterdata/goods/export?status=active"' in page.text
    assert 'href="/masterdata/goods/new"' in page.text and "导入" in page.text
    for text in ("SCR-15", "屏幕", "配件", "Apple / iPhone / iPhone 15", "片", "6.1", "0.1000", "IPAD-BAT"):
        assert text in page.text, text
    assert "OLD" not in page.text  # deleted goods are hidden unless asked for

    async def codes(query: str) -> list[str]:
        rows = await client.get(f"{BASE}?{query}", headers=ROWS)
        assert rows.status_code == 200 and "<html" not in rows.text, rows.text
        return sorted(c.split('"')[0] for c in rows.text.split('data-code="')[1:])

    assert await codes("q=scr") == ["SCR-15"]
    assert await codes("q=iPad") == ["IPAD-BAT"]
    assert await codes(f"category_id={world['iphone']}") == ["IP15", "SCR-15"]  # the whole subtree
    assert await codes(f"goods_type_id={part}") == ["SCR-15"]
    assert await codes("is_intake_item=true") == ["IP15"]
    assert await codes("enabled=false") == ["IPAD-BAT"]
    assert await codes("status=deleted") == ["OLD"]
    assert await codes("status=") == ["IP15", "IPAD-BAT", "OLD", "SCR-15"]
    # a bad filter answers a message, not a 500
    bad = await client.get(f"{BASE}?category_id=abc", headers=ROWS)
    assert bad.status_code == 400 and "品类" in bad.text


async def test_list_pages(client, tenant, world):
    for n in range(25):
        await make_goods(tenant, f"G{n:02d}", world["iphone15"])
    await admin_page(client)
    first = await client.get(BASE)
    assert "共 25 条" in first.text and "1 / 2" in first.text and "G19" in first.text and "G20" not in first.text
    second = await client.get(f"{BASE}?page=2", headers=ROWS)
    assert "G24" in second.text and "G00" not in second.text
    # a live refresh of the region asks for the page on screen, not the first (every paged list)
    assert 'hx-include="#filters, #rows-page"' in first.text and 'id="rows-page" name="page" value="1"' in first.text
    assert 'id="rows-page" name="page" value="2"' in second.text


async def test_export_holds_the_filtered_rows(client, tenant, world):
    await make_goods(tenant, "SCR-15", world["iphone15"], purchase_cost="0.1000")
    await make_goods(tenant, "SCR-14", world["iphone15"])
    await make_goods(tenant, "IPAD-BAT", world["ipad"])
    await admin_page(client)
    response = await client.get(f"{BASE}/export?q=SCR&category_id={world['iphone']}")
    assert response.status_code == 200 and response.headers["content-type"].startswith(XLSX)
    rows = [list(r) for r in load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True)]
    assert rows[0] == list(goods_io.COLUMNS)
    assert sorted(r[0] for r in rows[1:]) == ["SCR-14", "SCR-15"]
    line = next(r for r in rows if r[0] == "SCR-15")
    assert line[3] == "Apple/iPhone/iPhone 15" and line[6] == "0.1000" and line[10] == "100.0000"


# --- add and edit -------------------------------------------------------------------------------


async def test_add_goods_with_four_tiers_and_a_store_price(client, tenant, world):
    await admin_page(client)
    new = await client.get(f"{BASE}/new")
    assert new.status_code == 200
    assert 'name="code"' in new.text and 'data-source="/pickers/categories"' in new.text and "自定义" in new.text
    assert (await client.get(f"{BASE}/store-price-row")).text.count('name="store_org_id"') == 1

    data = form(category_id=str(world["iphone15"]), goods_type_id=str(await type_id(tenant, "配件")))
    data |= {"per_store_pricing": "1"}
    pairs = list(data.items()) + [
        ("store_org_id", str(world["orgs"][2])),
        ("store_order_price", "99.5"),
        ("store_retail_price", "0.1000"),
    ]
    response = await post(client, BASE, pairs)
    assert response.status_code == 201, response.text
    trigger = json.loads(response.headers["hx-trigger"])["weifu:saved"]
    assert trigger == {"message": "已添加货品 IP15-SCR iPhone 15 屏幕", "topic": "goods"}
    assert json.loads(response.headers["hx-location"])["path"] == BASE

    made = (await goods.search(tenant, q="IP15-SCR")).items[0]
    assert (made["purchase_cost"], made["unit"], made["goods_type_name"], made["safety_stock"]) == (
        "0.1000",
        "片",
        "配件",
        5,
    )
    assert [(p["level"], p["order_price"], p["retail_price"], p["orderable"]) for p in made["prices"]] == [
        (1, "100.0000", "150.0000", True),
        (2, "110.0000", "160.0000", True),
        (3, "120.0000", "170.0000", True),
        (4, "130.0000", "180.0000", False),
    ]
    assert made["per_store_pricing"] is True
    assert [(s["org_id"], s["order_price"], s["retail_price"]) for s in made["store_prices"]] == [
        (world["orgs"][2], "99.5000", "0.1000")
    ]
    # the edit page shows the saved values with their 4 decimals, code and category read-only
    edit = await client.get(f"{BASE}/{made['id']}/edit")
    assert edit.status_code == 200
    assert 'value="0.1000"' in edit.text and 'value="99.5000"' in edit.text and 'value="130.0000"' in edit.text
    assert 'name="code"' not in edit.text and 'name="category_id"' not in edit.text
    assert 'value="Apple / iPhone / iPhone 15" readonly' in edit.text and "L2网点" in edit.text


async def test_edit_goods_and_keep_immutable_fields(client, tenant, world):
    made = await make_goods(tenant, "G1", world["iphone15"])
    await admin_page(client)
    url = f"{BASE}/{made['id']}"
    before = await state()
    refused(await post(client, url, form(code="G2", name="改名")), 400, "货品编码不可修改")
    refused(await post(client, url, form(code="G1", category_id=str(world["ipad"]))), 400, "品类不可修改")
    assert await state() == before

    ok = await post(client, url, form(code="G1", category_id=str(world["iphone15"]), name="新名字", enabled="0"))
    assert ok.status_code == 200, ok.text
    assert json.loads(ok.headers["hx-trigger"])["weifu:saved"]["message"] == "已修改货品 G1 新名字"
    got = await goods.get(tenant, made["id"])
    assert (got["name"], got["enabled"], got["prices"][3]["orderable"]) == ("新名字", False, False)

    await goods.delete(tenant, made["id"])
    refused(await client.get(f"{url}/edit", headers={"hx-request": "true"}), 409, "货品已删除，不能修改")


async def test_duplicate_code_is_refused_with_a_message(client, tenant, world):
    await make_goods(tenant, "G1", world["iphone15"])
    await admin_page(client)
    before = await state()
    refused(await post(client, BASE, form(code="G1", category_id=str(world["iphone15"]))), 409, "货品编码 G1 已存在")
    assert await state() == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"order_price_2": "1.12345"}, "2 级订单价格最多 4 位小数"),
        ({"retail_price_4": "-1"}, "4 级零售价不能为负数"),
        ({"purchase_cost": "0.00001"}, "采购成本最多 4 位小数"),
        ({"order_price_1": "abc"}, "1 级订单价格格式不正确"),
        ({"safety_stock": "-3"}, "安全库存必须在 0–10000000 之间"),
        ({"name": ""}, "请填写货品名称"),
        ({"code": "有空格 的编码"}, "货品编码只能包含字母、数字和 . _ / -（最多 64 位）"),
        ({"category_id": ""}, "请选择品类"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(client, tenant, world, fields, message):
    await admin_page(client)
    before = await state()
    response = await post(client, BASE, form(category_id=str(world["iphone15"])) | fields)
    assert response.status_code == 400, response.text
    assert response.text == message
    assert await state() == before


async def test_bad_store_price_rows_say_which_store(client, tenant, world):
    await admin_page(client)
    base = list(form(category_id=str(world["iphone15"]), per_store_pricing="1").items())
    names = ("store_org_id", "store_order_price", "store_retail_price")
    l2, l3 = str(world["orgs"][2]), str(world["orgs"][3])

    def rows(*triples) -> list:
        return base + [(k, v) for t in triples for k, v in zip(names, t, strict=True)]

    before = await state()
    refused(await post(client, BASE, rows((l2, "1.00001", "1"))), 400, "L2网点 订单价格最多 4 位小数")
    # an empty cell in the first row must not shift the second row's values into it
    refused(await post(client, BASE, rows((l2, "1", ""), (l3, "2", "3"))), 400, "L2网点 零售价格式不正确")
    refused(await post(client, BASE, rows(("", "1", "1"))), 400, "请选择店铺")
    refused(await post(client, BASE, rows((l2, "1", "1"), (l2, "2", "2"))), 400, "店铺 L2网点 重复")
    refused(await post(client, BASE, rows(("999999", "1", "1"))), 400, "所选店铺不存在或已删除")
    refused(await post(client, BASE, [*rows((l2, "1", "1")), ("store_org_id", l3)]), 400, "按店铺单独定价格式不正确")
    assert await state() == before


# --- goods types (【自定义】) ----------------------------------------------------------------------


async def test_custom_goods_type_is_added_inline_and_selected(client, tenant, world):
    await admin_page(client)
    inline = await client.get(f"{BASE}/types/new")
    assert inline.status_code == 200 and 'name="goods_type_name"' in inline.text
    response = await post(client, f"{BASE}/types", {"goods_type_name": "二手机"})
    assert response.status_code == 200, response.text
    made = await type_id(tenant, "二手机")
    assert f'<option value="{made}" selected>二手机</option>' in response.text
    assert "<html" not in response.text and 'id="goods-type-field"' in response.text
    assert json.loads(response.headers["hx-trigger"])["weifu:saved"]["message"] == "已添加货品分类 二手机"
    refused(await post(client, f"{BASE}/types", {"goods_type_name": "二手机"}), 409, "货品分类 二手机 已存在")
    refused(await post(client, f"{BASE}/types", {"goods_type_name": " "}), 400, "请填写货品分类名称")


async def test_custom_goods_type_needs_its_permission(client, tenant, world):
    await hq_ctx(tenant, [*P.GOODS.values()], account="clerk")
    await page_login(client, "clerk@ACME", PASSWORD)
    new = await client.get(f"{BASE}/new")
    assert new.status_code == 200 and "自定义" not in new.text
    before = await state()
    refused(await post(client, f"{BASE}/types", {"goods_type_name": "二手机"}), 403, "没有权限执行此操作")
    assert (await client.get(f"{BASE}/types/new", headers={"hx-request": "true"})).status_code == 403
    assert await state() == before


# --- branch users read only -----------------------------------------------------------------------


async def test_branch_user_reads_but_cannot_write(client, tenant, world):
    made = await make_goods(tenant, "G1", world["iphone15"])
    await branch_ctx(tenant, ALL_MD, code="BR")
    await page_login(client, "ubr@ACME", PASSWORD)
    page = await client.get(BASE)
    assert page.status_code == 200 and "G1" in page.text
    assert "/masterdata/goods/new" not in page.text and "/edit" not in page.text and "导入</button>" not in page.text
    before = await state()
    hx = {"hx-request": "true"}
    assert (await client.get(f"{BASE}/new", headers=hx)).status_code == 403
    assert (await client.get(f"{BASE}/{made['id']}/edit", headers=hx)).status_code == 403
    for url, data in (
        (BASE, form(code="G2", category_id=str(world["iphone15"]))),
        (f"{BASE}/{made['id']}", form(name="改名")),
        (f"{BASE}/{made['id']}/delete", {}),
        (f"{BASE}/types", {"goods_type_name": "二手机"}),
    ):
        refused(await post(client, url, data), 403, "基础数据只能由总部维护")
    response = await client.post(f"{BASE}/import", files={"file": ("g.xlsx", xlsx([]), XLSX)}, headers=csrf(client))
    assert response.status_code == 403
    assert await state() == before


# --- import -------------------------------------------------------------------------------------


def xlsx(rows: list[list]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("货品")
    ws.append(list(goods_io.COLUMNS))
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(code: str, category: str = "Apple/iPhone/iPhone 15", **cells) -> list:
    values = {"货品编码": code, "货品名称": f"货品{code}", "品类": category, "1级订单价格": "0.1000"} | cells
    return [values.get(c) for c in goods_io.COLUMNS]


async def upload(client, content: bytes, name: str = "goods.xlsx"):
    return await client.post(f"{BASE}/import", files={"file": (name, content, XLSX)}, headers=csrf(client))


async def imported(client, content: bytes):
    """Upload as the dialog does: the answer is the job's progress, polled until it has finished;
    the last poll's answer is returned."""
    started = await upload(client, content)
    assert started.status_code == 200, started.text
    job_url = re.search(r'hx-get="(/masterdata/goods/import/\d+)" hx-trigger="every 500ms"', started.text)[1]
    assert '<progress aria-labelledby="goods-import-status">' in started.text and "正在读取文件" in started.text
    assert 'id="goods-import-submit" hx-swap-oob="true" disabled>导入中…' in started.text
    return await imported_after(client, job_url)


async def imported_after(client, job_url: str):
    for _ in range(600):  # the test client runs the app (and its job) in a loop of its own
        done = await client.get(job_url, headers={"hx-request": "true"})
        assert done.status_code == 200, done.text
        if "every 500ms" not in done.text:  # finished: the polling stops
            return done
        await asyncio.sleep(0.05)
    raise AssertionError(f"the import job did not finish: {done.text}")


async def test_import_dialog_and_template(client, tenant, world):
    await admin_page(client)
    dialog = await client.get(f"{BASE}/import")
    assert dialog.status_code == 200
    assert 'hx-encoding="multipart/form-data"' in dialog.text and f'href="{BASE}/import-template"' in dialog.text
    template = await client.get(f"{BASE}/import-template")
    assert template.status_code == 200 and template.headers["content-type"].startswith(XLSX)
    header = next(load_workbook(io.BytesIO(template.content)).worksheets[0].iter_rows(values_only=True))
    assert list(header) == list(goods_io.COLUMNS)


async def test_import_with_a_bad_row_imports_nothing_and_reports_it(client, tenant, world):
    await admin_page(client)
    before = await state()
    content = xlsx([row("A1"), row("A2", category="Apple/没有"), row("A3", **{"采购成本": "1.00001"})])
    response = await imported(client, content)
    assert "hx-trigger" not in response.headers
    assert "导入失败：共 2 行有错误，未导入任何数据" in response.text
    assert '<td class="num">3</td><td>品类【Apple/没有】不存在或已删除</td>' in response.text
    assert '<td class="num">4</td><td>采购成本最多 4 位小数</td>' in response.text
    assert 'id="goods-import-submit" hx-swap-oob="true">导入</button>' in response.text  # enabled again
    assert await state() == before
    # a file that is not a workbook at all: the job says so in the dialog
    response = await imported(client, b"not a zip")
    assert "导入失败：文件不是有效的 Excel（.xlsx）文件" in response.text
    refused(
        await client.post(f"{BASE}/import", data={"x": "1"}, headers=csrf(client)), 400, "请选择要导入的 Excel 文件"
    )
    assert await state() == before


async def test_good_import_imports_every_row(client, tenant, world):
    await admin_page(client)
    content = xlsx([row("A1", **{"货品分类": "配件"}), row("A2", **{"是否用于实物受理": "是"})])
    response = await imported(client, content)
    assert json.loads(response.headers["hx-trigger"])["weifu:saved"] == {"message": "已导入 2 条货品", "topic": "goods"}
    got = {g["code"]: g for g in (await goods.search(tenant)).items}
    assert set(got) == {"A1", "A2"}
    assert got["A1"]["goods_type_name"] == "配件" and got["A2"]["is_intake_item"] is True
    assert got["A1"]["prices"][0]["order_price"] == "0.1000"


async def test_only_the_importer_sees_the_import_job(client, tenant, other_tenant, world):
    await admin_page(client)
    started = await upload(client, xlsx([row("A1")]))
    job_url = re.search(r'hx-get="(/masterdata/goods/import/\d+)"', started.text)[1]
    hx = {"hx-request": "true"}
    await hq_ctx(tenant, [P.GOODS["import"]], account="importer2")
    for login in ("importer2@ACME", "admin@OTHER"):  # a colleague, another tenant: absent
        await page_login(client, login, PASSWORD if login.startswith("importer") else ADMIN_PASSWORD)
        assert (await client.get(job_url, headers=hx)).status_code == 404
    await admin_page(client)
    assert (await imported_after(client, job_url)).headers["hx-trigger"]


# --- price preview ------------------------------------------------------------------------------


def preview_cells(html: str) -> tuple[str, str, str, str]:
    def cell(field: str) -> str:
        text = html.split(f'data-field="{field}">')[1].split("</td>")[0]
        return text.split(">")[1].split("<")[0] if "<span" in text else text

    return cell("order_price"), cell("retail_price"), cell("orderable"), cell("source")


async def test_price_preview_for_each_level_and_an_override(client, tenant, world):
    orgs = world["orgs"]
    overrides = [{"org_id": orgs[3], "order_price": "1.2345", "retail_price": "0.1000"}]
    made = await make_goods(tenant, "G1", world["iphone15"], per_store_pricing=True, store_prices=overrides)
    await admin_page(client)
    edit = await client.get(f"{BASE}/{made['id']}/edit")
    assert f'hx-get="/masterdata/goods/{made["id"]}/price"' in edit.text and "价格预览" in edit.text

    url = f"{BASE}/{made['id']}/price"
    expected = {
        1: ("100.0000", "150.0000", "允许", "1 级价格"),
        2: ("110.0000", "160.0000", "允许", "2 级价格"),
        3: ("1.2345", "0.1000", "允许", "店铺单独定价"),
        4: ("130.0000", "180.0000", "不允许", "4 级价格"),
    }
    for level, cells in expected.items():
        response = await client.get(f"{url}?org_id={orgs[level]}", headers={"hx-request": "true"})
        assert response.status_code == 200, response.text
        assert preview_cells(response.text) == cells, level
    empty = await client.get(f"{url}?org_id=", headers={"hx-request": "true"})
    assert empty.status_code == 200 and "选择机构后" in empty.text
    # per-store pricing off: the override is kept but the level's tier applies
    await goods.update(tenant, made["id"], {"per_store_pricing": False})
    off = await client.get(f"{url}?org_id={orgs[3]}", headers={"hx-request": "true"})
    assert preview_cells(off.text) == ("120.0000", "170.0000", "允许", "3 级价格")
    bad = await client.get(f"{url}?org_id=abc", headers={"hx-request": "true"})
    assert bad.status_code == 400
    missing = await client.get(f"{BASE}/999999/price?org_id={orgs[2]}", headers={"hx-request": "true"})
    assert missing.status_code == 404 and missing.text == "货品不存在"
