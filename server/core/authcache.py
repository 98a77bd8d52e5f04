"""The caller's resolved Ctx, kept between requests while nothing that could change it changed.

Resolving a caller costs 3–4 queries (token, user with org, tenant, roles) on every request.
Each process keeps the resolved Ctx in memory under the tenant's *generation*, a number every
process reads and that any change of a user, role, org, the tenant or its settings, a token
revocation or an `auth_epoch` bump moves on, after its transaction commits (`changed`, called by
`audit.record` for those entities): the next request of every process sees a generation other
than the one its entry was stored under and resolves the caller again.

Where the generation lives: Redis when REDIS_URL is set (one client per event loop); otherwise
the size of a small per-tenant file, grown by one byte per change (an O_APPEND write, one
`stat` to read) — every worker process on the machine sees it, as they share the session files.
Within one HTTP request (`one_reading`, entered by AuthMiddleware) each tenant's generation is
read once, however many entries the request looks up (a work order page: the caller, the SLA
settings, the technicians; each a Redis round trip otherwise); a change the request itself makes
drops its reading. A socket lives for hours and reads it every time.
An entry also lives at most TTL seconds: a safety net for changes made behind the services'
back (an SQL console, a restore). When the generation cannot be read (Redis down) the cache is
bypassed, never trusted. Unbound (services called outside the server) nothing is cached.

What else is made only of what moves the generation (the work-order SLA limits: settings; an
org's technicians: users and roles) is kept here too, under a key of its own: the same
generation tells when it went stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from server.core import db
from server.core.tenancy import Ctx

log = logging.getLogger(__name__)

TTL = 2.0  # seconds an entry is trusted at most, whatever the generation says
MAX_ENTRIES = 10_000  # a process forgets everything beyond this (a burst of distinct tokens)
# What audit.record names when a change could alter some caller's Ctx.
ENTITIES = frozenset({"user", "role", "org", "tenant", "settings", "gsx_settings", "notice_settings"})


class Generations(Protocol):
    async def current(self, tenant_id: int) -> int | None: ...  # None: unknown now, do not cache
    async def bump(self, tenant_id: int) -> None: ...
    async def close(self) -> None: ...


class FileGenerations:
    """Per-tenant generation = size of `<dir>/<tenant_id>`; shared by the processes of one machine."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    async def current(self, tenant_id: int) -> int | None:
        try:
            return os.stat(self.directory / str(tenant_id)).st_size
        except FileNotFoundError:
            return 0
        except OSError:
            return None

    async def bump(self, tenant_id: int) -> None:
        fd = os.open(self.directory / str(tenant_id), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, b".")
        finally:
            os.close(fd)

    async def close(self) -> None:
        pass


# Short waits: this read is on every request; when Redis does not answer, the queries do.
_REDIS_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
_RETRY_AFTER = 1.0  # after a failure, skip Redis (and the cache) this long instead of waiting on it


class RedisGenerations:
    """Per-tenant generation = an INCR counter in Redis, seen by every process."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url, self.prefix = url, f"{prefix}:authgen:"
        # a redis.asyncio client belongs to the loop that first used it
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._down_until = 0.0

    def _client(self):
        from redis.asyncio import Redis

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = Redis.from_url(self.url, **_REDIS_TIMEOUTS)
        return client

    async def current(self, tenant_id: int) -> int | None:
        if time.monotonic() < self._down_until:
            return None
        try:
            value = await self._client().get(f"{self.prefix}{tenant_id}")
        except Exception:  # any failure: resolve from the database this time
            self._down_until = time.monotonic() + _RETRY_AFTER
            log.warning("auth cache: Redis unavailable, resolving callers from the database", exc_info=True)
            return None
        return int(value or 0)

    async def bump(self, tenant_id: int) -> None:
        await self._client().incr(f"{self.prefix}{tenant_id}")

    async def close(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


@dataclass(frozen=True)
class _Entry:
    tenant_id: int
    generation: int
    stored_at: float
    value: Ctx | dict | list
    expires_at: datetime | None  # an API token's end


_generations: Generations | None = None
_entries: dict[tuple, _Entry] = {}
# the current request's task and the generations it read; a task it starts reads for itself
_reading: contextvars.ContextVar[tuple[asyncio.Task | None, dict[int, int]] | None] = contextvars.ContextVar(
    "authcache_reading", default=None
)


@contextlib.contextmanager
def one_reading():
    """Each tenant's generation is read once within (one HTTP request)."""
    token = _reading.set((asyncio.current_task(), {}))
    try:
        yield
    finally:
        _reading.reset(token)


def _read_here() -> dict[int, int] | None:
    reading = _reading.get()
    return reading[1] if reading is not None and reading[0] is asyncio.current_task() else None


async def _current(tenant_id: int) -> int | None:
    read = _read_here()
    if read is None:
        return await _generations.current(tenant_id)
    if tenant_id not in read:
        value = await _generations.current(tenant_id)
        if value is None:
            return None
        read[tenant_id] = value
    return read[tenant_id]


def _forget_reading(tenant_id: int) -> None:
    read = _read_here()
    if read is not None:
        read.pop(tenant_id, None)


def bind(generations: Generations | None) -> None:
    """Called at the server's start (and with None at its stop); forgets every entry."""
    global _generations
    _generations = generations
    _entries.clear()


async def unbind() -> None:
    generations = _generations
    bind(None)
    if generations is not None:
        await generations.close()


def enabled() -> bool:
    # inside a transaction the caller may just have changed what an entry holds
    return _generations is not None and not db.in_transaction()


async def generation(tenant_id: int) -> int | None:
    """Read before the queries whose result is stored under it; None: do not cache now."""
    if not enabled():
        return None
    return await _current(tenant_id)


async def get(key: tuple, now: datetime | None = None) -> Ctx | dict | list | None:
    entry = _entries.get(key)
    if entry is None or not enabled():
        return None
    if time.monotonic() - entry.stored_at > TTL or (entry.expires_at is not None and now and entry.expires_at < now):
        _entries.pop(key, None)
        return None
    if await _current(entry.tenant_id) != entry.generation:
        _entries.pop(key, None)
        return None
    return entry.value


def put(
    key: tuple, tenant_id: int, generation: int | None, value: Ctx | dict | list, expires_at: datetime | None = None
) -> None:
    if generation is None or _generations is None:
        return
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[key] = _Entry(tenant_id, generation, time.monotonic(), value, expires_at)


async def changed(tenant_id: int) -> None:
    """Something a Ctx of `tenant_id` is made of changed: move the generation on once the
    current transaction commits (at once outside one). This process forgets its entries of the
    tenant now, so a failed bump leaves only other processes' entries, for at most TTL."""
    for key in [k for k, e in _entries.items() if e.tenant_id == tenant_id]:
        _entries.pop(key, None)
    if _generations is None:
        return
    if db.in_transaction():
        db.after_commit(lambda: _bump(tenant_id))
    else:
        await _bump(tenant_id)


async def _bump(tenant_id: int) -> None:
    if _generations is None:
        return
    for key in [k for k, e in _entries.items() if e.tenant_id == tenant_id]:
        _entries.pop(key, None)  # stored by requests that ran during the transaction
    _forget_reading(tenant_id)  # this request reads the moved generation from now on
    try:
        await _generations.bump(tenant_id)
    except Exception:  # the change is committed; other processes trust their entries ≤ TTL more
        log.warning("auth cache: could not move tenant %s's generation on", tenant_id, exc_info=True)
