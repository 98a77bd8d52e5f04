"""Every work order test ends by proving the stock ledger (completion posts through it)."""

import pytest

from tests.inventory.helpers import assert_ledger


@pytest.fixture(autouse=True)
async def ledger_invariant(database_url):
    yield
    await assert_ledger()
