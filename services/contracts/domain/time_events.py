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
ContractTerminationTookEffect (the status becomes ``terminated`` on that day); ``renew``
``notice_days`` before the last period ends, with auto-renewal on → ContractRenewed and the
new periods (``renewal``); ``invoice`` ``CONTRACTS_INVOICE_DAYS_BEFORE_DUE`` before a period
falls due, while it has no invoice and is owed → InvoiceIssued (``invoicing``).

Emitting folds each event into the state before choosing the next, so a renewal's periods
and an invoice issued a moment earlier are seen by the reminder that follows.

Each happens once ("re-arms only what has not happened yet"): the period remembers what was
emitted for it (``started``, ``ended``, ``reminded``, ``overdue_flag``), so moving its dates
moves what is still pending and repeats nothing already sent. Each pending event has a key
(kind, period, date; for overdue, the how-many-th) naming its row in the scheduler's table.

An event whose date is more than ``ABONENT_LATE_EVENT_DAYS`` before the moment it is emitted
(``EmitDueTimeEvents.now``) carries ``late=True``: history stays complete, the notifier does
not mail old news. An invoice counts from its period's ``due_on``, not from its own day: a
period added or renewed inside the invoice window gets its invoice mailed on the next tick;
only a period already past due by then has old news for an invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from services.contracts.domain import invoicing, renewal
from services.contracts.domain.periods import Period
from shared.domain_errors import RuleViolated
from shared.events.base import EventData
from shared.events.contracts import ContractTerminationTookEffect, InvoiceIssued
from shared.events.schedule import (
    NextPeriodSnapshot,
    PeriodSnapshot,
    RenewalNotice,
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

TimeEventKind = Literal["ended", "terminated", "renew", "started", "overdue", "invoice", "ending_soon"]
KIND_ORDER: dict[str, int] = {
    "ended": 0,
    "terminated": 1,
    "renew": 2,
    "started": 3,
    "overdue": 4,
    "invoice": 5,
    "ending_soon": 6,
}
"""Within one day: the old period ends, the contract's termination takes effect, it renews,
the new period starts, it is overdue, invoices, reminders last (they see all of the above)."""
MAX_EMITTED = 5000
"""A bound on one decision (a renewal that keeps falling before ``as_of`` renews again)."""


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


def pending_time_events(
    contract: ContractState, grace_days: int = 0, invoice_days: int | None = None
) -> list[TimeEventDue]:
    """Every time event not emitted yet, in the order it would be emitted (``grace_days``:
    ``ABONENT_GRACE_DAYS``, how long after ``due_on`` an unpaid period becomes overdue;
    ``invoice_days``: ``CONTRACTS_INVOICE_DAYS_BEFORE_DUE``, None = no automatic invoices)."""
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
        if invoice_days is not None and invoicing.wants_auto_invoice(contract, period):
            day = period.due_on - timedelta(days=invoice_days)
            out.append(TimeEventDue("invoice", pid, day, time_event_key("invoice", pid, day)))
    if contract.active and contract.terminated_on is not None:
        day = contract.terminated_on
        out.append(TimeEventDue("terminated", contract.id, day, time_event_key("terminated", contract.id, day)))
    renew_day = renewal.renews_on(contract)
    if renew_day is not None and renewal.renewal_notice(contract) is not None:
        last = contract.periods[-1]
        out.append(TimeEventDue("renew", last.period_id, renew_day, time_event_key("renew", last.period_id, renew_day)))
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


def _reminder(ctx: dict[str, object], due: TimeEventDue, period: Period, contract: ContractState) -> EventData:
    nxt = next_period(contract, period)
    notice = renewal.renewal_notice(contract) if nxt is None else None
    renews_on = renewal.renews_on(contract)
    return ServicePeriodEndingSoon(
        **ctx,
        period=PeriodSnapshot(**_snapshot(period)),
        remind_on=due.due_on,
        next_period=None if nxt is None else NextPeriodSnapshot(**_snapshot(nxt), due_on=nxt.due_on),
        renewal=None
        if notice is None or renews_on is None
        else RenewalNotice(
            renews_on=renews_on,
            through=notice.through,
            indexation_percent=notice.indexation_percent,
            amount=notice.amount,
            currency=notice.currency,
        ),
        contract_ends_on=period.ends_on if nxt is None and notice is None else None,
        next_invoice=None if nxt is None else contract.invoice_of(nxt.period_id),
    )


def _event(due: TimeEventDue, period: Period, contract: ContractState, client: ClientState, late: bool) -> EventData:
    ctx = {**_context(contract, client), "late": late}
    if due.kind == "ending_soon":
        return _reminder(ctx, due, period, contract)
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


def issued_on(command: EmitDueTimeEvents) -> date:
    """The day automatic invoices are dated: the day the scheduler acts for."""
    return command.as_of if command.now is None else min(command.as_of, command.calendar.date_of(command.now))


def emit_one(
    command: EmitDueTimeEvents, contract: ContractState, due: TimeEventDue, invoices_before: int = 0
) -> list[EventData]:
    """The events of one pending time event (a renewal is several); ``invoices_before``: how
    many invoices this decision issued already (they took the numbers before this one's)."""
    if due.kind == "terminated":
        return [
            ContractTerminationTookEffect(
                contract_id=contract.id, client_id=contract.client_id, terminated_on=due.due_on
            )
        ]
    if due.kind == "renew":
        renew = renewal.auto_renewal(contract)
        assert renew is not None
        return renewal.renew(renew, contract, automatic=True)
    period = contract.period(due.period_id)
    assert period is not None
    late = command.now is not None and command.calendar.is_late(due.due_on, command.now)
    if due.kind == "invoice":
        # An invoice is news until its period is old debt: one issued late because the period
        # was added, renewed or moved inside the window (or the scheduler was down) is still
        # what the client pays by, so lateness counts from the day the period falls due.
        late = command.now is not None and command.calendar.is_late(period.due_on, command.now)
        terms = command.invoicing
        if terms is None or terms.numbering is None:
            raise ValueError("an invoice is due but the command brings no invoice numbering")
        return [
            invoicing.issued(
                contract,
                period,
                invoicing.auto_invoice_id(period.period_id),
                issued_on(command),
                command.client,
                terms.company,
                terms.numbering,
                offset=invoices_before,
                automatic=True,
                late=late,
            )
        ]
    if due.kind == "overdue" and period.reopened:
        late = False  # a bounced payment reopened the debt just now: today's news
    return [_event(due, period, contract, command.client, late)]


def emit_due(command: EmitDueTimeEvents, contract: ContractState) -> list[EventData]:
    """Every pending time event with ``due_on <= as_of``, in date order, each decided on the
    state the ones before it made."""
    from services.contracts.domain.contract import evolve  # the fold lives with the state

    client = command.client
    if client.id != contract.client_id:
        raise RuleViolated(
            "client_mismatch",
            f"client {client.id} is not the owner ({contract.client_id}) of contract {contract.number}",
            "client",
        )
    days = command.invoicing.days_before_due if command.invoicing is not None else None
    events: list[EventData] = []
    state = contract
    while len(events) < MAX_EMITTED:
        pending = pending_time_events(state, command.calendar.grace_days, days)
        due = pending[0] if pending and pending[0].due_on <= command.as_of else None
        if due is None:
            break
        new = emit_one(command, state, due, sum(isinstance(e, InvoiceIssued) for e in events))
        for event in new:
            state = evolve(state, event)
        events.extend(new)
    return events
