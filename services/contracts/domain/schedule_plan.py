"""Split a date range into monthly, quarterly or yearly periods.

Periods are counted from the range's first day, so they do not drift: monthly from 15 Jan
gives 15 Jan–14 Feb, 15 Feb–14 Mar, … Months of unequal length follow the civil-law rule
(a month from 31 Jan ends on the last day of February): when the first period ends on the
last day of a month, every period does — 1 Jan monthly gives Jan 31, Feb 28 (29 in a leap
year), Mar 31, …; 31 Jan monthly gives 31 Jan–28 Feb, 1–31 Mar, 1–30 Apr, …; yearly from
1 Mar 2027 ends on 29 Feb 2028. A range that is not a whole number of steps ends with a
shorter last period, cut at the range's end.
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from services.contracts.domain.errors import RuleViolated

STEP_MONTHS = {"month": 1, "quarter": 3, "year": 12}
MAX_PERIODS = 600
"""50 years of monthly periods: more is a typo, not a contract."""


def _first_end(starts_on: date, months: int) -> date:
    same_day = starts_on + relativedelta(months=months)
    if same_day.day != starts_on.day:  # no such day in that month: the last day of it
        return same_day
    return same_day - timedelta(days=1)


def _is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def plan_periods(starts_on: date, ends_on: date, every: str) -> list[tuple[date, date]]:
    """``[(starts_on, ends_on), …]`` covering the range without gaps or overlaps."""
    if every not in STEP_MONTHS:
        raise RuleViolated("invalid_every", f"every must be month, quarter or year, not {every!r}", "every")
    if ends_on < starts_on:
        raise RuleViolated("ends_before_start",
                           f"the schedule ends on {ends_on.isoformat()}, before it starts on "
                           f"{starts_on.isoformat()}", "ends_on")
    step = STEP_MONTHS[every]
    first_end = _first_end(starts_on, step)
    month_ends = _is_month_end(first_end)
    periods: list[tuple[date, date]] = []
    start = starts_on
    while start <= ends_on:
        end = first_end + relativedelta(months=step * len(periods))
        if month_ends:
            end = end + relativedelta(day=31)
        end = min(end, ends_on)
        periods.append((start, end))
        if len(periods) > MAX_PERIODS:
            raise RuleViolated("too_many_periods",
                               f"{starts_on.isoformat()}..{ends_on.isoformat()} every {every} makes more "
                               f"than {MAX_PERIODS} periods", "ends_on")
        start = end + timedelta(days=1)
    return periods


def periods_needed(starts_on: date, ends_on: date, every: str) -> int:
    """How many period ids a SchedulePeriods command for this range needs."""
    return len(plan_periods(starts_on, ends_on, every))
