"""The named states of a quote."""

from __future__ import annotations

from server.core.states import Labelled


class QuoteStatus(Labelled):
    """待确认 → 已同意 | 已拒绝; a newer quote of the order makes a pending (or, when asked, an
    approved) one 已作废. 已过期 is never stored: a pending quote past its validity date reads so."""

    PENDING = "pending", "待确认"
    APPROVED = "approved", "已同意"
    DECLINED = "declined", "已拒绝"
    EXPIRED = "expired", "已过期"
    SUPERSEDED = "superseded", "已作废"


LIVE = (QuoteStatus.PENDING, QuoteStatus.APPROVED)  # at most one per order (a partial unique index)
