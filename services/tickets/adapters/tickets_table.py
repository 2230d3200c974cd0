"""The tickets list table (migration 0002): written with each append, read by GET /tickets."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.tickets.application.ports import TicketFilter
from services.tickets.domain.ticket import TicketState
from shared.eventstore.records import RecordedEvent
from shared.money import format_amount

_UPSERT = """
INSERT INTO tickets (ticket_id, client_id, title, registered_at, registered_on, coverage_status,
                     warning_codes, override_reason, billable, lines, totals, version, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (ticket_id) DO UPDATE SET
    billable = EXCLUDED.billable, lines = EXCLUDED.lines, totals = EXCLUDED.totals,
    version = EXCLUDED.version, position = EXCLUDED.position
WHERE tickets.version < EXCLUDED.version
"""


async def save_row(conn: asyncpg.Connection, state: TicketState, recorded: list[RecordedEvent]) -> None:
    """The ``also`` hook: runs inside the append's transaction."""
    await conn.execute(
        _UPSERT, state.id, state.client_id, state.title, state.registered_at, state.registered_on,
        state.coverage.status, [w.code for w in state.coverage.warnings], state.override_reason,
        state.billable, len(state.lines),
        [{"amount": format_amount(v, k), "currency": k} for k, v in state.totals.items()],
        state.version, recorded[-1].position)


class TicketsTable:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def page(self, f: TicketFilter, *, limit: int, offset: int) -> list[dict[str, Any]]:
        """Rows newest first (registration date, then time, then id), ``limit`` from ``offset``."""
        rows = await self._pool.fetch(
            """SELECT ticket_id, client_id, title, registered_at, registered_on, coverage_status,
                      warning_codes, override_reason, billable, lines, totals, version, position
               FROM tickets
               WHERE ($1::uuid IS NULL OR client_id = $1)
                 AND ($2::text IS NULL OR coverage_status = $2)
                 AND ($3::date IS NULL OR registered_on >= $3)
                 AND ($4::date IS NULL OR registered_on <= $4)
               ORDER BY registered_on DESC, registered_at DESC, ticket_id
               LIMIT $5 OFFSET $6""",
            f.client_id, f.coverage_status, f.registered_from, f.registered_to, limit, offset)
        return [dict(r) for r in rows]
