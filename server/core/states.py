"""Named states shared by every domain. Each is a StrEnum: it compares equal to its stored text,
so rows, JSON and templates see the same strings, while code names the state."""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A StrEnum whose members carry their Chinese label: `DRAFT = "draft", "暂存"`."""

    label: str

    def __new__(cls, value: str, label: str) -> Labelled:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """value → label, in declaration order: the choices of a select and of `validate.choice`."""
        return {m.value: m.label for m in cls}


class RowStatus(Labelled):
    """A row kept after deletion (orgs, users, roles, master data): deleted rows stay for history."""

    ACTIVE = "active", "正常"
    DELETED = "deleted", "已删除"


class OrgKind(Labelled):
    HQ = "hq", "总部"
    BRANCH = "branch", "网点"
