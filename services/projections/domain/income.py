"""Income by month: what falls due (prepaid by start month, postpaid by end month), what was
received (by payment date, cancelled payments excluded) and what of the due is still
outstanding (as of now), per currency."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.money import ZERO

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_MONTHS = 120


def parse_month(text: str) -> date:
    if not MONTH.match(text):
        raise ValueError(f"{text!r} is not a month in YYYY-MM form")
    return date(int(text[:4]), int(text[5:7]), 1)


def next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    out, d = [], first
    while d <= last:
        out.append(d)
        d = next_month(d)
    return out


@dataclass(frozen=True, slots=True)
class MonthIncome:
    month: date
    currency: str | None
    due: Decimal = ZERO
    received: Decimal = ZERO
    outstanding: Decimal = ZERO


def income_by_month(
    first: date,
    last: date,
    due_rows: Iterable[tuple[date, str, Decimal, Decimal]],
    received_rows: Iterable[tuple[date, str, Decimal]],
) -> list[MonthIncome]:
    """Every month of the range, one line per currency seen in the range (zeros where
    nothing happened); a range with no money at all gets one line per month with no currency."""
    cells: dict[tuple[date, str | None], list[Decimal]] = {}
    for month, currency, due, outstanding in due_rows:
        cell = cells.setdefault((month, currency), [ZERO, ZERO, ZERO])
        cell[0] += due
        cell[2] += outstanding
    for month, currency, received in received_rows:
        cells.setdefault((month, currency), [ZERO, ZERO, ZERO])[1] += received
    currencies: list[str | None] = [*sorted({c for _, c in cells if c is not None})] or [None]
    out = []
    for month in months_between(first, last):
        for line_currency in currencies:
            due, received, outstanding = cells.get((month, line_currency), (ZERO, ZERO, ZERO))
            out.append(MonthIncome(month, line_currency, due, received, outstanding))
    return out
