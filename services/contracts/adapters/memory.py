"""The contracts adapters in memory, paired with ``shared.eventstore.memory.MemoryEventStore``
(application tests, no database)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

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
