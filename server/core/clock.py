"""Times are stored in UTC and shown in the tenant's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    return datetime.now(UTC)


MINUTES = "%Y-%m-%d %H:%M"


def local(dt: datetime | None, tz: str, fmt: str = MINUTES) -> str:
    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    shown = dt.astimezone(ZoneInfo(tz))
    # the lists' format, written by isoformat in half strftime's time (100 cells on a list page)
    return shown.isoformat(" ", "minutes")[:16] if fmt == MINUTES else shown.strftime(fmt)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.isoformat()
