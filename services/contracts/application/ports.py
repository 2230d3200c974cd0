"""What the contracts application needs from the outside; the adapters implement these.

The event store is the shared port (``shared.eventstore.ports.EventStore``): PostgreSQL in the
service, memory in the application tests.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from services.contracts.domain.statements.lines import BankLine
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
class KeptReceipt:
    """An incoming bank payment as the ledger keeps it."""

    id: UUID
    line: BankLine
    reference: str
    status: str
    """``matched``, ``unallocated`` or ``allocated``."""
    reason: str | None
    contract_id: UUID | None
    imported_at: datetime
    imported_by: str


class PayerDirectory(Protocol):
    """Who pays: clients by tax id and their contracts, for matching bank statements. Written
    inside the append that registers the client or opens the contract."""

    async def record_client(self, tx: Transaction, client_id: UUID, tax_id: str) -> None: ...

    async def record_contract(self, tx: Transaction, contract_id: UUID, client_id: UUID, number: str) -> None: ...

    async def contracts_paid_by(self, tax_ids: Collection[str]) -> dict[str, list[UUID]]:
        """The contract ids of every client registered with each tax id."""
        ...


class LineAlreadyImported(Exception):
    """The bank line was imported meanwhile (another import of the same statement): the append
    that would record it again is rolled back."""


class StatementLedger(Protocol):
    """Every incoming bank payment imported (``bank_receipts``): matched, unallocated or
    allocated by hand later."""

    async def imported(self, ids: Collection[UUID]) -> set[UUID]:
        """Which of these lines were imported before."""
        ...

    async def record_matched(self, tx: Transaction, line: BankLine, contract_id: UUID, rule: str, actor: str) -> None:
        """Inside the receipt's append; ``LineAlreadyImported`` when the line is there already."""
        ...

    async def keep_unallocated(self, lines: Sequence[tuple[BankLine, str]], actor: str) -> set[UUID]:
        """Keep (line, why not matched) for an accountant; returns the ids new to the ledger."""
        ...

    async def unallocated(self, limit: int, offset: int) -> list[KeptReceipt]: ...

    async def get(self, receipt_id: UUID) -> KeptReceipt | None: ...

    async def mark_allocated(self, tx: Transaction | None, receipt_id: UUID, contract_id: UUID, actor: str) -> None:
        """Inside the receipt's append (or on its own with ``tx=None``); ``Conflict`` when the
        receipt is no longer unallocated."""
        ...
