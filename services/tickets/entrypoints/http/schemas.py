"""Request and response bodies of the tickets API (docs/design.md §5; fields may grow, not change).

Requests forbid unknown fields (a typo is a 422 naming it); booleans and integers are strict.
Money is a decimal string with
an ISO 4217 currency; dates are YYYY-MM-DD.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from shared.dates import EARLIEST, LATEST
from shared.events.tickets import QUANTITY_PATTERN, CoverageStatus, Quantity
from shared.http.paging import MAX_POSITION
from shared.money import AmountInput, Currency
from shared.owed import PaymentTerms
from shared.text import text

Title = Annotated[str, text(300)]
Name = Annotated[str, text(200)]
Unit = Annotated[str, text(32)]
QuantityInput = Annotated[
    Quantity,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": QUANTITY_PATTERN},
                {"type": "number", "minimum": -999999999.999, "maximum": 999999999.999},
            ],
            "examples": ["1", "1.5"],
            "description": "a decimal string with at most 3 decimals; a JSON number is accepted too",
        }
    ),
]
Description = Annotated[str, text(5000, min_length=0, multiline=True)]
Reason = Annotated[str, text(1000, min_length=0, multiline=True)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


def parse_moment(value: Any) -> date | datetime:
    """``YYYY-MM-DD`` → a date; an ISO 8601 date-time → a datetime; anything else is refused."""
    if isinstance(value, str):
        written = value.strip()
        try:
            if len(written) == 10:
                moment: date = date.fromisoformat(written)
            elif len(written) > 10 and written[10] in "Tt ":
                moment = datetime.fromisoformat(written)
            else:
                raise ValueError(written)
        except ValueError:
            pass
        else:
            day = moment.date() if isinstance(moment, datetime) else moment
            if not EARLIEST <= day <= LATEST:
                raise PydanticCustomError(
                    "date_out_of_range",
                    "registered_at is outside {earliest}..{latest}",
                    {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
                )
            return moment
    raise PydanticCustomError(
        "date_format",
        "registered_at must be a date (YYYY-MM-DD) or an ISO 8601 date-time such as "
        "2026-04-15T10:30:00+03:00; got {value!r}",
        {"value": str(value)[:40]},
    )


Moment = Annotated[
    date | datetime,
    PlainValidator(parse_moment),
    WithJsonSchema(
        {
            "type": "string",
            "examples": ["2026-04-15", "2026-04-15T10:30:00+03:00"],
            "description": "a date, or a date-time (its own calendar date is used)",
        }
    ),
]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterTicketRequest(Request):
    client_id: UUID
    title: Title
    description: Description | None = None
    registered_at: Moment | None = Field(default=None, description="default: now")
    override_reason: Reason | None = Field(
        default=None,
        description="why to register although the client is not covered (needed when the policy is `block`)",
    )
    min_position: Annotated[int, Field(ge=0, le=MAX_POSITION, strict=True)] | None = Field(
        default=None,
        description="a position the contracts service returned: coverage is "
        "checked once projections have applied the client's events up to it (bounded wait)",
    )


class AddItemRequest(Request):
    code: Annotated[str, text(64)]
    quantity: QuantityInput


class DefinePriceItemRequest(Request):
    code: Code
    name: Name
    unit: Unit = Field(examples=["hour", "pcs", "visit"])
    price: AmountInput = Field(description="price per unit")
    currency: Currency
    active: bool = Field(default=True, strict=True)


class MoneyOut(BaseModel):
    amount: str
    currency: str


class WarningOut(BaseModel):
    code: str
    message: str


class OwedOut(BaseModel):
    contract_id: UUID
    period_id: UUID
    starts_on: date
    ends_on: date
    payment_terms: PaymentTerms
    due_on: date
    amount_due: str
    currency: str
    days_overdue: int


class ActivePeriodOut(BaseModel):
    contract_id: UUID
    contract_number: str | None
    period_id: UUID
    starts_on: date
    ends_on: date
    payment_terms: PaymentTerms
    amount: str
    paid_amount: str
    paid: bool
    currency: str


class CoverageOut(BaseModel):
    status: CoverageStatus
    on: date
    warnings: list[WarningOut]
    owed: list[OwedOut]
    total_owed: str | None = Field(
        description='one currency: its total ("0.00" if nothing is owed); '
        "several: null (see totals); unknown coverage: null"
    )
    currency: str | None
    totals: list[MoneyOut]
    active_period: ActivePeriodOut | None
    checked_at: datetime
    source_position: int | None = Field(description="projections position the answer reflected")
    stale: bool


class LineOut(BaseModel):
    line_id: UUID
    code: str
    name: str
    unit: str
    quantity: str
    unit_price: str
    currency: str
    line_total: str


class TicketOut(BaseModel):
    id: UUID
    client_id: UUID
    title: str
    description: str | None
    registered_at: datetime
    registered_on: date
    coverage: CoverageOut
    not_covered_policy: Literal["warn", "block"]
    override_reason: str | None
    lines: list[LineOut]
    totals: list[MoneyOut]
    billable: bool
    version: int
    position: int | None = Field(description="position of the last event of the ticket")


class ItemAdded(BaseModel):
    line_id: UUID
    position: int | None
    ticket: TicketOut


class ItemRemoved(BaseModel):
    position: int | None = Field(description="null when the line was removed already")
    ticket: TicketOut


class TicketSummaryOut(BaseModel):
    id: UUID
    client_id: UUID
    title: str
    registered_at: datetime
    registered_on: date
    coverage_status: CoverageStatus
    warning_codes: list[str]
    override_reason: str | None
    billable: bool
    lines: int
    totals: list[MoneyOut]
    version: int
    position: int


class TicketsPage(BaseModel):
    items: list[TicketSummaryOut]
    page: int
    page_size: int
    next_page: int | None


class PriceItemOut(BaseModel):
    code: str
    name: str
    unit: str
    price: str
    currency: str
    active: bool
    version: int
    updated_at: datetime


class PriceListOut(BaseModel):
    items: list[PriceItemOut]
    page: int
    page_size: int
    next_page: int | None = Field(description="the page to ask for next; null on the last")
