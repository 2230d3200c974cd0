"""How each contracts event changes the read-model rows: a fold over a working set.

The application loads the rows a batch touches into a :class:`WorkingSet`, folds the
batch's facts into it with :func:`evolve`, and writes back what is marked dirty. Payloads
carry what the write side decided (e.g. ``period_paid_amount``), so the fold copies facts
and never re-derives them. An event for a row the read model does not have (possible only
after a dead-lettered predecessor) changes nothing but the client's position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from services.projections.domain.money import to_decimal
from services.projections.domain.rows import ClientRow, ContractRow, Fact, PaymentRow, PeriodRow
from shared.events.schedule import SCHEDULE_EVENTS


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


def as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def as_uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))




def _client(ws: WorkingSet, fact: Fact) -> ClientRow:
    row = ws.clients.get(fact.client_id)
    if row is None:
        row = ws.clients[fact.client_id] = ClientRow(fact.client_id)
    ws.dirty_clients.add(fact.client_id)
    return row


def _client_details(ws: WorkingSet, fact: Fact) -> None:
    row = _client(ws, fact)
    for name in ("name", "manager_name", "manager_email"):
        value = fact.data.get(name)
        if value is not None:
            setattr(row, name, str(value))


def _contract_opened(ws: WorkingSet, fact: Fact) -> None:
    d = fact.data
    cid = as_uuid(d["contract_id"])
    ws.contracts[cid] = ContractRow(cid, fact.client_id, str(d["number"]), str(d.get("title") or ""),
                                    as_date(d.get("signed_on")))
    ws.dirty_contracts.add(cid)


def _contract_terminated(ws: WorkingSet, fact: Fact) -> None:
    """The date is known from now on (periods from it are void); the status changes when it
    takes effect (ContractTerminationTookEffect, on that day or at once for a past date)."""
    row = ws.contracts.get(as_uuid(fact.data["contract_id"]))
    if row is None:
        return
    row.terminated_on = as_date(fact.data.get("terminated_on"))
    row.termination_reason = fact.data.get("reason")
    ws.dirty_contracts.add(row.contract_id)


def _termination_took_effect(ws: WorkingSet, fact: Fact) -> None:
    row = ws.contracts.get(as_uuid(fact.data["contract_id"]))
    if row is None:
        return
    row.status = "terminated"
    row.terminated_on = as_date(fact.data.get("terminated_on"))
    ws.dirty_contracts.add(row.contract_id)


def _termination_withdrawn(ws: WorkingSet, fact: Fact) -> None:
    row = ws.contracts.get(as_uuid(fact.data["contract_id"]))
    if row is None:
        return
    row.terminated_on = None
    row.termination_reason = None
    ws.dirty_contracts.add(row.contract_id)


def _period_added(ws: WorkingSet, fact: Fact) -> None:
    d = fact.data
    pid = as_uuid(d["period_id"])
    ws.periods[pid] = PeriodRow(
        pid, as_uuid(d["contract_id"]), fact.client_id, as_date(d["starts_on"]),  # type: ignore[arg-type]
        as_date(d["ends_on"]), to_decimal(d["amount"]), str(d["currency"]),  # type: ignore[arg-type]
        str(d["payment_terms"]), as_date(d.get("remind_on")))
    ws.removed_periods.discard(pid)
    ws.dirty_periods.add(pid)


def _period_changed(ws: WorkingSet, fact: Fact) -> None:
    d = fact.data
    row = ws.periods.get(as_uuid(d["period_id"]))
    if row is None:
        return
    row.starts_on = as_date(d.get("starts_on")) or row.starts_on
    row.ends_on = as_date(d.get("ends_on")) or row.ends_on
    row.amount = to_decimal(d["amount"]) if d.get("amount") is not None else row.amount
    row.currency = str(d.get("currency") or row.currency)
    row.payment_terms = str(d.get("payment_terms") or row.payment_terms)
    if "remind_on" in d:
        row.remind_on = as_date(d["remind_on"])
    ws.dirty_periods.add(row.period_id)


def _period_removed(ws: WorkingSet, fact: Fact) -> None:
    pid = as_uuid(fact.data["period_id"])
    ws.periods.pop(pid, None)
    ws.dirty_periods.discard(pid)
    ws.removed_periods.add(pid)


def _period_paid_state(ws: WorkingSet, d: Mapping[str, Any]) -> None:
    row = ws.periods.get(as_uuid(d["period_id"]))
    if row is not None and d.get("period_paid_amount") is not None:
        row.paid_amount = to_decimal(d["period_paid_amount"])
        ws.dirty_periods.add(row.period_id)


def _payment_recorded(ws: WorkingSet, fact: Fact) -> None:
    d = fact.data
    pid = as_uuid(d["payment_id"])
    ws.payments[pid] = PaymentRow(
        pid, as_uuid(d["period_id"]), as_uuid(d["contract_id"]), fact.client_id,
        to_decimal(d["amount"]), str(d["currency"]), as_date(d["paid_on"]),  # type: ignore[arg-type]
        d.get("reference"))
    ws.dirty_payments.add(pid)
    _period_paid_state(ws, d)


def _payment_cancelled(ws: WorkingSet, fact: Fact) -> None:
    row = ws.payments.get(as_uuid(fact.data["payment_id"]))
    if row is not None:
        row.cancelled = True
        ws.dirty_payments.add(row.payment_id)
    _period_paid_state(ws, fact.data)


HANDLERS: dict[str, Callable[[WorkingSet, Fact], None]] = {
    "ClientRegistered": _client_details,
    "ClientUpdated": _client_details,
    "ContractOpened": _contract_opened,
    "ContractTerminated": _contract_terminated,
    "ContractTerminationTookEffect": _termination_took_effect,
    "ContractTerminationWithdrawn": _termination_withdrawn,
    "ServicePeriodAdded": _period_added,
    "ServicePeriodChanged": _period_changed,
    "ServicePeriodRemoved": _period_removed,
    "PaymentRecorded": _payment_recorded,
    "PaymentCancelled": _payment_cancelled,
}
"""Any other (registered) event type changes only the client's position: the time events, and
PeriodAdjusted / DebtWrittenOff / DebtSettled, whose row changes come with the
ServicePeriodChanged / ServicePeriodRemoved / PaymentRecorded recorded beside them."""


def ids_touched(fact: Fact) -> dict[str, UUID]:
    """The row ids an event's handler may read, so a batch can load them all at once. Events
    without a handler (the time events, some 40 % of a replay) change only the client's row, so
    the contracts, periods and payments they name are not loaded."""
    if fact.event_type not in HANDLERS:
        return {}
    data = fact.data
    return {k: as_uuid(data[k]) for k in ("contract_id", "period_id", "payment_id") if data.get(k)}


TIME_EVENTS = frozenset(t.event_type for t in SCHEDULE_EVENTS)
"""The event types published on contracts.schedule.v1; every other one is on contracts.events.v1
(the contracts service routes by type)."""


def _higher(current: int | None, position: int) -> int:
    return position if current is None or position > current else current


def evolve(ws: WorkingSet, fact: Fact) -> None:
    client = _client(ws, fact)
    if fact.position is not None:
        client.position = _higher(client.position, fact.position)
        if fact.event_type in TIME_EVENTS:
            client.schedule_position = _higher(client.schedule_position, fact.position)
        else:
            client.events_position = _higher(client.events_position, fact.position)
    handler = HANDLERS.get(fact.event_type)
    if handler is not None:
        handler(ws, fact)
