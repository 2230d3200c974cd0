"""The contracts adapters in memory, paired with ``shared.eventstore.memory.MemoryEventStore``
(application tests, no database)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from services.contracts.adapters.invoices_table import claims
from services.contracts.application.ports import InvoiceNumberTaken, InvoiceRef
from services.contracts.domain.time_events import TimeEventDue
from shared.eventstore.memory import MemoryTransaction


class MemoryTimeEventsDue:
    """``application.ports.TimeEventsDue`` as a dict; writes land when the append commits."""

    def __init__(self) -> None:
        self.pending: dict[UUID, tuple[TimeEventDue, ...]] = {}

    async def replace(self, tx: MemoryTransaction, contract_id: UUID, due: Sequence[TimeEventDue]) -> None:
        rows = tuple(due)
        tx.stage(lambda: self._set(contract_id, rows))

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

        tx.stage(commit)

    async def contract_of(self, invoice_id: UUID) -> UUID | None:
        ref = self.invoices.get(invoice_id)
        return None if ref is None else ref.contract_id

    async def by_number(self, number: str) -> InvoiceRef | None:
        return next((i for i in self.invoices.values() if i.number == number.strip()), None)
