"""The shared document life cycle (server.core.documents): every step writes exactly one audit
row and queues exactly one live event, for every kind of document that uses it."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest

import realtime
from server.core.documents import DocStatus, labels
from server.core.tables import AuditLog


class Recorder:
    """Counts what one step left behind: audit rows of the document and live events of its topic."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, topic: str) -> None:
        self.events: list[tuple[str, str]] = []
        emit = realtime.emit

        def spy(tenant_id, org_path, topic_name, kind, ref="", say=""):
            if topic_name == topic:
                self.events.append((kind, str(ref)))
            return emit(tenant_id, org_path, topic_name, kind, ref, say)

        monkeypatch.setattr(realtime, "emit", spy)

    async def step(self, entity: str, action: str, event: str, call: Awaitable[dict]) -> dict:
        before_rows, before_events = await AuditLog.count().where(AuditLog.entity == entity), len(self.events)
        doc = await call
        rows = await AuditLog.select().where(AuditLog.entity == entity).order_by(AuditLog.id)
        assert len(rows) == before_rows + 1, f"{action}: {len(rows) - before_rows} audit rows"
        assert rows[-1]["action"] == action and rows[-1]["entity_id"] == doc["id"]
        assert self.events[before_events:] == [(event, str(doc["id"]))], f"{action}: {self.events[before_events:]}"
        return doc


def test_states_carry_their_chinese_labels_and_compare_as_strings():
    assert labels(tuple(DocStatus)) == {
        "draft": "暂存",
        "submitted": "已提交",
        "partial": "部分确认",
        "completed": "已完成",
        "confirmed": "已确认",
        "deleted": "已删除",
    }
    assert DocStatus.DRAFT == "draft" and f"{DocStatus.PARTIAL}" == "partial"
