"""Attempt counters for throttling (logins, kiosk tickets), counted atomically.

An attempt is counted *before* the work it guards (a password hash, a ticket), by one atomic
increment: parallel requests each see a distinct count, so a burst cannot slip past the limit
while the first attempts are still being checked. In memory for one process, in Redis (one Lua
script: INCR and the window's expiry together) when every process must share them.

Two shapes: `attempt` refuses past a count in a window (kiosk tickets); `Lock` makes the caller
wait a growing delay once its free attempts are used (logins: 5 s, 10 s, 20 s… up to a cap), so
a guesser is slowed for ever while the owner is never locked out for long.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
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


# One attempt against a Lock: refuse with the milliseconds left while locked; otherwise count it,
# and from the `free`-th attempt on lock the next ones for base × 2^(n − free), at most `cap`.
_LOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local till = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. ':until') or '0')
if now < till then return till - now end
local n = redis.call('HINCRBY', KEYS[1], ARGV[1] .. ':n', 1)
local free = tonumber(ARGV[2])
if n >= free then
  local wait = math.min(tonumber(ARGV[3]) * 2 ^ (n - free), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], ARGV[1] .. ':until', now + wait)
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 0
"""


_GIVE_BACK = """
local n = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if n > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end
return n
"""


@dataclass(frozen=True)
class Lock:
    """Attempts of one kind by one party: `key` groups what an unlock clears at once (a login
    name with every address it was tried from), `field` is the party within it."""

    key: str
    field: str
    free: int  # attempts before the first wait
    cap: float  # the longest wait, seconds
    base: float = 5.0  # the first wait, seconds; each further attempt doubles it

    def wait_after(self, n: int) -> float:
        """Seconds locked after the n-th counted attempt (0 while still free)."""
        return 0.0 if n < self.free else min(self.base * 2 ** (n - self.free), self.cap)


class Counter(Protocol):
    async def hit(self, key: str, window: int) -> int: ...
    async def release(self, key: str) -> None: ...
    async def clear(self, key: str) -> None: ...
    async def lock_hit(self, lock: Lock, window: int) -> float: ...
    async def forgive(self, lock: Lock) -> None: ...
    async def give_back(self, lock: Lock) -> None: ...
    async def close(self) -> None: ...


class MemoryCounter:
    """Counters of one process. Each method runs without awaiting, so it is atomic on the loop."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._locks: dict[str, dict[str, tuple[int, float]]] = {}  # key → field → (n, locked until)
        self._lock_expiry: dict[str, float] = {}

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
        self._locks.pop(key, None)

    async def lock_hit(self, lock: Lock, window: int) -> float:
        t = time.monotonic()
        if self._lock_expiry.get(lock.key, t) < t:
            self._locks.pop(lock.key, None)
        fields = self._locks.setdefault(lock.key, {})
        n, until = fields.get(lock.field, (0, 0.0))
        if t < until:
            return until - t
        fields[lock.field] = (n + 1, t + lock.wait_after(n + 1))
        self._lock_expiry[lock.key] = t + window
        if len(self._locks) > 100_000:
            self._locks = {k: v for k, v in self._locks.items() if self._lock_expiry.get(k, 0) > t}
        return 0.0

    async def forgive(self, lock: Lock) -> None:
        self._locks.get(lock.key, {}).pop(lock.field, None)

    async def give_back(self, lock: Lock) -> None:
        fields = self._locks.get(lock.key, {})
        n, until = fields.get(lock.field, (0, 0.0))
        if n > 0:
            fields[lock.field] = (n - 1, until)

    async def close(self) -> None:
        self._counts.clear()
        self._locks.clear()


class RedisCounter:
    """Counters shared by every process through Redis, under the deployment's key prefix."""

    def __init__(self, url: str, prefix: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, **REDIS_TIMEOUTS)
        self._prefix = f"{prefix}:throttle:"
        self._hit = self._redis.register_script(_HIT)
        self._release = self._redis.register_script(_RELEASE)
        self._lock = self._redis.register_script(_LOCK)
        self._give_back = self._redis.register_script(_GIVE_BACK)

    async def hit(self, key: str, window: int) -> int:
        return int(await self._hit(keys=[self._prefix + key], args=[window]))

    async def release(self, key: str) -> None:
        await self._release(keys=[self._prefix + key])

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def lock_hit(self, lock: Lock, window: int) -> float:
        args = [lock.field, lock.free, int(lock.base * 1000), int(lock.cap * 1000), window]
        return int(await self._lock(keys=[self._prefix + lock.key], args=args)) / 1000

    async def forgive(self, lock: Lock) -> None:
        await self._redis.hdel(self._prefix + lock.key, f"{lock.field}:n", f"{lock.field}:until")

    async def give_back(self, lock: Lock) -> None:
        await self._give_back(keys=[self._prefix + lock.key], args=[f"{lock.field}:n"])

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


async def enter(locks: list[Lock], message: str, window: int = WINDOW_SECONDS) -> None:
    """Count one attempt against each lock in turn; refuse (429) at the first that is locked,
    saying how long to wait (`message` has a `{seconds}` slot). Later locks are not counted for
    a refused attempt: waiting out one lock never lengthens another."""
    for lock in locks:
        wait = await _counter.lock_hit(lock, window)
        if wait > 0:
            raise Throttled(message.format(seconds=max(1, math.ceil(wait))), code="throttled")


async def forgive(locks: list[Lock]) -> None:
    """The attempts were good (a right password): those parties start afresh."""
    for lock in locks:
        await _counter.forgive(lock)


async def give_back(lock: Lock) -> None:
    """Uncount one attempt (a good login from an address shared by many people)."""
    await _counter.give_back(lock)
