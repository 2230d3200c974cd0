"""Price-list items: what makes a valid definition."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.tickets.domain.price_list import define_item
from shared.domain_errors import RuleViolated


def test_a_valid_item_is_trimmed():
    item = define_item(" WS-SETUP ", " Workstation set-up ", " pcs ", Decimal("1500.00"), "RUB")
    assert (item.code, item.name, item.unit, item.active) == ("WS-SETUP", "Workstation set-up", "pcs", True)


def test_a_free_item_is_allowed():
    assert define_item("VISIT", "Visit", "visit", Decimal("0"), "RUB", active=False).price == 0


@pytest.mark.parametrize(
    "args, field, rule",
    [
        (("", "n", "u", Decimal(1), "RUB"), "code", "code_format"),
        (("a b", "n", "u", Decimal(1), "RUB"), "code", "code_format"),
        (("-A", "n", "u", Decimal(1), "RUB"), "code", "code_format"),
        (("A", " ", "u", Decimal(1), "RUB"), "name", "required"),
        (("A", "n", "", Decimal(1), "RUB"), "unit", "required"),
        (("A", "n", "u", Decimal("-0.01"), "RUB"), "price", "price_negative"),
        (("A", "n", "u", Decimal("10.50"), "JPY"), "price", "amount_precision"),
        (("A", "n", "u", Decimal(1), "XXX"), "currency", "unknown_currency"),
    ],
)
def test_invalid_definitions_name_the_field(args, field, rule):
    with pytest.raises(RuleViolated) as refused:
        define_item(*args)
    assert (refused.value.field, refused.value.rule) == (field, rule)
