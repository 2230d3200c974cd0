"""A tick judges old news as of the day it acts for, never later than the real moment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from services.contracts.application.scheduler import acting_moment
from shared.calendar import CompanyCalendar

MOSCOW = CompanyCalendar(ZoneInfo("Europe/Moscow"))
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_the_loop_ticking_for_today_acts_now() -> None:
    assert acting_moment(NOW, date(2026, 11, 30), MOSCOW) == NOW


def test_a_tick_for_a_future_day_acts_now() -> None:
    assert acting_moment(NOW, date(2027, 3, 1), MOSCOW) == NOW


def test_a_tick_for_a_past_day_acts_at_the_end_of_that_day() -> None:
    moment = acting_moment(NOW, date(2026, 3, 21), MOSCOW)
    assert MOSCOW.date_of(moment) == date(2026, 3, 21)
    assert not MOSCOW.is_late(date(2026, 3, 21), moment)  # the Q1 reminder of a replayed year is news
    assert MOSCOW.is_late(date(2026, 3, 1), moment)
