"""API shapes of customer notices. No shape carries a secret header's value or the SMTP password out."""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType


class NoticeOut(Struct):
    id: int
    work_order_id: int
    work_order_no: str
    customer_name: str
    event: str
    event_label: str
    channel: str
    channel_label: str
    to: str
    template_id: int | None
    subject: str
    body: str
    status: str
    status_label: str
    attempts: int
    answer: str
    created_at: str | None
    sent_at: str | None
    updated_at: str | None


class TemplateOut(Struct):
    id: int
    event: str
    event_label: str
    channel: str
    channel_label: str
    enabled: bool
    subject: str
    body: str
    updated_by_name: str
    updated_at: str | None


class TemplateIn(Struct):
    """Absent fields keep their value; `subject` is the email's."""

    enabled: bool | UnsetType = UNSET
    subject: str | UnsetType = UNSET
    body: str | UnsetType = UNSET


class SettingsIn(Struct):
    """`sms_secret_headers` absent keeps the stored ones (given, it replaces them all);
    `smtp_password` empty or absent keeps the stored one."""

    sms_enabled: bool = False
    sms_provider: str = "webhook"
    sms_url: str = ""
    sms_headers: dict[str, str] = {}
    sms_secret_headers: dict[str, str] | UnsetType = UNSET
    sms_body: str = ""
    email_enabled: bool = False
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""


class SettingsOut(Struct):
    sms_enabled: bool
    sms_provider: str
    sms_url: str
    sms_headers: dict[str, str]
    sms_secret_header_names: list[str]
    sms_body: str
    email_enabled: bool
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_password_set: bool
    smtp_from: str
    updated_by_name: str
    updated_at: str | None
