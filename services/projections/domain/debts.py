"""Debtors: owed periods grouped by client and currency, with ageing buckets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from services.projections.domain.coverage import OwedPeriod
from shared.money import ZERO

BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)
"""Days overdue, inclusive; "90+" means more than 90 days."""


def bucket_of(days_overdue: int) -> str:
    for name, low, high in BUCKETS:
        if days_overdue >= low and (high is None or days_overdue <= high):
            return name
    return BUCKETS[0][0]  # not yet overdue (never listed as owed, but be total)


def ageing(owed: Iterable[OwedPeriod]) -> dict[str, Decimal]:
    out = {name: ZERO for name, _, _ in BUCKETS}
    for o in owed:
        out[bucket_of(o.days_overdue)] += o.amount_due
    return out


@dataclass(frozen=True, slots=True)
class Debtor:
    client_id: UUID
    client_name: str | None
    currency: str
    total_owed: Decimal
    periods: list[OwedPeriod]

    @property
    def ageing(self) -> dict[str, Decimal]:
        return ageing(self.periods)


def group_debtors(rows: Iterable[tuple[UUID, str | None, OwedPeriod]]) -> list[Debtor]:
    """One debtor per (client, currency), in the order the clients first appear."""
    groups: dict[tuple[UUID, str], tuple[str | None, list[OwedPeriod]]] = {}
    for client_id, name, owed in rows:
        groups.setdefault((client_id, owed.currency), (name, []))[1].append(owed)
    return [
        Debtor(client_id, name, currency, sum((o.amount_due for o in periods), ZERO), periods)
        for (client_id, currency), (name, periods) in groups.items()
    ]
