"""Every logistics test ends by proving the credit ledger and the orders' share of it."""

import pytest

from tests.credit.helpers import assert_credit_ledger
from tests.logistics.helpers import assert_order_credit


@pytest.fixture(autouse=True)
async def ledgers(database_url):
    yield
    await assert_credit_ledger()
    await assert_order_credit()
