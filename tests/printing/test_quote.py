"""The quote (报价单) prints through the print templates like every document: the built-in
default with the customer's signature as an image inside the page, a user's HTML template and a
套打 overlay (the signature drawn as an image there too), the sample preview, the fields, export
and import; the template is handed plain text only; a quote the caller cannot see is a 404; the
tenants made before quotes printed with templates get the built-in by migration."""

from __future__ import annotations

import importlib
import json

from server.printing import builtin, documents, services
from server.printing.tables import PrintTemplate
from server.quotes import services as quotes
from server.workorders import permissions as WO
from tests.api_helpers import call, refused
from tests.conftest import api_login, csrf, page_login
from tests.printing.helpers import PRINT, SIGNATURE, URL, make_doc
from tests.printing.test_pages import BASE, form
from tests.system.helpers import PASSWORD, service_org, service_user
from tests.workorders.helpers import repairing, wo_world


def leaves(value) -> list:
    if isinstance(value, dict):
        return [x for v in value.values() for x in leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in leaves(v)]
    return [value]


async def test_the_default_prints_the_signed_quote_on_a4(client, tenant, admin):
    quote_id, no = await make_doc("quote", tenant)
    quote = await quotes.get(tenant, quote_id)
    r = await client.get(f"{PRINT}/quote/{quote_id}", headers=admin)
    assert r.status_code == 200, r.text
    page = r.text
    assert "<title>报价单 " + no in page and "size: 210mm 297mm" in page and "维修报价单" in page
    assert f'<strong id="quote-no">{no}</strong>' in page and '<strong id="quote-status">已同意</strong>' in page
    assert f'id="quote-total">{float(quote["total"]):,.2f}</td>' in page
    assert page.count('<tr><td class="num">') == len(quote["lines"]) and "屏幕" in page
    assert f'id="quote-signature" src="{SIGNATURE}"' in page  # the very image the customer drew
    assert "经办 " in page and "/api/v1/uploads/" not in page


async def test_a_pending_quote_prints_a_line_to_sign_on(client, tenant, admin):
    w = await wo_world(tenant)
    order = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1))
    quote = await quotes.create(tenant, order["id"], {})
    page = (await client.get(f"{PRINT}/quote/{quote['id']}", headers=admin)).text
    assert '<strong id="quote-status">待确认</strong>' in page and "客户签字：＿＿＿" in page
    assert 'id="quote-signature"' not in page and "日期：＿" in page


async def test_the_template_is_handed_plain_text_only(tenant):
    quote_id, _ = await make_doc("quote", tenant)
    data = await documents.data_for(tenant, "quote", quote_id)
    assert all(isinstance(v, str | int | float | bool) for v in leaves(data))
    assert data["doc"]["signature"] == SIGNATURE and data["doc"]["decided_at"] and data["doc"]["lines"][0]["index"] == 1
    sample = documents.spec("quote").sample
    assert all(isinstance(v, str | int | float | bool) for v in leaves(sample))


async def test_a_user_html_template_and_an_overlay(client, tenant, admin):
    quote_id, no = await make_doc("quote", tenant)
    source = (
        "<p id='mine'>{{ doc.no }} {{ doc.total | money }} {{ doc.lines | length }}</p>"
        "{% if doc.signature %}<img id='sig' src='{{ doc.signature }}'>{% endif %}"
    )
    mine = await call(client, "POST", URL, admin, {"name": "简版报价单", "doc_type": "quote", "source": source}, 201)
    r = await client.get(f"/quotes/{quote_id}/print?template_id={mine['id']}", headers=admin)
    assert r.status_code == 200 and f"<p id='mine'>{no} " in r.text and f"<img id='sig' src='{SIGNATURE}'>" in r.text
    overlay = {
        "name": "套打报价单",
        "doc_type": "quote",
        "mode": "overlay",
        "paper": {"width_mm": 148, "height_mm": 210},
        "fields": [
            {"key": "doc.no", "x_mm": 10, "y_mm": 8, "width_mm": 50},
            {"key": "doc.signature", "x_mm": 90, "y_mm": 180, "width_mm": 40},
        ],
        "line_block": {
            "y_mm": 60,
            "row_pitch_mm": 8,
            "max_rows": 10,
            "fields": [{"key": "repair_code", "x_mm": 10, "y_mm": 0, "width_mm": 30}],
        },
    }
    t = await call(client, "POST", URL, admin, overlay, 201)
    r = await client.get(f"{PRINT}/quote/{quote_id}?template_id={t['id']}", headers=admin)
    assert r.status_code == 200 and "size: 148mm 210mm; margin: 0;" in r.text
    assert 'data-key="doc.no" style="left:10mm;top:8mm;' in r.text and no in r.text
    assert 'data-key="doc.signature" style="left:90mm;top:180mm;width:40mm;' in r.text
    assert f'<img class="pr-image" src="{SIGNATURE}" alt="">' in r.text
    assert r.text.count('data-key="repair_code"') == 1


