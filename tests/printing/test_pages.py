"""【打印模板】 pages: list, new/edit forms, the preview on sample data (and its errors with the
line), import of an exported file, the 打印校准页, and the print page with its template select."""

import json

import pytest

from server.printing.states import DocType
from server.quotes import services as quotes
from tests.conftest import csrf, page_login
from tests.printing.helpers import make_doc, png

BASE = "/system/print-templates"


def form(**fields) -> dict:
    base = {
        "name": "我的订货单",
        "doc_type": "order",
        "mode": "html",
        "paper_preset": "a5",
        "paper_width_mm": "",
        "paper_height_mm": "",
        "margin_top": "5",
        "margin_right": "5",
        "margin_bottom": "5",
        "margin_left": "5",
        "offset_x": "0",
        "offset_y": "0",
        "source": "<h1 id='t'>{{ doc.no }}</h1>",
        "fields_json": "[]",
        "line_block_json": "{}",
        "is_default": "0",
    }
    return base | fields


async def test_list_new_create_edit(client, tenant):
    await page_login(client, "admin@ACME")
    r = await client.get(BASE)
    assert r.status_code == 200 and "标准受理单（A4）" in r.text and "排队小票（58 毫米）" in r.text
    rows = await client.get(f"{BASE}?doc_type=queue_ticket", headers={"hx-request": "true", "hx-target": "rows"})
    assert "排队小票（58 毫米）" in rows.text and "标准受理单" not in rows.text and "<html" not in rows.text
    r = await client.get(f"{BASE}/new?doc_type=order")
    assert r.status_code == 200 and 'name="source"' in r.text and "doc.parent_org_name" in r.text
    r = await client.post(BASE, data=form(), headers=csrf(client))
    assert r.status_code == 200, r.text
    location = json.loads(r.headers["HX-Location"])["path"]
    edit = await client.get(location)
    assert edit.status_code == 200 and "我的订货单" in edit.text and 'value="a5" selected' in edit.text
    tid = location.split("/")[-2]
    r = await client.post(
        f"{BASE}/{tid}",
        data=form(name="改过的", paper_preset="custom", paper_width_mm="100", paper_height_mm="150"),
        headers=csrf(client),
    )
    assert r.status_code == 200, r.text
    assert "改过的" in (await client.get(location)).text
    bad = await client.post(f"{BASE}/{tid}", data=form(source="<p>\n{{ doc.no }\n</p>"), headers=csrf(client))
    assert bad.status_code == 400 and "第 2 行" in bad.text and "<html" not in bad.text


async def test_preview_renders_sample_data_or_the_error_with_its_line(client, tenant):
    await page_login(client, "admin@ACME")
    r = await client.post(f"{BASE}/preview", data=form() | {"_csrf_token": client.cookies.get("csrftoken")})
    assert r.status_code == 200 and "<h1 id='t'>OD202612070001</h1>" in r.text and "size: 148mm 210mm" in r.text
    r = await client.post(
        f"{BASE}/preview", data=form(source="ok\n{{ config }}") | {"_csrf_token": client.cookies.get("csrftoken")}
    )
    assert r.status_code == 422 and "第 2 行" in r.text and "config" in r.text
    r = await client.post(
        f"{BASE}/preview", data=form(fields_json="[{") | {"_csrf_token": client.cookies.get("csrftoken")}
    )
    assert r.status_code == 422 and "JSON" in r.text


