"""Every logistics test ends by proving the stock and credit ledgers and the orders' share of
credit."""

import pytest

from tests.credit.helpers import assert_credit_ledger
from tests.inventory.helpers import assert_ledger
from tests.logistics.helpers import assert_order_credit


@pytest.fixture(autouse=True)
async def ledgers(database_url):
    yield
    await assert_ledger()
    await assert_credit_ledger()
    await assert_order_credit()
