"""The read model's rows as plain dataclasses, and the facts that change them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from shared.events.base import EventData


@dataclass(slots=True)
class Fact:
    """One event as the fold sees it: where it sits in its stream, and its validated payload.
    (Not frozen only because frozen dataclasses are slow to build; treat it as immutable.)"""

    stream_id: str
    stream_version: int
    client_id: UUID
    position: int | None
    event: EventData

    @property
    def event_type(self) -> str:
        return self.event.event_type


@dataclass(slots=True)
class ClientRow:
    client_id: UUID
    name: str | None = None
    manager_name: str | None = None
    manager_email: str | None = None
    position: int | None = None
    """Highest position applied for the client, from either topic."""
    events_position: int | None = None
    """Highest applied from contracts.events.v1 (business facts)."""
    schedule_position: int | None = None
    """Highest applied from contracts.schedule.v1 (time events)."""


@dataclass(slots=True)
class ContractRow:
    contract_id: UUID
    client_id: UUID
    number: str
    title: str
    signed_on: date | None
    status: str = "active"
    terminated_on: date | None = None
    termination_reason: str | None = None


@dataclass(slots=True)
class PeriodRow:
    period_id: UUID
    contract_id: UUID
    client_id: UUID
    starts_on: date
    ends_on: date
    amount: Decimal
    currency: str
    payment_terms: str
    remind_on: date | None = None
    paid_amount: Decimal = Decimal("0")


@dataclass(slots=True)
class PaymentRow:
    payment_id: UUID
    period_id: UUID
    contract_id: UUID
    client_id: UUID
    amount: Decimal
    currency: str
    paid_on: date
    reference: str | None = None
    cancelled: bool = False
