"""One definition of "owed" (docs/design.md §8), pure, used by every service.

- A **prepaid** period is owed from its start day; a **postpaid** one from the day after
  its end. That first owed day is ``due_on`` — in every answer, event and e-mail.
- It is **overdue** from ``due_on + grace_days`` (``ABONENT_GRACE_DAYS``, default 0): the
  overdue event, the debtors list and ``OVERDUE_PERIODS`` all use this day.
- ``days_overdue`` on D is ``D − due_on``.
- A period is **void** when its contract's ``terminated_on`` (the first day without
  service) is on or before the period's start: it is never owed, listed or counted.
- **As at** D, only payments with ``paid_on <= D`` count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal, Protocol, TypeVar, get_args

PaymentTerms = Literal["prepaid", "postpaid"]
"""When a period is owed: **prepaid** from its first day, **postpaid** from the day after its
last day (``due_on``). The one definition: events, commands and HTTP bodies all use this type."""
PAYMENT_TERMS: tuple[str, ...] = get_args(PaymentTerms)


def due_on(payment_terms: str, starts_on: date, ends_on: date) -> date:
    """The first day a period not fully paid is owed."""
    return starts_on if payment_terms == "prepaid" else ends_on + timedelta(days=1)


def overdue_on(payment_terms: str, starts_on: date, ends_on: date, grace_days: int = 0) -> date:
    """The first day an unpaid period counts as overdue (due_on plus the grace)."""
    return due_on(payment_terms, starts_on, ends_on) + timedelta(days=grace_days)


def days_overdue(due: date, on: date) -> int:
    return (on - due).days


def is_void(starts_on: date, terminated_on: date | None) -> bool:
    """A period starting on or after the termination date never happened."""
    return terminated_on is not None and starts_on >= terminated_on


def not_void_sql(starts_on: str, terminated_on: str) -> str:
    """``not is_void`` as an SQL condition over two column expressions, for the read side's
    queries (``NOT_VOID``). The projections' income views (migration 0006) spell out the same
    text; a test holds the two together."""
    return f"({terminated_on} IS NULL OR {starts_on} < {terminated_on})"


def paid_as_at(payments: Iterable[tuple[Decimal, date]], on: date) -> Decimal:
    """What was paid by the end of ``on``: the sum of payments with ``paid_on <= on``."""
    return sum((amount for amount, paid_on in payments if paid_on <= on), Decimal(0))


def is_owed(
    payment_terms: str,
    starts_on: date,
    ends_on: date,
    amount: Decimal,
    paid_amount: Decimal,
    on: date,
    terminated_on: date | None = None,
) -> bool:
    """Whether the period is owed on ``on`` (from its due day, while not paid in full)."""
    if is_void(starts_on, terminated_on) or paid_amount >= amount:
        return False
    return on >= due_on(payment_terms, starts_on, ends_on)


def is_overdue(
    payment_terms: str,
    starts_on: date,
    ends_on: date,
    amount: Decimal,
    paid_amount: Decimal,
    on: date,
    terminated_on: date | None = None,
    grace_days: int = 0,
) -> bool:
    """Whether the period is overdue on ``on`` — what debtors and OVERDUE_PERIODS list."""
    return is_owed(payment_terms, starts_on, ends_on, amount, paid_amount, on, terminated_on) and on >= overdue_on(
        payment_terms, starts_on, ends_on, grace_days
    )


class Owable(Protocol):
    """What ordering by debt needs of a period."""

    @property
    def payment_terms(self) -> str: ...

    @property
    def starts_on(self) -> date: ...

    @property
    def ends_on(self) -> date: ...


P = TypeVar("P", bound=Owable)
K = TypeVar("K")


def oldest_first(periods: Iterable[P], terminated_on: date | None = None) -> list[P]:
    """The periods that can be owed (not void), the oldest debt first: by ``due_on``, then
    by start. A bank payment over several periods is split in this order."""
    live = (p for p in periods if not is_void(p.starts_on, terminated_on))
    return sorted(live, key=lambda p: (due_on(p.payment_terms, p.starts_on, p.ends_on), p.starts_on))


def allocate(amount: Decimal, owed: Iterable[tuple[K, Decimal]]) -> tuple[list[tuple[K, Decimal]], Decimal]:
    """Split ``amount`` over ``(key, still owed)`` in the order given, each part at most what
    that key owes. Returns the (non-zero) parts and what is left over (> 0: more than owed)."""
    parts: list[tuple[K, Decimal]] = []
    left = amount
    for key, due in owed:
        if left <= 0:
            break
        part = min(left, due)
        if part > 0:
            parts.append((key, part))
            left -= part
    return parts, left
