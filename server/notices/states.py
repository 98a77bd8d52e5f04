"""The named values of customer notices: the events that send one, the channels, a notice's states."""

from __future__ import annotations

from server.core.states import Labelled


class Event(Labelled):
    """The work-order moves a customer hears of (SPEC 11): the status each one enters."""

    ACCEPTED = "accepted", "受理"
    REPAIRED = "repaired", "维修完毕（待取机）"
    CLOSED = "closed", "结单"


class Channel(Labelled):
    SMS = "sms", "短信"
    EMAIL = "email", "邮件"


class NoticeStatus(Labelled):
    QUEUED = "queued", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class SmtpSecurity(Labelled):
    STARTTLS = "starttls", "STARTTLS"
    TLS = "tls", "SSL/TLS"
    NONE = "none", "不加密"
