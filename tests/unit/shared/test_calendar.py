"""The company calendar: "today" in the company's zone, the paid_on bound, lateness."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from shared.calendar import CalendarSettings, CompanyCalendar

MOSCOW = CompanyCalendar(ZoneInfo("Europe/Moscow"))


def test_today_is_the_date_in_the_company_zone() -> None:
    half_past_midnight_in_moscow = datetime(2026, 12, 31, 21, 30, tzinfo=UTC)
    assert MOSCOW.today(half_past_midnight_in_moscow) == date(2027, 1, 1)
    assert CompanyCalendar().today(half_past_midnight_in_moscow) == date(2026, 12, 31)


def test_naive_instants_are_taken_as_utc() -> None:
    assert MOSCOW.date_of(datetime(2026, 12, 31, 22, 0)) == date(2027, 1, 1)


def test_paid_on_may_be_at_most_tomorrow() -> None:
    assert MOSCOW.latest_paid_on(datetime(2026, 3, 1, 12, tzinfo=UTC)) == date(2026, 3, 2)


def test_an_event_is_late_only_beyond_the_allowed_days() -> None:
    emitted = datetime(2026, 6, 10, 9, tzinfo=UTC)
    assert not MOSCOW.is_late(date(2026, 6, 7), emitted)
    assert MOSCOW.is_late(date(2026, 6, 6), emitted)


def test_settings_refuse_a_zone_that_is_not_an_iana_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABONENT_TIMEZONE", "Moscow Standard Time")
    with pytest.raises(ValidationError, match="not an IANA time zone name"):
        CalendarSettings()


def test_settings_build_the_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABONENT_TIMEZONE", "Europe/Moscow")
    monkeypatch.setenv("ABONENT_GRACE_DAYS", "5")
    cal = CalendarSettings().calendar()
    assert (cal.tz.key, cal.grace_days, cal.late_event_days) == ("Europe/Moscow", 5, 3)
