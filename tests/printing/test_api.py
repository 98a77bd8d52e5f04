"""/api/v1/print-templates and /api/v1/print: built-in defaults, CRUD with one default per type,
export/import between tenants, every document type printed with its default template and with a
user-made one, overlay positions, and the errors a template author and a printer see."""

import pytest

from server.printing import builtin
from server.printing.states import DocType
from tests.api_helpers import call, error_of, refused
from tests.printing.helpers import PRINT, URL, make_doc

OVERLAY = {
    "name": "套打受理单",
    "doc_type": "intake_receipt",
    "mode": "overlay",
    "paper": {"width_mm": 241, "height_mm": 140},
    "fields": [
        {"key": "doc.no", "x_mm": 20, "y_mm": 12.5, "width_mm": 50, "font_size_pt": 12, "align": "left", "bold": True},
        {"key": "doc.customer.name", "x_mm": 20, "y_mm": 22, "width_mm": 40},
    ],
    "offset_mm": {"x": 1.5, "y": -0.5},
}


async def test_every_tenant_starts_with_a_default_of_every_type(client, admin):
    page = await call(client, "GET", f"{URL}?page_size=50", admin)
    assert page["total"] == len(builtin.BUILTINS) and set(page) == {"items", "total", "page", "page_size"}
    defaults = [t["doc_type"] for t in page["items"] if t["is_default"]]
    assert sorted(defaults) == sorted(DocType)
    slips = [t for t in page["items"] if t["doc_type"] == "queue_ticket"]
    assert sorted(t["paper"]["width_mm"] for t in slips) == [58, 80]
    only = await call(client, "GET", f"{URL}?doc_type=queue_ticket", admin)
    assert only["total"] == 2


