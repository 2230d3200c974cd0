"""The contract aggregate: a pure fold of its stream, and the decisions it makes.

``evolve(state, event)`` applies one fact; ``decide(command, state)`` returns the facts a
command produces or raises a DomainError. Period rules live in ``period_rules``, payment
rules in ``payment_rules``, time events in ``time_events``; this module holds the state.

Decisions where the brief left room:
- one contract, one currency: the first period sets it; it is free again with no periods;
- a reminder may fall on any date up to the period's end (even before its start);
- a terminated contract takes no new, changed or removed periods, but payments and
  cancellations still go through (old debts get paid);
- time events are appended to the contract's own stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal
from uuid import UUID

from services.contracts.domain import payment_rules, period_rules, receipt_rules, time_events
from services.contracts.domain.commands import (
    AddServicePeriod, CancelPayment, ChangeServicePeriod, ContractCommand, EmitDueTimeEvents,
    OpenContract, RecordPayment, RecordReceipt, RemoveServicePeriod, SchedulePeriods, TerminateContract,
)
from services.contracts.domain.errors import Conflict, NotFound, RuleViolated
from services.contracts.domain.periods import Payment, Period
from shared.events import contracts as ev
from shared.events.base import EventData
from shared.events.schedule import ServicePeriodBecameOverdue


@dataclass(frozen=True)
class ContractState:
    id: UUID
    client_id: UUID
    number: str
    title: str
    signed_on: date
    status: Literal["active", "terminated"] = "active"
    terminated_on: date | None = None
    termination_reason: str | None = None
    version: int = 1
    """Stream version: the number of events folded."""
    periods: tuple[Period, ...] = ()
    """Ordered by ``starts_on``."""
    emitted: frozenset[str] = frozenset()
    """Keys of the time events already emitted (see ``time_events``)."""

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def currency(self) -> str | None:
        return self.periods[0].currency if self.periods else None

    def period(self, period_id: UUID) -> Period | None:
        return next((p for p in self.periods if p.period_id == period_id), None)

    def payment(self, payment_id: UUID) -> Payment | None:
        return next((pay for p in self.periods for pay in p.payments if pay.payment_id == payment_id), None)

    def payments_under(self, reference: str) -> tuple[Payment, ...]:
        """The non-cancelled payments recorded with ``reference``, in the order recorded: one
        payment, or the parts of one receipt (a reference names one bank payment)."""
        reference = reference.strip()
        return tuple(sorted((pay for p in self.periods for pay in p.active_payments
                             if pay.reference is not None and pay.reference == reference),
                            key=lambda pay: pay.version))


def _sorted(periods: Iterable[Period]) -> tuple[Period, ...]:
    return tuple(sorted(periods, key=lambda p: p.starts_on))


def _map_period(state: ContractState, period_id: UUID,
                change: Callable[[Period], Period]) -> tuple[Period, ...]:
    return _sorted(change(p) if p.period_id == period_id else p for p in state.periods)


def _apply(state: ContractState, event: EventData) -> ContractState:
    match event:
        case ev.ContractTerminated():
            return replace(state, status="terminated", terminated_on=event.terminated_on,
                           termination_reason=event.reason)
        case ev.ServicePeriodAdded():
            period = Period(event.period_id, event.starts_on, event.ends_on, event.amount,
                            event.currency, event.payment_terms, event.remind_on)
            return replace(state, periods=_sorted((*state.periods, period)))
        case ev.ServicePeriodChanged():
            return replace(state, periods=_map_period(state, event.period_id, lambda p: replace(
                p, starts_on=event.starts_on, ends_on=event.ends_on, amount=event.amount,
                currency=event.currency, payment_terms=event.payment_terms, remind_on=event.remind_on)))
        case ev.ServicePeriodRemoved():
            return replace(state, periods=tuple(p for p in state.periods if p.period_id != event.period_id))
        case ev.PaymentRecorded():
            payment = Payment(event.payment_id, event.period_id, event.amount, event.paid_on, event.reference,
                              receipt_id=event.receipt_id, version=state.version + 1)
            return replace(state, periods=_map_period(
                state, event.period_id, lambda p: replace(p, payments=(*p.payments, payment))))
        case ev.PaymentCancelled():
            def cancel(p: Period) -> Period:
                return replace(p, payments=tuple(
                    replace(pay, cancelled=True, cancel_reason=event.reason)
                    if pay.payment_id == event.payment_id else pay for pay in p.payments))
            return replace(state, periods=_map_period(state, event.period_id, cancel))
        case ev.DebtSettled():
            def settled(p: Period) -> Period:
                return replace(p, payments=tuple(
                    replace(pay, settled_version=state.version + 1)
                    if pay.payment_id == event.payment_id else pay for pay in p.payments))
            return replace(state, periods=_map_period(state, event.period_id, settled))
    key = time_events.key_of(event)
    if key is None:
        raise ValueError(f"contract: cannot apply {type(event).__name__}")
    if isinstance(event, ServicePeriodBecameOverdue):
        state = replace(state, periods=_map_period(
            state, event.period_id, lambda p: replace(p, overdue_flag=True)))
    return replace(state, emitted=state.emitted | {key})


def evolve(state: ContractState | None, event: EventData) -> ContractState:
    """Apply one event; ``version`` counts every event folded."""
    if state is None:
        if not isinstance(event, ev.ContractOpened):
            raise ValueError(f"contract: the stream must start with ContractOpened, not {type(event).__name__}")
        return ContractState(event.contract_id, event.client_id, event.number, event.title, event.signed_on)
    if isinstance(event, ev.ContractOpened):
        raise ValueError(f"contract {state.id}: opened twice")
    return replace(_apply(state, event), version=state.version + 1)


def fold(events: Iterable[EventData]) -> ContractState | None:
    state: ContractState | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _required(value: str, field: str) -> str:
    if not value or not value.strip():
        raise RuleViolated("required", f"{field} must not be empty", field)
    return value.strip()


def _open(command: OpenContract, state: ContractState | None) -> list[EventData]:
    if state is not None:
        raise Conflict("contract_exists", f"contract {command.contract_id} already exists", "contract_id")
    return [ev.ContractOpened(
        contract_id=command.contract_id, client_id=command.client_id,
        number=_required(command.number, "number"), title=_required(command.title, "title"),
        signed_on=command.signed_on)]


def _terminate(command: TerminateContract, state: ContractState) -> list[EventData]:
    if not state.active:
        raise RuleViolated("contract_terminated",
                           f"contract {state.number} was already terminated on "
                           f"{state.terminated_on.isoformat() if state.terminated_on else '?'}")
    if command.terminated_on < state.signed_on:
        raise RuleViolated("terminated_before_signed",
                           f"termination date {command.terminated_on.isoformat()} is before the "
                           f"contract was signed on {state.signed_on.isoformat()}", "terminated_on")
    return [ev.ContractTerminated(contract_id=state.id, client_id=state.client_id,
                                  terminated_on=command.terminated_on,
                                  reason=_required(command.reason, "reason"))]


def decide(command: ContractCommand, state: ContractState | None) -> list[EventData]:
    """The events ``command`` produces on ``state``; [] when there is nothing to do."""
    if isinstance(command, OpenContract):
        return _open(command, state)
    if state is None:
        raise NotFound("contract_not_found", f"contract {command.contract_id} does not exist", "contract_id")
    if command.contract_id != state.id:
        raise ValueError(f"command for contract {command.contract_id} given contract {state.id}")
    match command:
        case TerminateContract():
            return _terminate(command, state)
        case AddServicePeriod():
            return period_rules.add(command, state)
        case SchedulePeriods():
            return period_rules.schedule(command, state)
        case ChangeServicePeriod():
            return period_rules.change(command, state)
        case RemoveServicePeriod():
            return period_rules.remove(command, state)
        case RecordPayment():
            return payment_rules.record(command, state)
        case RecordReceipt():
            return receipt_rules.record(command, state)
        case CancelPayment():
            return payment_rules.cancel(command, state)
        case EmitDueTimeEvents():
            return time_events.emit_due(command, state)
    raise TypeError(f"not a contract command: {command!r}")
