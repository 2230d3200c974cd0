"""Commands: orders given to the client and contract aggregates.

Ids are made by the caller (so a retried request can reuse them); dates such as "today" are
passed in. Amounts are ``Decimal``; currencies ISO 4217 codes (checked by the aggregate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Literal
from uuid import UUID

if TYPE_CHECKING:
    from services.contracts.domain.client import ClientState

PaymentTerms = Literal["prepaid", "postpaid"]
Every = Literal["month", "quarter", "year"]


class Keep(Enum):
    """Marker for "leave this value as it is" in ChangeServicePeriod."""

    KEEP = "keep"

    def __repr__(self) -> str:
        return "KEEP"


KEEP = Keep.KEEP


# --- client ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterClient:
    client_id: UUID
    name: str
    manager_name: str
    manager_email: str


@dataclass(frozen=True)
class UpdateClient:
    """None leaves a field as it is."""

    client_id: UUID
    name: str | None = None
    manager_name: str | None = None
    manager_email: str | None = None


ClientCommand = RegisterClient | UpdateClient


# --- contract -------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenContract:
    contract_id: UUID
    client_id: UUID
    number: str
    title: str
    signed_on: date


@dataclass(frozen=True)
class TerminateContract:
    contract_id: UUID
    terminated_on: date
    reason: str


@dataclass(frozen=True)
class AddServicePeriod:
    contract_id: UUID
    period_id: UUID
    starts_on: date
    ends_on: date
    amount: Decimal
    currency: str
    payment_terms: PaymentTerms
    remind_on: date | None = None


@dataclass(frozen=True)
class SchedulePeriods:
    """Split ``starts_on``..``ends_on`` into periods of one ``every``, each costing ``amount``.

    ``period_ids`` are made by the caller: exactly ``schedule_plan.periods_needed(...)`` of them.
    ``remind_days_before`` sets each period's reminder to that many days before its end.
    """

    contract_id: UUID
    period_ids: Sequence[UUID]
    starts_on: date
    ends_on: date
    every: Every
    amount: Decimal
    currency: str
    payment_terms: PaymentTerms
    remind_days_before: int | None = None


@dataclass(frozen=True)
class ChangeServicePeriod:
    """Fields left as KEEP keep their value; ``remind_on=None`` removes the reminder."""

    contract_id: UUID
    period_id: UUID
    starts_on: date | Keep = KEEP
    ends_on: date | Keep = KEEP
    amount: Decimal | Keep = KEEP
    currency: str | Keep = KEEP
    payment_terms: PaymentTerms | Keep = KEEP
    remind_on: date | None | Keep = KEEP


@dataclass(frozen=True)
class RemoveServicePeriod:
    contract_id: UUID
    period_id: UUID


@dataclass(frozen=True)
class RecordPayment:
    """``amount=None`` pays the rest still owed on the period."""

    contract_id: UUID
    period_id: UUID
    payment_id: UUID
    paid_on: date
    amount: Decimal | None = None
    reference: str | None = None


@dataclass(frozen=True)
class CancelPayment:
    contract_id: UUID
    period_id: UUID
    payment_id: UUID
    reason: str


@dataclass(frozen=True)
class EmitDueTimeEvents:
    """Emit every time event due on or before ``as_of`` not emitted yet.

    ``client`` is passed in because the client lives in its own stream; ``grace_days`` is the
    company's ``ABONENT_GRACE_DAYS`` (overdue from ``due_on + grace_days``).
    """

    contract_id: UUID
    as_of: date
    client: ClientState
    grace_days: int = 0


ContractCommand = (
    OpenContract | TerminateContract | AddServicePeriod | SchedulePeriods | ChangeServicePeriod
    | RemoveServicePeriod | RecordPayment | CancelPayment | EmitDueTimeEvents
)
