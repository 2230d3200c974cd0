"""The one definition of owed, due and void (docs/design.md §8)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared import owed

Q2 = (date(2026, 4, 1), date(2026, 6, 30))
COST = Decimal("30000.00")


def test_prepaid_is_owed_from_its_start_day_postpaid_from_the_day_after_its_end() -> None:
    assert owed.due_on("prepaid", *Q2) == date(2026, 4, 1)
    assert owed.due_on("postpaid", *Q2) == date(2026, 7, 1)
    assert not owed.is_owed("postpaid", *Q2, COST, Decimal(0), date(2026, 6, 30))
    assert owed.is_owed("postpaid", *Q2, COST, Decimal(0), date(2026, 7, 1))


def test_grace_delays_overdue_but_not_owed() -> None:
    day = date(2026, 4, 3)
    assert owed.is_owed("prepaid", *Q2, COST, Decimal(0), day)
    assert not owed.is_overdue("prepaid", *Q2, COST, Decimal(0), day, grace_days=5)
    assert owed.is_overdue("prepaid", *Q2, COST, Decimal(0), date(2026, 4, 6), grace_days=5)
    assert owed.overdue_on("postpaid", *Q2, grace_days=5) == date(2026, 7, 6)


def test_a_period_starting_on_the_termination_day_is_void() -> None:
    assert owed.is_void(date(2026, 4, 1), date(2026, 4, 1))
    assert not owed.is_void(date(2026, 1, 1), date(2026, 4, 1))
    assert not owed.is_owed("prepaid", *Q2, COST, Decimal(0), date(2026, 5, 1), terminated_on=date(2026, 4, 1))


def test_as_at_counts_only_payments_made_by_that_day() -> None:
    payments = [(Decimal("10000.00"), date(2026, 2, 15)), (Decimal("20000.00"), date(2026, 3, 1))]
    assert owed.paid_as_at(payments, date(2026, 2, 1)) == 0
    assert owed.paid_as_at(payments, date(2026, 2, 15)) == Decimal("10000.00")
    assert owed.paid_as_at(payments, date(2026, 3, 1)) == COST


def test_days_overdue_count_from_the_due_day() -> None:
    assert owed.days_overdue(date(2026, 4, 1), date(2026, 4, 1)) == 0
    assert owed.days_overdue(date(2026, 4, 1), date(2026, 4, 15)) == 14
