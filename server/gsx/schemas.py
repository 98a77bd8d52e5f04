"""API shapes of the GSX integration. No shape carries a PEM or a token out."""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType


class SettingsIn(Struct):
    """`certificate_pem`/`key_pem` empty or absent keep the stored pair."""

    environment: str = "uat"
    base_url: str = ""
    auth_url: str = ""
    sold_to: str = ""
    ship_to: str = ""
    certificate_pem: str = ""
    key_pem: str = ""
    enabled: bool = False
    ship_to_by_org: dict[str, str] | UnsetType = UNSET
    server_ca_pem: str | UnsetType = UNSET
    status_map: dict[str, str] | UnsetType = UNSET


class SettingsOut(Struct):
    environment: str
    base_url: str
    auth_url: str
    sold_to: str
    ship_to: str
    ship_to_by_org: dict[str, str]
    certificate_set: bool
    key_set: bool
    certificate_subject: str
    certificate_expires_at: str | None
    server_ca_set: bool
    status_map: dict[str, str]
    enabled: bool
    configured: bool
    updated_by_name: str
    updated_at: str | None


class TestOut(Struct):
    ok: bool
    message: str
    code: str


class LinkIn(Struct):
    apple_id: str
    activation_token: str


class LinkOut(Struct):
    linked: bool
    apple_id: str
    status: str
    linked_at: str | None
    token_used_at: str | None


class CallOut(Struct):
    id: int
    user_name: str
    endpoint: str
    http_status: int | None
    outcome: str
    message: str
    duration_ms: int
    attempts: int
    trace_id: str
    work_order_id: int | None
    created_at: str | None


class NewsOut(Struct):
    id: str
    title: str
    summary: str
    published: str


class IssueIn(Struct):
    component_code: str
    issue_code: str


class RepairIn(Struct):
    repair_type: str
    issues: list[IssueIn]
    parts: list[str] = []
    notes: str = ""


class CoverageOut(Struct):
    product_description: str
    config_description: str
    purchase_country: str
    warranty_status: str
    warranty_status_description: str
    coverage_end_date: str
    applecare: bool
    activation_lock: str
    limited: bool


class OutcomeOut(Struct):
    action: str
    explanation: str
    messages: list[str]
    needs_ack: bool


class HistoryOut(Struct):
    at: str | None
    status: str
    description: str


class GsxOrderOut(Struct):
    work_order_id: int
    serial_no: str
    coverage: CoverageOut | None
    coverage_at: str | None
    coverage_by_name: str
    repair_id: str
    repair_type: str
    repair_status: str
    repair_status_description: str
    outcome: list[OutcomeOut]
    needs_ack: bool
    acknowledged_by_name: str
    acknowledged_at: str | None
    repair_created_by_name: str
    repair_created_at: str | None
    history: list[HistoryOut]
    status_hint: str = ""  # what the GSX status means for the order (ready for pickup: complete it by hand)


class CoverageCheckIn(Struct):
    serial_no: str


class CoverageCheckOut(Struct):
    """【查询保修】 before an order exists: nothing stored; `token` is the answer sealed for the
    intake form, which attaches it to the order it saves."""

    serial_no: str
    coverage: CoverageOut
    token: str


class PartOut(Struct):
    number: str
    known: bool
    description: str
    price: str  # decimal with 4 places, "" when GSX gave none
    currency: str
    availability: str


class RepairCheckOut(Struct):
    """【检查资格与部件】: GSX's eligibility answer and its parts (nothing created)."""

    eligible: bool
    outcome: list[OutcomeOut]
    parts: list[PartOut]
    unknown_parts: list[str]


class NoteIn(Struct):
    note: str


class RepairRowOut(Struct):
    """A row of 【GSX 维修】: what Weifu stored of a GSX repair and its work order."""

    id: int
    work_order_id: int
    work_order_no: str
    work_order_status: str
    work_order_status_label: str
    repair_id: str
    repair_type: str
    repair_type_label: str
    repair_status: str
    repair_status_description: str
    repair_created_by_name: str
    repair_created_at: str | None
    updated_at: str | None


class SyncOut(Struct):
    asked: int
    changed: int
    skipped: int  # being polled at that moment
