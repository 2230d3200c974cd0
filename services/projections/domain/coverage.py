"""Coverage of a client on a date, from its periods (DESIGN §1).

Rules (all dates inclusive):

* A period is **void** when its contract was terminated on or before the period's start:
  it never covers, is never owed and never falls due.
* A period is **active** on D when ``starts_on <= D <= ends_on`` and its contract is not
  terminated, or terminated after D (a contract stops covering *from* its termination date).
* **Due date** (``due_on``) is the first day a period not fully paid is **owed**: prepaid on
  ``starts_on``, postpaid on ``ends_on + 1`` (paying on the last day of the period is on
  time). On D ≥ due_on it is owed with ``days_overdue = D − due_on`` (0 on the due date
  itself) and ``amount_due = amount − paid_amount``.
* Status: ``covered`` (an active period, nothing owed), ``unpaid`` (an active period,
  something owed), ``not_covered`` (no active period; what is owed is still listed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from services.projections.domain.money import describe, totals_by_currency

CURRENT_PERIOD_UNPAID = "CURRENT_PERIOD_UNPAID"
OVERDUE_PERIODS = "OVERDUE_PERIODS"
NO_ACTIVE_PERIOD = "NO_ACTIVE_PERIOD"


@dataclass(frozen=True, slots=True)
class PeriodState:
    """A period with what coverage needs of its contract."""

    contract_id: UUID
    contract_number: str
    period_id: UUID
    starts_on: date
    ends_on: date
    amount: Decimal
    currency: str
    payment_terms: str
    paid_amount: Decimal
    terminated_on: date | None = None

    @property
    def paid(self) -> bool:
        return self.paid_amount >= self.amount


@dataclass(frozen=True, slots=True)
class OwedPeriod:
    contract_id: UUID
    period_id: UUID
    starts_on: date
    ends_on: date
    payment_terms: str
    due_on: date
    amount_due: Decimal
    currency: str
    days_overdue: int


@dataclass(frozen=True, slots=True)
class Warning:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Coverage:
    on: date
    status: str
    active_period: PeriodState | None
    owed: list[OwedPeriod]
    warnings: list[Warning] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, Decimal]:
        return totals_by_currency((o.currency, o.amount_due) for o in self.owed)


def due_on(payment_terms: str, starts_on: date, ends_on: date) -> date:
    return starts_on if payment_terms == "prepaid" else ends_on + timedelta(days=1)


def income_on(payment_terms: str, starts_on: date, ends_on: date) -> date:
    """The day whose month the period falls due in for income: its start or its end."""
    return starts_on if payment_terms == "prepaid" else ends_on


def is_void(p: PeriodState) -> bool:
    return p.terminated_on is not None and p.starts_on >= p.terminated_on


def is_active(p: PeriodState, on: date) -> bool:
    if is_void(p) or not p.starts_on <= on <= p.ends_on:
        return False
    return p.terminated_on is None or on < p.terminated_on


def owed(p: PeriodState, on: date) -> OwedPeriod | None:
    due = due_on(p.payment_terms, p.starts_on, p.ends_on)
    if is_void(p) or p.paid or on < due:
        return None
    return OwedPeriod(p.contract_id, p.period_id, p.starts_on, p.ends_on, p.payment_terms, due,
                      p.amount - p.paid_amount, p.currency, (on - due).days)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def assess(periods: Iterable[PeriodState], on: date) -> Coverage:
    periods = list(periods)
    active = [p for p in periods if is_active(p, on)]
    # Several contracts may be active at once; the one covering longest is shown.
    active.sort(key=lambda p: (p.ends_on, p.starts_on, p.period_id.hex), reverse=True)
    owed_list = [o for p in periods if (o := owed(p, on)) is not None]
    owed_list.sort(key=lambda o: (o.due_on, o.starts_on, o.period_id.hex))

    active_ids = {p.period_id for p in active}
    current = [o for o in owed_list if o.period_id in active_ids]
    earlier = [o for o in owed_list if o.period_id not in active_ids]
    warnings: list[Warning] = []
    if not active:
        warnings.append(Warning(NO_ACTIVE_PERIOD, f"no active service period on {on.isoformat()}: "
                                "service cannot be provided under subscription"))
    for o in current:
        when = "today" if o.days_overdue == 0 else f"{_plural(o.days_overdue, 'day')} ago"
        warnings.append(Warning(
            CURRENT_PERIOD_UNPAID,
            f"the current period {o.starts_on.isoformat()} – {o.ends_on.isoformat()} is unpaid: "
            f"{describe({o.currency: o.amount_due})} due since {o.due_on.isoformat()} ({when})"))
    if earlier:
        totals = totals_by_currency((o.currency, o.amount_due) for o in earlier)
        warnings.append(Warning(OVERDUE_PERIODS, f"{_plural(len(earlier), 'earlier period')} "
                                f"unpaid for {describe(totals)}"))

    if not active:
        status = "not_covered"
    else:
        status = "unpaid" if owed_list else "covered"
    return Coverage(on, status, active[0] if active else None, owed_list, warnings)
