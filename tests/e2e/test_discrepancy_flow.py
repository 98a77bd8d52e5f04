"""Receipt discrepancies in a real browser (issue 17): the head office has 5 screens in transit to
B2 and its shipment page open; the branch receives them 2 short (【登记差异】 on the ticked line:
quantity and reason) and attaches a photo of the box (【上传照片】), and the short with its photo
appears on the shipper's page without a reload; the head
office answers 找到补发 from 【收货差异】 (menu badge, dialog with a remark); on the branch's
open receipt the line becomes receivable again and it takes the remaining 2.
Screenshots at desktop and iPad widths go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, new_page
from tests.e2e.test_shipment_flow import both_widths
from tests.images import png
from tests.logistics.shipment_helpers import network, shipment
from tests.system.helpers import PASSWORD


@pytest.fixture
async def world(tenant) -> dict:
    n = await network(tenant)
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 5), to_org_id=n["b2"], step="confirm")
    return n | {"doc": doc}


def test_branch_records_a_short_and_the_head_office_resolves_it(world, browser, live_server):
    doc = world["doc"]
    page = new_page(browser, live_server)
    login(page, "admin@ACME")
    page.goto(f"/logistics/shipments/{doc['id']}")
    expect(page.locator("#live-dot")).to_have_class(re.compile("online"))
    page.wait_for_load_state("networkidle")

    branch = new_page(browser, live_server)
    login(branch, "b2staff@ACME", PASSWORD)
    branch.locator("nav.menu").get_by_role("link", name="物流收货").click()
    branch.locator(f'#receiving-table tr[data-no="{doc["no"]}"]').get_by_role("link").click()
    expect(branch.locator("#live-dot")).to_have_class(re.compile("online"))
    branch.wait_for_load_state("networkidle")
    branch.select_option("#receive-warehouse", label="W-GOOD W-GOOD仓（良品库）")
    row = branch.locator('#line-table tr[data-goods="SCR"]')
    row.locator("input[name=line_ids]").check()
    row.locator("summary", has_text="登记差异").click()
    row.get_by_label("SCR 短少数量").fill("2")
    row.get_by_label("SCR 短少原因").fill("箱内少两件")
    both_widths(branch, "discrepancy-entry")
    branch.get_by_role("button", name="确认收货").click()
    expect(branch.locator("#toast")).to_contain_text("已确认收货")
    expect(branch.locator(".page-header h1")).to_contain_text("部分收货")
    expect(row).to_contain_text("短少 2")
    expect(row).to_contain_text("待发货方处理")
    expect(row.locator("input[name=line_ids]")).to_have_count(0)

    # a photo of the short box, on the recorded discrepancy
    row.get_by_role("button", name="上传照片").click()
    upload = branch.locator("#modal dialog[open]")
    expect(upload).to_contain_text("短少 2")
    upload.locator("#photos-file").set_input_files(
        {"name": "箱子.png", "mimeType": "image/png", "buffer": png(64, 48, (30, 120, 200))}
    )
    both_widths(branch, "discrepancy-photo-upload")
    upload.get_by_role("button", name="上传").click()
    expect(branch.locator("#toast")).to_contain_text("已上传照片")
    thumb = row.locator(".photo-thumb img")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_js_property("naturalWidth", 64)  # served back as an image the browser decodes
    both_widths(branch, "discrepancy-photo")

    # the shipper's open page shows it live (its status changed, so the page redraws itself)
    line = page.locator('#line-table tr[data-goods="SCR"]')
    expect(line).to_contain_text("短少 2", timeout=10_000)
    expect(line).to_contain_text("箱内少两件")
    expect(line).to_contain_text("在途 2")
    expect(line.locator(".photo-thumb img")).to_have_count(1, timeout=10_000)
    both_widths(page, "discrepancy-shipment")

    badge = page.locator("nav.menu a.menu-link", has_text="收货差异").locator(".menu-badge")
    expect(badge).to_have_text("1")
    page.locator("nav.menu").get_by_role("link", name="收货差异").click()
    found = page.locator(f'#discrepancy-table tr[data-no="{doc["no"]}"]')
    expect(found).to_contain_text("短少 2")
    expect(found).to_contain_text("箱内少两件")
    expect(found.locator(".photo-thumb img")).to_have_js_property("naturalWidth", 64)
    both_widths(page, "discrepancy-list")
    found.get_by_role("button", name="找到补发").click()
    dialog = page.locator("#modal dialog[open]")
    expect(dialog).to_contain_text("货品仍在途")
    dialog.locator("#resolve-remark").fill("仓库找到两件，随下一车补发")
    both_widths(page, "discrepancy-resolve")
    dialog.get_by_role("button", name="确认").click()
    expect(page.locator("#toast")).to_contain_text("找到补发")
    expect(page.locator("#discrepancy-table")).to_contain_text("没有收货差异")
    expect(badge).to_have_text("")

    # the branch's open receipt: the line is receivable again, for the 2 left
    expect(row.locator("input[name=line_ids]")).to_have_count(1, timeout=10_000)
    expect(row).to_contain_text("找到补发")
    branch.select_option("#receive-warehouse", label="W-GOOD W-GOOD仓（良品库）")
    row.locator("input[name=line_ids]").check()
    branch.get_by_role("button", name="确认收货").click()
    expect(branch.locator("#toast")).to_contain_text("已确认收货 ")
    expect(branch.locator(".page-header h1")).to_contain_text("已收货")
    expect(row).to_contain_text("已收货")
    expect(branch.locator("nav.menu a.menu-link", has_text="物流收货").locator(".menu-badge")).to_have_text("")
    both_widths(branch, "discrepancy-received")
