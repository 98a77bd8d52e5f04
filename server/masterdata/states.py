"""The named states of master data, each with its Chinese label (`Status.DELETED.label`).

StrEnum members compare equal to their text, so rows read from the database, JSON output and
templates see the same "active" / "general" as before."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A master data row's life: deleting is soft, a deleted row stays for history."""

    ACTIVE = "active"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {Status.ACTIVE: "正常", Status.DELETED: "已删除"}


class WarehouseType(StrEnum):
    """What a warehouse holds (SPEC 2.6)."""

    GENERAL = "general"
    GOOD = "good"
    DEFECTIVE = "defective"
    SCRAP = "scrap"
    INSPECTION = "inspection"
    TRANSIT = "transit"
    REPAIR = "repair"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return _WAREHOUSE_TYPE_LABELS[self]


_WAREHOUSE_TYPE_LABELS = {
    WarehouseType.GENERAL: "通用库",
    WarehouseType.GOOD: "良品库",
    WarehouseType.DEFECTIVE: "坏品库",
    WarehouseType.SCRAP: "报废库",
    WarehouseType.INSPECTION: "审核库",
    WarehouseType.TRANSIT: "中转库",
    WarehouseType.REPAIR: "维修库",
    WarehouseType.CUSTOM: "自定义库",
}


class TreeKind(StrEnum):
    """The three trees kept in one table (SPEC 2.1–2.2)."""

    CATEGORY = "category"
    REPAIR_CLASS = "repair_class"
    FAULT_CLASS = "fault_class"

    @property
    def label(self) -> str:
        return _TREE_KIND_LABELS[self]


_TREE_KIND_LABELS = {TreeKind.CATEGORY: "品类", TreeKind.REPAIR_CLASS: "维修分类", TreeKind.FAULT_CLASS: "故障分类"}


def labels(states: type[StrEnum]) -> dict[str, str]:
    """`{state: label}` of every member, in declaration order: the choices of a filter or a form."""
    return {s: s.label for s in states}  # type: ignore[attr-defined]
