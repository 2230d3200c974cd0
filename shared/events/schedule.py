"""Time events: what the scheduler emits when a date comes (topic ``contracts.schedule.v1``).

Each one is self-contained: an e-mail or a debt notice can be written from the event alone
(client and manager names, contract number, the period's dates and money). They are
appended to the contract's stream, so the contract remembers what was already emitted.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.events.base import EventData, registry
from shared.events.contracts import InvoiceDocument
from shared.money import Amount, Currency
from shared.owed import PaymentTerms


class PeriodSnapshot(BaseModel):
    """A period as it stood when the event was emitted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period_id: UUID
    starts_on: date
    ends_on: date
    amount: Amount
    currency: Currency
    payment_terms: PaymentTerms
    paid_amount: Amount
    paid: bool


class NextPeriodSnapshot(PeriodSnapshot):
    """The next period of the same contract, with ``due_on``: its first owed day (shared.owed)."""

    due_on: date


class _ClientContext(EventData):
    """Who the event is about: enough to address an e-mail without another lookup."""

    contract_id: UUID
    client_id: UUID
    client_name: str
    manager_name: str
    manager_email: str | None = None
    contract_number: str
    contract_title: str
    late: bool = False
    """True when emitted more than ABONENT_LATE_EVENT_DAYS after its date (history, not news:
    the notifier records it as ``skipped_late`` instead of mailing it)."""


class RenewalNotice(BaseModel):
    """The contract renews itself (auto-renewal): on ``renews_on`` it continues through
    ``through``, each period costing ``amount`` (indexed by ``indexation_percent``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    renews_on: date
    through: date
    indexation_percent: Decimal
    amount: Amount
    currency: Currency


@registry.event
class ServicePeriodEndingSoon(_ClientContext):
    """The reminder: ``period`` ends on its ``ends_on``; ``next_period`` (if any) costs X, due D.

    Without a next period: ``renewal`` when the contract renews itself before it ends, else
    ``contract_ends_on`` (no next period: the contract ends then). ``next_invoice``: the next
    period's invoice when it is already issued (the e-mail attaches it). The three were added
    later; absent = none."""

    event_type: ClassVar[str] = "ServicePeriodEndingSoon"
    schema_version: ClassVar[int] = 2

    period: PeriodSnapshot
    next_period: NextPeriodSnapshot | None = None
    remind_on: date
    renewal: RenewalNotice | None = None
    contract_ends_on: date | None = None
    next_invoice: InvoiceDocument | None = None


class _PeriodFact(_ClientContext):
    period_id: UUID
    starts_on: date
    ends_on: date
    amount: Amount
    currency: Currency
    payment_terms: PaymentTerms
    paid_amount: Amount
    paid: bool


@registry.event
class ServicePeriodStarted(_PeriodFact):
    """Emitted on ``starts_on``."""

    event_type: ClassVar[str] = "ServicePeriodStarted"
    schema_version: ClassVar[int] = 1


@registry.event
class ServicePeriodEnded(_PeriodFact):
    """Emitted on the day after ``ends_on`` (the period's last day is over)."""

    event_type: ClassVar[str] = "ServicePeriodEnded"
    schema_version: ClassVar[int] = 1


@registry.event
class ServicePeriodBecameOverdue(_ClientContext):
    """An unpaid period became overdue on ``overdue_on`` = ``due_on`` + the company's grace days.
    ``due_on`` is the first owed day: prepaid ``starts_on``, postpaid the day after ``ends_on``."""

    event_type: ClassVar[str] = "ServicePeriodBecameOverdue"
    schema_version: ClassVar[int] = 2

    period_id: UUID
    starts_on: date
    ends_on: date
    payment_terms: PaymentTerms
    due_on: date
    overdue_on: date
    amount: Amount
    paid_amount: Amount
    amount_due: Amount
    currency: Currency


SCHEDULE_EVENTS: tuple[type[EventData], ...] = (
    ServicePeriodEndingSoon,
    ServicePeriodStarted,
    ServicePeriodEnded,
    ServicePeriodBecameOverdue,
)
"""Everything published on ``contracts.schedule.v1``."""


def first_owed_day(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 → 2 of a payload with ``due_on``: version 1 said a postpaid period was due on
    its last day; version 2 (docs/design.md §8, one meaning of ``due_on``) says the day after it."""
    if data.get("payment_terms") != "postpaid" or data.get("due_on") is None:
        return data
    ends_on = date.fromisoformat(str(data["ends_on"]))
    if date.fromisoformat(str(data["due_on"])) != ends_on:
        return data
    return {**data, "due_on": (ends_on + timedelta(days=1)).isoformat()}


@registry.upcaster("ServicePeriodBecameOverdue", 1)
def _overdue_v1(data: dict[str, Any]) -> dict[str, Any]:
    return first_owed_day(data)


@registry.upcaster("ServicePeriodEndingSoon", 1)
def _ending_soon_v1(data: dict[str, Any]) -> dict[str, Any]:
    nxt = data.get("next_period")
    return data if not isinstance(nxt, dict) else {**data, "next_period": first_owed_day(nxt)}
