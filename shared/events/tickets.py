"""Facts about tickets and their cost specifications (topic ``tickets.events.v1``).

Every payload carries ``client_id`` (the Kafka key). ``TicketRegistered`` keeps the coverage
snapshot the dispatcher was shown at registration — what projections answered then (or
``unknown`` when they could not answer), never re-computed later. Amounts and quantities
are decimal strings on the wire.

Importing this module registers the models in ``shared.events.base.registry``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from shared.events.base import EventData, registry
from shared.money import Amount, Currency
from shared.owed import PaymentTerms

CoverageStatus = Literal["covered", "unpaid", "not_covered", "unknown"]
NotCoveredPolicy = Literal["warn", "block"]

_QUANTITY_RE = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,3})?")
QUANTITY_PATTERN = r"^-?\d{1,9}(\.\d{1,3})?$"


def parse_quantity(value: Any) -> Decimal:
    """An int, or a decimal with at most 9 integer digits and 3 decimals ("1.5", 2, 0.25).

    The sign is not checked here: "must be positive" is a rule of the ticket.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise PydanticCustomError("quantity_type", 'quantity must be a number such as 1 or "1.5"')
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if not _QUANTITY_RE.fullmatch(text):
        raise PydanticCustomError(
            "quantity_format",
            'quantity must be a number with at most 3 decimals, such as 1 or "1.5"; got {value!r}',
            {"value": str(value)[:40]},
        )
    quantity = Decimal(text)
    return abs(quantity) if quantity == 0 else quantity


def format_quantity(value: Decimal) -> str:
    return format(value.normalize(), "f")


Quantity = Annotated[
    Decimal,
    PlainValidator(parse_quantity),
    PlainSerializer(format_quantity, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": QUANTITY_PATTERN,
            "examples": ["1", "1.5"],
            "description": "quantity as a decimal string (a JSON number is accepted too)",
        }
    ),
]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CoverageWarning(_Part):
    code: str
    message: str


class OwedPeriod(_Part):
    contract_id: UUID
    period_id: UUID
    starts_on: date
    ends_on: date
    payment_terms: PaymentTerms
    due_on: date
    amount_due: Amount
    currency: Currency
    days_overdue: int


class ActivePeriod(_Part):
    contract_id: UUID
    contract_number: str | None = None
    period_id: UUID
    starts_on: date
    ends_on: date
    payment_terms: PaymentTerms
    amount: Amount
    paid_amount: Amount
    paid: bool
    currency: Currency


class MoneyTotal(_Part):
    amount: Amount
    currency: Currency


class CoverageSnapshot(_Part):
    """The client's coverage on ``on`` as the tickets service got it at registration."""

    status: CoverageStatus
    on: date
    active_period: ActivePeriod | None = None
    owed: tuple[OwedPeriod, ...] = ()
    totals: tuple[MoneyTotal, ...] = ()
    """Total owed per currency (empty when nothing is owed or the status is unknown)."""
    warnings: tuple[CoverageWarning, ...] = ()
    source_position: int | None = None
    """The projections position the answer reflected (None when unknown)."""
    stale: bool = False
    """Projections had not applied the requested ``min_position`` when they answered."""
    checked_at: datetime


@registry.event
class TicketRegistered(EventData):
    event_type: ClassVar[str] = "TicketRegistered"
    schema_version: ClassVar[int] = 1

    ticket_id: UUID
    client_id: UUID
    title: str
    description: str | None = None
    registered_at: datetime
    registered_on: date
    """The calendar date the dispatcher registered the ticket for; coverage is asked on it."""
    coverage: CoverageSnapshot
    not_covered_policy: NotCoveredPolicy
    override_reason: str | None = None
    """Why the ticket was registered although the client was not covered (as entered)."""


@registry.event
class TicketItemAdded(EventData):
    """A line of the ticket's cost specification, at the price-list price of that moment."""

    event_type: ClassVar[str] = "TicketItemAdded"
    schema_version: ClassVar[int] = 1

    ticket_id: UUID
    client_id: UUID
    line_id: UUID
    code: str
    name: str
    unit: str
    quantity: Quantity
    unit_price: Amount
    currency: Currency
    line_total: Amount


@registry.event
class TicketItemRemoved(EventData):
    event_type: ClassVar[str] = "TicketItemRemoved"
    schema_version: ClassVar[int] = 1

    ticket_id: UUID
    client_id: UUID
    line_id: UUID
    code: str


TICKET_EVENTS: tuple[type[EventData], ...] = (TicketRegistered, TicketItemAdded, TicketItemRemoved)
"""Everything published on ``tickets.events.v1``."""
