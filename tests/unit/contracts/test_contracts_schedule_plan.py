import calendar
from datetime import date
from itertools import pairwise

import pytest

from services.contracts.domain.schedule_plan import MAX_PERIODS, periods_needed, plan_periods
from shared.domain_errors import RuleViolated


def iso(plan):
    return [(a.isoformat(), b.isoformat()) for a, b in plan]


def test_quarterly_year_is_the_reference_four_quarters():
    assert iso(plan_periods(date(2026, 1, 1), date(2026, 12, 31), "quarter")) == [
        ("2026-01-01", "2026-03-31"),
        ("2026-04-01", "2026-06-30"),
        ("2026-07-01", "2026-09-30"),
        ("2026-10-01", "2026-12-31"),
    ]


def test_monthly_from_the_first_ends_on_month_ends_with_leap_february():
    plan = iso(plan_periods(date(2024, 1, 1), date(2024, 12, 31), "month"))
    assert len(plan) == 12
    assert plan[:3] == [("2024-01-01", "2024-01-31"), ("2024-02-01", "2024-02-29"), ("2024-03-01", "2024-03-31")]
    assert plan[-1] == ("2024-12-01", "2024-12-31")
    assert iso(plan_periods(date(2026, 2, 1), date(2026, 2, 28), "month")) == [("2026-02-01", "2026-02-28")]


def test_monthly_from_31_january_keeps_the_billing_day_clamped():
    """Issue 12 case 10: 31 Jan, 28/29 Feb, 31 Mar, 30 Apr …; each ends the day before the next."""
    assert iso(plan_periods(date(2026, 1, 31), date(2026, 5, 30), "month")) == [
        ("2026-01-31", "2026-02-27"),
        ("2026-02-28", "2026-03-30"),
        ("2026-03-31", "2026-04-29"),
        ("2026-04-30", "2026-05-30"),
    ]
    assert iso(plan_periods(date(2024, 1, 31), date(2024, 3, 30), "month")) == [
        ("2024-01-31", "2024-02-28"),
        ("2024-02-29", "2024-03-30"),
    ]


@pytest.mark.parametrize(
    "first",
    [date(2025, 1, 29), date(2025, 1, 30), date(2025, 1, 31), date(2028, 1, 29), date(2028, 1, 30), date(2028, 1, 31)],
)
def test_monthly_billing_day_does_not_drift_whatever_the_year(first):
    """The day comes back after every short month: it is counted from the first day."""
    starts = [s for s, _ in plan_periods(first, date(first.year, 12, 31), "month")]
    assert [s.day for s in starts if s.month not in (2, 4, 6, 9, 11)] == [first.day] * 7
    assert all(s.day == min(first.day, calendar.monthrange(s.year, s.month)[1]) for s in starts)


def test_monthly_mid_month_keeps_the_day_without_drift():
    assert iso(plan_periods(date(2026, 1, 15), date(2026, 4, 14), "month")) == [
        ("2026-01-15", "2026-02-14"),
        ("2026-02-15", "2026-03-14"),
        ("2026-03-15", "2026-04-14"),
    ]


def test_a_range_that_is_not_whole_steps_ends_with_a_shorter_period():
    assert iso(plan_periods(date(2026, 1, 1), date(2026, 8, 15), "quarter")) == [
        ("2026-01-01", "2026-03-31"),
        ("2026-04-01", "2026-06-30"),
        ("2026-07-01", "2026-08-15"),
    ]
    assert iso(plan_periods(date(2026, 1, 1), date(2026, 1, 10), "month")) == [("2026-01-01", "2026-01-10")]


def test_one_day_range_is_one_period():
    assert iso(plan_periods(date(2026, 5, 5), date(2026, 5, 5), "year")) == [("2026-05-05", "2026-05-05")]


def test_yearly_follows_leap_years():
    assert iso(plan_periods(date(2026, 3, 1), date(2029, 2, 28), "year")) == [
        ("2026-03-01", "2027-02-28"),
        ("2027-03-01", "2028-02-29"),
        ("2028-03-01", "2029-02-28"),
    ]
    assert iso(plan_periods(date(2024, 2, 29), date(2026, 2, 27), "year")) == [
        ("2024-02-29", "2025-02-27"),
        ("2025-02-28", "2026-02-27"),
    ]
    assert iso(plan_periods(date(2026, 1, 1), date(2027, 12, 31), "year")) == [
        ("2026-01-01", "2026-12-31"),
        ("2027-01-01", "2027-12-31"),
    ]


@pytest.mark.parametrize("every", ["month", "quarter", "year"])
def test_plans_cover_the_range_without_gaps_or_overlaps(every):
    start, end = date(2025, 11, 30), date(2031, 7, 17)
    plan = plan_periods(start, end, every)
    assert plan[0][0] == start and plan[-1][1] == end
    for (_, a_end), (b_start, _) in pairwise(plan):
        assert (b_start - a_end).days == 1
    assert all(a <= b for a, b in plan)
    assert periods_needed(start, end, every) == len(plan)


def test_bad_ranges_are_refused():
    with pytest.raises(RuleViolated) as exc:
        plan_periods(date(2026, 2, 1), date(2026, 1, 1), "month")
    assert exc.value.rule == "ends_before_start" and exc.value.field == "ends_on"
    with pytest.raises(RuleViolated) as exc:
        plan_periods(date(2026, 1, 1), date(2026, 2, 1), "week")
    assert exc.value.rule == "invalid_every"
    with pytest.raises(RuleViolated) as exc:
        plan_periods(date(2000, 1, 1), date(2000 + MAX_PERIODS // 12 + 1, 1, 1), "month")
    assert exc.value.rule == "too_many_periods"
