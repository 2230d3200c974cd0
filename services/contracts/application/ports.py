"""What the contracts application needs from the outside; the adapters implement these.

The event store is the shared port (``shared.eventstore.ports.EventStore``): PostgreSQL in the
service, memory in the application tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol
from uuid import UUID

from services.contracts.domain.time_events import TimeEventDue
from shared.eventstore.ports import Transaction


class TimeEventsDue(Protocol):
    """The scheduler's to-do list: each contract's pending time events, by the day they fall due."""

    async def replace(self, tx: Transaction, contract_id: UUID, due: Sequence[TimeEventDue]) -> None:
        """Make the contract's pending time events ``due``, inside the append's transaction."""
        ...

    async def contracts_due(self, as_of: date, limit: int) -> list[UUID]:
        """Contracts with a time event due on or before ``as_of``, the earliest due first."""
        ...
