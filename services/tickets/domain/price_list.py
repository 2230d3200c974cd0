"""Price-list items: services outside the subscription, priced per unit.

An item is defined (created or replaced) by its ``code``. Lines already on tickets keep the
price they were added at; deactivating an item only stops new lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from shared.domain_errors import RuleViolated
from shared.money import fits_currency, in_currency, is_active_currency

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class PriceItem:
    code: str
    name: str
    unit: str
    price: Decimal
    currency: str
    active: bool = True


def _text(value: str, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise RuleViolated("required", f"{field} must not be empty", field)
    if len(value) > limit:
        raise RuleViolated("too_long", f"{field} is longer than {limit} characters", field)
    return value


def define_item(code: str, name: str, unit: str, price: Decimal, currency: str, active: bool = True) -> PriceItem:
    """A valid item, or RuleViolated naming the field."""
    code = (code or "").strip()
    if not CODE_RE.fullmatch(code):
        raise RuleViolated(
            "code_format",
            f"code must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; got {code[:70]!r}",
            "code",
        )
    if not is_active_currency(currency):
        raise RuleViolated("unknown_currency", f'"{currency}" is not an active ISO 4217 currency code', "currency")
    if price < 0:
        raise RuleViolated("price_negative", f"price must not be negative, got {price}", "price")
    if not fits_currency(price, currency):
        raise RuleViolated("amount_precision", f"price {price} has more decimals than {currency} allows", "price")
    return PriceItem(
        code, _text(name, "name", 200), _text(unit, "unit", 32), in_currency(price, currency), currency, active
    )
