"""API shapes of credit (hand-written msgspec Structs). Amounts are strings with 4 decimals."""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET, Struct, UnsetType


class RechargeLineIn(Struct):
    org_id: int
    amount: str
    remark: str = ""


class AdjustmentLineIn(Struct):
    org_id: int
    direction: str  # increase | decrease
    amount: str
    remark: str = ""


class RechargeLinePatch(Struct):
    org_id: int | UnsetType = UNSET
    amount: str | UnsetType = UNSET
    remark: str | UnsetType = UNSET


class AdjustmentLinePatch(Struct):
    org_id: int | UnsetType = UNSET
    direction: str | UnsetType = UNSET
    amount: str | UnsetType = UNSET
    remark: str | UnsetType = UNSET


class RechargeIn(Struct):
    remark: str = ""
    lines: list[RechargeLineIn] = []


class AdjustmentIn(Struct):
    remark: str = ""
    lines: list[AdjustmentLineIn] = []


class CreditDocPatch(Struct):
    remark: str | UnsetType = UNSET


class CreditLineOut(Struct):
    id: int
    org_id: int
    org_name: str
    direction: str
    direction_name: str
    amount: str
    remark: str
    frozen: bool


class CreditDocOut(Struct):
    id: int
    kind: str
    no: str
    status: str
    status_name: str
    org_id: int
    org_name: str
    remark: str
    created_by: int | None
    created_by_name: str
    created_at: datetime
    submitted_by: int | None
    submitted_by_name: str
    submitted_at: datetime | None
    confirmed_by: int | None
    confirmed_by_name: str
    confirmed_at: datetime | None
    total_amount: str
    lines: list[CreditLineOut]


class AccountOut(Struct):
    org_id: int
    org_code: str
    org_name: str
    level: int | None
    depth: int
    enabled: bool
    balance: str
    frozen: str
    available: str
    updated_at: datetime | None


class EntryOut(Struct):
    id: int
    org_id: int
    kind: str
    kind_name: str
    amount: str
    frozen_delta: str
    balance_after: str
    frozen_after: str
    doc_type: str
    doc_id: int | None
    doc_no: str
    remark: str
    user_name: str
    created_at: datetime


class FreezeOut(Struct):
    id: int
    org_id: int
    amount: str
    remaining: str
    doc_type: str
    doc_id: int | None
    doc_no: str
    user_name: str
    created_at: datetime
    closed_at: datetime | None
