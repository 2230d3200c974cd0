"""The contracts adapters in memory, paired with ``shared.eventstore.memory.MemoryEventStore``
(application tests, no database)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID

from services.contracts.adapters.invoices_table import claims
from services.contracts.application.ports import InvoiceNumberTaken, InvoiceRef, KeptReceipt, LineAlreadyImported
from services.contracts.domain.statements.lines import BankLine
from services.contracts.domain.time_events import TimeEventDue
from shared.domain_errors import Conflict
from shared.eventstore.memory import MemoryTransaction, staged
from shared.eventstore.ports import InTransaction


class MemoryTimeEventsDue:
    """``application.ports.TimeEventsDue`` as a dict; writes land when the append commits."""

    def __init__(self) -> None:
        self.pending: dict[UUID, tuple[TimeEventDue, ...]] = {}

    def replacing(self, contract_id: UUID, due: Sequence[TimeEventDue]) -> InTransaction:
        rows = tuple(due)
        return staged(lambda: self._set(contract_id, rows))

    async def replace_many(self, tx: MemoryTransaction, due: Mapping[UUID, Sequence[TimeEventDue]]) -> None:
        for contract_id, rows in due.items():
            await self.replacing(contract_id, rows)(tx, [])

    def _set(self, contract_id: UUID, rows: tuple[TimeEventDue, ...]) -> None:
        if rows:
            self.pending[contract_id] = rows
        else:
            self.pending.pop(contract_id, None)

    async def contracts_due(self, as_of: date, limit: int) -> list[UUID]:
        earliest = {
            c: min(d.due_on for d in rows) for c, rows in self.pending.items() if any(d.due_on <= as_of for d in rows)
        }
        return sorted(earliest, key=lambda c: (earliest[c], c))[:limit]


class MemoryInvoiceBook:
    """``application.ports.InvoiceBook`` and ``InvoiceLookup`` as dicts: the counter moves
    (compare-and-set, checked at once under the store's lock) when the append commits."""

    def __init__(self) -> None:
        self.counters: dict[tuple[str, int], int] = {}
        self.invoices: dict[UUID, InvoiceRef] = {}
        self.numbers: dict[tuple[str, str], InvoiceRef] = {}

    async def next_seq(self, series: str, year: int) -> int:
        return self.counters.get((series, year), 0) + 1

    async def record(self, tx: MemoryTransaction, series: str, invoices: Sequence[InvoiceRef]) -> None:
        moves = claims(invoices)
        for year, (first, _) in moves.items():
            if self.counters.get((series, year), 0) != first - 1:
                raise InvoiceNumberTaken(f"invoice numbers {year}-{first:06d}.. were taken meanwhile")
        rows = tuple(invoices)

        def commit() -> None:
            for year, (_, last) in moves.items():
                self.counters[(series, year)] = last
            self.invoices.update((i.invoice_id, i) for i in rows)
            self.numbers.update(((series, i.number), i) for i in rows)

        tx.stage(commit)

    async def contract_of(self, invoice_id: UUID) -> UUID | None:
        ref = self.invoices.get(invoice_id)
        return None if ref is None else ref.contract_id

    async def by_number(self, series: str, number: str) -> InvoiceRef | None:
        return self.numbers.get((series, number.strip()))


class MemoryPayerDirectory:
    """``application.ports.PayerDirectory`` as dicts; writes land when the append commits."""

    def __init__(self) -> None:
        self.tax_ids: dict[UUID, str] = {}
        self.contracts: dict[UUID, tuple[UUID, str]] = {}

    def recording_client(self, client_id: UUID, tax_id: str | None) -> InTransaction:
        def keep() -> None:
            if tax_id is None:
                self.tax_ids.pop(client_id, None)
            else:
                self.tax_ids[client_id] = tax_id

        return staged(keep)

    def recording_contract(self, contract_id: UUID, client_id: UUID, number: str) -> InTransaction:
        def keep() -> None:
            self.contracts.setdefault(contract_id, (client_id, number))

        return staged(keep)

    async def contracts_paid_by(self, tax_ids: Collection[str]) -> dict[str, list[UUID]]:
        found: dict[str, list[UUID]] = {}
        for contract_id, (client_id, _) in sorted(self.contracts.items()):
            tax_id = self.tax_ids.get(client_id)
            if tax_id is not None and tax_id in tax_ids:
                found.setdefault(tax_id, []).append(contract_id)
        return found


class MemoryStatementLedger:
    """``application.ports.StatementLedger`` as a dict in import order."""

    def __init__(self) -> None:
        self.rows: dict[UUID, KeptReceipt] = {}

    async def imported(self, ids: Collection[UUID]) -> set[UUID]:
        return {i for i in ids if i in self.rows}

    def _keep(self, line: BankLine, status: str, reason: str | None, contract_id: UUID | None, actor: str) -> bool:
        if line.id in self.rows:
            return False
        self.rows[line.id] = KeptReceipt(
            line.id, line, line.reference, status, reason, contract_id, datetime.now(UTC), actor
        )
        return True

    async def record_matched(
        self, tx: MemoryTransaction, line: BankLine, contract_id: UUID, rule: str, actor: str
    ) -> None:
        if line.id in self.rows:
            raise LineAlreadyImported(line.id)

        def keep() -> None:
            self._keep(line, "matched", None, contract_id, actor)

        tx.stage(keep)

    async def record_matched_many(
        self, tx: MemoryTransaction, rows: Sequence[tuple[BankLine, UUID, str]], actor: str
    ) -> None:
        for line, contract_id, rule in rows:
            await self.record_matched(tx, line, contract_id, rule, actor)

    async def keep_unallocated(self, lines: Sequence[tuple[BankLine, str]], actor: str) -> set[UUID]:
        return {line.id for line, reason in lines if self._keep(line, "unallocated", reason, None, actor)}

    async def unallocated(self, limit: int, offset: int) -> list[KeptReceipt]:
        return [r for r in self.rows.values() if r.status == "unallocated"][offset : offset + limit]

    async def get(self, receipt_id: UUID) -> KeptReceipt | None:
        return self.rows.get(receipt_id)

    async def mark_allocated(
        self, tx: MemoryTransaction | None, receipt_id: UUID, contract_id: UUID, actor: str
    ) -> None:
        kept = self.rows.get(receipt_id)
        if kept is None or kept.status != "unallocated":
            raise Conflict("receipt_allocated", f"bank receipt {receipt_id} is no longer unallocated", "receipt_id")
        done = replace(kept, status="allocated", contract_id=contract_id)
        if tx is None:
            self.rows[receipt_id] = done
        else:
            tx.stage(lambda: self.rows.__setitem__(receipt_id, done))
