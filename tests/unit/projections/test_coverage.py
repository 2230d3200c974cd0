"""Coverage rules on the reference scenario: a year, quarterly prepaid 30000.00 RUB, Q1 paid."""

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from services.projections.domain.coverage import (
    CURRENT_PERIOD_UNPAID,
    NO_ACTIVE_PERIOD,
    OVERDUE_PERIODS,
    PeriodState,
    assess,
    income_on,
    overdue,
)
from shared.owed import due_on

CONTRACT = uuid4()
Q = [
    (date(2026, 1, 1), date(2026, 3, 31)),
    (date(2026, 4, 1), date(2026, 6, 30)),
    (date(2026, 7, 1), date(2026, 9, 30)),
    (date(2026, 10, 1), date(2026, 12, 31)),
]


def period(
    starts: date,
    ends: date,
    paid: str = "0",
    terms: str = "prepaid",
    amount: str = "30000.00",
    terminated_on: date | None = None,
    currency: str = "RUB",
) -> PeriodState:
    return PeriodState(
        CONTRACT, "A-1", uuid4(), starts, ends, Decimal(amount), currency, terms, Decimal(paid), terminated_on
    )


def year(paid_quarters: int = 1, **kw: object) -> list[PeriodState]:
    return [
        period(s, e, "30000.00" if i < paid_quarters else "0", **kw)  # type: ignore[arg-type]  # test keyword overrides
        for i, (s, e) in enumerate(Q)
    ]


def test_covered_in_a_paid_quarter() -> None:
    c = assess(year(), date(2026, 2, 10))
    assert c.status == "covered"
    assert c.active_period is not None and c.active_period.starts_on == date(2026, 1, 1)
    assert c.owed == [] and c.warnings == [] and c.totals == {}


def test_unpaid_current_prepaid_quarter() -> None:
    c = assess(year(), date(2026, 4, 15))
    assert c.status == "unpaid"
    assert [(o.due_on, o.amount_due, o.days_overdue) for o in c.owed] == [(date(2026, 4, 1), Decimal("30000.00"), 14)]
    assert [w.code for w in c.warnings] == [CURRENT_PERIOD_UNPAID]
    assert "2026-04-01" in c.warnings[0].message and "30000.00 RUB" in c.warnings[0].message
    assert c.totals == {"RUB": Decimal("30000.00")}


def test_prepaid_period_is_owed_on_its_start_date_with_zero_days() -> None:
    c = assess(year(), date(2026, 4, 1))
    assert c.status == "unpaid" and c.owed[0].days_overdue == 0
    assert "today" in c.warnings[0].message


def test_not_covered_after_the_contract_ends() -> None:
    c = assess(year(paid_quarters=4), date(2027, 1, 10))
    assert c.status == "not_covered" and c.active_period is None
    assert [w.code for w in c.warnings] == [NO_ACTIVE_PERIOD]
    assert c.warnings[0].message == (
        "no active service period on 2027-01-10: service cannot be provided under subscription"
    )


def test_not_covered_still_lists_what_is_owed() -> None:
    c = assess(year(paid_quarters=1), date(2027, 1, 10))
    assert c.status == "not_covered"
    assert len(c.owed) == 3 and c.totals == {"RUB": Decimal("90000.00")}
    assert [w.code for w in c.warnings] == [NO_ACTIVE_PERIOD, OVERDUE_PERIODS]
    assert c.warnings[1].message == "3 earlier periods unpaid for 90000.00 RUB"


def test_earlier_unpaid_periods_while_the_current_one_is_paid() -> None:
    ps = year(paid_quarters=0)
    ps[2] = period(*Q[2], paid="30000.00")
    c = assess(ps, date(2026, 8, 1))
    assert c.status == "unpaid"
    assert [w.code for w in c.warnings] == [OVERDUE_PERIODS]
    assert c.warnings[0].message == "2 earlier periods unpaid for 60000.00 RUB"


def test_partial_payment_reduces_what_is_owed() -> None:
    c = assess([period(*Q[1], paid="10000.50")], date(2026, 4, 2))
    assert c.owed[0].amount_due == Decimal("19999.50")


def test_postpaid_is_owed_from_the_day_after_its_end() -> None:
    p = period(*Q[0], terms="postpaid")
    assert due_on("postpaid", p.starts_on, p.ends_on) == date(2026, 4, 1)
    assert income_on("postpaid", p.starts_on, p.ends_on) == date(2026, 3, 31)  # March's income
    assert assess([p], date(2026, 3, 31)).status == "covered"  # paying on the last day is on time
    after = assess([p], date(2026, 4, 15))
    assert after.status == "not_covered"
    assert (after.owed[0].due_on, after.owed[0].days_overdue) == (date(2026, 4, 1), 14)


@pytest.mark.parametrize(
    ("on", "status"),
    [
        (date(2026, 5, 31), "covered"),  # before the termination date
        (date(2026, 6, 1), "not_covered"),  # from the termination date on
    ],
)
def test_termination_stops_coverage_from_its_date(on: date, status: str) -> None:
    ps = [period(*q, paid="30000.00", terminated_on=date(2026, 6, 1)) for q in Q]
    assert assess(ps, on).status == status


def test_periods_starting_after_termination_are_void() -> None:
    ps = [period(*q, terminated_on=date(2026, 6, 1)) for q in Q]
    owed = assess(ps, date(2026, 12, 1)).owed
    assert [o.starts_on for o in owed] == [date(2026, 1, 1), date(2026, 4, 1)]


def test_totals_per_currency_in_the_warning() -> None:
    ps = [period(*Q[0], currency="EUR", amount="100.00"), period(*Q[1])]
    c = assess(ps, date(2026, 7, 1))
    assert c.totals == {"EUR": Decimal("100.00"), "RUB": Decimal("30000.00")}
    assert c.warnings[-1].message == "2 earlier periods unpaid for 100.00 EUR and 30000.00 RUB"


def test_grace_delays_overdue_periods_but_not_the_current_period_warning() -> None:
    """ABONENT_GRACE_DAYS=10: a postpaid Q1 ended 31 March is owed from 1 April but overdue only
    from 11 April; the unpaid prepaid Q2 warns from its first day all the same."""
    q1 = period(*Q[0], terms="postpaid")
    q2_paid = period(*Q[1], paid="30000.00")
    early = assess([q1, q2_paid], date(2026, 4, 5), grace_days=10)
    assert early.status == "covered" and early.warnings == []
    assert [(o.due_on, o.days_overdue) for o in early.owed] == [(date(2026, 4, 1), 4)]
    assert overdue(q1, date(2026, 4, 10), grace_days=10) is None
    assert overdue(q1, date(2026, 4, 11), grace_days=10).days_overdue == 10  # type: ignore[union-attr]  # the period is owed on that day
    late = assess([q1, q2_paid], date(2026, 4, 11), grace_days=10)
    assert late.status == "unpaid" and [w.code for w in late.warnings] == [OVERDUE_PERIODS]

    q2 = period(*Q[1])
    current = assess([period(*Q[0], paid="30000.00"), q2], date(2026, 4, 1), grace_days=10)
    assert current.status == "unpaid" and [w.code for w in current.warnings] == [CURRENT_PERIOD_UNPAID]
