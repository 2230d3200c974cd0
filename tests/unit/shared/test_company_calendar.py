"""Issue 12 case 9: one "today", in the company's time zone (ABONENT_TIMEZONE)."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from shared.calendar import CalendarSettings, CompanyCalendar, zone

ROOT = Path(__file__).resolve().parents[3]
MOSCOW = CompanyCalendar(zone("Europe/Moscow"))
HALF_PAST_MIDNIGHT_IN_MOSCOW = datetime(2026, 12, 31, 21, 30, tzinfo=UTC)  # 00:30 MSK, 1 January


def test_today_is_the_date_in_the_company_zone_not_in_utc():
    assert MOSCOW.today(HALF_PAST_MIDNIGHT_IN_MOSCOW) == date(2027, 1, 1)
    assert CompanyCalendar().today(HALF_PAST_MIDNIGHT_IN_MOSCOW) == date(2026, 12, 31)
    assert MOSCOW.date_of(HALF_PAST_MIDNIGHT_IN_MOSCOW.replace(tzinfo=None)) == date(2027, 1, 1)


def test_settings_default_to_utc_and_no_grace(monkeypatch):
    for name in ("ABONENT_TIMEZONE", "ABONENT_GRACE_DAYS"):
        monkeypatch.delenv(name, raising=False)
    calendar = CalendarSettings().calendar()
    assert (calendar.tz.key, calendar.grace_days) == ("UTC", 0)


@pytest.mark.parametrize("service", ["contracts", "projections", "tickets", "notifier"])
def test_a_service_with_an_invalid_zone_refuses_to_start_with_one_clear_line(service):
    env = {
        **os.environ,
        "ABONENT_TIMEZONE": "Europe/Atlantis",
        "PYTHONPATH": str(ROOT),
        f"{service.upper() if service != 'notifier' else 'NOTIFY'}_DATABASE_URL": "postgresql://u@127.0.0.1:1/x",
    }
    done = subprocess.run(
        [sys.executable, "-m", f"services.{service}"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "abonent: refusing to start: ABONENT_TIMEZONE='Europe/Atlantis' is not an IANA "
        "time zone name (for example 'Europe/Moscow' or 'UTC')"
    ], done.stderr
