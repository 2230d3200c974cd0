"""Time events: what a contract still has to announce, and emitting what is due.

For each period (not removed; after termination, only periods starting on or before the
termination date):

- ``ending_soon`` on ``remind_on`` (when set) → ServicePeriodEndingSoon, naming the next
  period of the contract by start date and the date its payment is due;
- ``started`` on ``starts_on`` → ServicePeriodStarted;
- ``ended`` on the day after ``ends_on`` → ServicePeriodEnded;
- ``overdue`` on ``overdue_on`` = ``due_on`` (prepaid: ``starts_on``; postpaid: the day after
  ``ends_on``, see ``shared.owed``) plus the company's grace days, while the period is unpaid
  → ServicePeriodBecameOverdue, whose ``due_on`` is the first owed day. A period paid by then is
  skipped; if a cancelled payment makes it unpaid again, the overdue event is pending again.

Each is keyed by kind, period and the date it was armed for, e.g.
``"ending_soon:<period_id>:2026-03-25"`` (the overdue one by its ``due_on``, whatever the grace). The contract folds emitted time events into
``emitted`` keys, so emitting twice yields nothing, and a period whose dates change gets
new keys: it is re-armed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from services.contracts.domain.errors import RuleViolated
from services.contracts.domain.periods import Period
from shared.events.base import EventData
from shared.events.schedule import (
    NextPeriodSnapshot, PeriodSnapshot, ServicePeriodBecameOverdue, ServicePeriodEnded,
    ServicePeriodEndingSoon, ServicePeriodStarted,
)

if TYPE_CHECKING:
    from services.contracts.domain.client import ClientState
    from services.contracts.domain.commands import EmitDueTimeEvents
    from services.contracts.domain.contract import ContractState

TimeEventKind = Literal["ended", "started", "overdue", "ending_soon"]
KIND_ORDER: dict[str, int] = {"ended": 0, "started": 1, "overdue": 2, "ending_soon": 3}
"""Within one day: the old period ends, the new one starts, it is overdue, reminders last."""


@dataclass(frozen=True)
class TimeEventDue:
    kind: TimeEventKind
    period_id: UUID
    due_on: date
    key: str


def time_event_key(kind: str, period_id: UUID, armed_for: date) -> str:
    return f"{kind}:{period_id}:{armed_for.isoformat()}"


def key_of(event: EventData) -> str | None:
    """The key of an emitted time event (None for any other event)."""
    match event:
        case ServicePeriodEndingSoon():
            return time_event_key("ending_soon", event.period.period_id, event.remind_on)
        case ServicePeriodStarted():
            return time_event_key("started", event.period_id, event.starts_on)
        case ServicePeriodEnded():
            return time_event_key("ended", event.period_id, event.ends_on + timedelta(days=1))
        case ServicePeriodBecameOverdue():
            # keyed by the due day, not the day it fired: a change of ABONENT_GRACE_DAYS moves
            # when a pending notice fires, never repeats one already sent (v1 payloads, upcast,
            # carry the same day: without a grace it was the day it fired)
            return time_event_key("overdue", event.period_id, event.due_on)
    return None


def _scheduled(contract: ContractState, period: Period) -> bool:
    return contract.terminated_on is None or period.starts_on <= contract.terminated_on


def pending_time_events(contract: ContractState, grace_days: int = 0) -> list[TimeEventDue]:
    """Every time event not emitted yet, in the order it would be emitted (``grace_days``:
    ``ABONENT_GRACE_DAYS``, how long after ``due_on`` an unpaid period becomes overdue)."""
    out: list[TimeEventDue] = []
    for period in contract.periods:
        if not _scheduled(contract, period):
            continue
        armed: list[tuple[TimeEventKind, date, date]] = []  # kind, the day it fires, its key's day
        if period.remind_on is not None:
            armed.append(("ending_soon", period.remind_on, period.remind_on))
        armed.append(("started", period.starts_on, period.starts_on))
        ended = period.ends_on + timedelta(days=1)
        armed.append(("ended", ended, ended))
        if not period.paid:
            armed.append(("overdue", period.overdue_on(grace_days), period.due_on))
        for kind, day, key_day in armed:
            key = time_event_key(kind, period.period_id, key_day)
            if key not in contract.emitted:
                out.append(TimeEventDue(kind, period.period_id, day, key))
    out.sort(key=lambda t: (t.due_on, KIND_ORDER[t.kind]))  # stable: periods stay by start
    return out


def next_period(contract: ContractState, period: Period) -> Period | None:
    """The contract's next period by start date (None after a termination cuts it off)."""
    later = [p for p in contract.periods if p.starts_on > period.starts_on and _scheduled(contract, p)]
    return min(later, key=lambda p: p.starts_on, default=None)


def _context(contract: ContractState, client: ClientState) -> dict[str, object]:
    return {
        "contract_id": contract.id, "client_id": contract.client_id, "client_name": client.name,
        "manager_name": client.manager_name, "manager_email": client.manager_email or None,
        "contract_number": contract.number, "contract_title": contract.title,
    }


def _snapshot(period: Period) -> dict[str, object]:
    return {
        "period_id": period.period_id, "starts_on": period.starts_on, "ends_on": period.ends_on,
        "amount": period.amount, "currency": period.currency, "payment_terms": period.payment_terms,
        "paid_amount": period.paid_amount, "paid": period.paid,
    }


def _event(due: TimeEventDue, period: Period, contract: ContractState, client: ClientState) -> EventData:
    ctx = _context(contract, client)
    if due.kind == "ending_soon":
        nxt = next_period(contract, period)
        return ServicePeriodEndingSoon(
            **ctx, period=PeriodSnapshot(**_snapshot(period)), remind_on=due.due_on,
            next_period=None if nxt is None else NextPeriodSnapshot(
                **_snapshot(nxt), due_on=nxt.due_on))
    if due.kind == "started":
        return ServicePeriodStarted(**ctx, **_snapshot(period))
    if due.kind == "ended":
        return ServicePeriodEnded(**ctx, **_snapshot(period))
    return ServicePeriodBecameOverdue(
        **ctx, period_id=period.period_id, starts_on=period.starts_on, ends_on=period.ends_on,
        payment_terms=period.payment_terms, due_on=period.due_on, overdue_on=due.due_on,
        amount=period.amount, paid_amount=period.paid_amount, amount_due=period.owed,
        currency=period.currency)


def emit_due(command: EmitDueTimeEvents, contract: ContractState) -> list[EventData]:
    """Every pending time event with ``due_on <= as_of``, in date order."""
    client = command.client
    if client.id != contract.client_id:
        raise RuleViolated("client_mismatch",
                           f"client {client.id} is not the owner ({contract.client_id}) of contract "
                           f"{contract.number}", "client")
    events: list[EventData] = []
    for due in pending_time_events(contract, command.grace_days):
        if due.due_on > command.as_of:
            break
        period = contract.period(due.period_id)
        assert period is not None
        events.append(_event(due, period, contract, client))
    return events