async def test_import_an_exported_file_and_calibration(client, tenant):
    await page_login(client, "admin@ACME")
    overlay = form(
        name="套打",
        mode="overlay",
        paper_preset="continuous",
        source="",
        fields_json=json.dumps([{"key": "doc.no", "x_mm": 10, "y_mm": 10}]),
    )
    r = await client.post(BASE, data=overlay, headers=csrf(client))
    tid = json.loads(r.headers["HX-Location"])["path"].split("/")[-2]
    exported = await client.get(f"{BASE}/{tid}/export")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    r = await client.post(
        f"{BASE}/import", files={"file": ("t.json", exported.content, "application/json")}, headers=csrf(client)
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{BASE}/import", files={"file": ("t.json", b"{nope", "application/json")}, headers=csrf(client)
    )
    assert r.status_code == 400 and "JSON" in r.text
    grid = await client.get(f"{BASE}/{tid}/calibration")
    assert grid.status_code == 200 and "pr-grid" in grid.text and "size: 241mm 140mm" in grid.text


async def test_the_print_page_offers_the_types_templates(client, tenant):
    await page_login(client, "admin@ACME")
    doc_id, no = await make_doc("inbound", tenant)
    await client.post(
        BASE,
        data=form(name="简易入库单", doc_type="inbound", source="<p id='simple'>{{ doc.no }}</p>"),
        headers=csrf(client),
    )
    r = await client.get(f"/print/inbound/{doc_id}")
    assert r.status_code == 200 and no in r.text and "标准入库单（A4）（默认）" in r.text and "简易入库单" in r.text
    assert "data-print-page" in r.text


# the admin (head office, every permission): the page of each document type it goes back to
BACK = {
    "intake_receipt": ("/workorders/{id}", "返回工单"),
    "closing_receipt": ("/workorders/{id}", "返回工单"),
    "shipment": ("/logistics/shipments/{id}", "返回物流单"),  # HQ sent it
    "order": ("/logistics/order-reviews/{id}", "返回订货单"),  # B2's order, HQ reviews it
    "inbound": ("/inventory/inbounds/{id}", "返回单据"),
    "outbound": ("/inventory/outbounds/{id}", "返回单据"),
    "queue_ticket": ("/queue/counter", "返回叫号"),
    "quote": ("/workorders/{order_id}", "返回工单"),  # the quote's order
}


@pytest.mark.parametrize("doc_type", [str(t) for t in DocType])
async def test_the_print_pages_bar_leads_back_to_the_document(client, tenant, admin, doc_type):
    """The bar (screen only, print_page.css hides it on paper) links back to the document's page,
    also after switching templates; 【继续受理】 only on the receipt the intake opened."""
    doc_id, _ = await make_doc(doc_type, tenant, client, admin)
    await page_login(client, "admin@ACME")
    url, label = BACK[doc_type]
    order_id = (await quotes.get(tenant, doc_id))["work_order_id"] if doc_type == "quote" else None
    r = await client.get(f"/print/{doc_type}/{doc_id}")
    assert r.status_code == 200, r.text
    back = url.format(id=doc_id, order_id=order_id)
    assert f'<a class="pr-back" id="pr-back" href="{back}">‹ {label}</a>' in r.text
    assert "继续受理" not in r.text
    if doc_type == "intake_receipt":
        r = await client.get(f"/workorders/{doc_id}/receipt?from=intake")
        assert '<a class="pr-next" id="pr-continue" href="/workorders/intake">继续受理</a>' in r.text
        assert '<input type="hidden" name="from" value="intake">' in r.text  # kept by the template select
        assert f'href="/workorders/{doc_id}">‹ 返回工单' in r.text


async def test_the_branch_goes_back_to_its_own_order_page(client, tenant):
    """The branch that placed an order goes back to its 【订货申请】 (HQ to 【订单审核】, above)."""
    from tests.system.helpers import PASSWORD

    order_id, _ = await make_doc("order", tenant)
    await page_login(client, "b2user@ACME", PASSWORD)
    r = await client.get(f"/print/order/{order_id}")
    assert r.status_code == 200 and f'id="pr-back" href="/logistics/orders/{order_id}"' in r.text


async def test_the_receiver_goes_back_to_its_receiving_page(client, tenant):
    """The org a shipment goes to goes back to its 【物流收货】 (the sender to 【物流发货】, above)."""
    from tests.system.helpers import PASSWORD

    shipment_id, _ = await make_doc("shipment", tenant)
    await page_login(client, "b2staff@ACME", PASSWORD)
    r = await client.get(f"/logistics/shipments/{shipment_id}/print")
    assert r.status_code == 200 and f'id="pr-back" href="/logistics/receiving/{shipment_id}"' in r.text


async def test_form_images_are_checked_and_kept_per_tenant(client, tenant, other_tenant):
    await page_login(client, "admin@ACME")
    up = await client.post(
        f"{BASE}/backgrounds", files={"file": ("f.png", png(40, 20), "image/png")}, headers=csrf(client)
    )
    assert up.status_code == 201, up.text
    bg = up.json()
    assert (bg["width_px"], bg["height_px"]) == (40, 20)
    image = await client.get(bg["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = await client.post(
        f"{BASE}/backgrounds", files={"file": ("f.svg", svg, "image/svg+xml")}, headers=csrf(client)
    )
    assert refused.status_code == 400 and "PNG、JPEG" in refused.text
    big = b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024 + 10)
    too_big = await client.post(
        f"{BASE}/backgrounds", files={"file": ("f.png", big, "image/png")}, headers=csrf(client)
    )
    assert too_big.status_code == 413 and "5 MB" in too_big.text  # as every upload (core.uploads)
    client.cookies.clear()
    await page_login(client, "admin@OTHER")
    assert (await client.get(bg["url"])).status_code == 404
    r = await client.post(BASE, data=form(mode="overlay", source="", background_id=str(bg["id"])), headers=csrf(client))
    assert r.status_code == 400 and "底图不存在" in r.text
