"""Times are stored in UTC and shown in the tenant's time zone."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    return datetime.now(UTC)


MINUTES = "%Y-%m-%d %H:%M"


def local(dt: datetime | None, tz: str, fmt: str = MINUTES) -> str:
    if dt is None:
        return ""
    return _local(dt, tz, fmt)


@functools.lru_cache(maxsize=8192)
def _local(dt: datetime, tz: str, fmt: str) -> str:
    """Kept: a list's first page shows the same times to everyone who opens it, a cell each."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(ZoneInfo(tz)).strftime(fmt)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.isoformat()
