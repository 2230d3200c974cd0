"""Wire types for dates: ISO ``YYYY-MM-DD`` and ``YYYY-MM`` strings, nothing looser.

pydantic's lax ``date`` also takes Unix timestamps and datetimes; a bookkeeping API should
refuse "1700000000" as a date rather than guess.

Dates are bounded to the years 1900-2199 (``EARLIEST``-``LATEST``): far beyond any contract, and
far enough from ``date.max`` that re-arming a time event or stepping a schedule a year past
the last date never overflows (``9999-12-31`` was a 500).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEARS = "(19[0-9]{2}|2[01][0-9]{2})"
DATE_PATTERN = f"^{_YEARS}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
MONTH_PATTERN = f"^{_YEARS}-(0[1-9]|1[0-2])$"


def _bounded(day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise PydanticCustomError(
            "date_out_of_range",
            "{value} is outside {earliest}..{latest}",
            {"value": day.isoformat(), "earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
        )
    return day


def _iso_date(value: Any) -> date:
    if isinstance(value, date):
        return _bounded(value)
    if not isinstance(value, str) or not _DATE.match(value):
        raise PydanticCustomError("date_format", "expected a date as YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_invalid", "{value} is not a calendar date", {"value": value}) from None
    return _bounded(day)


def _year_month(value: Any) -> date:
    if isinstance(value, date):
        return _bounded(value.replace(day=1))
    match = _MONTH.match(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise PydanticCustomError("month_format", "expected a month as YYYY-MM")
    if int(match.group(1)) < 1:
        raise PydanticCustomError("date_out_of_range", "year 0 does not exist")
    return _bounded(date(int(match.group(1)), int(match.group(2)), 1))


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN, "examples": ["2026-04-01"]}),
]
"""A calendar date written ``YYYY-MM-DD``, in 1900-2199."""

YearMonth = Annotated[
    date,
    BeforeValidator(_year_month),
    PlainSerializer(lambda d: f"{d.year:04d}-{d.month:02d}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN, "examples": ["2026-04"]}),
]
"""A month written ``YYYY-MM`` (held as its first day)."""
