"""Money: stored as integer ten-thousandths (1 yuan = 10000), Decimal with 4 places at the edges."""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation

from server.core.errors import BusinessError

SCALE = 10_000
QUANT = Decimal("0.0001")


def parse(value: object, field: str = "金额") -> Decimal:
    """A user-supplied amount as Decimal; refuses floats' noise, >4 decimals and overflow."""
    if isinstance(value, bool) or value is None:
        raise BusinessError(f"{field}格式不正确", code="invalid_money")
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise BusinessError(f"{field}格式不正确", code="invalid_money") from None
    if not amount.is_finite():
        raise BusinessError(f"{field}格式不正确", code="invalid_money")
    if abs(amount) > Decimal("99999999999999.9999"):
        raise BusinessError(f"{field}超出范围", code="invalid_money")
    if amount.as_tuple().exponent < -4 and amount != amount.quantize(QUANT):
        raise BusinessError(f"{field}最多 4 位小数", code="invalid_money")
    return amount.quantize(QUANT)


def to_units(amount: Decimal) -> int:
    return int((amount * SCALE).to_integral_exact())


def from_units(units: int) -> Decimal:
    return (Decimal(units) / SCALE).quantize(QUANT)


@functools.lru_cache(maxsize=8192)
def fmt(units: int) -> str:
    """The API form of an amount: a string with exactly 4 decimals. Integer arithmetic, the
    same text as `str(from_units(units))` at a fraction of its cost, and kept: a list page
    formats hundreds of amounts, the same ones for everyone who opens it."""
    if type(units) is not int:
        return str(from_units(units))
    whole, part = divmod(-units if units < 0 else units, SCALE)
    return f"{'-' if units < 0 else ''}{whole}.{part:04d}"
