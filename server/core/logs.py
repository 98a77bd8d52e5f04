"""Keep credentials out of logs.

A queue device's token is its only credential and travels in URLs (`/queue/kiosk/dev_…`,
`/ws?token=…`), which servers write to their access logs. Every log line of the server and the
app passes through `RedactTokens`, which masks them.
"""

from __future__ import annotations

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"((?:^|[?&])token=)[^&\s\"']+")
_DEVICE_TOKEN = re.compile(r"dev_[A-Za-z0-9_\-]+")
LOGGERS = ("uvicorn.access", "uvicorn.error", "granian.access", "weifu")


def redact(text: str) -> str:
    return _DEVICE_TOKEN.sub("dev_***", _TOKEN_IN_QUERY.sub(r"\1***", text))


def device_tokens(text: str) -> list[str]:
    """The device tokens written in `text` (a kiosk's path), for what must not store them."""
    return _DEVICE_TOKEN.findall(text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Idempotent: every app built in a process shares the loggers."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
