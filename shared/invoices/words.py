"""An amount in words, as Russian invoices print the total ("Тридцать тысяч рублей 00 копеек")."""

from __future__ import annotations

from decimal import Decimal

from num2words import num2words

from shared.money import in_currency

_RU_RUBLES = ("рубль", "рубля", "рублей")
_RU_KOPEKS = ("копейка", "копейки", "копеек")


def _plural_ru(n: int, forms: tuple[str, str, str]) -> str:
    if n % 100 in range(11, 15):
        return forms[2]
    return forms[0] if n % 10 == 1 else forms[1] if n % 10 in (2, 3, 4) else forms[2]


def amount_in_words(amount: Decimal, currency: str, locale: str) -> str | None:
    """The amount in words for RUB (None for other currencies): whole roubles in words, kopeks
    in digits, as accounting documents write it."""
    if currency != "RUB":
        return None
    value = in_currency(amount, currency)
    rubles = int(value)
    kopeks = int((value - rubles) * 100)
    if locale == "ru":
        words = num2words(rubles, lang="ru")
        text = f"{words} {_plural_ru(rubles, _RU_RUBLES)} {kopeks:02d} {_plural_ru(kopeks, _RU_KOPEKS)}"
    else:
        words = num2words(rubles, lang="en")
        text = f"{words} {'rouble' if rubles == 1 else 'roubles'} {kopeks:02d} {'kopek' if kopeks == 1 else 'kopeks'}"
    return text[:1].upper() + text[1:]
