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
from shared.owed import PaymentTerms


@registry.event
class ClientRegistered(EventData):
    event_type: ClassVar[str] = "ClientRegistered"
    schema_version: ClassVar[int] = 1

    client_id: UUID
    name: str
    manager_name: str
    manager_email: str
    tax_id: str | None = None
    """The client's taxpayer number (ИНН): how a bank statement names who paid."""


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

    """The contract ends: ``terminated_on`` is the FIRST DAY WITHOUT SERVICE.

    Periods starting on or after it are void. A date later than the day it was entered
    leaves the contract active until ContractTerminationTookEffect (emitted by the scheduler
    on that day) and can be withdrawn before then. ``prorate``: the period running on that
    day costs only its served days (the cut is recorded as ServicePeriodChanged).
    """

    contract_id: UUID
    client_id: UUID
    terminated_on: date
    reason: str
    prorate: bool = False


@registry.event
class ContractTerminationTookEffect(EventData):
    """The termination date came (or was already past when entered): status is terminated."""

    event_type: ClassVar[str] = "ContractTerminationTookEffect"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    terminated_on: date


@registry.event
class ContractTerminationWithdrawn(EventData):
    """A termination dated in the future was withdrawn before it took effect."""

    event_type: ClassVar[str] = "ContractTerminationWithdrawn"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    terminated_on: date
    """The termination date that no longer applies."""
    reason: str | None = None


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
    remind_days_before: int | None = None
    """Set when ``remind_on`` was made as "N days before the end": it moves with the end."""


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
    remind_days_before: int | None = None
    """Set when ``remind_on`` was made as "N days before the end": it moves with the end."""


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


AdjustmentReason = Literal["terminated", "termination_withdrawn", "repriced"]


@registry.event
class PeriodAdjusted(EventData):
    """What a period costs changed after it was owed or paid: a termination cut it (prorated,
    or void), a withdrawal restored it, or it was re-priced. ``credit`` is what was paid beyond
    the new amount (owed back to the client or carried forward)."""

    event_type: ClassVar[str] = "PeriodAdjusted"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    period_id: UUID
    old_amount: Amount
    new_amount: Amount
    paid_amount: Amount
    credit: Amount
    currency: Currency
    reason: AdjustmentReason


@registry.event
class DebtWrittenOff(EventData):
    """A period announced overdue was removed while still owed: ``amount`` is no longer due."""

    event_type: ClassVar[str] = "DebtWrittenOff"
    schema_version: ClassVar[int] = 1

    contract_id: UUID
    client_id: UUID
    period_id: UUID
    amount: Amount
    paid_amount: Amount
    currency: Currency
    reason: Literal["removed"] = "removed"


CONTRACT_EVENTS: tuple[type[EventData], ...] = (
    ClientRegistered,
    ClientUpdated,
    ContractOpened,
    ContractTerminated,
    ContractTerminationTookEffect,
    ContractTerminationWithdrawn,
    ServicePeriodAdded,
    ServicePeriodChanged,
    ServicePeriodRemoved,
    PaymentRecorded,
    PaymentCancelled,
    DebtSettled,
    PeriodAdjusted,
    DebtWrittenOff,
)
"""Everything published on ``contracts.events.v1``."""
