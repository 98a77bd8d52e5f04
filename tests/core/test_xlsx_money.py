"""Exports write money as numbers Excel can sum, shown with 4 places, and quantities as integers
(issue 15 item 3): a column of amounts adds up in Excel as it does on screen."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from server.core import xlsx


def test_money_is_a_number_with_four_places_and_quantities_are_integers():
    data = xlsx.workbook_bytes("t", ["数量", "单价", "金额"], [[13, Decimal("324.6154"), Decimal("4220.0002")]])
    ws = load_workbook(io.BytesIO(data)).active
    qty, price, amount = ws[2]
    assert (qty.value, qty.data_type) == (13, "n")
    assert price.data_type == amount.data_type == "n"
    assert Decimal(str(price.value)) == Decimal("324.6154")
    assert price.number_format == amount.number_format == "0.0000"
