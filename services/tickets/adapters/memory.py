"""The tickets adapters in memory, paired with ``shared.eventstore.memory.MemoryEventStore``
(application tests, no database). Same answers as the PostgreSQL tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.tickets.adapters.tickets_table import ticket_row
from services.tickets.application.ports import StoredPriceItem, TicketFilter
from services.tickets.domain.price_list import PriceItem
from services.tickets.domain.ticket import TicketState
from shared.eventstore.memory import MemoryTransaction
from shared.eventstore.ports import InTransaction
from shared.eventstore.records import RecordedEvent


class MemoryTicketsList:
    def __init__(self) -> None:
        self.rows: dict[UUID, dict[str, Any]] = {}

    def write(self, ticket: TicketState) -> InTransaction:
        async def upsert(tx: MemoryTransaction, recorded: list[RecordedEvent]) -> None:
            row = ticket_row(ticket, recorded[-1].position)  # the position is the append's
            tx.stage(lambda: self._upsert(row))

        return upsert

    def _upsert(self, row: dict[str, Any]) -> None:
        current = self.rows.get(row["ticket_id"])
        if current is None or current["version"] < row["version"]:
            self.rows[row["ticket_id"]] = row

    async def page(self, f: TicketFilter, *, limit: int, offset: int) -> list[dict[str, Any]]:
        rows = [
            r
            for r in self.rows.values()
            if (f.client_id is None or r["client_id"] == f.client_id)
            and (f.coverage_status is None or r["coverage_status"] == f.coverage_status)
            and (f.registered_from is None or r["registered_on"] >= f.registered_from)
            and (f.registered_to is None or r["registered_on"] <= f.registered_to)
        ]
        rows.sort(key=lambda r: r["ticket_id"])
        rows.sort(key=lambda r: (r["registered_on"], r["registered_at"]), reverse=True)
        return [dict(r) for r in rows[offset : offset + limit]]


class MemoryPriceList:
    def __init__(self) -> None:
        self.items_by_code: dict[str, StoredPriceItem] = {}

    async def get(self, code: str) -> PriceItem | None:
        stored = self.items_by_code.get(code)
        return None if stored is None else stored.item

    async def define(self, item: PriceItem) -> tuple[StoredPriceItem, bool]:
        current = self.items_by_code.get(item.code)
        if current is not None and current.item == item:
            return current, False
        stored = StoredPriceItem(item, 1 if current is None else current.version + 1, datetime.now(UTC))
        self.items_by_code[item.code] = stored
        return stored, current is None

    async def items(self, active: bool | None = None) -> Sequence[StoredPriceItem]:
        return [s for _, s in sorted(self.items_by_code.items()) if active is None or s.item.active == active]
