"""The receipts carry the status page (issue 21): the built-in intake and closing receipts print a
QR code of the order's `status_url`, tenants' stored copies are moved to it by the migration, and
orders taken in before the token existed get one each from the migration."""

from __future__ import annotations

import importlib

import pytest
import segno

from server.core.db import atomic
from server.printing.tables import PrintTemplate
from server.workorders.services import orders
from server.workorders.tables import WorkOrder
from tests.api_helpers import call
from tests.printing.helpers import PRINT, make_doc

WO_MIGRATION = "server.workorders.piccolo_migrations.workorders_2026_12_07t09_00_00_000000"
PRINT_MIGRATION = "server.printing.piccolo_migrations.printing_2026_12_07t09_00_00_000000"


def qr(url: str) -> str:
    """The SVG the print sandbox's `qr(2)` filter draws for `url`."""
    return segno.make(url, error="m").svg_inline(scale=2, border=1, omitsize=False)


@pytest.mark.parametrize("doc_type", ["intake_receipt", "closing_receipt"])
async def test_receipts_carry_the_status_pages_qr_code(client, admin, tenant, doc_type):
    doc_id, _ = await make_doc(doc_type, tenant)
    url = (await orders.get(tenant, doc_id))["status_url"]
    page = await client.get(f"{PRINT}/{doc_type}/{doc_id}", headers=admin)
    assert page.status_code == 200 and qr(url) in page.text


async def test_the_migration_moves_stored_builtin_receipts_to_the_status_page(client, admin, tenant):
    module = importlib.import_module(PRINT_MIGRATION)
    seeded = await PrintTemplate.select(PrintTemplate.id, PrintTemplate.source).where(
        PrintTemplate.builtin.eq(True) & PrintTemplate.doc_type.is_in(["intake_receipt", "closing_receipt"])
    )
    assert len(seeded) == 2
    for row in seeded:  # as a tenant made before this issue has them
        old = row["source"].replace(module.NEW, module.OLD)
        await PrintTemplate.update({PrintTemplate.source: old}).where(PrintTemplate.id == row["id"])
    await PrintTemplate.raw(module.STATEMENT, module.OLD, module.NEW)  # on the test database
    doc_id, _ = await make_doc("intake_receipt", tenant)
    url = (await orders.get(tenant, doc_id))["status_url"]
    assert qr(url) in (await client.get(f"{PRINT}/intake_receipt/{doc_id}", headers=admin)).text


async def test_the_migration_gives_older_orders_a_token_each(client, admin, tenant):
    module = importlib.import_module(WO_MIGRATION)
    ids = [(await make_doc("intake_receipt", tenant))[0]]
    ids.append((await orders.intake(tenant, {**_body(await orders.get(tenant, ids[0]))}))["id"])
    async with atomic():
        await WorkOrder.update({WorkOrder.status_token: None}, force=True)
    engine = WorkOrder._meta.db.engine_type
    await WorkOrder.raw(module.FILL["sqlite" if engine == "sqlite" else "postgres"])  # on the test database
    tokens = [(await call(client, "GET", f"/api/v1/work-orders/{i}", admin))["status_url"] for i in ids]
    assert len(set(tokens)) == 2 and all(t.rsplit("/s/", 1)[1] for t in tokens)


def _body(order: dict) -> dict:
    return {
        "customer_id": order["customer_id"],
        "category_id": order["category_id"],
        "serial_no": "SN-OLD-2",
        "service_type": "in_warranty",
    }
