"""Money: Decimal at the edges, integer ten-thousandths inside, never a float."""

from decimal import Decimal

import pytest

from server.core import money
from server.core.errors import BusinessError


def refused(value: object) -> BusinessError:
    with pytest.raises(BusinessError) as info:
        money.parse(value, "单价")
    assert info.value.code == "invalid_money"
    assert info.value.status_code == 400
    assert "单价" in info.value.detail
    return info.value


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0.1000", "0.1000"),
        ("0.1", "0.1000"),
        ("12.5", "12.5000"),
        ("  12.5 ", "12.5000"),
        ("-3.3", "-3.3000"),
        ("0", "0.0000"),
        ("0.0001", "0.0001"),
        ("1.23450", "1.2345"),  # a trailing zero is not a fifth decimal
        ("1E+2", "100.0000"),
        (7, "7.0000"),
        (Decimal("99999999999999.9999"), "99999999999999.9999"),
    ],
)
def test_parse_keeps_four_decimals_and_round_trips_through_units(given, expected):
    amount = money.parse(given)
    assert isinstance(amount, Decimal)
    assert str(amount) == expected
    units = money.to_units(amount)
    assert type(units) is int
    assert money.fmt(units) == expected


def test_five_decimals_are_refused_in_chinese():
    error = refused("1.00001")
    assert error.detail == "单价最多 4 位小数"


def test_float_noise_never_leaks_into_the_amount():
    assert money.parse(0.1) == Decimal("0.1000")
    assert str(money.parse(0.1)) == "0.1000"  # not 0.1000000000000000055511151231257827
    assert money.parse(19.99) == Decimal("19.9900")
    assert "4 位小数" in refused(0.1 + 0.2).detail  # 0.30000000000000004 is not a price anyone typed


@pytest.mark.parametrize("value", ["100000000000000", 1e20, "1e30", "-100000000000000", "1" * 30 + ".00001"])
def test_huge_values_are_refused(value):
    assert "超出范围" in refused(value).detail


@pytest.mark.parametrize("value", ["", "abc", "1,000", "0x10", "NaN", "Infinity", "-inf", None, True, False, [1]])
def test_values_that_are_not_numbers_are_refused(value):
    assert refused(value).detail == "单价格式不正确"


def test_fmt_returns_a_string_with_exactly_four_decimals():
    for units, text in [
        (0, "0.0000"),
        (1, "0.0001"),
        (-1, "-0.0001"),
        (125_000, "12.5000"),
        (10_000_000, "1000.0000"),  # no scientific notation
        (999_999_999_999_999_999, "99999999999999.9999"),
        (-999_999_999_999_999_999, "-99999999999999.9999"),
        (-12_345_678, "-1234.5678"),
    ]:
        assert money.fmt(units) == text


def test_fmt_by_integers_writes_what_the_decimal_form_writes():
    powers = [sign * 10**k + d for k in range(19) for sign in (1, -1) for d in (-1, 0, 1)]
    for units in [*range(-20_001, 20_001, 7), *powers]:
        assert money.fmt(units) == str(money.from_units(units)), units


def test_from_units_is_a_decimal_quantised_to_four_places():
    value = money.from_units(123_456)
    assert isinstance(value, Decimal)
    assert value == Decimal("12.3456")
    assert value.as_tuple().exponent == -4


def test_to_units_is_exact_integer_arithmetic():
    total = sum(money.to_units(money.parse("0.1")) for _ in range(10))
    assert total == 10_000
    assert money.fmt(total) == "1.0000"


def test_fmt_is_kept_per_value_whatever_type_asked_first():
    """`fmt` keeps its answers: equal values of other types (a Decimal, an int) share one entry,
    which is right only because they write the same text."""
    from decimal import Decimal

    money.fmt.cache_clear()
    for first, second in ((Decimal("25"), 25), (7, Decimal("7")), (Decimal("-3"), -3)):
        assert money.fmt(first) == money.fmt(second) == str(money.from_units(int(first)))
