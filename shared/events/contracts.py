"""Facts about clients, contracts, periods and payments (topic ``contracts.events.v1``).

Every payload carries ``client_id`` (the Kafka key), so a projection never needs another
service's data to place an event. Amounts are decimal strings on the wire (``shared.money``).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from shared.events.base import EventData, registry
from shared.money import Amount, Currency

PaymentTerms = Literal["prepaid", "postpaid"]


@registry.event
class ClientRegistered(EventData):
    event_type: ClassVar[str] = "ClientRegistered"
    schema_version: ClassVar[int] = 1

    client_id: UUID
    name: str
    manager_name: str
    manager_email: str


@registry.event
class ClientUpdated(EventData):
    """The client's details after the change (all fields, not a diff)."""

    event_type: ClassVar[str] = "ClientUpdated"
    schema_version: ClassVar[int] = 1

    client_id: UUID
    name: str
    manager_name: str
    manager_email: str


@registry.event
class ContractOpened(EventData):
    event_type: ClassVar[str] = "ContractOpened"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    number: str
    title: str
    signed_on: date


@registry.event
class ContractTerminated(EventData):
    event_type: ClassVar[str] = "ContractTerminated"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    terminated_on: date
    reason: str


@registry.event
class ServicePeriodAdded(EventData):
    event_type: ClassVar[str] = "ServicePeriodAdded"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    period_id: UUID
    starts_on: date
    ends_on: date
    amount: Amount
    currency: Currency
    payment_terms: PaymentTerms
    remind_on: date | None = None


@registry.event
class ServicePeriodChanged(EventData):
    """The period after the change (all fields, not a diff)."""

    event_type: ClassVar[str] = "ServicePeriodChanged"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    period_id: UUID
    starts_on: date
    ends_on: date
    amount: Amount
    currency: Currency
    payment_terms: PaymentTerms
    remind_on: date | None = None


@registry.event
class ServicePeriodRemoved(EventData):
    event_type: ClassVar[str] = "ServicePeriodRemoved"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    period_id: UUID


@registry.event
class PaymentRecorded(EventData):
    """A payment against one period; ``period_paid_amount``/``period_paid`` are after it."""

    event_type: ClassVar[str] = "PaymentRecorded"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    period_id: UUID
    payment_id: UUID
    amount: Amount
    currency: Currency
    paid_on: date
    reference: str | None = None
    period_paid_amount: Amount
    period_paid: bool
    receipt_id: UUID | None = None
    """Shared by the parts of one bank payment split over several periods (a receipt)."""


@registry.event
class PaymentCancelled(EventData):
    """A payment recorded by mistake, withdrawn; the period totals are after it."""

    event_type: ClassVar[str] = "PaymentCancelled"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    period_id: UUID
    payment_id: UUID
    amount: Amount
    currency: Currency
    reason: str
    period_paid_amount: Amount
    period_paid: bool


@registry.event
class DebtSettled(EventData):
    """A period that had become overdue is now paid in full (recorded with that payment).

    ``amount`` is the period's full cost; ``payment_id`` the payment that completed it.
    """

    event_type: ClassVar[str] = "DebtSettled"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    period_id: UUID
    payment_id: UUID
    amount: Amount
    currency: Currency
    settled_on: date


CONTRACT_EVENTS: tuple[type[EventData], ...] = (
    ClientRegistered, ClientUpdated, ContractOpened, ContractTerminated, ServicePeriodAdded,
    ServicePeriodChanged, ServicePeriodRemoved, PaymentRecorded, PaymentCancelled, DebtSettled,
)
"""Everything published on ``contracts.events.v1``."""
