"""Wire types for dates: ISO ``YYYY-MM-DD`` and ``YYYY-MM`` strings, nothing looser.

pydantic's lax ``date`` also takes Unix timestamps and datetimes; a bookkeeping API should
refuse "1700000000" as a date rather than guess.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer
from pydantic_core import PydanticCustomError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _iso_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise PydanticCustomError("date_format", "expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_invalid", "{value} is not a calendar date", {"value": value}) from None


def _year_month(value: Any) -> date:
    if isinstance(value, date):
        return value.replace(day=1)
    match = _MONTH.match(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise PydanticCustomError("month_format", "expected a month as YYYY-MM")
    return date(int(match.group(1)), int(match.group(2)), 1)


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date written ``YYYY-MM-DD``."""

YearMonth = Annotated[
    date, BeforeValidator(_year_month), PlainSerializer(lambda d: f"{d.year:04d}-{d.month:02d}", return_type=str)
]
"""A month written ``YYYY-MM`` (held as its first day)."""
