"""Goods to and from Excel: the template and the export share the import's columns; an import
validates every row first, imports nothing when any row is bad (with a per-row report) and
everything in one transaction otherwise, fast enough for 10,000 rows."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from server.core import jobs
from server.core.tables import AuditLog, Job
from server.masterdata.services import goods, goods_io, trees
from server.masterdata.tables import Goods, GoodsPrice
from tests.conftest import api_login
from tests.masterdata.helpers import (
    FOUR_TIERS,
    basics,
    branch_api_user,
    branch_ctx,
    chain,
    error_of,
    make_goods,
    refused,
    tiers,
)
from tests.system.helpers import service_org, user_with

URL = "/api/v1/goods"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = list(goods_io.COLUMNS)


def xlsx(rows: list[list], header: list | None = None) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("货品")
    ws.append(COLUMNS if header is None else header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(code: str, category: str = "Apple/iPhone/iPhone 15", **cells) -> list:
    """A data row by column name; unnamed cells are left empty except code, name and category."""
    values = {"货品编码": code, "货品名称": f"货品{code}", "品类": category} | cells
    return [values.get(c) for c in COLUMNS]


def read_xlsx(content: bytes) -> list[list]:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


async def upload(client, headers: dict, content: bytes, name: str = "goods.xlsx"):
    return await client.post(f"{URL}/import", files={"file": (name, content, XLSX)}, headers=headers)


async def goods_state() -> tuple:
    return await Goods.select().order_by(Goods.id), await GoodsPrice.select().order_by(GoodsPrice.id)


@pytest.fixture
async def cats(tenant) -> dict:
    return await basics(tenant)


def test_columns_are_the_issue_s_columns():
    assert COLUMNS[:10] == [
        "货品编码",
        "货品名称",
        "货品分类",
        "品类",
        "单位",
        "规格型号",
        "采购成本",
        "是否用于实物受理",
        "是否启用",
        "安全库存",
    ]
    assert COLUMNS[10:] == [f"{n}级{what}" for n in (1, 2, 3, 4) for what in ("订单价格", "零售价", "允许订购")]


async def test_the_template_downloads_and_opens(client, admin, tenant):
    response = await client.get(f"{URL}/import-template", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(XLSX)
    assert "attachment" in response.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)] == [COLUMNS]
    assert wb.sheetnames[1] == "填写说明"
    assert goods_io.template_bytes()[:2] == b"PK"
    # importing the empty template says there is nothing to import
    error_of(await upload(client, admin, response.content), 400, "import_empty")


async def test_export_holds_the_filtered_rows(client, admin, tenant, cats):
    whole = next(t["id"] for t in await goods.goods_types(tenant) if t["name"] == "整机")
    await make_goods(
        tenant,
        "IP15",
        cats["iphone15"],
        name="iPhone 15",
        goods_type_id=whole,
        unit="台",
        spec="128G 黑色",
        purchase_cost="0.1000",
        is_intake_item=True,
        safety_stock=3,
    )
    await make_goods(tenant, "IP15-BAT", cats["iphone15"], name="电池", prices=tiers(("1.5", "2", True)), enabled=False)
    await make_goods(tenant, "IPAD-SCR", cats["ipad"], name="iPad 屏幕")

    response = await client.get(f"{URL}/export", params={"category_id": cats["iphone"]}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(XLSX)
    sheet = read_xlsx(response.content)
    assert sheet[0] == COLUMNS
    assert [r[0] for r in sheet[1:]] == ["IP15", "IP15-BAT"]
    first = dict(zip(COLUMNS, sheet[1], strict=True))
    assert first == {
        "货品编码": "IP15",
        "货品名称": "iPhone 15",
        "货品分类": "整机",
        "品类": "Apple/iPhone/iPhone 15",
        "单位": "台",
        "规格型号": "128G 黑色",
        "采购成本": "0.1000",
        "是否用于实物受理": "是",
        "是否启用": "是",
        "安全库存": 3,
        **{
            f"{t['level']}级{what}": value
            for t in FOUR_TIERS
            for what, value in (
                ("订单价格", t["order_price"]),
                ("零售价", t["retail_price"]),
                ("允许订购", "是" if t["orderable"] else "否"),
            )
        },
    }
    second = dict(zip(COLUMNS, sheet[2], strict=True))
    # empty cells (no goods type, no level-2 tier) are empty in the sheet
    assert (second["货品分类"], second["是否启用"], second["1级订单价格"], second["2级订单价格"]) == (
        None,
        "否",
        "1.5000",
        None,
    )
    # other filters: text and status flags
    by_q = read_xlsx((await client.get(f"{URL}/export", params={"q": "屏幕"}, headers=admin)).content)
    assert [r[0] for r in by_q[1:]] == ["IPAD-SCR"]
    enabled = read_xlsx((await client.get(f"{URL}/export", params={"enabled": "true"}, headers=admin)).content)
    assert [r[0] for r in enabled[1:]] == ["IP15", "IPAD-SCR"]
    assert len(read_xlsx((await client.get(f"{URL}/export", headers=admin)).content)) == 4
    error_of(await client.get(f"{URL}/export", params={"enabled": "maybe"}, headers=admin), 400)


async def test_export_and_template_need_their_permissions(client, admin, tenant, cats):
    await make_goods(tenant, "G1", cats["iphone15"])
    _, viewer = await user_with(client, admin, "viewer", tenant.org_id, "hq", ["masterdata.goods.view"])
    error_of(await client.get(f"{URL}/export", headers=viewer), 403, "forbidden")
    error_of(await client.get(f"{URL}/import-template", headers=viewer), 403, "forbidden")
    error_of(await upload(client, viewer, xlsx([row("X1")])), 403, "forbidden")
    # exporting is reading: a branch user with the permission may; importing is writing: never
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    headers = await branch_api_user(client, admin, branch["id"])
    assert len(read_xlsx((await client.get(f"{URL}/export", headers=headers)).content)) == 2
    before = await goods_state()
    error_of(await upload(client, headers, xlsx([row("X1")])), 403, "forbidden")
    assert await goods_state() == before


async def test_a_good_file_imports_every_row(client, admin, tenant, cats):
    content = xlsx(
        [
            row(
                "IP15",
                "Apple/iPhone/iPhone 15",
                **{
                    "货品名称": "iPhone 15 整机",
                    "货品分类": "整机",
                    "单位": "台",
                    "规格型号": "128G",
                    "采购成本": "4999.5000",
                    "是否用于实物受理": "是",
                    "是否启用": "是",
                    "安全库存": 2,
                    "1级订单价格": "5000",
                    "1级零售价": "5999",
                    "1级允许订购": "是",
                    "2级订单价格": "5100",
                    "2级零售价": "5999",
                    "2级允许订购": "否",
                },
            ),
            row(
                "IP15-BAT", " Apple / iPhone / iPhone 15 ", **{"货品分类": "配件", "采购成本": 0.1, "3级订单价格": 12.5}
            ),
            [],  # blank rows are skipped
            row("IPAD-SCR", "Apple/iPad", **{"是否启用": "否", "安全库存": 7.0, "采购成本": 3}),
        ]
    )
    response = await upload(client, admin, content)
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 3}

    listed = {g["code"]: g for g in (await goods.search(tenant)).items}
    assert sorted(listed) == ["IP15", "IP15-BAT", "IPAD-SCR"]
    ip15 = listed["IP15"]
    assert (ip15["name"], ip15["goods_type_name"], ip15["category_id"], ip15["unit"], ip15["spec"]) == (
        "iPhone 15 整机",
        "整机",
        cats["iphone15"],
        "台",
        "128G",
    )
    assert (ip15["purchase_cost"], ip15["is_intake_item"], ip15["enabled"], ip15["safety_stock"]) == (
        "4999.5000",
        True,
        True,
        2,
    )
    assert ip15["prices"] == tiers(("5000.0000", "5999.0000", True), ("5100.0000", "5999.0000", False))
    bat = listed["IP15-BAT"]
    assert (bat["goods_type_name"], bat["purchase_cost"], bat["unit"], bat["enabled"]) == ("配件", "0.1000", "个", True)
    assert bat["prices"] == [{"level": 3, "order_price": "12.5000", "retail_price": "0.0000", "orderable": True}]
    pad = listed["IPAD-SCR"]
    assert (pad["category_id"], pad["enabled"], pad["safety_stock"], pad["purchase_cost"], pad["prices"]) == (
        cats["ipad"],
        False,
        7,
        "3.0000",
        [],
    )
    assert str((await goods.price_for(tenant, ip15["id"], tenant.org_id)).order_price) == "5000.0000"
    audit = await AuditLog.select().where((AuditLog.entity == "goods") & (AuditLog.action == "import"))
    assert len(audit) == 1 and "3" in audit[0]["summary"]


async def test_an_export_imports_again_elsewhere(client, admin, tenant, other_tenant, cats):
    """Round trip: ACME's export, into a tenant with the same category tree."""
    await make_goods(tenant, "G1", cats["iphone15"], purchase_cost="0.1000", is_intake_item=True)
    await make_goods(tenant, "G2", cats["ipad"], prices=tiers(("1", "2", False)), enabled=False)
    exported = (await client.get(f"{URL}/export", headers=admin)).content
    await chain(other_tenant, "category", "Apple", "iPhone", "iPhone 15")
    await trees.create(
        other_tenant,
        "category",
        {"name": "iPad", "parent_id": (await trees.listing(other_tenant, "category"))[0]["id"]},
    )
    other = await api_login(client, "admin@OTHER")
    response = await upload(client, other, exported)
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 2}
    mine = {g["code"]: g for g in (await goods.search(tenant)).items}
    theirs = {g["code"]: g for g in (await goods.search(other_tenant)).items}
    keys = (
        "name",
        "category_name",
        "unit",
        "spec",
        "purchase_cost",
        "is_intake_item",
        "enabled",
        "safety_stock",
        "prices",
    )
    for code in ("G1", "G2"):
        assert {k: theirs[code][k] for k in keys} == {k: mine[code][k] for k in keys}
    # and the same file into ACME again is refused whole: every code exists
    again = await upload(client, admin, exported)
    body = error_of(again, 400, "import_invalid", extra=("errors",))
    assert [e["row"] for e in body["errors"]] == [2, 3]
    assert all("已存在" in e["message"] for e in body["errors"])


