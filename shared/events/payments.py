"""The public payments feed (topic ``payments.v1``) for accounting, CRM and other systems.

These models are a stable, documented contract of their own: they are NOT the internal
contract events (which may evolve) and live in their own ``public_registry`` because their
type names repeat internal ones. They evolve by the one rule of docs/integrating.md
("Evolution"): optional fields may be added; anything else that breaks a consumer is a new
topic ``payments.v2`` published alongside, never an edit or an upcaster (consumers outside
Abonent have none) — ``make test`` checks the generated document against
``docs/asyncapi/released/payments.v1.json``. ``to_public`` maps an internal event to its public form.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from shared.events import contracts as internal
from shared.events import schedule
from shared.events.base import EventData, EventRegistry
from shared.money import Amount, Currency
from shared.owed import PaymentTerms

public_registry = EventRegistry()
"""Schemas of ``payments.v1``; separate from ``shared.events.base.registry``."""

_CONTRACT = "Contract the period belongs to (UUID)."
_CLIENT = "Client who owns the contract (UUID); also the Kafka message key."
_PERIOD = "Service period the money is for (UUID)."
_PAYMENT = "Payment id (UUID), stable across PaymentRecorded and PaymentCancelled."
_CURRENCY = "ISO 4217 currency code of the amounts, e.g. RUB."


@public_registry.event
class PaymentRecorded(EventData):
    """Money was received against a service period of a contract."""

    event_type: ClassVar[str] = "PaymentRecorded"
    schema_version: ClassVar[int] = 1

    payment_id: UUID = Field(description=_PAYMENT)
    contract_id: UUID = Field(description=_CONTRACT)
    client_id: UUID = Field(description=_CLIENT)
    period_id: UUID = Field(description=_PERIOD)
    amount: Amount = Field(description='Amount received, decimal string such as "30000.00".')
    currency: Currency = Field(description=_CURRENCY)
    paid_on: date = Field(description="Date the money was paid (YYYY-MM-DD).")
    reference: str | None = Field(default=None, description="Payer's reference (bank document number), if given.")
    period_paid_amount: Amount = Field(description="Total paid on the period after this payment.")
    period_paid: bool = Field(description="True when the period is now paid in full.")
    receipt_id: UUID | None = Field(
        default=None,
        description="Set when one bank payment was split over several periods: every "
        "part (one PaymentRecorded per period) carries the same receipt id "
        "and reference. Absent for a payment against one period.",
    )


@public_registry.event
class PaymentCancelled(EventData):
    """A payment recorded earlier was withdrawn (entered by mistake); it no longer counts."""

    event_type: ClassVar[str] = "PaymentCancelled"
    schema_version: ClassVar[int] = 1

    payment_id: UUID = Field(description=_PAYMENT)
    contract_id: UUID = Field(description=_CONTRACT)
    client_id: UUID = Field(description=_CLIENT)
    period_id: UUID = Field(description=_PERIOD)
    amount: Amount = Field(description="Amount of the cancelled payment, decimal string.")
    currency: Currency = Field(description=_CURRENCY)
    reason: str = Field(description="Why the payment was cancelled, as entered by staff.")
    period_paid_amount: Amount = Field(description="Total paid on the period after the cancellation.")
    period_paid: bool = Field(description="True when the period is still paid in full.")


@public_registry.event
class PeriodBecameOverdue(EventData):
    """A service period is overdue unpaid: the client now owes ``amount_due``.

    Version 2: ``due_on`` is the first day the period is owed (postpaid: the day after its
    end; version 1 said its last day); version-1 payloads are upcast."""

    event_type: ClassVar[str] = "PeriodBecameOverdue"
    schema_version: ClassVar[int] = 2

    contract_id: UUID = Field(description=_CONTRACT)
    contract_number: str = Field(description="Contract number as printed on the contract.")
    client_id: UUID = Field(description=_CLIENT)
    client_name: str = Field(description="Client's name at the time of the event.")
    period_id: UUID = Field(description=_PERIOD)
    starts_on: date = Field(description="First day of the period (YYYY-MM-DD).")
    ends_on: date = Field(description="Last day of the period, inclusive (YYYY-MM-DD).")
    payment_terms: PaymentTerms = Field(
        description="prepaid: owed from its first day; postpaid: owed from the day after its last day."
    )
    due_on: date = Field(
        description="First day the period is owed: prepaid its first day, postpaid "
        "the day after its last day (YYYY-MM-DD)."
    )
    overdue_on: date = Field(
        description="First day the period counts as overdue: due_on plus the "
        "company's grace days (equal to due_on without a grace)."
    )
    amount_due: Amount = Field(description="Amount still owed on the period, decimal string.")
    currency: Currency = Field(description=_CURRENCY)
    late: bool = Field(
        default=False,
        description=(
            "True when announced more than ABONENT_LATE_EVENT_DAYS after overdue_on (a contract "
            "entered after the fact): the debt is real, the news is old. Added later; absent = false."
        ),
    )


@public_registry.event
class DebtSettled(EventData):
    """An overdue period was paid in full; the client no longer owes anything on it."""

    event_type: ClassVar[str] = "DebtSettled"
    schema_version: ClassVar[int] = 1

    contract_id: UUID = Field(description=_CONTRACT)
    client_id: UUID = Field(description=_CLIENT)
    period_id: UUID = Field(description=_PERIOD)
    payment_id: UUID = Field(description="The payment that completed the period.")
    amount: Amount = Field(description="Full cost of the period now settled, decimal string.")
    currency: Currency = Field(description=_CURRENCY)
    settled_on: date = Field(description="Payment date of the settling payment (YYYY-MM-DD).")


@public_registry.event
class PeriodAdjusted(EventData):
    """What a period costs changed after it was owed or paid: the receivable is now ``new_amount``."""

    event_type: ClassVar[str] = "PeriodAdjusted"
    schema_version: ClassVar[int] = 1

    contract_id: UUID = Field(description=_CONTRACT)
    client_id: UUID = Field(description=_CLIENT)
    period_id: UUID = Field(description=_PERIOD)
    old_amount: Amount = Field(description="What the period cost before, decimal string.")
    new_amount: Amount = Field(description="What it costs now (0 for a period voided by a termination).")
    paid_amount: Amount = Field(description="Total paid on the period (not changed by the adjustment).")
    credit: Amount = Field(description="Paid beyond new_amount: owed back to the client (0 if none).")
    currency: Currency = Field(description=_CURRENCY)
    reason: Literal["terminated", "termination_withdrawn", "repriced"] = Field(
        description=(
            "terminated: the contract ends during or before the period (prorated or void); "
            "termination_withdrawn: a future termination was withdrawn, the old cost is back; "
            "repriced: staff changed the cost of a period already announced overdue."
        )
    )


@public_registry.event
class DebtWrittenOff(EventData):
    """A period announced overdue was removed while owed: the receivable no longer exists."""

    event_type: ClassVar[str] = "DebtWrittenOff"
    schema_version: ClassVar[int] = 1

    contract_id: UUID = Field(description=_CONTRACT)
    client_id: UUID = Field(description=_CLIENT)
    period_id: UUID = Field(description=_PERIOD)
    amount: Amount = Field(description="Amount that was still owed and is written off, decimal string.")
    paid_amount: Amount = Field(description="What had been paid on the period before it was removed.")
    currency: Currency = Field(description=_CURRENCY)
    reason: Literal["removed"] = Field(default="removed", description="The period was removed.")


@public_registry.event
class InvoiceIssued(EventData):
    """An invoice was issued to the client for one service period: ``amount`` is asked for by
    ``due_on``. Numbers run without gaps per company and year."""

    event_type: ClassVar[str] = "InvoiceIssued"
    schema_version: ClassVar[int] = 1

    invoice_id: UUID = Field(description="Invoice id (UUID): GET /invoices/{id} and /invoices/{id}.pdf on contracts.")
    number: str = Field(description="Invoice number, YYYY-NNNNNN: the year issued and the company's sequence in it.")
    issued_on: date = Field(description="Date of the invoice (YYYY-MM-DD).")
    due_on: date = Field(description="First day the period is owed: the invoice is to be paid by then.")
    contract_id: UUID = Field(description=_CONTRACT)
    contract_number: str = Field(description="Contract number as printed on the contract.")
    client_id: UUID = Field(description=_CLIENT)
    client_name: str = Field(description="Buyer's name on the invoice.")
    client_tax_id: str | None = Field(default=None, description="Buyer's taxpayer number (ИНН), when known.")
    seller_tax_id: str | None = Field(default=None, description="The issuing company's taxpayer number.")
    period_id: UUID = Field(description=_PERIOD)
    starts_on: date = Field(description="First day of the period invoiced (YYYY-MM-DD).")
    ends_on: date = Field(description="Last day of the period invoiced, inclusive (YYYY-MM-DD).")
    amount: Amount = Field(description="Amount invoiced, decimal string.")
    currency: Currency = Field(description=_CURRENCY)


@public_registry.upcaster("PeriodBecameOverdue", 1)
def _overdue_v1(data: dict[str, Any]) -> dict[str, Any]:
    return schedule.first_owed_day(data)


PUBLIC_EVENTS: tuple[type[EventData], ...] = (
    PaymentRecorded,
    PaymentCancelled,
    PeriodBecameOverdue,
    DebtSettled,
    PeriodAdjusted,
    DebtWrittenOff,
    InvoiceIssued,
)


PUBLISHED_TYPES = frozenset(
    t.event_type
    for t in (
        internal.PaymentRecorded,
        internal.PaymentCancelled,
        schedule.ServicePeriodBecameOverdue,
        internal.DebtSettled,
        internal.PeriodAdjusted,
        internal.DebtWrittenOff,
        internal.InvoiceIssued,
    )
)
"""Internal event types that have a public form (``to_public`` answers None for the rest)."""


def to_public(event: EventData) -> EventData | None:
    """The public payload for an internal contracts/schedule event; None when not on the feed."""
    if isinstance(event, internal.PaymentRecorded):
        return PaymentRecorded(
            payment_id=event.payment_id,
            contract_id=event.contract_id,
            client_id=event.client_id,
            period_id=event.period_id,
            amount=event.amount,
            currency=event.currency,
            paid_on=event.paid_on,
            reference=event.reference,
            period_paid_amount=event.period_paid_amount,
            period_paid=event.period_paid,
            receipt_id=event.receipt_id,
        )
    if isinstance(event, internal.PaymentCancelled):
        return PaymentCancelled(
            payment_id=event.payment_id,
            contract_id=event.contract_id,
            client_id=event.client_id,
            period_id=event.period_id,
            amount=event.amount,
            currency=event.currency,
            reason=event.reason,
            period_paid_amount=event.period_paid_amount,
            period_paid=event.period_paid,
        )
    if isinstance(event, schedule.ServicePeriodBecameOverdue):
        return PeriodBecameOverdue(
            contract_id=event.contract_id,
            contract_number=event.contract_number,
            client_id=event.client_id,
            client_name=event.client_name,
            period_id=event.period_id,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            payment_terms=event.payment_terms,
            due_on=event.due_on,
            overdue_on=event.overdue_on,
            amount_due=event.amount_due,
            currency=event.currency,
            late=event.late,
        )
    if isinstance(event, internal.DebtSettled):
        return DebtSettled(
            contract_id=event.contract_id,
            client_id=event.client_id,
            period_id=event.period_id,
            payment_id=event.payment_id,
            amount=event.amount,
            currency=event.currency,
            settled_on=event.settled_on,
        )
    if isinstance(event, internal.PeriodAdjusted):
        return PeriodAdjusted(
            contract_id=event.contract_id,
            client_id=event.client_id,
            period_id=event.period_id,
            old_amount=event.old_amount,
            new_amount=event.new_amount,
            paid_amount=event.paid_amount,
            credit=event.credit,
            currency=event.currency,
            reason=event.reason,
        )
    if isinstance(event, internal.InvoiceIssued):
        doc = event.invoice
        return InvoiceIssued(
            invoice_id=doc.invoice_id,
            number=doc.number,
            issued_on=doc.issued_on,
            due_on=doc.due_on,
            contract_id=event.contract_id,
            contract_number=doc.contract_number,
            client_id=event.client_id,
            client_name=doc.buyer.name,
            client_tax_id=doc.buyer.tax_id,
            seller_tax_id=doc.seller.tax_id,
            period_id=event.period_id,
            starts_on=doc.starts_on,
            ends_on=doc.ends_on,
            amount=doc.amount,
            currency=doc.currency,
        )
    if isinstance(event, internal.DebtWrittenOff):
        return DebtWrittenOff(
            contract_id=event.contract_id,
            client_id=event.client_id,
            period_id=event.period_id,
            amount=event.amount,
            paid_amount=event.paid_amount,
            currency=event.currency,
            reason=event.reason,
        )
    return None
