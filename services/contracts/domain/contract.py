"""The contract aggregate: a pure fold of its stream, and the decisions it makes.

``evolve(state, event)`` applies one fact; ``decide(command, state)`` returns the facts a
command produces or raises a DomainError. Period rules live in ``period_rules``, payment
rules in ``payment_rules``, time events in ``time_events``; this module holds the state.

Decisions where the brief left room:
- one contract, one currency: the first period sets it; it is free again with no periods;
- a reminder may fall on any date up to the period's end (even before its start);
- a terminated contract takes no new, changed or removed periods, but payments and
  cancellations still go through (old debts get paid); while a termination is pending
  (dated after the day it was entered) the contract stays active and its periods before
  the termination date stay editable (``termination``);
- time events are appended to the contract's own stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from services.contracts.domain import (
    invoicing,
    payment_rules,
    period_rules,
    receipt_rules,
    renewal,
    termination,
    time_events,
)
from services.contracts.domain.commands import (
    AddServicePeriod,
    CancelPayment,
    ChangeServicePeriod,
    ContractCommand,
    EmitDueTimeEvents,
    IssueInvoice,
    OpenContract,
    RecordPayment,
    RecordReceipt,
    RemoveServicePeriod,
    RenewContract,
    SchedulePeriods,
    SetAutoRenew,
    TerminateContract,
    WithdrawTermination,
)
from services.contracts.domain.periods import Payment, Period
from services.contracts.domain.renewal import AutoRenew
from shared.domain_errors import Conflict, NotFound, RuleViolated
from shared.events import contracts as ev
from shared.events import schedule as sch
from shared.events.base import EventData
from shared.owed import is_void


@dataclass(frozen=True)
class ContractState:
    id: UUID
    client_id: UUID
    number: str
    title: str
    signed_on: date
    status: Literal["active", "terminated"] = "active"
    """``terminated`` from ContractTerminationTookEffect (the termination date came)."""
    terminated_on: date | None = None
    """The first day without service, once a termination is entered (pending or in effect)."""
    termination_reason: str | None = None
    cut_from: Period | None = None
    """The period a pending termination cut, as it was before: what a withdrawal restores."""
    version: int = 1
    """Stream version: the number of events folded."""
    periods: tuple[Period, ...] = ()
    """Ordered by ``starts_on``."""
    auto_renew: AutoRenew | None = None
    invoices: tuple[ev.InvoiceDocument, ...] = ()
    """Issued, in the order issued (one per period at most)."""

    def invoice_of(self, period_id: UUID) -> ev.InvoiceDocument | None:
        return next((d for d in self.invoices if d.period_id == period_id), None)

    def invoice(self, invoice_id: UUID) -> ev.InvoiceDocument | None:
        return next((d for d in self.invoices if d.invoice_id == invoice_id), None)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def terminates_on(self) -> date | None:
        """The termination date while it is still ahead (the contract is active until then)."""
        return self.terminated_on if self.active else None

    def is_void(self, period: Period) -> bool:
        return is_void(period.starts_on, self.terminated_on)

    def credit_of(self, period: Period) -> Decimal:
        """Paid beyond what the period costs: all of it on a void period."""
        return period.paid_amount if self.is_void(period) else period.overpaid

    @property
    def credit(self) -> Decimal:
        return sum((self.credit_of(p) for p in self.periods), Decimal("0.00"))

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
        return tuple(
            sorted(
                (
                    pay
                    for p in self.periods
                    for pay in p.active_payments
                    if pay.reference is not None and pay.reference == reference
                ),
                key=lambda pay: pay.version,
            )
        )


def _sorted(periods: Iterable[Period]) -> tuple[Period, ...]:
    return tuple(sorted(periods, key=lambda p: p.starts_on))


def _map_period(state: ContractState, period_id: UUID, change: Callable[[Period], Period]) -> tuple[Period, ...]:
    return _sorted(change(p) if p.period_id == period_id else p for p in state.periods)


def _period_from(event: ev.ServicePeriodAdded | ev.ServicePeriodChanged, p: Period | None) -> Period:
    values = dict(
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        amount=event.amount,
        currency=event.currency,
        payment_terms=event.payment_terms,
        remind_on=event.remind_on,
        remind_days_before=event.remind_days_before,
    )
    return Period(event.period_id, **values) if p is None else replace(p, **values)  # type: ignore[arg-type]  # the values are the event's own typed fields


def _cancelled(event: ev.PaymentCancelled) -> Callable[[Period], Period]:
    def cancel(p: Period) -> Period:
        after = replace(
            p,
            payments=tuple(
                replace(pay, cancelled=True, cancel_reason=event.reason) if pay.payment_id == event.payment_id else pay
                for pay in p.payments
            ),
        )
        return replace(after, reopened=True) if p.paid and not after.paid else after

    return cancel


def _time_event(state: ContractState, event: EventData) -> ContractState | None:
    """Remember what a time event announced (None: not a time event)."""
    change: Callable[[Period], Period]
    match event:
        case sch.ServicePeriodStarted():
            change = lambda p: replace(p, started=True)  # noqa: E731 - one-line folds
        case sch.ServicePeriodEnded():
            change = lambda p: replace(p, ended=True)  # noqa: E731 - one-line folds
        case sch.ServicePeriodEndingSoon():
            return replace(
                state, periods=_map_period(state, event.period.period_id, lambda p: replace(p, reminded=True))
            )
        case sch.ServicePeriodBecameOverdue():
            change = lambda p: replace(  # noqa: E731 - one-line folds
                p, overdue_flag=True, overdue_count=p.overdue_count + 1, reopened=False
            )
        case _:
            return None
    return replace(state, periods=_map_period(state, event.period_id, change))


def _apply(state: ContractState, event: EventData) -> ContractState:
    match event:
        case ev.ContractTerminated():
            return replace(
                state,
                terminated_on=event.terminated_on,
                termination_reason=event.reason,
                cut_from=termination.running_on(state.periods, event.terminated_on),
            )
        case ev.ContractTerminationTookEffect():
            return replace(state, status="terminated", cut_from=None)
        case ev.ContractTerminationWithdrawn():
            return replace(state, terminated_on=None, termination_reason=None, cut_from=None)
        case ev.ServicePeriodAdded():
            return replace(state, periods=_sorted((*state.periods, _period_from(event, None))))
        case ev.ServicePeriodChanged():
            return replace(state, periods=_map_period(state, event.period_id, lambda p: _period_from(event, p)))
        case ev.ServicePeriodRemoved():
            return replace(state, periods=tuple(p for p in state.periods if p.period_id != event.period_id))
        case ev.PaymentRecorded():
            payment = Payment(
                event.payment_id,
                event.period_id,
                event.amount,
                event.paid_on,
                event.reference,
                receipt_id=event.receipt_id,
                version=state.version + 1,
            )
            return replace(
                state,
                periods=_map_period(state, event.period_id, lambda p: replace(p, payments=(*p.payments, payment))),
            )
        case ev.PaymentCancelled():
            return replace(state, periods=_map_period(state, event.period_id, _cancelled(event)))
        case ev.DebtSettled():

            def settled(p: Period) -> Period:
                return replace(
                    p,
                    overdue_flag=False,
                    payments=tuple(
                        replace(pay, settled_version=state.version + 1) if pay.payment_id == event.payment_id else pay
                        for pay in p.payments
                    ),
                )

            return replace(state, periods=_map_period(state, event.period_id, settled))
        case ev.PeriodAdjusted():
            settled_now = event.paid_amount >= event.new_amount
            return replace(
                state,
                periods=_map_period(
                    state, event.period_id, lambda p: replace(p, overdue_flag=p.overdue_flag and not settled_now)
                ),
            )
        case ev.DebtWrittenOff() | ev.ContractRenewed():
            return state  # a renewal's periods follow as ServicePeriodAdded
        case ev.AutoRenewSet():
            return replace(
                state,
                auto_renew=AutoRenew(event.enabled, event.notice_days, event.indexation_percent, event.term_months),
            )
        case ev.InvoiceIssued():
            return replace(state, invoices=(*state.invoices, event.invoice))
    after = _time_event(state, event)
    if after is None:
        raise ValueError(f"contract: cannot apply {type(event).__name__}")
    return after


def evolve(state: ContractState | None, event: EventData) -> ContractState:
    """Apply one event; ``version`` counts every event folded."""
    if state is None:
        if not isinstance(event, ev.ContractOpened):
            raise ValueError(f"contract: the stream must start with ContractOpened, not {type(event).__name__}")
        return ContractState(event.contract_id, event.client_id, event.number, event.title, event.signed_on)
    if isinstance(event, ev.ContractOpened):
        raise ValueError(f"contract {state.id}: opened twice")
    return replace(_apply(state, event), version=state.version + 1)


def _required(value: str, field: str) -> str:
    if not value or not value.strip():
        raise RuleViolated("required", f"{field} must not be empty", field)
    return value.strip()


def _open(command: OpenContract, state: ContractState | None) -> list[EventData]:
    if state is not None:
        raise Conflict("contract_exists", f"contract {command.contract_id} already exists", "contract_id")
    return [
        ev.ContractOpened(
            contract_id=command.contract_id,
            client_id=command.client_id,
            number=_required(command.number, "number"),
            title=_required(command.title, "title"),
            signed_on=command.signed_on,
        )
    ]


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
            return termination.terminate(command, state)
        case WithdrawTermination():
            return termination.withdraw(command, state)
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
        case SetAutoRenew():
            return renewal.set_auto_renew(command, state)
        case RenewContract():
            return renewal.renew(command, state)
        case IssueInvoice():
            return list(invoicing.issue(command, state))
    raise TypeError(f"not a contract command: {command!r}")
