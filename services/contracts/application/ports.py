"""What the contracts application needs from the outside; the adapters implement these.

The event store is the shared port (``shared.eventstore.ports.EventStore``): PostgreSQL in the
service, memory in the application tests.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from services.contracts.domain.statements.lines import BankLine
from services.contracts.domain.time_events import TimeEventDue
from shared.eventstore.ports import InTransaction, Transaction


class TimeEventsDue(Protocol):
    """The scheduler's to-do list: each contract's pending time events, by the day they fall due."""

    def replacing(self, contract_id: UUID, due: Sequence[TimeEventDue]) -> InTransaction:
        """The write that makes the contract's pending time events ``due``, with the append."""
        ...

    async def replace_many(self, tx: Transaction, due: Mapping[UUID, Sequence[TimeEventDue]]) -> None:
        """``replace`` for several contracts in one go (a group commit's)."""
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

    async def by_number(self, series: str, number: str) -> InvoiceRef | None:
        """The invoice ``number`` of the company ``series`` (numbers repeat across series)."""
        ...


class InvoiceLookup(Protocol):
    """For matching money to invoices (the bank-statement import): an invoice by its number."""

    async def by_number(self, series: str, number: str) -> InvoiceRef | None: ...


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

    def recording_client(self, client_id: UUID, tax_id: str | None) -> InTransaction:
        """The write that keeps the client's tax id (None: it has none any more), with the append."""
        ...

    def recording_contract(self, contract_id: UUID, client_id: UUID, number: str) -> InTransaction:
        """The write that files the contract under its client, with the append."""
        ...

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

    async def record_matched_many(
        self, tx: Transaction, rows: Sequence[tuple[BankLine, UUID, str]], actor: str
    ) -> None:
        """``record_matched`` for (line, contract, rule) rows in one statement (a group commit);
        ``LineAlreadyImported`` when any line is there already."""
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
