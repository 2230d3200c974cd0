"""Commands: orders given to the ticket aggregate.

Ids, "now" and everything read from elsewhere (the coverage snapshot, the price-list item)
are passed in, so ``decide`` stays a pure function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from services.tickets.domain.price_list import PriceItem
from shared.events.tickets import CoverageSnapshot, NotCoveredPolicy


@dataclass(frozen=True)
class RegisterTicket:
    ticket_id: UUID
    client_id: UUID
    title: str
    registered_at: datetime
    registered_on: date
    coverage: CoverageSnapshot
    policy: NotCoveredPolicy
    description: str | None = None
    override_reason: str | None = None


@dataclass(frozen=True)
class AddTicketItem:
    """``item`` is the price-list item named by ``code`` as it is now (None: no such item)."""

    ticket_id: UUID
    line_id: UUID
    code: str
    quantity: Decimal
    item: PriceItem | None


@dataclass(frozen=True)
class RemoveTicketItem:
    ticket_id: UUID
    line_id: UUID


TicketCommand = RegisterTicket | AddTicketItem | RemoveTicketItem
