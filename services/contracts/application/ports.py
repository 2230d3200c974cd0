"""What the contracts application needs from the outside; the adapters implement these.

The event store is the shared port (``shared.eventstore.ports.EventStore``): PostgreSQL in the
service, memory in the application tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
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


@dataclass(frozen=True)
class InvoiceRef:
    """Where an invoice belongs, by its number: what a bank line naming it pays."""

    invoice_id: UUID
    number: str
    contract_id: UUID
    period_id: UUID
    amount: Decimal
    currency: str


class InvoiceNumberTaken(Exception):
    """Another writer claimed the invoice numbers this decision used: decide again with fresh ones."""


class InvoiceBook(Protocol):
    """Invoice numbers per company series and year, and the index of issued invoices.

    ``next_seq`` reads the next free number; ``record`` (inside the append's transaction)
    claims the numbers the new invoices use — the counter row moves from ``next_seq - 1`` to
    the last one used, or ``InvoiceNumberTaken`` rolls the whole append back — and indexes the
    invoices by id and number."""

    async def next_seq(self, series: str, year: int) -> int: ...

    async def record(self, tx: Transaction, series: str, invoices: Sequence[InvoiceRef]) -> None: ...

    async def contract_of(self, invoice_id: UUID) -> UUID | None: ...

    async def by_number(self, number: str) -> InvoiceRef | None: ...


class InvoiceLookup(Protocol):
    """For matching money to invoices (the bank-statement import): an invoice by its number."""

    async def by_number(self, number: str) -> InvoiceRef | None: ...
