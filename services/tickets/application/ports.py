"""What the tickets application needs from the outside, as small interfaces.

Adapters implement them (HTTP coverage client, PostgreSQL price list); unit tests use fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from services.tickets.domain.price_list import PriceItem
from shared.events.tickets import CoverageSnapshot


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
    async def page(self, f: TicketFilter, *, limit: int, offset: int) -> list[dict[str, Any]]: ...


class PriceList(Protocol):
    async def get(self, code: str) -> PriceItem | None: ...

    async def define(self, item: PriceItem) -> tuple[StoredPriceItem, bool]:
        """Create or replace the item with ``item.code``; True when it was created."""
        ...

    async def items(self, active: bool | None = None) -> Sequence[StoredPriceItem]: ...
