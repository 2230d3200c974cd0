"""The scheduler's to-do list: pending time events per contract (see migration 0002)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from uuid import UUID

import asyncpg

from services.contracts.domain.time_events import TimeEventDue
from shared.eventstore.row_write import RowWrite

_DROP_NOT_PENDING = """DELETE FROM time_events_due
WHERE contract_id = $1 AND key <> ALL($2::text[]) AND EXISTS (SELECT FROM appended)"""
_UPSERT_PENDING = """INSERT INTO time_events_due (contract_id, key, kind, period_id, due_on)
SELECT $1::uuid, k, kd, p, d
FROM appended, unnest($2::text[], $3::text[], $4::uuid[], $5::date[]) AS u(k, kd, p, d)
ON CONFLICT (contract_id, key) DO UPDATE
   SET kind = excluded.kind, period_id = excluded.period_id, due_on = excluded.due_on
   WHERE (time_events_due.kind, time_events_due.period_id, time_events_due.due_on)
         IS DISTINCT FROM (excluded.kind, excluded.period_id, excluded.due_on)"""


def pending_rows(contract_id: UUID, due: Sequence[TimeEventDue]) -> RowWrite:
    """The contract's rows made ``due``, with its append (in the append's own statement when it
    goes alone): rows whose key is no longer pending are deleted, the pending ones upserted. The
    two parts touch disjoint keys, so one statement holds both; unchanged rows are left alone
    (no dead tuples per command)."""
    keys = [d.key for d in due]
    kinds, periods, days = [d.kind for d in due], [d.period_id for d in due], [d.due_on for d in due]
    return RowWrite.of(_DROP_NOT_PENDING, contract_id, keys) + RowWrite.of(
        _UPSERT_PENDING, contract_id, keys, kinds, periods, days
    )


async def write_pending_many(conn: asyncpg.Connection, due: Mapping[UUID, Sequence[TimeEventDue]]) -> None:
    """``pending_rows`` for several contracts in one statement (one round trip, a group's)."""
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

    def replacing(self, contract_id: UUID, due: Sequence[TimeEventDue]) -> RowWrite:
        return pending_rows(contract_id, due)

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
