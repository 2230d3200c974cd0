"""Money: Decimal amounts in a currency's ISO 4217 minor units, and ISO 4217 currency codes.

On the wire and in events an amount is a decimal STRING (``"30000.00"``), never a float:
a float cannot hold 0.10 exactly, and a JSON number is a float to most clients.

- ``Amount`` — a pydantic type: accepts ``"30000"``, ``"30000.5"``, ``30000`` or a
  ``Decimal`` and keeps the digits it was given (``"30000.000"`` stays three decimals), so a
  stored event reads back and re-serializes to the same text. Refused: floats, text that is
  not a plain decimal number written with the ASCII digits 0-9 (``"1e3"``, ``"1,5"``,
  ``"abc"``, ``"٣٠٠٠٠"``), NaN, Infinity, more than 3 decimal places (the most any currency
  has), 16 or more integer digits. The sign is not checked here: whether a negative amount
  makes sense is a domain rule.
- ``Currency`` — an uppercase ISO 4217 code that Babel (CLDR) knows. Whether it is still an
  active currency, for new periods and prices, is ``is_active_currency`` (a domain check).
- ``Money`` — an amount in a currency, for arithmetic and for messages ("30000.00 RUB");
  ``totals_by_currency`` and ``describe`` for sums over several currencies.

Minor units come from Babel (``get_currency_precision``, CLDR's currency data): JPY and
KRW have none, KWD, BHD, OMR, JOD and TND three, most others two. The domain checks an amount
with ``fits_currency`` and brings it to its currency's digits with ``in_currency`` before it
goes into an event; answers format with ``format_amount(amount, currency)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any, TypeGuard

from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies, list_currencies
from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_INTEGER_DIGITS = 15
MAX_MINOR_UNITS = 3
"""The most decimals any active currency has (KWD, BHD, OMR, JOD, TND, LYD)."""
# [0-9], not \d: \d also matches Arabic-Indic and other Unicode digits, and Decimal() reads
# them ("٣٠٠٠٠" would become 30000).
_AMOUNT_RE = re.compile(rf"-?[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_MINOR_UNITS}}})?")
_AMOUNT_PATTERN = rf"^-?[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_MINOR_UNITS}}})?$"


def _active_currencies(on: date) -> frozenset[str]:
    """Codes some territory uses as legal tender on ``on`` (CLDR via Babel): no fund codes
    (BOV, CLF…), precious metals, test codes or currencies already replaced."""
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, on, tender=True))
    return frozenset(codes)


ACTIVE_CURRENCIES: frozenset[str] = _active_currencies(date.today())
"""Active ISO 4217 currencies, from Babel's data (taken when the process starts)."""
KNOWN_CURRENCIES: frozenset[str] = (frozenset(list_currencies()) - {"XXX", "XTS"}) | ACTIVE_CURRENCIES
"""Every ISO 4217 code Babel knows, current or historic (an event written in a currency since
replaced must still read back), but "no currency" (XXX) and the testing code (XTS)."""


