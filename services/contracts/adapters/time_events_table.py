"""The scheduler's to-do list: pending time events per contract (see migration 0002)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from services.contracts.domain.contract import ContractState
from services.contracts.domain.time_events import pending_time_events


async def replace_pending(conn: asyncpg.Connection, contract: ContractState) -> None:
    """Rewrite ``contract``'s pending rows inside the append's transaction."""
    due = pending_time_events(contract)
    await conn.execute("DELETE FROM time_events_due WHERE contract_id = $1", contract.id)
    if due:
        await conn.executemany(
            "INSERT INTO time_events_due (contract_id, key, kind, period_id, due_on) VALUES ($1, $2, $3, $4, $5)",
            [(contract.id, d.key, d.kind, d.period_id, d.due_on) for d in due])


async def contracts_due(pool: asyncpg.Pool, as_of: date, limit: int) -> list[UUID]:
    rows = await pool.fetch(
        """SELECT contract_id FROM time_events_due WHERE due_on <= $1
           GROUP BY contract_id ORDER BY min(due_on), contract_id LIMIT $2""", as_of, limit)
    return [r["contract_id"] for r in rows]
