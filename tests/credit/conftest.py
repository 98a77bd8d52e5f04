"""Every credit test ends by proving the ledger: balance = sum of its entries' deltas, frozen =
sum of open freezes = sum of frozen deltas, available ≥ 0, and no document line posted twice."""

import pytest

from tests.credit.helpers import assert_credit_ledger


@pytest.fixture(autouse=True)
async def credit_invariant(database_url):
    yield
    await assert_credit_ledger()
