"""How each contracts event changes the read-model rows: a fold over a working set.

The application loads the rows a batch touches into a :class:`WorkingSet`, folds the
batch's facts into it with :func:`evolve`, and writes back what is marked dirty. Payloads
carry what the write side decided (e.g. ``period_paid_amount``), so the fold copies facts
and never re-derives them. An event for a row the read model does not have (possible only
after a dead-lettered predecessor) changes nothing but the client's position.

The fold matches on the event models the consumer validated (``shared.events``): their
fields are already ``UUID``, ``date`` and ``Decimal``, so nothing is parsed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from services.projections.domain.rows import ClientRow, ContractRow, Fact, PaymentRow, PeriodRow
from shared.events.base import EventData
from shared.events.contracts import (
    ClientRegistered,
    ClientUpdated,
    ContractOpened,
    ContractTerminated,
    ContractTerminationTookEffect,
    ContractTerminationWithdrawn,
    PaymentCancelled,
    PaymentRecorded,
    ServicePeriodAdded,
    ServicePeriodChanged,
    ServicePeriodRemoved,
)
from shared.events.schedule import SCHEDULE_EVENTS

CHANGES_ROWS: frozenset[type[EventData]] = frozenset(
    {
        PaymentRecorded,
        ServicePeriodAdded,
        ServicePeriodChanged,
        ClientRegistered,
        ClientUpdated,
        ContractOpened,
        ContractTerminated,
        ContractTerminationTookEffect,
        ContractTerminationWithdrawn,
        ServicePeriodRemoved,
        PaymentCancelled,
    }
)
"""The events that change rows beyond the client's position: one ``case`` each in :func:`_apply`.
Any other (registered) event changes only the position: the time events, and PeriodAdjusted /
DebtWrittenOff / DebtSettled, whose row changes come with the ServicePeriodChanged /
ServicePeriodRemoved / PaymentRecorded recorded beside them."""
TIME_EVENTS: frozenset[type[EventData]] = frozenset(SCHEDULE_EVENTS)
"""Published on contracts.schedule.v1; every other one is on contracts.events.v1 (the contracts
service routes by type)."""
# Why sets of classes before the ``match``: an ``isinstance`` that fails costs ~0.3 µs on a
# pydantic model (its metaclass defines __instancecheck__), a set lookup by exact type ~0.05 µs.
# So the set says whether any case applies and the cases run most frequent first.


@dataclass
class WorkingSet:
    clients: dict[UUID, ClientRow] = field(default_factory=dict)
    contracts: dict[UUID, ContractRow] = field(default_factory=dict)
    periods: dict[UUID, PeriodRow] = field(default_factory=dict)
    payments: dict[UUID, PaymentRow] = field(default_factory=dict)
    dirty_clients: set[UUID] = field(default_factory=set)
    dirty_contracts: set[UUID] = field(default_factory=set)
    dirty_periods: set[UUID] = field(default_factory=set)
    dirty_payments: set[UUID] = field(default_factory=set)
    removed_periods: set[UUID] = field(default_factory=set)


def _client(ws: WorkingSet, client_id: UUID) -> ClientRow:
    row = ws.clients.get(client_id)
    if row is None:
        row = ws.clients[client_id] = ClientRow(client_id)
    ws.dirty_clients.add(client_id)
    return row


def _contract(ws: WorkingSet, contract_id: UUID) -> ContractRow | None:
    row = ws.contracts.get(contract_id)
    if row is not None:
        ws.dirty_contracts.add(contract_id)
    return row


def _period_paid_state(ws: WorkingSet, e: PaymentRecorded | PaymentCancelled) -> None:
    row = ws.periods.get(e.period_id)
    if row is not None:
        row.paid_amount = e.period_paid_amount
        ws.dirty_periods.add(row.period_id)


def _apply(ws: WorkingSet, client: ClientRow, event: EventData) -> None:
    """The row changes of one event of :data:`CHANGES_ROWS`, the most frequent cases first."""
    match event:
        case PaymentRecorded() as e:
            ws.payments[e.payment_id] = PaymentRow(
                e.payment_id, e.period_id, e.contract_id, client.client_id, e.amount, e.currency, e.paid_on, e.reference
            )
            ws.dirty_payments.add(e.payment_id)
            _period_paid_state(ws, e)
        case ServicePeriodAdded() as e:
            ws.periods[e.period_id] = PeriodRow(
                e.period_id,
                e.contract_id,
                client.client_id,
                e.starts_on,
                e.ends_on,
                e.amount,
                e.currency,
                e.payment_terms,
                e.remind_on,
            )
            ws.removed_periods.discard(e.period_id)
            ws.dirty_periods.add(e.period_id)
        case ServicePeriodChanged() as e:
            period = ws.periods.get(e.period_id)
            if period is not None:
                period.starts_on, period.ends_on = e.starts_on, e.ends_on
                period.amount, period.currency = e.amount, e.currency
                period.payment_terms, period.remind_on = e.payment_terms, e.remind_on
                ws.dirty_periods.add(e.period_id)
        case ClientRegistered() | ClientUpdated() as e:
            client.name, client.manager_name, client.manager_email = e.name, e.manager_name, e.manager_email
        case ContractOpened() as e:
            ws.contracts[e.contract_id] = ContractRow(e.contract_id, client.client_id, e.number, e.title, e.signed_on)
            ws.dirty_contracts.add(e.contract_id)
        case ContractTerminated() as e:
            # The date is known from now on (periods from it are void); the status changes when
            # it takes effect (ContractTerminationTookEffect, on that day or at once for a past date).
            if (contract := _contract(ws, e.contract_id)) is not None:
                contract.terminated_on, contract.termination_reason = e.terminated_on, e.reason
        case ContractTerminationTookEffect() as e:
            if (contract := _contract(ws, e.contract_id)) is not None:
                contract.status, contract.terminated_on = "terminated", e.terminated_on
        case ContractTerminationWithdrawn() as e:
            if (contract := _contract(ws, e.contract_id)) is not None:
                contract.terminated_on = contract.termination_reason = None
        case ServicePeriodRemoved() as e:
            ws.periods.pop(e.period_id, None)
            ws.dirty_periods.discard(e.period_id)
            ws.removed_periods.add(e.period_id)
        case PaymentCancelled() as e:
            payment = ws.payments.get(e.payment_id)
            if payment is not None:
                payment.cancelled = True
                ws.dirty_payments.add(e.payment_id)
            _period_paid_state(ws, e)


def ids_touched(event: EventData) -> dict[str, UUID]:
    """The row ids an event's change may read, so a batch can load them all at once. Events
    that change only the client's row (the time events, some 40 % of a replay) name none, so
    the contracts, periods and payments they mention are not loaded."""
    if type(event) not in CHANGES_ROWS:
        return {}
    match event:  # the two most frequent first, alone (see CHANGES_ROWS)
        case PaymentRecorded() as e:
            return {"contract_id": e.contract_id, "period_id": e.period_id, "payment_id": e.payment_id}
        case ServicePeriodAdded() as e:
            return {"contract_id": e.contract_id, "period_id": e.period_id}
        case PaymentCancelled() as e:
            return {"contract_id": e.contract_id, "period_id": e.period_id, "payment_id": e.payment_id}
        case ServicePeriodChanged() | ServicePeriodRemoved() as e:
            return {"contract_id": e.contract_id, "period_id": e.period_id}
        case (
            ContractOpened() | ContractTerminated() | ContractTerminationTookEffect() | ContractTerminationWithdrawn()
        ) as e:
            return {"contract_id": e.contract_id}
    return {}


def _higher(current: int | None, position: int) -> int:
    return position if current is None or position > current else current


def evolve(ws: WorkingSet, fact: Fact) -> None:
    client = _client(ws, fact.client_id)
    event = fact.event
    kind = type(event)
    if fact.position is not None:
        client.position = _higher(client.position, fact.position)
        if kind in TIME_EVENTS:
            client.schedule_position = _higher(client.schedule_position, fact.position)
        else:
            client.events_position = _higher(client.events_position, fact.position)
    if kind in CHANGES_ROWS:
        _apply(ws, client, event)
