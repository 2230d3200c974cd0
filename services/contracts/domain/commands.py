"""Commands: orders given to the client and contract aggregates.

Ids are made by the caller (so a retried request can reuse them); dates such as "today" are
passed in. Amounts are ``Decimal``; currencies ISO 4217 codes (checked by the aggregate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from shared.calendar import CompanyCalendar
from shared.owed import PaymentTerms

if TYPE_CHECKING:
    from services.contracts.domain.client import ClientState

Every = Literal["month", "quarter", "year"]
Stub = Literal["prorate", "full"]


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
    tax_id: str | None = None


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
    """``terminated_on`` is the first day without service; ``today`` (the company's date when
    the order is given) decides whether it takes effect now or on that day."""

    contract_id: UUID
    terminated_on: date
    reason: str
    today: date
    prorate: bool = False


@dataclass(frozen=True)
class WithdrawTermination:
    """Cancel a termination dated after ``today`` (the company's date)."""

    contract_id: UUID
    today: date
    reason: str | None = None


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
    ``stub``: a last period shorter than a full step costs ``amount`` × its days ÷ the full
    step's days (``prorate``, the default) or the whole ``amount`` (``full``).
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
    stub: Stub = "prorate"


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
    """``amount=None`` pays the rest still owed on the period. ``latest_paid_on`` is the
    latest ``paid_on`` allowed (tomorrow in the company's zone, passed in); None: no bound."""

    contract_id: UUID
    period_id: UUID
    payment_id: UUID
    paid_on: date
    amount: Decimal | None = None
    reference: str | None = None
    latest_paid_on: date | None = None


@dataclass(frozen=True)
class Allocation:
    """The part of a receipt that pays one period."""

    period_id: UUID
    amount: Decimal


@dataclass(frozen=True)
class RecordReceipt:
    """One bank payment over several periods. Without ``allocations`` it pays the oldest
    owed periods first. Each part's payment id is made from ``receipt_id`` and the period
    (``receipt_rules.part_id``), so a retry names the same payments."""

    contract_id: UUID
    receipt_id: UUID
    amount: Decimal
    paid_on: date
    reference: str
    allocations: Sequence[Allocation] | None = None
    latest_paid_on: date | None = None


@dataclass(frozen=True)
class CancelPayment:
    contract_id: UUID
    period_id: UUID
    payment_id: UUID
    reason: str


@dataclass(frozen=True)
class EmitDueTimeEvents:
    """Emit every time event due on or before ``as_of`` not emitted yet.

    ``client`` is passed in because the client lives in its own stream. ``now`` is the
    moment of emitting: an event dated more than ``calendar.late_event_days`` before it is
    marked ``late`` (None: nothing is late — replays and tests that do not care). The calendar's
    ``grace_days`` (``ABONENT_GRACE_DAYS``) delay the overdue event past ``due_on``.
    """

    contract_id: UUID
    as_of: date
    client: ClientState
    now: datetime | None = None
    calendar: CompanyCalendar = CompanyCalendar()


ContractCommand = (
    OpenContract
    | TerminateContract
    | WithdrawTermination
    | AddServicePeriod
    | SchedulePeriods
    | ChangeServicePeriod
    | RemoveServicePeriod
    | RecordPayment
    | RecordReceipt
    | CancelPayment
    | EmitDueTimeEvents
)
