"""What the tickets application needs from the outside, as small interfaces.

Adapters implement them (HTTP coverage client, PostgreSQL tables; the in-memory ones in
``adapters/memory.py`` for application tests). The event store is the shared port
(``shared.eventstore.ports.EventStore``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from services.tickets.domain.price_list import PriceItem
from services.tickets.domain.ticket import TicketState
from shared.events.tickets import CoverageSnapshot
from shared.eventstore.ports import InTransaction


@dataclass(frozen=True)
class Known:
    """Projections answered: the client's coverage on the date."""

    snapshot: CoverageSnapshot


@dataclass(frozen=True)
class ClientUnknown:
    """Projections answered that it has never seen this client."""


@dataclass(frozen=True)
class Unavailable:
    """Projections could not answer (down, slow, erroring, circuit open); ``reason`` says which."""

    reason: str


CoverageLookup = Known | ClientUnknown | Unavailable


class CoverageSource(Protocol):
    async def coverage(self, client_id: UUID, on: date, min_position: int | None) -> CoverageLookup:
        """Never raises for a sick dependency: that is ``Unavailable``."""
        ...


@dataclass(frozen=True)
class StoredPriceItem:
    item: PriceItem
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class TicketFilter:
    client_id: UUID | None = None
    coverage_status: str | None = None
    registered_from: date | None = None
    registered_to: date | None = None


class TicketsList(Protocol):
    """The list behind ``GET /tickets``: one row per ticket, kept in step with its stream."""

    def write(self, ticket: TicketState) -> InTransaction:
        """The write of the ticket's row, at the position of its append, committed with it (an
        older version never overwrites a newer one)."""
        ...

    async def page(self, f: TicketFilter, *, limit: int, offset: int) -> list[dict[str, Any]]:
        """Rows newest first (registration date, then time, then id), ``limit`` from ``offset``."""
        ...


class PriceList(Protocol):
    async def get(self, code: str) -> PriceItem | None: ...

    async def define(self, item: PriceItem) -> tuple[StoredPriceItem, bool]:
        """Create or replace the item with ``item.code``; True when it was created."""
        ...

    async def items(self, active: bool | None = None) -> Sequence[StoredPriceItem]: ...
