"""Helpers of the printing tests: one document of each type, made through its own domain's
services (or the queue's API), and the URLs."""

from __future__ import annotations

import base64

from server.core.tenancy import Ctx
from server.quotes import services as quotes
from server.workorders.services import orders
from tests.images import png as image
from tests.inventory.helpers import inbound, outbound
from tests.logistics import helpers as order_helpers
from tests.logistics import shipment_helpers
from tests.queue.helpers import queue_world, take
from tests.workorders.helpers import repairing, wo_world

URL = "/api/v1/print-templates"
PRINT = "/api/v1/print"
SIGNATURE = "data:image/png;base64," + base64.b64encode(image(40, 20)).decode()  # a customer's, from the pad


async def make_doc(doc_type: str, tenant: Ctx, client=None, headers=None) -> tuple[int, str]:
    """(id, number) of a fresh document of `doc_type` in the tenant, at its head office (a
    quote: its id and its order's number)."""
    if doc_type == "quote":  # signed: the printed quote carries the signature
        w = await wo_world(tenant)
        order = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1))
        quote = await quotes.create(tenant, order["id"], {})
        await quotes.approve(tenant, quote["id"], SIGNATURE)
        return quote["id"], order["no"]
    if doc_type in ("intake_receipt", "closing_receipt", "inbound", "outbound"):
        w = await wo_world(tenant)
        if doc_type == "inbound":
            doc = await inbound(tenant, w["general"], (w["battery"], 2, "30"))
            return doc["id"], doc["no"]
        if doc_type == "outbound":
            doc = await outbound(tenant, w["general"], (w["screen"], 1))
            return doc["id"], doc["no"]
        order = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1))
        if doc_type == "closing_receipt":
            await orders.complete(tenant, order["id"], {"repair_result": "repaired"})
            await orders.close(
                tenant, order["id"], {"closing_method": "onsite", "amount_received": "150", "payment_method": "cash"}
            )
        return order["id"], order["no"]
    if doc_type == "order":
        net = await order_helpers.network(tenant)
        doc = await order_helpers.order(net["b2"], (net["screen"], 2))
        return doc["id"], doc["no"]
    if doc_type == "shipment":
        net = await shipment_helpers.network(tenant)
        doc = await shipment_helpers.shipment(
            tenant, "distribution", net["general"], (net["screen"], 2), to_org_id=net["b2"], step="confirm"
        )
        return doc["id"], doc["no"]
    assert doc_type == "queue_ticket"
    q = await queue_world(client, headers)
    ticket = await take(client, q["kiosk_auth"], q["a"]["id"], phone="13800001234")
    return ticket["id"], ticket["no"]


def png(width: int, height: int) -> bytes:
    """A plain grey PNG of `width` × `height` pixels (a stand-in for a scanned form)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xc8" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
