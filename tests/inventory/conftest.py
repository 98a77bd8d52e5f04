"""Every inventory test ends by proving the ledger: on-hand equals the sum of its moves, is never
negative, each row's last move says its quantity, and the org-wide cost quantity adds up."""

import pytest

from tests.inventory.helpers import assert_ledger


@pytest.fixture(autouse=True)
async def ledger_invariant(database_url):
    yield
    await assert_ledger()