async def test_a_quote_the_caller_cannot_see_is_404(client, tenant, other_tenant, admin):
    quote_id, no = await make_doc("quote", tenant)
    other = await api_login(client, "admin@OTHER")
    await refused(client, "GET", f"{PRINT}/quote/{quote_id}", other, status=404, code="not_found")
    page = await client.get(f"/quotes/{quote_id}/print", headers=other)
    assert page.status_code == 404 and no not in page.text
    # a branch beside the head office's order's org sees neither the order nor its quote
    b1 = await service_org(tenant, "B1", tenant.org_id, level=2)
    await service_user(tenant, "b1clerk", b1["id"], "branch", [WO.VIEW])
    branch = await api_login(client, "b1clerk@ACME", PASSWORD)
    await refused(client, "GET", f"{PRINT}/quote/{quote_id}", branch, status=404, code="not_found")
    # and printing needs the right to read work orders
    await service_user(tenant, "nobody", tenant.org_id, "hq", ["inventory.inbound.view"])
    stranger = await api_login(client, "nobody@ACME", PASSWORD)
    await refused(client, "GET", f"{PRINT}/quote/{quote_id}", stranger, status=403, code="forbidden")


async def test_fields_preview_export_and_import(client, tenant, other_tenant, admin):
    f = await call(client, "GET", f"{URL}/fields?doc_type=quote", admin)
    keys = {x["key"] for x in f["fields"]}
    assert {"doc.no", "doc.total", "doc.valid_until", "doc.signature", "doc.decided_by_name"} <= keys
    assert f["rows"] == "doc.lines" and [x["key"] for x in f["line_fields"]][:3] == [
        "index",
        "repair_code",
        "goods_name",
    ]
    await page_login(client, "admin@ACME")
    listing = (await client.get(f"{BASE}?doc_type=quote")).text
    assert "标准报价单（A4）" in listing
    new = await client.get(f"{BASE}/new?doc_type=quote")
    assert new.status_code == 200 and "doc.signature" in new.text and "客户签字（图片）" in new.text
    r = await client.post(
        f"{BASE}/preview", data=form(doc_type="quote", source=builtin.QUOTE, paper_preset="a4"), headers=csrf(client)
    )
    assert r.status_code == 200 and "WO202612070001" in r.text and "530.00" in r.text
    assert 'id="quote-signature" src="data:image/svg+xml;base64,' in r.text
    default = next(t for t in (await call(client, "GET", f"{URL}?doc_type=quote", admin))["items"] if t["is_default"])
    exported = await call(client, "GET", f"{URL}/{default['id']}/export", admin)
    assert exported["doc_type"] == "quote" and exported["source"] == builtin.QUOTE
    other = await api_login(client, "admin@OTHER")
    imported = await call(client, "POST", f"{URL}/import", other, exported | {"name": "导入的报价单"}, 201)
    assert imported["doc_type"] == "quote" and not imported["is_default"]


async def test_older_tenants_get_the_built_in_quote_by_migration(tenant, other_tenant, monkeypatch):
    """A tenant without any quote template gets the built-in as its default; another one, which
    has its quote template, is left alone; a second run adds nothing."""
    migration = importlib.import_module("server.printing.piccolo_migrations.printing_2026_12_07t12_00_00_000000")
    monkeypatch.setattr(migration, "engine_finder", lambda: PrintTemplate._meta.db)  # the test's database
    await PrintTemplate.delete().where(
        (PrintTemplate.tenant_id == tenant.tenant_id) & (PrintTemplate.doc_type == "quote")
    )
    before_other = await PrintTemplate.select().where(PrintTemplate.doc_type == "quote").order_by(PrintTemplate.id)
    await migration.quote_templates()
    await migration.quote_templates()
    rows = await PrintTemplate.select().where(PrintTemplate.doc_type == "quote").order_by(PrintTemplate.id)
    mine = [r for r in rows if r["tenant_id"] == tenant.tenant_id]
    assert len(mine) == 1 and mine[0]["is_default"] and mine[0]["builtin"] and mine[0]["status"] == "active"
    assert [r for r in rows if r["tenant_id"] != tenant.tenant_id] == before_other
    t = await services.template_for(tenant, "quote")
    assert (
        t["id"] == mine[0]["id"]
        and t["source"] == builtin.QUOTE
        and json.loads(mine[0]["layout"])["paper"] == builtin.A4
    )
