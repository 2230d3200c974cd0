"""The company's calendar: its time zone, "today" in it, and the day-count settings.

docs/design.md §8: every "today" — the scheduler's, a query's default ``on``, a ticket's
registration date, the bound on ``paid_on`` — is the date in the company's time zone
(``ABONENT_TIMEZONE``, an IANA name, default ``UTC``). Only ``bootstrap.py`` modules build
``CalendarSettings``; everything else receives a ``CompanyCalendar``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError with one clear line when it is not one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"ABONENT_TIMEZONE={name!r} is not an IANA time zone name (for example 'Europe/Moscow' or 'UTC')"
        ) from None


class CalendarSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABONENT_", extra="ignore")

    timezone: str = Field("UTC", description="IANA name of the company's time zone")
    grace_days: int = Field(0, ge=0, le=366, description="days after due_on before a debt is overdue")
    late_event_days: int = Field(
        3, ge=0, le=3660, description="a time event emitted more than this many days after its date is late"
    )

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        zone(value)
        return value

    def calendar(self) -> CompanyCalendar:
        return CompanyCalendar(zone(self.timezone), self.grace_days, self.late_event_days)


def calendar_settings() -> CalendarSettings:
    """``CalendarSettings`` from the environment, for a service's settings (default factory).

    A bad value stops the process with ONE clear line (``SystemExit``), not a traceback or a
    multi-line validation report: the service refuses to start."""
    try:
        return CalendarSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "ABONENT_" + str(first["loc"][0]).upper() if first.get("loc") else "ABONENT_*"
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        line = message if message.startswith("ABONENT_") else f"{field}: {message}"
        raise SystemExit(f"abonent: refusing to start: {line}") from None


@dataclass(frozen=True)
class CompanyCalendar:
    tz: ZoneInfo = ZoneInfo("UTC")
    grace_days: int = 0
    late_event_days: int = 3

    def today(self, now: datetime | None = None) -> date:
        """The date in the company's zone at ``now`` (default: the current instant)."""
        return (now or datetime.now(UTC)).astimezone(self.tz).date()

    def date_of(self, moment: datetime) -> date:
        """The company-zone date of an aware instant (naive ones are taken as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.tz).date()

    def latest_paid_on(self, now: datetime | None = None) -> date:
        """``paid_on`` may be at most tomorrow in the company's zone (a bank's value date)."""
        return self.today(now) + timedelta(days=1)

    def is_late(self, event_date: date, emitted_at: datetime) -> bool:
        """A time event dated ``event_date`` and emitted at ``emitted_at`` is old news."""
        return (self.date_of(emitted_at) - event_date).days > self.late_event_days
