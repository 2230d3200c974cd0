"""Time events: what a contract still has to announce, and emitting what is due.

For each period that is not void (``shared.owed.is_void``: starting on or after the
termination date):

- ``ending_soon`` on ``remind_on`` (when set) → ServicePeriodEndingSoon, naming the next
  period of the contract by start date and the date its payment is due;
- ``started`` on ``starts_on`` → ServicePeriodStarted;
- ``ended`` on the day after ``ends_on`` → ServicePeriodEnded;
- ``overdue`` on ``overdue_on`` = ``due_on`` (prepaid: ``starts_on``; postpaid: the day after
  ``ends_on``, see ``shared.owed``) plus the company's grace days, while the period is unpaid
  and no debt is open for it → ServicePeriodBecameOverdue, whose ``due_on`` is the first owed
  day. A period paid by then is skipped. When its debt is settled
  (DebtSettled) and a cancelled payment makes it owed again, it is pending again: a bounced
  payment reopens the debt, and the event is emitted again (never ``late``: it is news).

And for the contract: ``terminated`` on a termination date still ahead when it was entered →
ContractTerminationTookEffect (the status becomes ``terminated`` on that day).

Each happens once ("re-arms only what has not happened yet"): the period remembers what was
emitted for it (``started``, ``ended``, ``reminded``, ``overdue_flag``), so moving its dates
moves what is still pending and repeats nothing already sent. Each pending event has a key
(kind, period, date; for overdue, the how-many-th) naming its row in the scheduler's table.

An event whose date is more than ``ABONENT_LATE_EVENT_DAYS`` before the moment it is emitted
(``EmitDueTimeEvents.now``) carries ``late=True``: history stays complete, the notifier does
not mail old news.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from services.contracts.domain.periods import Period
from shared.domain_errors import RuleViolated
from shared.events.base import EventData
from shared.events.contracts import ContractTerminationTookEffect
from shared.events.schedule import (
    NextPeriodSnapshot,
    PeriodSnapshot,
    ServicePeriodBecameOverdue,
    ServicePeriodEnded,
    ServicePeriodEndingSoon,
    ServicePeriodStarted,
)
from shared.owed import is_void

if TYPE_CHECKING:
    from services.contracts.domain.client import ClientState
    from services.contracts.domain.commands import EmitDueTimeEvents
    from services.contracts.domain.contract import ContractState

TimeEventKind = Literal["ended", "terminated", "started", "overdue", "ending_soon"]
KIND_ORDER: dict[str, int] = {"ended": 0, "terminated": 1, "started": 2, "overdue": 3, "ending_soon": 4}
"""Within one day: the old period ends, the contract's termination takes effect, the new
period starts, it is overdue, reminders last."""


@dataclass(frozen=True)
class TimeEventDue:
    kind: TimeEventKind
    period_id: UUID
    due_on: date
    key: str


def time_event_key(kind: str, period_id: UUID, armed_for: date) -> str:
    return f"{kind}:{period_id}:{armed_for.isoformat()}"


def _scheduled(contract: ContractState, period: Period) -> bool:
    return not is_void(period.starts_on, contract.terminated_on)


def pending_time_events(contract: ContractState, grace_days: int = 0) -> list[TimeEventDue]:
    """Every time event not emitted yet, in the order it would be emitted (``grace_days``:
    ``ABONENT_GRACE_DAYS``, how long after ``due_on`` an unpaid period becomes overdue)."""
    out: list[TimeEventDue] = []
    for period in contract.periods:
        if not _scheduled(contract, period):
            continue
        pid = period.period_id
        if period.remind_on is not None and not period.reminded:
            out.append(
                TimeEventDue("ending_soon", pid, period.remind_on, time_event_key("ending_soon", pid, period.remind_on))
            )
        if not period.started:
            out.append(TimeEventDue("started", pid, period.starts_on, time_event_key("started", pid, period.starts_on)))
        if not period.ended:
            day = period.ends_on + timedelta(days=1)
            out.append(TimeEventDue("ended", pid, day, time_event_key("ended", pid, day)))
        if not period.paid and not period.overdue_flag:
            out.append(
                TimeEventDue("overdue", pid, period.overdue_on(grace_days), f"overdue:{pid}:{period.overdue_count + 1}")
            )
    if contract.active and contract.terminated_on is not None:
        day = contract.terminated_on
        out.append(TimeEventDue("terminated", contract.id, day, time_event_key("terminated", contract.id, day)))
    out.sort(key=lambda t: (t.due_on, KIND_ORDER[t.kind]))  # stable: periods stay by start
    return out


def next_period(contract: ContractState, period: Period) -> Period | None:
    """The contract's next period by start date (None after a termination cuts it off)."""
    later = [p for p in contract.periods if p.starts_on > period.starts_on and _scheduled(contract, p)]
    return min(later, key=lambda p: p.starts_on, default=None)


def _context(contract: ContractState, client: ClientState) -> dict[str, object]:
    return {
        "contract_id": contract.id,
        "client_id": contract.client_id,
        "client_name": client.name,
        "manager_name": client.manager_name,
        "manager_email": client.manager_email or None,
        "contract_number": contract.number,
        "contract_title": contract.title,
    }


def _snapshot(period: Period) -> dict[str, object]:
    return {
        "period_id": period.period_id,
        "starts_on": period.starts_on,
        "ends_on": period.ends_on,
        "amount": period.amount,
        "currency": period.currency,
        "payment_terms": period.payment_terms,
        "paid_amount": period.paid_amount,
        "paid": period.paid,
    }


def _event(due: TimeEventDue, period: Period, contract: ContractState, client: ClientState, late: bool) -> EventData:
    ctx = {**_context(contract, client), "late": late}
    if due.kind == "ending_soon":
        nxt = next_period(contract, period)
        return ServicePeriodEndingSoon(
            **ctx,
            period=PeriodSnapshot(**_snapshot(period)),
            remind_on=due.due_on,
            next_period=None if nxt is None else NextPeriodSnapshot(**_snapshot(nxt), due_on=nxt.due_on),
        )
    if due.kind == "started":
        return ServicePeriodStarted(**ctx, **_snapshot(period))
    if due.kind == "ended":
        return ServicePeriodEnded(**ctx, **_snapshot(period))
    return ServicePeriodBecameOverdue(
        **ctx,
        period_id=period.period_id,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        payment_terms=period.payment_terms,
        due_on=period.due_on,
        overdue_on=due.due_on,
        amount=period.amount,
        paid_amount=period.paid_amount,
        amount_due=period.owed,
        currency=period.currency,
    )


def emit_due(command: EmitDueTimeEvents, contract: ContractState) -> list[EventData]:
    """Every pending time event with ``due_on <= as_of``, in date order."""
    client = command.client
    if client.id != contract.client_id:
        raise RuleViolated(
            "client_mismatch",
            f"client {client.id} is not the owner ({contract.client_id}) of contract {contract.number}",
            "client",
        )
    events: list[EventData] = []
    for due in pending_time_events(contract, command.calendar.grace_days):
        if due.due_on > command.as_of:
            break
        if due.kind == "terminated":
            events.append(
                ContractTerminationTookEffect(
                    contract_id=contract.id, client_id=contract.client_id, terminated_on=due.due_on
                )
            )
            continue
        period = contract.period(due.period_id)
        assert period is not None
        late = command.now is not None and command.calendar.is_late(due.due_on, command.now)
        if due.kind == "overdue" and period.reopened:
            late = False  # a bounced payment reopened the debt just now: today's news
        events.append(_event(due, period, contract, client, late))
    return events
