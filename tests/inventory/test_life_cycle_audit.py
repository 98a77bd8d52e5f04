"""Every step of a stock document's life cycle writes one audit row and emits one live event."""

from server.core.tables import AuditLog
from server.inventory.services import documents
from tests.core.test_documents_core import Recorder
from tests.inventory.helpers import inbound, world
from tests.masterdata.helpers import refused


async def test_every_step_of_an_outbound_is_audited_and_announced(tenant, monkeypatch):
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 10, "100"), (w["battery"], 10, "50"))
    rec = Recorder(monkeypatch, "outbounds")
    kind = "outbound"
    body = {"type": "scrap", "warehouse_id": w["general"], "lines": [{"goods_id": w["screen"], "qty": 1}]}
    doc = await rec.step(kind, "create", "created", documents.create(tenant, kind, body))
    doc = await rec.step(kind, "update", "updated", documents.update(tenant, kind, doc["id"], {"remark": "报废"}))
    line = {"goods_id": w["battery"], "qty": 2}
    doc = await rec.step(kind, "update", "updated", documents.add_line(tenant, kind, doc["id"], line))
    first, second = doc["lines"][0]["id"], doc["lines"][1]["id"]
    change = documents.update_line(tenant, kind, doc["id"], second, {"qty": 3})
    doc = await rec.step(kind, "update", "updated", change)
    doc = await rec.step(kind, "update", "updated", documents.add_line(tenant, kind, doc["id"], line))
    doc = await rec.step(
        kind, "update", "updated", documents.delete_line(tenant, kind, doc["id"], doc["lines"][2]["id"])
    )
    doc = await rec.step(kind, "update", "updated", documents.add_line(tenant, kind, doc["id"], line))
    ticked = [doc["lines"][2]["id"]]
    doc = await rec.step(kind, "update", "updated", documents.delete_lines(tenant, kind, doc["id"], ticked))
    doc = await rec.step(kind, "submit", "submitted", documents.submit(tenant, kind, doc["id"]))
    doc = await rec.step(kind, "confirm", "confirmed", documents.confirm(tenant, kind, doc["id"], [first]))
    assert doc["status"] == "partial"
    doc = await rec.step(kind, "confirm", "confirmed", documents.confirm(tenant, kind, doc["id"], [second]))
    assert doc["status"] == "completed"
    other = await documents.create(tenant, kind, body)
    deleted = await rec.step(kind, "delete", "deleted", documents.delete(tenant, kind, other["id"]))
    assert deleted["status"] == "deleted"


async def test_a_refused_step_leaves_no_audit_row_and_no_event(tenant, monkeypatch):
    w = await world(tenant)
    doc = await inbound(tenant, w["general"], (w["screen"], 1, "1"), confirm=False)
    rec = Recorder(monkeypatch, "inbounds")
    rows = await AuditLog.count().where(AuditLog.entity == "inbound")
    await refused(documents.delete_line(tenant, "inbound", doc["id"], doc["lines"][0]["id"]), "not_draft", 409)
    assert rec.events == [] and await AuditLog.count().where(AuditLog.entity == "inbound") == rows
