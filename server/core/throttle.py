"""Attempt counters for throttling (logins, kiosk tickets), counted atomically.

An attempt is counted *before* the work it guards (a password hash, a ticket), by one atomic
increment: parallel requests each see a distinct count, so a burst cannot slip past the limit
while the first attempts are still being checked. In memory for one process, in Redis (one Lua
script: INCR and the window's expiry together) when every process must share them.
"""

from __future__ import annotations

import time
from typing import Protocol

from server.core.errors import Throttled

WINDOW_SECONDS = 15 * 60
# Redis clients of the request path (sessions, throttles) wait this long at most: an unreachable
# Redis becomes a quick 503 instead of a request hanging on the system's TCP timeouts.
REDIS_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 5}

# INCR, and start the window on the first hit: one script, so no request sees a count whose
# window was never set.
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""
# Give an attempt back without creating a key or going below zero.
_RELEASE = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return n
"""


class Counter(Protocol):
    async def hit(self, key: str, window: int) -> int: ...
    async def release(self, key: str) -> None: ...
    async def clear(self, key: str) -> None: ...
    async def close(self) -> None: ...


class MemoryCounter:
    """Counters of one process. Each method runs without awaiting, so it is atomic on the loop."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}

    async def hit(self, key: str, window: int) -> int:
        t = time.monotonic()
        count, until = self._counts.get(key, (0, 0.0))
        if until <= t:
            count, until = 0, t + window
        self._counts[key] = (count + 1, until)
        if len(self._counts) > 100_000:  # a flood of distinct keys must not grow memory for ever
            self._counts = {k: v for k, v in self._counts.items() if v[1] > t}
        return count + 1

    async def release(self, key: str) -> None:
        count, until = self._counts.get(key, (0, 0.0))
        if count > 0:
            self._counts[key] = (count - 1, until)

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)

    async def close(self) -> None:
        self._counts.clear()


class RedisCounter:
    """Counters shared by every process through Redis, under the deployment's key prefix."""

    def __init__(self, url: str, prefix: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, **REDIS_TIMEOUTS)
        self._prefix = f"{prefix}:throttle:"
        self._hit = self._redis.register_script(_HIT)
        self._release = self._redis.register_script(_RELEASE)

    async def hit(self, key: str, window: int) -> int:
        return int(await self._hit(keys=[self._prefix + key], args=[window]))

    async def release(self, key: str) -> None:
        await self._release(keys=[self._prefix + key])

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()


_counter: Counter = MemoryCounter()


def bind(counter: Counter) -> None:
    global _counter
    _counter = counter


def counter() -> Counter:
    return _counter


async def attempt(limits: dict[str, int], message: str, window: int = WINDOW_SECONDS) -> None:
    """Count one attempt on every key; refuse (429) when any key is past its limit. Every key is
    counted even when an earlier one refuses, so a refused burst still counts against each."""
    over = False
    for key, limit in limits.items():
        over |= await _counter.hit(key, window) > limit
    if over:
        raise Throttled(message, code="throttled")


async def release(keys: list[str]) -> None:
    """Give counted attempts back (a login that succeeded is no failure)."""
    for key in keys:
        await _counter.release(key)


async def clear(key: str) -> None:
    await _counter.clear(key)
