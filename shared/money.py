"""Money: Decimal amounts with two decimal places and ISO 4217 currency codes.

On the wire and in events an amount is a decimal STRING (``"30000.00"``), never a float:
a float cannot hold 0.10 exactly, and a JSON number is a float to most clients.

- ``Amount`` — a pydantic type: accepts ``"30000"``, ``"30000.5"``, ``30000`` or a
  ``Decimal``; stores ``Decimal("30000.00")``; serializes (JSON mode) to ``"30000.00"``.
  Refused: floats, text that is not a plain decimal number (``"1e3"``, ``"1,5"``, ``"abc"``),
  NaN, Infinity, more than 2 decimal places, 16 or more integer digits. The sign is not
  checked here: whether a negative amount makes sense is a domain rule.
- ``Currency`` — an uppercase ISO 4217 code of an active currency (``ACTIVE_CURRENCIES``).
- ``Money`` — an amount in a currency, for arithmetic and for messages ("30000.00 RUB").

Amounts carry at most 2 decimals whatever the currency. For currencies without minor units
(JPY, KRW, …) the domain also checks ``fits_currency`` (no fractions); currencies with 3
minor digits (BHD, KWD, …) are accepted but amounts still carry at most 2 decimals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

CENT = Decimal("0.01")
MAX_INTEGER_DIGITS = 15
_AMOUNT_RE = re.compile(r"-?\d{1,%d}(\.\d{1,2})?" % MAX_INTEGER_DIGITS)
_AMOUNT_PATTERN = r"^-?\d{1,%d}(\.\d{1,2})?$" % MAX_INTEGER_DIGITS

# Active ISO 4217 currencies (list one, 2025), without fund codes (BOV, CHE, CHW, CLF, COU,
# MXV, USN, UYI, UYW), precious metals, SDR/bond units and test codes (XAU, XDR, XTS, XXX…).
ACTIVE_CURRENCIES: frozenset[str] = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
ZAR ZMW ZWG
""".split())

ZERO_DECIMAL_CURRENCIES: frozenset[str] = frozenset(
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL_CURRENCIES: frozenset[str] = frozenset("BHD IQD JOD KWD LYD OMR TND".split())


def is_active_currency(code: object) -> bool:
    return isinstance(code, str) and code in ACTIVE_CURRENCIES


def minor_units(currency: str) -> int:
    """Digits after the point in ``currency`` (ISO 4217 "minor unit")."""
    if currency in ZERO_DECIMAL_CURRENCIES:
        return 0
    if currency in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def fits_currency(amount: Decimal, currency: str) -> bool:
    """True when ``amount`` has no more decimals than ``currency`` (and Amount) allow."""
    places = min(minor_units(currency), 2)
    return amount == amount.quantize(Decimal(1).scaleb(-places))


def round_to_currency(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to the decimals ``currency`` allows (as ``fits_currency``)."""
    places = min(minor_units(currency), 2)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def parse_amount(value: Any) -> Decimal:
    """``value`` as a Decimal with exactly 2 places; PydanticCustomError when it is not money.

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
        "amount_type", 'amount must be a decimal string such as "30000.00", not {kind}',
        {"kind": type(value).__name__})


@lru_cache(maxsize=4096)
def _amount_from_text(value: str) -> Decimal:
    """Cached: a Decimal is immutable, so every caller may share the one parsed value
    (a refused text raises, and exceptions are not cached)."""
    text = value.strip()
    if not _AMOUNT_RE.fullmatch(text):
        raise PydanticCustomError(
            "amount_format",
            'amount must be a decimal number with at most 2 decimals, such as "30000.00"; '
            "got {value!r}", {"value": value[:40]})
    return _checked_amount(Decimal(text))


def _checked_amount(amount: Decimal) -> Decimal:
    if not amount.is_finite():
        raise PydanticCustomError("amount_not_finite", "amount must be a finite number, got {value}",
                                  {"value": str(amount)})
    if amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise PydanticCustomError("amount_too_large", "amount {value} has more than {digits} digits "
                                  "before the point", {"value": str(amount), "digits": MAX_INTEGER_DIGITS})
    try:
        quantized = amount.quantize(CENT)
    except InvalidOperation:  # pragma: no cover - guarded by the size check above
        raise PydanticCustomError("amount_too_large", "amount {value} is too large",
                                  {"value": str(amount)}) from None
    if quantized != amount:
        raise PydanticCustomError("amount_precision", "amount {value} has more than 2 decimal places",
                                  {"value": str(amount)})
    return abs(quantized) if quantized == 0 else quantized  # no "-0.00"


def format_amount(amount: Decimal) -> str:
    """``Decimal("30000")`` → ``"30000.00"`` (the wire form)."""
    return format(amount.quantize(CENT), "f")


def parse_currency(value: Any) -> str:
    if is_active_currency(value):  # the usual case, answered by one set lookup
        return value  # type: ignore[no-any-return]
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise PydanticCustomError("currency_format",
                                  "currency must be a 3-letter ISO 4217 code such as 'RUB', got {value!r}",
                                  {"value": str(value)[:40]})
    if value != value.upper():
        raise PydanticCustomError("currency_format",
                                  "currency must be uppercase: {upper!r}, not {value!r}",
                                  {"upper": value.upper(), "value": value})
    if value not in ACTIVE_CURRENCIES:
        raise PydanticCustomError("unknown_currency", "{value!r} is not an active ISO 4217 currency code",
                                  {"value": value})
    return value


Amount = Annotated[
    Decimal,
    PlainValidator(parse_amount),
    PlainSerializer(format_amount, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": _AMOUNT_PATTERN, "examples": ["30000.00"],
                    "description": "decimal amount as a string, at most 2 decimals"}),
]
"""A money amount: Decimal in Python, a decimal string in JSON."""

Currency = Annotated[
    str,
    PlainValidator(parse_currency),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$", "examples": ["RUB"],
                    "description": "ISO 4217 currency code of an active currency"}),
]
"""An active ISO 4217 currency code, uppercase."""


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
        return f"{format_amount(self.amount)} {self.currency}"


def money_text(amount: Decimal, currency: str) -> str:
    """``"30000.00 RUB"`` — for human messages."""
    return str(Money(amount, currency))
