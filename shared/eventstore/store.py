"""The event store: append with an expected version, read a stream, read everything in order.

One append is one transaction: the events, the outbox messages routed from them, and
whatever the caller's ``also`` hook writes (a service's own bookkeeping) commit together or
not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.records import ANY_VERSION, CommandContext, NewEvent, RecordedEvent
from shared.outbox.messages import OutboxRouter, enqueue

AlsoInTransaction = Callable[[asyncpg.Connection, list[RecordedEvent]], Awaitable[None]]

_COLUMNS = """position, event_id, stream_id, stream_version, event_type, schema_version,
    partition_key, data, occurred_at, recorded_at, correlation_id, causation_id, actor"""

_INSERT = f"""
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,
                    partition_key, data, occurred_at, correlation_id, causation_id, actor)
SELECT a, b, c, d, e, f, g, h, i, j, k
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::text[],
            $7::jsonb[], $8::timestamptz[], $9::text[], $10::text[], $11::text[])
     WITH ORDINALITY AS u(a, b, c, d, e, f, g, h, i, j, k, n)
ORDER BY n
RETURNING {_COLUMNS}
"""


def _record(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(**dict(row))


class EventStore:
    def __init__(self, pool: asyncpg.Pool, router: OutboxRouter | None = None) -> None:
        self._pool = pool
        self._router = router

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version", stream_id)
        return [_record(r) for r in rows]

    async def read_all(self, after_position: int = 0, limit: int = 10_000) -> list[RecordedEvent]:
        """Committed events after a position, in position order (for replays and audits).

        A position taken earlier can commit later across different keys, so a reader that
        tails this must re-read from its last position, not trust that gaps stay empty. For
        one key, order is exact (see the advisory lock in ``append``).
        """
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            after_position, limit)
        return [_record(r) for r in rows]

    async def stream_version(self, stream_id: str) -> int:
        v = await self._pool.fetchval(
            "SELECT max(stream_version) FROM events WHERE stream_id = $1", stream_id)
        return v or 0

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        partition_key: str,
        ctx: CommandContext,
        also: AlsoInTransaction | None = None,
    ) -> list[RecordedEvent]:
        """Append ``events`` after ``expected_version`` (NEW_STREAM, an exact version, or ANY).

        Raises ConcurrencyError when the stream moved on; nothing is written then.
        """
        if not events:
            return []
        async with self._pool.acquire() as conn, conn.transaction():
            # Same key -> commits in position order; the relay and consumers rely on it.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", partition_key)
            current = await conn.fetchval(
                "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1", stream_id)
            if expected_version != ANY_VERSION and current != expected_version:
                raise ConcurrencyError(stream_id, expected_version, current)
            recorded = await self._insert(conn, stream_id, current, events, partition_key, ctx)
            if self._router is not None:
                await enqueue(conn, [m for r in recorded for m in self._router(r)])
            if also is not None:
                await also(conn, recorded)
        return recorded

    async def _insert(
        self, conn: asyncpg.Connection, stream_id: str, current: int,
        events: Sequence[NewEvent], partition_key: str, ctx: CommandContext,
    ) -> list[RecordedEvent]:
        n = len(events)
        columns: list[list[Any]] = [
            [e.event_id for e in events], [stream_id] * n,
            [current + i + 1 for i in range(n)], [e.event_type for e in events],
            [e.schema_version for e in events], [partition_key] * n,
            [e.data for e in events], [e.occurred_at for e in events],
            [ctx.correlation_id] * n, [ctx.causation_id] * n, [ctx.actor] * n,
        ]
        try:
            rows = await conn.fetch(_INSERT, *columns)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "events_stream_version_key":
                raise ConcurrencyError(stream_id, current) from exc
            raise
        return sorted((_record(r) for r in rows), key=lambda r: r.stream_version)