async def test_one_bad_row_imports_nothing_and_is_reported(client, admin, tenant, cats):
    before = await goods_state()
    audit_before = await AuditLog.count()
    content = xlsx([row("OK1"), row("OK2"), row("BAD", **{"采购成本": "1.23456"}), row("OK3")])
    response = await upload(client, admin, content)
    body = error_of(response, 400, "import_invalid", extra=("errors",))
    assert set(body) == {"detail", "code", "errors"}
    assert body["errors"] == [{"row": 4, "message": "采购成本最多 4 位小数"}]
    assert "1 行" in body["detail"]
    assert await goods_state() == before
    assert await AuditLog.count() == audit_before


async def test_every_problem_is_reported_with_its_row(client, admin, tenant, cats):
    await make_goods(tenant, "EXISTS", cats["iphone15"])
    old = await trees.create(tenant, "category", {"name": "旧款", "parent_id": cats["apple"]})
    await trees.create(tenant, "category", {"name": "X", "parent_id": old["id"]})
    await trees.delete(tenant, "category", old["id"])
    before = await goods_state()
    rows = [
        row("GOOD"),  # 2
        row("EXISTS"),  # 3
        row("DUP"),  # 4
        row("DUP"),  # 5
        row("NOCAT", "Apple/Android"),  # 6
        row("OLDCAT", "Apple/旧款/X"),  # 7: under a deleted node
        row("MONEY", **{"2级零售价": "-1"}),  # 8
        row("TYPE", **{"货品分类": "不存在的分类"}),  # 9
        row("FLAG", **{"是否启用": "也许"}),  # 10
        row("STOCK", **{"安全库存": -3}),  # 11
        row("含 空格"),  # 12
        row("NONAME", **{"货品名称": None}),  # 13
        row("NOCATEGORY", None),  # 14
        row("MANY", "Nowhere", **{"采购成本": "abc", "货品名称": "长" * 201}),  # 15
        row("LONGNUM", **{"1级订单价格": "1" * 30}),  # 16
    ]
    body = error_of(await upload(client, admin, xlsx(rows)), 400, "import_invalid", extra=("errors",))
    errors = {e["row"]: e["message"] for e in body["errors"]}
    assert sorted(errors) == [3, *range(5, 17)]  # row 2 is good; row 4 is the first of the duplicates
    expectations = {
        3: "已存在",
        5: "与第 4 行重复",
        6: "品类【Apple/Android】不存在或已删除",
        7: "不存在或已删除",
        8: "不能为负数",
        9: "货品分类【不存在的分类】不存在",
        10: "是否启用",
        11: "安全库存",
        12: "货品编码只能包含",
        13: "请填写货品名称",
        14: "请填写品类",
        16: "超出范围",
    }
    for number, text in expectations.items():
        assert text in errors[number], (number, errors[number])
    # several problems of one row come together
    assert all(t in errors[15] for t in ("货品名称不能超过", "采购成本格式不正确", "品类【Nowhere】"))
    assert "13 行" in body["detail"]
    assert await goods_state() == before


