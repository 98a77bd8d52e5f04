"""Failure counters for login throttling, kept in a Litestar store (memory, or Redis when
configured so that every app process shares them)."""

from __future__ import annotations

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from server.core.errors import Throttled

WINDOW_SECONDS = 15 * 60
_store: Store = MemoryStore()


def bind(store: Store) -> None:
    global _store
    _store = store


async def _count(key: str) -> int:
    raw = await _store.get(key)
    return int(raw) if raw else 0


async def check(limits: dict[str, int]) -> None:
    """Refuse when any key already reached its limit of failures in the window."""
    for key, limit in limits.items():
        if await _count(key) >= limit:
            raise Throttled(f"登录失败次数过多，请 {WINDOW_SECONDS // 60} 分钟后再试", code="throttled")


async def failed(keys: list[str]) -> None:
    for key in keys:
        await _store.set(key, str(await _count(key) + 1), expires_in=WINDOW_SECONDS)


async def clear(key: str) -> None:
    await _store.delete(key)
