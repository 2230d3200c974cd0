"""The scheduler's to-do list: pending time events per contract (see migration 0002)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from uuid import UUID

import asyncpg

from services.contracts.domain.contract import ContractState
from services.contracts.domain.time_events import TimeEventDue, pending_time_events


async def replace_pending(conn: asyncpg.Connection, contract: ContractState, grace_days: int = 0) -> None:
    """Make ``contract``'s pending rows what the domain says, inside the append's transaction."""
    await write_pending(conn, contract.id, pending_time_events(contract, grace_days))


async def write_pending(conn: asyncpg.Connection, contract_id: UUID, due: Sequence[TimeEventDue]) -> None:
    """One statement (one round trip): rows whose key is no longer pending are deleted, the
    pending ones upserted. The two parts touch disjoint keys, so running them in one
    statement is safe; unchanged rows are left alone (no dead tuples per command).
    """
    await conn.execute(
        """WITH gone AS (DELETE FROM time_events_due WHERE contract_id = $1 AND key <> ALL($2::text[]))
           INSERT INTO time_events_due (contract_id, key, kind, period_id, due_on)
           SELECT $1, k, kd, p, d FROM unnest($2::text[], $3::text[], $4::uuid[], $5::date[]) AS u(k, kd, p, d)
           ON CONFLICT (contract_id, key) DO UPDATE
              SET kind = excluded.kind, period_id = excluded.period_id, due_on = excluded.due_on
              WHERE (time_events_due.kind, time_events_due.period_id, time_events_due.due_on)
                    IS DISTINCT FROM (excluded.kind, excluded.period_id, excluded.due_on)""",
        contract_id,
        [d.key for d in due],
        [d.kind for d in due],
        [d.period_id for d in due],
        [d.due_on for d in due],
    )


async def write_pending_many(conn: asyncpg.Connection, due: Mapping[UUID, Sequence[TimeEventDue]]) -> None:
    """``write_pending`` for several contracts in one statement (one round trip)."""
    rows = [(contract_id, d) for contract_id, pending in due.items() for d in pending]
    await conn.execute(
        """WITH pending AS (
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::date[]) AS u(c, k, kd, p, d)),
           gone AS (
               DELETE FROM time_events_due t WHERE t.contract_id = ANY($6::uuid[])
               AND NOT EXISTS (SELECT 1 FROM pending WHERE pending.c = t.contract_id AND pending.k = t.key))
           INSERT INTO time_events_due (contract_id, key, kind, period_id, due_on)
           SELECT c, k, kd, p, d FROM pending
           ON CONFLICT (contract_id, key) DO UPDATE
              SET kind = excluded.kind, period_id = excluded.period_id, due_on = excluded.due_on
              WHERE (time_events_due.kind, time_events_due.period_id, time_events_due.due_on)
                    IS DISTINCT FROM (excluded.kind, excluded.period_id, excluded.due_on)""",
        [c for c, _ in rows],
        [d.key for _, d in rows],
        [d.kind for _, d in rows],
        [d.period_id for _, d in rows],
        [d.due_on for _, d in rows],
        list(due),
    )


class PostgresTimeEventsDue:
    """``application.ports.TimeEventsDue`` in the ``time_events_due`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def replace(self, tx: asyncpg.Connection, contract_id: UUID, due: Sequence[TimeEventDue]) -> None:
        await write_pending(tx, contract_id, due)

    async def replace_many(self, tx: asyncpg.Connection, due: Mapping[UUID, Sequence[TimeEventDue]]) -> None:
        await write_pending_many(tx, due)

    async def contracts_due(self, as_of: date, limit: int) -> list[UUID]:
        rows = await self._pool.fetch(
            """SELECT contract_id FROM time_events_due WHERE due_on <= $1
               GROUP BY contract_id ORDER BY min(due_on), contract_id LIMIT $2""",
            as_of,
            limit,
        )
        return [r["contract_id"] for r in rows]
