"""The goods import in a real browser (issue 15, item 8): 导入 disables itself, a progress bar
follows the import job ("已处理 N / M 行"), then the dialog closes with the count and the list
shows the new goods. A file with bad rows keeps the dialog open with its report and 导入 enabled."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, new_page, screenshot
from tests.e2e.test_goods_pages import workbook
from tests.masterdata.helpers import chain

ROWS = 800


@pytest.fixture
async def world(tenant) -> None:
    await chain(tenant, "category", "Apple", "iPhone", "iPhone 15")


def goods(n: int) -> dict:
    return {
        "货品编码": f"PRG-{n:04d}",
        "货品名称": f"进度测试配件 {n}",
        "品类": "Apple/iPhone/iPhone 15",
        "采购成本": f"{n}.5000",
        "1级订单价格": "10",
        "1级零售价": "12",
    }


def test_the_import_shows_its_progress_with_the_button_disabled(world, browser, live_server):
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.goto("/masterdata/goods")
    page.locator(".page-header").get_by_role("button", name="导入").click()
    dialog = page.locator("#modal dialog[open]")
    # every state the dialog shows, as it shows it: the import may be quicker than a screenshot
    page.evaluate(
        """window.__states = [];
           new MutationObserver(function () {
             var status = document.getElementById("goods-import-status");
             var button = document.getElementById("goods-import-submit");
             if (status) window.__states.push([status.textContent.trim(), button && button.disabled]);
           }).observe(document.getElementById("modal"), {childList: true, subtree: true, characterData: true})"""
    )
    dialog.locator("input[type=file]").set_input_files(workbook(*(goods(n) for n in range(1, ROWS + 1))))
    dialog.locator("#goods-import-submit").click()
    expect(page.locator("#toast")).to_contain_text(f"已导入 {ROWS} 条货品", timeout=60_000)
    expect(page.locator("#modal dialog[open]")).to_have_count(0)
    expect(page.locator('#goods-table tr[data-code="PRG-0001"]')).to_contain_text("进度测试配件 1")
    states = page.evaluate("window.__states")
    assert states, "no progress was shown"
    assert all(disabled for _, disabled in states), states  # 导入 stayed disabled while the job ran
    pattern = re.compile(rf"^(正在读取文件…|已处理 \d+ / {ROWS} 行(，正在保存…)?)$")
    assert all(pattern.match(text) for text, _ in states), states

    # a file with a bad row: the progress, then the report, and 导入 enabled again
    page.locator(".page-header").get_by_role("button", name="导入").click()
    dialog = page.locator("#modal dialog[open]")
    bad = [goods(n) | {"货品编码": f"BAD-{n:04d}"} for n in range(1, 300)]
    bad[149] |= {"品类": "Apple/没有这个"}
    dialog.locator("input[type=file]").set_input_files(workbook(*bad))
    dialog.locator("#goods-import-submit").click()
    expect(dialog.locator("#goods-import-progress progress")).to_be_visible()
    expect(dialog.locator("#goods-import-submit")).to_be_disabled()
    expect(dialog.locator("#goods-import-submit")).to_have_text("导入中…")
    screenshot(page, "goods-import-progress")
    expect(dialog.locator("#goods-import-errors tbody tr")).to_have_text(["151品类【Apple/没有这个】不存在或已删除"])
    expect(dialog).to_contain_text("导入失败：共 1 行有错误，未导入任何数据")
    expect(dialog.locator("#goods-import-progress")).to_have_count(0)
    expect(dialog.locator("#goods-import-submit")).to_be_enabled()
    expect(dialog.locator("#goods-import-submit")).to_have_text("导入")
    screenshot(page, "goods-import-report")
