from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from services.projections.domain.coverage import OwedPeriod
from services.projections.domain.debts import ageing, bucket_of, group_debtors
from services.projections.domain.income import income_by_month, months_between, parse_month
from shared.money import format_amount, totals_by_currency


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
    ],
)
def test_ageing_buckets(days: int, bucket: str) -> None:
    assert bucket_of(days) == bucket


def owed(days: int, amount: str, currency: str = "RUB") -> OwedPeriod:
    d = date(2026, 4, 1)
    return OwedPeriod(uuid4(), uuid4(), d, d, "prepaid", d, Decimal(amount), currency, days)


def test_ageing_sums_amounts_per_bucket() -> None:
    assert ageing([owed(5, "10"), owed(20, "5.50"), owed(100, "1")]) == {
        "0-30": Decimal("15.50"),
        "31-60": Decimal(0),
        "61-90": Decimal(0),
        "90+": Decimal("1"),
    }


def test_debtors_grouped_by_client_and_currency() -> None:
    a, b = uuid4(), uuid4()
    rows = [
        (a, "Alpha", owed(1, "10")),
        (a, "Alpha", owed(2, "20")),
        (a, "Alpha", owed(3, "7", "EUR")),
        (b, "Beta", owed(4, "1")),
    ]
    debtors = group_debtors(rows)
    assert [(d.client_id, d.currency, d.total_owed) for d in debtors] == [
        (a, "RUB", Decimal("30")),
        (a, "EUR", Decimal("7")),
        (b, "RUB", Decimal("1")),
    ]


def test_income_fills_every_month_and_currency() -> None:
    jan, feb, mar = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    months = income_by_month(
        jan, mar, [(jan, "RUB", Decimal(100), Decimal(40))], [(feb, "RUB", Decimal(60)), (feb, "EUR", Decimal(5))]
    )
    assert [(m.month, m.currency, m.due, m.received, m.outstanding) for m in months] == [
        (jan, "EUR", 0, 0, 0),
        (jan, "RUB", 100, 0, 40),
        (feb, "EUR", 0, 5, 0),
        (feb, "RUB", 0, 60, 0),
        (mar, "EUR", 0, 0, 0),
        (mar, "RUB", 0, 0, 0),
    ]


def test_income_without_money_has_one_line_per_month() -> None:
    months = income_by_month(date(2026, 1, 1), date(2026, 2, 1), [], [])
    assert [(m.month.month, m.currency) for m in months] == [(1, None), (2, None)]


def test_months() -> None:
    assert parse_month("2026-12") == date(2026, 12, 1)
    assert len(months_between(date(2025, 11, 1), date(2026, 2, 1))) == 4
    with pytest.raises(ValueError):
        parse_month("2026-13")


def test_money_format_and_totals() -> None:
    assert format_amount(Decimal("30000"), "RUB") == "30000.00"
    assert format_amount(Decimal("0.5"), "RUB") == "0.50"
    assert format_amount(Decimal("30000.00"), "JPY") == "30000"
    assert format_amount(Decimal("60000.5"), "KWD") == "60000.500"
    assert totals_by_currency([("RUB", Decimal(1)), ("EUR", Decimal(2)), ("RUB", Decimal(3))]) == {
        "EUR": Decimal(2),
        "RUB": Decimal(4),
    }
