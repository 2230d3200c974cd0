"""Money, dates and payment terms as a reader expects them in Russian or English.

- ru: ``30 000,00 RUB``, ``31 марта 2026``, ``предоплата``;
- en: ``30,000.00 RUB``, ``31 March 2026``, ``prepaid``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

Locale = Literal["ru", "en"]
LOCALES: tuple[Locale, ...] = ("ru", "en")

_RU_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
              "сентября", "октября", "ноября", "декабря")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_TERMS = {
    "ru": {"prepaid": "предоплата", "postpaid": "постоплата"},
    "en": {"prepaid": "prepaid", "postpaid": "postpaid"},
}


def money(amount: Decimal | str, currency: str, locale: Locale) -> str:
    """Grouped thousands, two decimals, the ISO code after the number."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    if locale == "ru":
        return f"{sign}{' '.join(groups)},{cents} {currency}"
    return f"{sign}{','.join(groups)}.{cents} {currency}"


def long_date(day: date, locale: Locale) -> str:
    if locale == "ru":
        return f"{day.day} {_RU_MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def payment_terms(terms: str, locale: Locale) -> str:
    return _TERMS[locale].get(terms, terms)
