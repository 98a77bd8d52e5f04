"""The named states of master data, each with its Chinese label (`WarehouseType.GOOD.label`).
A master data row's life is the shared `RowStatus` (soft delete), named `Status` here."""

from __future__ import annotations

from server.core.states import Labelled, RowStatus

Status = RowStatus


class WarehouseType(Labelled):
    """What a warehouse holds (SPEC 2.6)."""

    GENERAL = "general", "通用库"
    GOOD = "good", "良品库"
    DEFECTIVE = "defective", "坏品库"
    SCRAP = "scrap", "报废库"
    INSPECTION = "inspection", "审核库"
    TRANSIT = "transit", "中转库"
    REPAIR = "repair", "维修库"
    CUSTOM = "custom", "自定义库"


class TreeKind(Labelled):
    """The three trees kept in one table (SPEC 2.1–2.2)."""

    CATEGORY = "category", "品类"
    REPAIR_CLASS = "repair_class", "维修分类"
    FAULT_CLASS = "fault_class", "故障分类"
