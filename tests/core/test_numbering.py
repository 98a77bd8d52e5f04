"""Document numbers: per tenant, type and local day; no gaps, no duplicates, even under load."""

import asyncio
from datetime import UTC, datetime

import pytest

from server.core import numbering
from server.core.db import atomic

# 16:30 UTC on the 24th is already 00:30 on the 25th in Shanghai (the tenants' time zone).
FIXED_NOW = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)
DAY = "20261125"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(numbering, "utc_now", lambda: FIXED_NOW)


async def number(ctx, prefix: str = "RK") -> str:
    async with atomic():
        return await numbering.next_number(ctx, prefix)


async def test_numbers_count_up_within_the_day_in_the_tenant_time_zone(tenant):
    assert [await number(tenant) for _ in range(3)] == [f"RK{DAY}-0001", f"RK{DAY}-0002", f"RK{DAY}-0003"]


async def test_each_tenant_has_its_own_sequence(tenant, other_tenant):
    assert await number(tenant) == f"RK{DAY}-0001"
    assert await number(other_tenant) == f"RK{DAY}-0001"
    assert await number(tenant) == f"RK{DAY}-0002"


async def test_each_document_type_has_its_own_sequence(tenant):
    assert await number(tenant, "RK") == f"RK{DAY}-0001"
    assert await number(tenant, "CK") == f"CK{DAY}-0001"
    assert await number(tenant, "RK") == f"RK{DAY}-0002"


async def test_a_new_day_starts_again_at_one(tenant, monkeypatch):
    assert await number(tenant) == f"RK{DAY}-0001"
    monkeypatch.setattr(numbering, "utc_now", lambda: datetime(2026, 11, 25, 16, 0, tzinfo=UTC))
    assert await number(tenant) == "RK20261126-0001"


async def test_numbering_outside_atomic_is_a_programming_error(tenant):
    with pytest.raises(RuntimeError):
        await numbering.next_number(tenant, "RK")


async def test_a_rolled_back_transaction_gives_its_number_back(tenant):
    assert await number(tenant) == f"RK{DAY}-0001"
    with pytest.raises(ValueError):
        async with atomic():
            assert await numbering.next_number(tenant, "RK") == f"RK{DAY}-0002"
            raise ValueError("the document failed to save")
    assert await number(tenant) == f"RK{DAY}-0002"


async def test_concurrent_transactions_get_distinct_consecutive_numbers(tenant):
    count = 50

    async def one() -> str:
        async with atomic():
            result = await numbering.next_number(tenant, "RK")
            await asyncio.sleep(0)  # let the others pile up while this transaction is open
            return result

    results = await asyncio.gather(*(one() for _ in range(count)))
    assert sorted(results) == [f"RK{DAY}-{i:04d}" for i in range(1, count + 1)]
    assert await number(tenant) == f"RK{DAY}-{count + 1:04d}"
