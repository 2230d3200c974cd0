"""The tickets list table (migration 0002): written with each append (in its statement), read by GET /tickets."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.tickets.application.ports import TicketFilter
from services.tickets.domain.ticket import TicketState
from shared.eventstore.row_write import RowWrite
from shared.money import format_amount

_UPSERT = """
INSERT INTO tickets (ticket_id, client_id, title, registered_at, registered_on, coverage_status,
                     warning_codes, override_reason, billable, lines, totals, version, position)
SELECT $1::uuid, $2::uuid, $3::text, $4::timestamptz, $5::date, $6::text, $7::text[], $8::text,
       $9::boolean, $10::integer, $11::jsonb, $12::integer, appended.position
FROM appended
ON CONFLICT (ticket_id) DO UPDATE SET
    billable = EXCLUDED.billable, lines = EXCLUDED.lines, totals = EXCLUDED.totals,
    version = EXCLUDED.version, position = EXCLUDED.position
WHERE tickets.version < EXCLUDED.version
"""
"""The row of a ticket, at the position of its stream's last event (``appended.position``: a
``RowWrite``, sent in the append's own statement when it goes alone)."""


def ticket_row(state: TicketState, position: int | None = None) -> dict[str, Any]:
    """A ticket's row in the list, column by column (the order of ``_UPSERT``'s columns; its
    position the append's)."""
    return {
        "ticket_id": state.id,
        "client_id": state.client_id,
        "title": state.title,
        "registered_at": state.registered_at,
        "registered_on": state.registered_on,
        "coverage_status": state.coverage.status,
        "warning_codes": [w.code for w in state.coverage.warnings],
        "override_reason": state.override_reason,
        "billable": state.billable,
        "lines": len(state.lines),
        "totals": [{"amount": format_amount(v, k), "currency": k} for k, v in state.totals.items()],
        "version": state.version,
        "position": position,
    }


class TicketsTable:
    """``application.ports.TicketsList`` in the ``tickets`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    def write(self, ticket: TicketState) -> RowWrite:
        row = ticket_row(ticket)
        del row["position"]  # the append's: ``appended.position``
        return RowWrite.of(_UPSERT, *row.values())

    async def page(self, f: TicketFilter, *, limit: int, offset: int) -> list[dict[str, Any]]:
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
            f.client_id,
            f.coverage_status,
            f.registered_from,
            f.registered_to,
            limit,
            offset,
        )
        return [dict(r) for r in rows]