def is_active_currency(code: object) -> TypeGuard[str]:
    return isinstance(code, str) and code in ACTIVE_CURRENCIES


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    """Digits after the point in ``currency`` (ISO 4217 minor unit, from Babel/CLDR)."""
    return int(get_currency_precision(currency))


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: ``Decimal("0.01")`` for RUB, ``1`` for JPY."""
    return Decimal(1).scaleb(-minor_units(currency))


def fits_currency(amount: Decimal, currency: str) -> bool:
    """True when ``amount`` has no more (non-zero) decimals than ``currency`` has."""
    return amount == amount.quantize(quantum(currency))


def in_currency(amount: Decimal, currency: str) -> Decimal:
    """``amount`` written with exactly ``currency``'s digits (30000 RUB → 30000.00, 30000.00
    JPY → 30000). Callers check ``fits_currency`` first; this never rounds a fitting amount."""
    quantized = amount.quantize(quantum(currency))
    return abs(quantized) if quantized == 0 else quantized  # no "-0.00"


def round_to_currency(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to ``currency``'s minor units (as ``fits_currency``)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def parse_amount(value: Any) -> Decimal:
    """``value`` as a Decimal (its digits as given); PydanticCustomError when it is not money.

    Every event payload's amounts come through here (a consumer replaying a topic validates
    hundreds of thousands), and they are strings that repeat — prices, period totals — so the
    string form is parsed once per distinct text (:func:`_amount_from_text`, a small LRU cache).
    """
    if isinstance(value, str):
        return _amount_from_text(value)
    if isinstance(value, Decimal):
        return _checked_amount(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _checked_amount(Decimal(value))
    raise PydanticCustomError(  # floats (inexact), bools, anything else
        "amount_type", 'amount must be a decimal string such as "30000.00", not {kind}', {"kind": type(value).__name__}
    )


@lru_cache(maxsize=4096)
def _amount_from_text(value: str) -> Decimal:
    """Cached: a Decimal is immutable, so every caller may share the one parsed value
    (a refused text raises, and exceptions are not cached)."""
    text = value.strip()
    if not _AMOUNT_RE.fullmatch(text):
        shown = value[:40].replace('"', "'")
        raise PydanticCustomError(
            "amount_format",
            'amount "{value}" is not a decimal number (the digits 0-9, at most one point and '
            '{places} decimals, such as "30000.00")',
            {"value": shown, "places": MAX_MINOR_UNITS},
        )
    return _checked_amount(Decimal(text))


def _checked_amount(amount: Decimal) -> Decimal:
    if not amount.is_finite():
        raise PydanticCustomError(
            "amount_not_finite", "amount must be a finite number, got {value}", {"value": str(amount)}
        )
    if amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise PydanticCustomError(
            "amount_too_large",
            "amount {value} has more than {digits} digits before the point",
            {"value": str(amount), "digits": MAX_INTEGER_DIGITS},
        )
    try:
        exact = amount.quantize(Decimal(1).scaleb(-MAX_MINOR_UNITS))
    except InvalidOperation:  # pragma: no cover - guarded by the size check above
        raise PydanticCustomError("amount_too_large", "amount {value} is too large", {"value": str(amount)}) from None
    if exact != amount:
        raise PydanticCustomError(
            "amount_precision",
            "amount {value} has more than {places} decimal places",
            {"value": str(amount), "places": MAX_MINOR_UNITS},
        )
    if amount.as_tuple().exponent < -MAX_MINOR_UNITS:  # type: ignore[operator]  # finite: an int
        amount = exact  # "1.5000" as a Decimal: the same value in at most 3 decimals
    return abs(amount) if amount == 0 else amount  # no "-0.00"


def format_amount(amount: Decimal, currency: str | None = None) -> str:
    """The wire form: with ``currency``, exactly its digits (``"30000.00"`` RUB, ``"30000"``
    JPY, ``"30000.000"`` KWD); without, at least two decimals (``Decimal("5")`` → ``"5.00"``)."""
    if currency is not None:
        # str() of a Decimal quantized to 0, 2 or 3 decimals never uses exponent notation: the
        # same text as format(..., "f") at half the cost (a debtors page formats ~7 per debtor).
        return str(in_currency(amount, currency))
    exponent = amount.as_tuple().exponent
    return format(amount if isinstance(exponent, int) and exponent < -2 else amount.quantize(CENT), "f")


def _wire(amount: Decimal) -> str:
    """An Amount in JSON: its digits as held (the domain put them in its currency's units)."""
    return format(amount, "f")


def parse_currency(value: Any) -> str:
    if is_active_currency(value):  # the usual case, answered by one set lookup
        return value
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise PydanticCustomError(
            "currency_format",
            'currency must be a 3-letter ISO 4217 code such as "RUB", got "{value}"',
            {"value": str(value)[:40]},
        )
    if value != value.upper():
        raise PydanticCustomError(
            "currency_format",
            'currency must be uppercase: "{upper}", not "{value}"',
            {"upper": value.upper(), "value": value},
        )
    if value not in KNOWN_CURRENCIES:
        raise PydanticCustomError("unknown_currency", '"{value}" is not an ISO 4217 currency code', {"value": value})
    return value


Amount = Annotated[
    Decimal,
    PlainValidator(parse_amount),
    PlainSerializer(_wire, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _AMOUNT_PATTERN,
            "examples": ["30000.00"],
            "description": "decimal amount as a string, in the currency's minor units (0, 2 or 3 decimals)",
        }
    ),
]
"""A money amount: Decimal in Python, a decimal string in JSON."""

_LARGEST = 10**MAX_INTEGER_DIGITS - 1
AmountInput = Annotated[
    Amount,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _AMOUNT_PATTERN},
                {"type": "integer", "minimum": -_LARGEST, "maximum": _LARGEST},
            ],
            "examples": ["30000.00"],
            "description": "decimal amount as a string, in the currency's minor units (0, 2 or 3 decimals); "
            "a whole number may be sent as a JSON integer",
        }
    ),
]
"""An Amount in a request body: what it accepts, documented as such (a JSON integer too)."""

Currency = Annotated[
    str,
    PlainValidator(parse_currency),
    WithJsonSchema(
        {"type": "string", "pattern": "^[A-Z]{3}$", "examples": ["RUB"], "description": "ISO 4217 currency code"}
    ),
]
"""An ISO 4217 currency code, uppercase (``is_active_currency`` says whether still in use)."""


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency. Arithmetic and ordering only between equal currencies."""

    amount: Decimal
    currency: str

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0.00"), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError(f"cannot combine {self} with {other}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        return f"{format_amount(self.amount, self.currency)} {self.currency}"


def money_text(amount: Decimal, currency: str) -> str:
    """``"30000.00 RUB"`` — for human messages."""
    return str(Money(amount, currency))


def totals_by_currency(items: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Sum ``(currency, amount)`` pairs per currency, currencies in alphabetical order."""
    out: dict[str, Decimal] = {}
    for currency, amount in items:
        out[currency] = out.get(currency, ZERO) + amount
    return dict(sorted(out.items()))


def describe(totals: dict[str, Decimal]) -> str:
    """``{"RUB": 60000}`` -> ``"60000.00 RUB"``; several currencies joined with "and"."""
    return " and ".join(money_text(amount, currency) for currency, amount in totals.items()) or "0.00"
