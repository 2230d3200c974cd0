"""Split a date range into monthly, quarterly or yearly periods.

Periods keep the billing day of the range's first day (docs/design.md §8): the k-th period starts on
that day of the month k steps later, clamped to the month's length, and ends the day before
the next one starts. Monthly from 31 Jan starts 31 Jan, 28 Feb (29 in a leap year), 31 Mar,
30 Apr, 31 May, …; from 15 Jan: 15 Jan–14 Feb, 15 Feb–14 Mar, …; from 1 Jan every period is
a calendar month. Nothing drifts: each start is counted from the first day, never from the
previous (clamped) one. A range that is not a whole number of steps ends with a shorter
last period, cut at the range's end (a *stub*: see :func:`stub_share`).
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from shared.domain_errors import RuleViolated

STEP_MONTHS = {"month": 1, "quarter": 3, "year": 12}
MAX_PERIODS = 600
"""50 years of monthly periods: more is a typo, not a contract."""


def _start(first: date, months: int) -> date:
    """The billing day ``months`` after ``first``, clamped to that month's last day."""
    start: date = first + relativedelta(months=months)  # relativedelta clamps (31 Jan + 1 = 28/29 Feb)
    return start


def plan_periods(starts_on: date, ends_on: date, every: str) -> list[tuple[date, date]]:
    """``[(starts_on, ends_on), …]`` covering the range without gaps or overlaps."""
    if every not in STEP_MONTHS:
        raise RuleViolated("invalid_every", f"every must be month, quarter or year, not {every!r}", "every")
    if ends_on < starts_on:
        raise RuleViolated(
            "ends_before_start",
            f"the schedule ends on {ends_on.isoformat()}, before it starts on {starts_on.isoformat()}",
            "ends_on",
        )
    step = STEP_MONTHS[every]
    periods: list[tuple[date, date]] = []
    start = starts_on
    while start <= ends_on:
        end = min(_start(starts_on, step * (len(periods) + 1)) - timedelta(days=1), ends_on)
        periods.append((start, end))
        if len(periods) > MAX_PERIODS:
            raise RuleViolated(
                "too_many_periods",
                f"{starts_on.isoformat()}..{ends_on.isoformat()} every {every} makes more than {MAX_PERIODS} periods",
                "ends_on",
            )
        start = end + timedelta(days=1)
    return periods


def stub_share(schedule_starts_on: date, every: str, index: int, ends_on: date) -> tuple[int, int]:
    """(days the ``index``-th period runs, days a full step from its start would run).

    Equal for every full period; the last one, cut at the range's end, may run fewer days.
    """
    step = STEP_MONTHS[every]
    start = _start(schedule_starts_on, step * index)
    full_end = _start(schedule_starts_on, step * (index + 1)) - timedelta(days=1)
    return (ends_on - start).days + 1, (full_end - start).days + 1


def periods_needed(starts_on: date, ends_on: date, every: str) -> int:
    """How many period ids a SchedulePeriods command for this range needs."""
    return len(plan_periods(starts_on, ends_on, every))
