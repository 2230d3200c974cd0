"""Money, dates and payment terms as a reader expects them in Russian or English.

- ru: ``30 000,00 RUB``, ``31 марта 2026``, ``предоплата``;
- en: ``30,000.00 RUB``, ``31 March 2026``, ``prepaid``.

Amounts show their currency's minor units (``shared.money``): ``30,000 JPY``, ``1,250.500 KWD``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from shared.money import in_currency, minor_units

Locale = Literal["ru", "en"]
LOCALES: tuple[Locale, ...] = ("ru", "en")

_RU_MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_TERMS = {
    "ru": {"prepaid": "предоплата", "postpaid": "постоплата"},
    "en": {"prepaid": "prepaid", "postpaid": "postpaid"},
}


def money(amount: Decimal | str, currency: str, locale: Locale) -> str:
    """Grouped thousands, the currency's decimals (0, 2 or 3), the ISO code after the number."""
    value = in_currency(Decimal(str(amount)), currency)
    sign = "-" if value < 0 else ""
    whole, _, cents = f"{abs(value):.{minor_units(currency)}f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    point = "," if locale == "ru" else "."
    fraction = f"{point}{cents}" if cents else ""
    if locale == "ru":
        return f"{sign}{' '.join(groups)}{fraction} {currency}"
    return f"{sign}{','.join(groups)}{fraction} {currency}"


def long_date(day: date, locale: Locale) -> str:
    if locale == "ru":
        return f"{day.day} {_RU_MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def payment_terms(terms: str, locale: Locale) -> str:
    return _TERMS[locale].get(terms, terms)