async def test_the_list_is_in_the_types_order_page_by_page(client, admin):
    """受理单 first … 报价单 last (DocType's order, not the codes' spelling), the default first
    within a type; pages of 3 join into the whole list without a repeat or a gap."""
    extra = {"name": "另一个结单单", "doc_type": "closing_receipt", "source": "<p>{{ doc.no }}</p>"}
    mine = await call(client, "POST", URL, admin, extra, 201)
    whole = (await call(client, "GET", f"{URL}?page_size=50", admin))["items"]
    rank = {t: i for i, t in enumerate(DocType)}
    keys = [(rank[t["doc_type"]], not t["is_default"], t["id"]) for t in whole]
    assert keys == sorted(keys) and whole[0]["doc_type"] == "intake_receipt"
    assert whole[-1]["doc_type"] == "quote" and whole[2]["id"] == mine["id"]
    paged = []
    for n in range(1, len(whole) // 3 + 2):
        page = await call(client, "GET", f"{URL}?page={n}&page_size=3", admin)
        assert page["total"] == len(whole)
        paged += page["items"]
    assert [t["id"] for t in paged] == [t["id"] for t in whole]


async def test_fields_of_a_type(client, admin):
    f = await call(client, "GET", f"{URL}/fields?doc_type=closing_receipt", admin)
    keys = {x["key"] for x in f["fields"]}
    assert {"doc.no", "doc.customer.name", "doc.charges.total", "printed_at"} <= keys
    assert f["rows"] == "doc.repair_lines" and {x["key"] for x in f["line_fields"]} >= {"repair_code", "qty"}
    error_of(await client.get(f"{URL}/fields?doc_type=nope", headers=admin), 400, "invalid_field")


async def test_one_default_per_type_moves_atomically(client, admin):
    first = await call(
        client, "POST", URL, admin, {"name": "A", "doc_type": "order", "source": "<p>{{ doc.no }}</p>"}, 201
    )
    assert not first["is_default"]  # the built-in stays the default
    second = await call(
        client,
        "POST",
        URL,
        admin,
        {"name": "B", "doc_type": "order", "source": "<b>{{ doc.no }}</b>", "is_default": True},
        201,
    )
    assert second["is_default"]
    orders = (await call(client, "GET", f"{URL}?doc_type=order", admin))["items"]
    assert [t["name"] for t in orders if t["is_default"]] == ["B"]
    again = await call(client, "PATCH", f"{URL}/{first['id']}", admin, {"is_default": True})
    assert again["is_default"]
    orders = (await call(client, "GET", f"{URL}?doc_type=order", admin))["items"]
    assert [t["name"] for t in orders if t["is_default"]] == ["A"]
    await refused(client, "DELETE", f"{URL}/{first['id']}", admin, status=409, code="default_template")
    await refused(client, "PATCH", f"{URL}/{first['id']}", admin, {"is_default": False}, 409, "default_required")
    gone = await call(client, "DELETE", f"{URL}/{second['id']}", admin)
    assert gone["id"] == second["id"]
    await refused(client, "GET", f"{URL}/{second['id']}", admin, status=404, code="not_found")
    assert second["id"] not in [t["id"] for t in (await call(client, "GET", URL, admin))["items"]]


async def test_a_template_that_does_not_compile_is_refused_with_its_line(client, admin):
    body = {"name": "坏模板", "doc_type": "order", "source": "<p>\n{% for x in doc.lines %}\n</p>"}
    r = await client.post(URL, json=body, headers=admin)
    err = error_of(r, 400, "template_error", extra=("errors",))
    assert "第 3 行" in err["detail"] or "第 2 行" in err["detail"]
    bad_field = dict(OVERLAY, fields=[{"key": "doc.secret", "x_mm": 1, "y_mm": 1}])
    err = error_of(await client.post(URL, json=bad_field, headers=admin), 400, "unknown_field", extra=("errors",))
    assert err["errors"][0]["field"] == "fields[0].key"
    out_of_paper = dict(OVERLAY, paper={"width_mm": 5000, "height_mm": 10})
    error_of(await client.post(URL, json=out_of_paper, headers=admin), 400, extra=("errors",))
    nope = {"name": "x", "doc_type": "nope", "source": "x"}
    error_of(await client.post(URL, json=nope, headers=admin), 400, "invalid_field", extra=("errors",))
    await refused(client, "PATCH", f"{URL}/999999", admin, {"name": "x"}, 404, "not_found")


async def test_export_and_import_between_tenants(client, admin, other_tenant):
    made = await call(client, "POST", URL, admin, OVERLAY, 201)
    exported = await call(client, "GET", f"{URL}/{made['id']}/export", admin)
    assert exported["format"] == "weifu.print_template/1" and "id" not in exported and "is_default" not in exported
    assert exported["fields"][0] == OVERLAY["fields"][0]
    from tests.conftest import api_login

    other = await api_login(client, "admin@OTHER")
    imported = await call(client, "POST", f"{URL}/import", other, exported, 201)
    assert imported["fields"] == made["fields"] and imported["offset_mm"] == {"x": 1.5, "y": -0.5}
    assert imported["id"] != made["id"] and not imported["is_default"]
    await refused(client, "POST", f"{URL}/import", other, exported | {"format": "other/9"}, 400, "invalid_format")


async def test_another_tenants_templates_are_404(client, admin, other_tenant):
    from tests.conftest import api_login

    mine = await call(client, "POST", URL, admin, OVERLAY, 201)
    other = await api_login(client, "admin@OTHER")
    for method, url, body in (
        ("GET", f"{URL}/{mine['id']}", None),
        ("GET", f"{URL}/{mine['id']}/export", None),
        ("PATCH", f"{URL}/{mine['id']}", {"name": "抢来的"}),
        ("DELETE", f"{URL}/{mine['id']}", None),
    ):
        await refused(client, method, url, other, body, 404, "not_found")
    assert mine["id"] not in [t["id"] for t in (await call(client, "GET", URL, other))["items"]]
    assert (await call(client, "GET", f"{URL}/{mine['id']}", admin))["name"] == OVERLAY["name"]


@pytest.mark.parametrize("doc_type", [str(t) for t in DocType])
async def test_each_type_prints_with_its_default_and_a_user_template(client, admin, tenant, doc_type):
    doc_id, no = await make_doc(doc_type, tenant, client, admin)
    r = await client.get(f"{PRINT}/{doc_type}/{doc_id}", headers=admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html") and no in r.text
    assert "@page { size: " in r.text and "'unsafe-inline'" in r.headers["content-security-policy"]
    if doc_type in ("intake_receipt", "closing_receipt"):
        assert "<svg" in r.text  # the QR code of the status page
    if doc_type == "quote":  # the customer's signature, as an image in the page itself
        assert 'id="quote-signature" src="data:image/png;base64,' in r.text
    if doc_type == "queue_ticket":
        assert "13800001234" not in r.text and "138****1234" in r.text and "size: 80mm 110mm" in r.text
    mine = await call(
        client,
        "POST",
        URL,
        admin,
        {
            "name": "我的",
            "doc_type": doc_type,
            "source": "<p id='mine'>{{ doc.no }} / {{ printed_by }}</p>",
            "paper": {"width_mm": 148, "height_mm": 210},
        },
        201,
    )
    r = await client.get(f"{PRINT}/{doc_type}/{doc_id}?template_id={mine['id']}", headers=admin)
    assert r.status_code == 200 and f"<p id='mine'>{no} / " in r.text and "size: 148mm 210mm" in r.text
    await refused(client, "GET", f"{PRINT}/{doc_type}/99999999", admin, status=404)


async def test_a_template_of_another_type_or_tenant_is_refused(client, admin, tenant, other_tenant):
    doc_id, _ = await make_doc("inbound", tenant)
    order_tpl = await call(client, "POST", URL, admin, {"name": "o", "doc_type": "order", "source": "x"}, 201)
    await refused(
        client,
        "GET",
        f"{PRINT}/inbound/{doc_id}?template_id={order_tpl['id']}",
        admin,
        status=400,
        code="wrong_doc_type",
    )
    from tests.conftest import api_login

    other = await api_login(client, "admin@OTHER")
    theirs = await call(client, "POST", URL, other, {"name": "t", "doc_type": "inbound", "source": "x"}, 201)
    await refused(client, "GET", f"{PRINT}/inbound/{doc_id}?template_id={theirs['id']}", admin, status=404)
    await refused(client, "GET", f"{PRINT}/inbound/{doc_id}", other, status=404)  # their doc? no: ours
    await refused(client, "GET", f"{PRINT}/nope/{doc_id}", admin, status=400)


async def test_a_broken_template_never_500s_the_printer(client, admin, tenant):
    doc_id, _ = await make_doc("inbound", tenant)
    t = await call(
        client, "POST", URL, admin, {"name": "坏", "doc_type": "inbound", "source": "{{ doc.nope.deeper }}"}, 201
    )
    r = await client.get(f"{PRINT}/inbound/{doc_id}?template_id={t['id']}", headers=admin)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "无法打印" in r.text and "坏" in r.text and "Traceback" not in r.text
    loop = await call(
        client,
        "POST",
        URL,
        admin,
        {
            "name": "死循环",
            "doc_type": "inbound",
            "source": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        },
        201,
    )
    r = await client.get(f"{PRINT}/inbound/{doc_id}?template_id={loop['id']}", headers=admin)
    assert r.status_code == 422 and "循环次数超过上限" in r.text


async def test_overlay_positions_offset_and_sheets(client, admin, tenant):
    doc_id, no = await make_doc("inbound", tenant)
    body = {
        "name": "套打入库",
        "doc_type": "inbound",
        "mode": "overlay",
        "paper": {"width_mm": 241, "height_mm": 140},
        "fields": [{"key": "doc.no", "x_mm": 10, "y_mm": 5, "width_mm": 60}],
        "line_block": {
            "y_mm": 40,
            "row_pitch_mm": 7.5,
            "max_rows": 1,
            "fields": [{"key": "goods_name", "x_mm": 12, "y_mm": 0, "width_mm": 50}],
        },
        "offset_mm": {"x": 2, "y": -1},
    }
    t = await call(client, "POST", URL, admin, body, 201)
    r = await client.get(f"{PRINT}/inbound/{doc_id}?template_id={t['id']}", headers=admin)
    assert r.status_code == 200 and "size: 241mm 140mm; margin: 0;" in r.text
    assert 'data-key="doc.no" style="left:12mm;top:4mm;width:60mm;' in r.text and no in r.text
    assert 'data-key="goods_name" style="left:14mm;top:39mm;' in r.text
    assert r.text.count('class="pr-sheet"') == 1  # one line, one row a sheet


async def test_print_needs_the_right_to_read_that_document(client, tenant):
    from server.queue import permissions as Q
    from tests.conftest import api_login
    from tests.system.helpers import PASSWORD, service_user

    await service_user(tenant, "queueonly", tenant.org_id, "hq", [Q.COUNTER_VIEW])
    doc_id, _ = await make_doc("inbound", tenant)
    headers = await api_login(client, "queueonly@ACME", PASSWORD)
    await refused(client, "GET", f"{PRINT}/inbound/{doc_id}", headers, status=403, code="forbidden")
    await refused(client, "GET", URL, headers, status=403, code="forbidden")
