"""Coverage of a client on a date, from its periods (docs/design.md §1, §8).

Rules (all dates inclusive); what "void", "owed", "due" and "overdue" mean is ``shared.owed``:

* A period is **void** when its contract was terminated on or before the period's start:
  it never covers, is never owed and never falls due.
* A period is **active** on D when ``starts_on <= D <= ends_on`` and its contract is not
  terminated, or terminated after D (a contract stops covering *from* its termination date).
* **Due date** (``due_on``) is the first day a period not fully paid is **owed**: prepaid on
  ``starts_on``, postpaid on ``ends_on + 1`` (paying on the last day of the period is on
  time). On D ≥ due_on it is owed with ``days_overdue = D − due_on`` (0 on the due date
  itself) and ``amount_due = amount − paid_amount``. ``paid_amount`` is as at D: the read
  side counts only payments with ``paid_on <= D`` (adapters.reads).
* **Overdue** from ``due_on + grace_days`` (``ABONENT_GRACE_DAYS``, default 0).
* Status: ``covered`` (an active period, nothing owed, nothing overdue), ``unpaid`` (an
  active period, and the current period is owed — from its due day, grace or not — or an
  earlier one is overdue), ``not_covered`` (no active period; what is owed is still listed).
  ``CURRENT_PERIOD_UNPAID`` is raised from ``due_on``; ``OVERDUE_PERIODS`` only for earlier
  periods past the grace. An earlier period still within the grace is listed in ``owed``
  (the money is owed) but does not make the client ``unpaid``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID

from shared import owed as owing
from shared.money import describe, totals_by_currency

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


def income_on(payment_terms: str, starts_on: date, ends_on: date) -> date:
    """The day whose month the period falls due in for income: its start or its end."""
    return starts_on if payment_terms == "prepaid" else ends_on


def is_active(p: PeriodState, on: date) -> bool:
    if owing.is_void(p.starts_on, p.terminated_on) or not p.starts_on <= on <= p.ends_on:
        return False
    return p.terminated_on is None or on < p.terminated_on


def owed(p: PeriodState, on: date) -> OwedPeriod | None:
    """The period as owed on ``on`` (from its due day), or None."""
    if not owing.is_owed(p.payment_terms, p.starts_on, p.ends_on, p.amount, p.paid_amount, on, p.terminated_on):
        return None
    due = owing.due_on(p.payment_terms, p.starts_on, p.ends_on)
    return OwedPeriod(
        p.contract_id,
        p.period_id,
        p.starts_on,
        p.ends_on,
        p.payment_terms,
        due,
        p.amount - p.paid_amount,
        p.currency,
        owing.days_overdue(due, on),
    )


def overdue(p: PeriodState, on: date, grace_days: int = 0) -> OwedPeriod | None:
    """The period as overdue on ``on`` (owed, and past ``due_on + grace_days``), or None:
    what the debtors list and ``OVERDUE_PERIODS`` count."""
    o = owed(p, on)
    return o if o is not None and o.days_overdue >= grace_days else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def assess(periods: Iterable[PeriodState], on: date, grace_days: int = 0) -> Coverage:
    periods = list(periods)
    active = [p for p in periods if is_active(p, on)]
    # Several contracts may be active at once; the one covering longest is shown.
    active.sort(key=lambda p: (p.ends_on, p.starts_on, p.period_id.hex), reverse=True)
    owed_list = [o for p in periods if (o := owed(p, on)) is not None]
    owed_list.sort(key=lambda o: (o.due_on, o.starts_on, o.period_id.hex))

    active_ids = {p.period_id for p in active}
    current = [o for o in owed_list if o.period_id in active_ids]
    earlier = [o for o in owed_list if o.period_id not in active_ids and o.days_overdue >= grace_days]
    warnings: list[Warning] = []
    if not active:
        warnings.append(
            Warning(
                NO_ACTIVE_PERIOD,
                f"no active service period on {on.isoformat()}: service cannot be provided under subscription",
            )
        )
    for o in current:
        when = "today" if o.days_overdue == 0 else f"{_plural(o.days_overdue, 'day')} ago"
        warnings.append(
            Warning(
                CURRENT_PERIOD_UNPAID,
                f"the current period {o.starts_on.isoformat()} – {o.ends_on.isoformat()} is unpaid: "
                f"{describe({o.currency: o.amount_due})} due since {o.due_on.isoformat()} ({when})",
            )
        )
    if earlier:
        totals = totals_by_currency((o.currency, o.amount_due) for o in earlier)
        warnings.append(
            Warning(OVERDUE_PERIODS, f"{_plural(len(earlier), 'earlier period')} unpaid for {describe(totals)}")
        )

    if not active:
        status = "not_covered"
    else:
        status = "unpaid" if current or earlier else "covered"
    return Coverage(on, status, active[0] if active else None, owed_list, warnings)