async def test_files_that_cannot_be_read_are_refused(client, admin, tenant, cats):
    before = await goods_state()
    error_of(await upload(client, admin, b"not a spreadsheet"), 400, "invalid_file")
    error_of(await upload(client, admin, b"PK\x03\x04broken zip"), 400, "invalid_file")
    error_of(await upload(client, admin, b""), 400)
    error_of(await upload(client, admin, xlsx([row("A1")], header=COLUMNS[:5])), 400, "import_header")
    error_of(await upload(client, admin, xlsx([], header=[])), 400)
    error_of(await upload(client, admin, xlsx([[None], []])), 400, "import_empty")
    # no `file` field, or a text field instead of a file
    error_of(
        await client.post(f"{URL}/import", files={"upload": ("a.xlsx", xlsx([row("A1")]), XLSX)}, headers=admin), 400
    )
    # a form body is not the file upload the endpoint takes (server/core/headers.py)
    error_of(await client.post(f"{URL}/import", data={"file": "text"}, headers=admin), 415, "unsupported_media_type")
    error_of(await client.post(f"{URL}/import", json={"file": "x"}, headers=admin), 400)
    assert await goods_state() == before
    # the service refuses the same way
    await refused(goods_io.import_goods(tenant, b"nope"), "invalid_file")
    await refused(goods_io.import_goods(await branch_ctx(tenant), xlsx([row("A")])), status=403)  # head office only


