"""Growing login waits (`throttle.Lock`), the same on the in-memory counter and on Redis's script:
free attempts, then a wait that doubles and stops at its cap; forgiving, giving back, clearing."""

from __future__ import annotations

import uuid

import pytest

from server.core import throttle
from tests.conftest import REDIS_URL

BACKENDS = ["memory"] + (["redis"] if REDIS_URL else [])


@pytest.fixture(params=BACKENDS)
async def counter(request):
    made = throttle.MemoryCounter() if request.param == "memory" else throttle.RedisCounter(REDIS_URL, "test")
    yield made
    await made.close()


def lock(**kw) -> throttle.Lock:
    return throttle.Lock(key=f"t:{uuid.uuid4().hex}", field="f", **({"free": 2, "cap": 12.0} | kw))


async def test_free_attempts_then_a_wait_that_starts_at_the_base(counter):
    it = lock()
    assert [await counter.lock_hit(it, 60) for _ in range(2)] == [0, 0]
    assert 4.5 < await counter.lock_hit(it, 60) <= 5.0  # the second attempt locked the next 5 s


def test_the_wait_doubles_and_stops_at_its_cap():
    it = lock(free=5, cap=30.0)
    assert [it.wait_after(n) for n in range(4, 10)] == [0, 5, 10, 20, 30, 30]


async def test_forgive_clears_one_party_and_clear_clears_the_key(counter):
    it, other = lock(), None
    other = throttle.Lock(it.key, "g", 2, 12.0)
    for _ in range(2):
        await counter.lock_hit(it, 60)
        await counter.lock_hit(other, 60)
    await counter.forgive(it)
    assert await counter.lock_hit(it, 60) == 0
    assert await counter.lock_hit(other, 60) > 0
    await counter.clear(it.key)
    assert await counter.lock_hit(other, 60) == 0


async def test_give_back_uncounts_one_attempt_never_below_zero(counter):
    it = lock()
    await counter.give_back(it)
    await counter.lock_hit(it, 60)
    await counter.give_back(it)
    assert [await counter.lock_hit(it, 60) for _ in range(2)] == [0, 0]
    assert await counter.lock_hit(it, 60) > 0
