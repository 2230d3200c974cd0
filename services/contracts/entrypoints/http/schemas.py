"""Request and response bodies of the contracts API (docs/design.md §5 "Wire shapes").

Requests forbid unknown fields, so a typo ("ammount") is a 422 naming it, not a silent
default; booleans and integers are strict (``0`` is not ``false``, ``false`` is not ``0``).
Money is a decimal string with an ISO 4217 currency; dates are ISO YYYY-MM-DD.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from shared.dates import IsoDate
from shared.money import AmountInput, Currency
from shared.owed import PaymentTerms
from shared.text import text

Text = Annotated[str, text(300)]
"""One line of text: stripped, 1-300 characters, no control characters (shared/text.py)."""
Reference = Annotated[str, text(100)]
"""A payment's reference (bank document number): names one payment on a contract."""
ContractNumber = Annotated[str, text(64)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


TaxId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^([0-9]{10}|[0-9]{12})?$")]
"""A Russian taxpayer number (ИНН): 10 digits for a company, 12 for a person."""


class RegisterClientRequest(Request):
    name: Text
    manager_name: Text
    manager_email: EmailStr
    tax_id: TaxId | None = Field(
        default=None, description="ИНН: 10 or 12 digits, printed on invoices; how bank statements name the payer"
    )
    address: Text | None = None
    billing_email: EmailStr | None = Field(default=None, description="the client's accountant: receives invoices")


class UpdateClientRequest(Request):
    """Fields left out stay; an empty tax_id or address clears it (billing_email: send "")."""

    name: Text | None = None
    manager_name: Text | None = None
    manager_email: EmailStr | None = None
    tax_id: TaxId | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    billing_email: EmailStr | Literal[""] | None = None


class RenewRequest(Request):
    through: IsoDate = Field(description="the last day of the renewed term (after the last period ends)")
    indexation_percent: Annotated[Decimal, Field(gt=-100, le=1000, max_digits=8, decimal_places=3)] = Field(
        default=Decimal(0), description="amounts raised by this percentage, rounded to the currency's minor unit"
    )
    every: Literal["month", "quarter", "year"] | None = Field(
        default=None, description="period length; default: that of the last period"
    )


class AutoRenewRequest(Request):
    enabled: bool
    notice_days: Annotated[int, Field(ge=0, le=366)] = Field(
        default=30, description="renew this many days before the last period ends"
    )
    indexation_percent: Annotated[Decimal, Field(gt=-100, le=1000, max_digits=8, decimal_places=3)] = Decimal(0)
    term_months: Annotated[int, Field(ge=1, le=120)] = Field(default=12, description="each renewal adds this much")


class OpenContractRequest(Request):
    client_id: UUID
    number: ContractNumber
    title: Text
    signed_on: IsoDate


class TerminateContractRequest(Request):
    terminated_on: IsoDate = Field(
        description="the first day without service; periods starting "
        "on or after it are void, the one running that day ends the day before"
    )
    reason: Text
    prorate: bool = Field(
        default=False,
        strict=True,
        description="the period running on terminated_on costs "
        "only its served days; what was paid beyond that becomes a credit",
    )


class AddPeriodRequest(Request):
    starts_on: IsoDate
    ends_on: IsoDate
    amount: AmountInput
    currency: Currency
    payment_terms: PaymentTerms
    remind_on: IsoDate | None = None


class SchedulePeriodsRequest(Request):
    starts_on: IsoDate
    ends_on: IsoDate
    every: Literal["month", "quarter", "year"]
    amount: AmountInput = Field(description="cost of each period")
    currency: Currency
    payment_terms: PaymentTerms
    remind_days_before: Annotated[int, Field(ge=0, le=366, strict=True)] | None = None
    stub: Literal["prorate", "full"] = Field(
        default="prorate",
        description="a last period shorter than a full step costs amount × its "
        "days ÷ the full step's days (prorate) or the whole amount (full)",
    )


class ChangePeriodRequest(Request):
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None
    amount: AmountInput | None = None
    currency: Currency | None = None
    payment_terms: PaymentTerms | None = None
    remind_on: IsoDate | None = None


class RecordPaymentRequest(Request):
    amount: AmountInput | None = Field(default=None, description="omit to pay the rest still owed")
    paid_on: IsoDate = Field(description="at most tomorrow in the company's time zone")
    reference: Reference | None = Field(
        default=None,
        description="names this payment on the contract: the same reference and values "
        "again is a retry (200, the original answer); other values are 409",
    )


class AllocationRequest(Request):
    period_id: UUID
    amount: AmountInput


class RecordReceiptRequest(Request):
    amount: AmountInput = Field(description="the whole bank payment")
    paid_on: IsoDate = Field(description="at most tomorrow in the company's time zone")
    reference: Reference = Field(description="names the bank payment; shared by every part")
    allocations: list[AllocationRequest] | None = Field(
        default=None,
        max_length=1000,
        description="how much goes to which period (must add up to amount); omit to pay the oldest owed periods first",
    )


class TickRequest(Request):
    as_of: IsoDate


class Written(BaseModel):
    position: int | None = Field(description="position of the last event written; null if nothing changed")


class Created(Written):
    id: UUID


class PeriodCreated(Written):
    period_id: UUID


class PeriodsScheduled(Written):
    period_ids: list[UUID]


class PaymentCreated(Written):
    payment_id: UUID


class ReceiptPart(BaseModel):
    payment_id: UUID
    period_id: UUID
    amount: str


class ReceiptCreated(Written):
    receipt_id: UUID
    payments: list[ReceiptPart]


class InvoiceCreated(Written):
    invoice_id: UUID
    number: str


class PartyView(BaseModel):
    name: str
    tax_id: str | None
    address: str | None
    bank_account: str | None = None


class InvoiceView(BaseModel):
    invoice_id: UUID
    number: str
    issued_on: date
    due_on: date
    seller: PartyView
    buyer: PartyView
    contract_id: UUID
    contract_number: str
    contract_title: str
    contract_signed_on: date
    period_id: UUID
    starts_on: date
    ends_on: date
    payment_terms: PaymentTerms
    amount: str
    currency: str
    amount_in_words: str | None = Field(description="RUB only, in the language asked for (lang)")
    paid_amount: str = Field(description="paid on the period so far (all payments, whatever their date)")
    paid: bool
    pdf: str = Field(description="path of the PDF")


class TickResult(Written):
    as_of: date
    emitted: int
    contracts: int
    failed: int = Field(0, description="contracts skipped because their time events failed (logged; due again)")


class PaymentView(BaseModel):
    payment_id: UUID
    amount: str
    paid_on: date
    reference: str | None
    cancelled: bool
    receipt_id: UUID | None = Field(default=None, description="set when part of one bank payment over several periods")


class PeriodView(BaseModel):
    period_id: UUID
    starts_on: date
    ends_on: date
    amount: str
    currency: str
    payment_terms: PaymentTerms
    remind_on: date | None
    paid_amount: str
    paid: bool
    void: bool = Field(description="starts on or after the termination date: never owed or listed")
    payments: list[PaymentView]
    invoice: InvoiceRefView | None = None


class InvoiceRefView(BaseModel):
    invoice_id: UUID
    number: str
    issued_on: date


class AutoRenewView(BaseModel):
    enabled: bool
    notice_days: int
    indexation_percent: str
    term_months: int
    renews_on: date | None = Field(description="the day the scheduler renews the contract (null: it will not)")


class ContractView(BaseModel):
    id: UUID
    client_id: UUID
    number: str
    title: str
    signed_on: date
    status: Literal["active", "terminated"]
    terminated_on: date | None = Field(description="first day without service (pending or in effect)")
    terminates_on: date | None = Field(
        description="set while the termination is still ahead: the "
        "contract is active until then and it can be withdrawn"
    )
    credit: str = Field(description="paid beyond what the periods cost after a termination (the contract's currency)")
    version: int
    periods: list[PeriodView]
    auto_renew: AutoRenewView | None = None


class ClientView(BaseModel):
    id: UUID
    name: str
    manager_name: str
    manager_email: str
    version: int
    tax_id: str | None = None
    address: str | None = None
    billing_email: str | None = None


class EventView(BaseModel):
    event_id: UUID
    event_type: str
    stream_version: int
    position: int
    recorded_at: datetime
    occurred_at: datetime
    actor: str
    correlation_id: str
    causation_id: str | None
    data: dict


class EventsPage(BaseModel):
    items: list[EventView]
    page: int
    page_size: int
    next_page: int | None = Field(description="the page to ask for next; null on the last")