async def test_columns_may_come_in_any_order(client, admin, tenant, cats):
    header = list(reversed(COLUMNS))
    content = xlsx([list(reversed(row("REV", **{"1级订单价格": "9.9"})))], header=header)
    response = await upload(client, admin, content)
    assert response.status_code == 200, response.text
    got = (await goods.search(tenant, q="REV")).items[0]
    assert got["prices"][0]["order_price"] == "9.9000"


IMPORT_ROWS = 1_500  # enough to cross every batch boundary of the import


async def test_a_large_import_is_all_or_nothing(tenant, cats):
    """Thousands of rows import whole, or not at all when one is bad. Functional only: how fast
    is measured by bench/masterdata.py, never by a test (a busy machine failed a timed one)."""
    rows = [
        row(
            f"BULK-{i:05d}",
            "Apple/iPhone/iPhone 15" if i % 2 else "Apple/iPad",
            **{
                "货品分类": "配件",
                "采购成本": f"{i}.1234",
                "安全库存": i % 10,
                **{f"{n}级订单价格": f"{i + n}.5" for n in (1, 2, 3, 4)},
                **{f"{n}级零售价": f"{i + n + 1}" for n in (1, 2, 3, 4)},
                **{f"{n}级允许订购": "是" if n < 4 else "否" for n in (1, 2, 3, 4)},
            },
        )
        for i in range(IMPORT_ROWS)
    ]
    result = await goods_io.import_goods(tenant, xlsx(rows))
    assert result.ok and result.imported == IMPORT_ROWS, result.errors[:5]
    assert await Goods.count().where(Goods.tenant_id == tenant.tenant_id) == IMPORT_ROWS
    assert await GoodsPrice.count() == IMPORT_ROWS * 4
    last = (await goods.search(tenant, q=f"BULK-{IMPORT_ROWS - 1:05d}")).items[0]
    assert last["purchase_cost"] == f"{IMPORT_ROWS - 1}.1234"
    assert [p["orderable"] for p in last["prices"]] == [True, True, True, False]
    # a second file with one bad row among thousands imports nothing
    rows[IMPORT_ROWS // 2] = row("FRESH", "Apple/Nope")
    result = await goods_io.import_goods(tenant, xlsx(rows))
    assert not result.ok and result.error_rows == IMPORT_ROWS
    assert len(result.errors) == min(IMPORT_ROWS, goods_io.MAX_REPORTED_ERRORS)
    assert await Goods.count().where(Goods.tenant_id == tenant.tenant_id) == IMPORT_ROWS


async def test_the_import_tells_its_progress_and_runs_as_a_job(tenant, cats):
    calls = []

    async def progress(done: int, total: int) -> None:
        calls.append((done, total))

    result = await goods_io.import_goods(tenant, xlsx([row(f"P{i:04d}") for i in range(1_200)]), progress)
    assert result.ok and result.imported == 1_200
    assert calls == [(0, 1_200), (500, 1_200), (1_000, 1_200), (1_200, 1_200)]  # every PROGRESS_EVERY rows

    # as a job: the same import, its outcome and its last progress in the job row
    job = await goods_io.start_import(tenant, xlsx([row("J1"), row("J2", "Apple/Nope")]))
    assert (job["status"], job["name"]) == ("queued", goods_io.IMPORT_JOB)
    await jobs.drain()
    job = await jobs.get(tenant, job["id"], name=goods_io.IMPORT_JOB)
    assert (job["status"], job["done"], job["total"]) == ("done", 2, 2)
    assert job["result"] == {
        "imported": 0,
        "errors": [{"row": 3, "message": "品类【Apple/Nope】不存在或已删除"}],
        "error_rows": 1,
    }
    unreadable = await goods_io.start_import(tenant, b"nope")
    await jobs.drain()
    unreadable = await jobs.get(tenant, unreadable["id"])
    assert (unreadable["status"], unreadable["error"]) == ("failed", "文件不是有效的 Excel（.xlsx）文件")
    # refused before anything is queued: a branch, an empty upload
    await refused(goods_io.start_import(await branch_ctx(tenant), xlsx([row("A")])), status=403)
    await refused(goods_io.start_import(tenant, b""), "import_empty")
    assert await Job.count() == 2
    assert await Goods.count().where(Goods.code.like("J%")) == 0


async def test_the_endpoints_are_documented(client, admin):
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/goods/export", "/api/v1/goods/import-template", "/api/v1/goods/import"} <= set(paths)
    assert "multipart/form-data" in paths["/api/v1/goods/import"]["post"]["requestBody"]["content"]
