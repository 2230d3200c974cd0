"""Money as ``Decimal`` inside, as a string in its currency's minor units on the wire
(``"30000.00"`` RUB, ``"30000"`` JPY, ``"30000.000"`` KWD; ``shared.money``)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from shared.money import quantum

ZERO = Decimal("0")


def to_decimal(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def fmt(amount: Decimal, currency: str) -> str:
    # str() of a Decimal quantized to 0, -2 or -3 never uses exponent notation, so it is the
    # same text as format(..., "f"), at half the cost (a debtors page formats ~7 amounts per debtor).
    return str(amount.quantize(quantum(currency)))


def totals_by_currency(items: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Sum ``(currency, amount)`` pairs per currency, currencies in alphabetical order."""
    out: dict[str, Decimal] = {}
    for currency, amount in items:
        out[currency] = out.get(currency, ZERO) + amount
    return dict(sorted(out.items()))


def describe(totals: dict[str, Decimal]) -> str:
    """``{"RUB": 60000}`` -> ``"60000.00 RUB"``; several currencies joined with "and"."""
    return " and ".join(f"{fmt(v, c)} {c}" for c, v in totals.items()) or "0.00"
