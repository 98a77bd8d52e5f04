"""Every step of a credit document's life cycle writes one audit row and emits one live event
(line edits and the header update included, which once did neither or only the event)."""

from server.credit.services import documents
from tests.core.test_documents_core import Recorder
from tests.credit.helpers import branches, recharge


async def test_every_step_of_an_adjustment_is_audited_and_announced(tenant, monkeypatch):
    t = await branches(tenant)
    await recharge(tenant, (t["b2"], "100"))
    rec = Recorder(monkeypatch, "adjustments")
    kind = "adjustment"
    doc = await rec.step(kind, "create", "created", documents.create(tenant, kind, {"remark": "季度调整"}))
    doc = await rec.step(kind, "update", "updated", documents.update(tenant, kind, doc["id"], {"remark": "改"}))
    line = {"org_id": t["b2"], "amount": "10", "direction": "decrease"}
    doc = await rec.step(kind, "update", "updated", documents.add_line(tenant, kind, doc["id"], line))
    change = documents.update_line(tenant, kind, doc["id"], doc["lines"][0]["id"], {"amount": "20"})
    doc = await rec.step(kind, "update", "updated", change)
    doc = await rec.step(kind, "update", "updated", documents.add_line(tenant, kind, doc["id"], line))
    doc = await rec.step(
        kind, "update", "updated", documents.delete_line(tenant, kind, doc["id"], doc["lines"][1]["id"])
    )
    doc = await rec.step(kind, "submit", "submitted", documents.submit(tenant, kind, doc["id"]))
    doc = await rec.step(kind, "confirm", "confirmed", documents.confirm(tenant, kind, doc["id"]))
    assert doc["status"] == "confirmed"
    other = await documents.create(tenant, kind, {"lines": [line]})
    other = await documents.submit(tenant, kind, other["id"])
    deleted = await rec.step(kind, "delete", "deleted", documents.delete(tenant, kind, other["id"]))
    assert deleted["status"] == "deleted"
