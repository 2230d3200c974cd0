"""The event store: append with an expected version, read a stream, read everything in order.

One append is one transaction: the events, the outbox messages routed from them, and
whatever the caller's ``in_transaction`` hook writes (a service's own bookkeeping) commit together or
not at all. Implements ``shared.eventstore.ports.EventStore``; the hook gets the
``asyncpg.Connection`` of the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import asyncpg
from prometheus_client import Counter

from shared import tracing
from shared.db.locks import key_lock
from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.group_commit import GroupCommit, Queued
from shared.eventstore.ports import InTransaction, InTransactionMany
from shared.eventstore.records import ANY_VERSION, Append, CommandContext, NewEvent, PendingEvent, RecordedEvent
from shared.eventstore.row_write import RowWrite, with_append
from shared.outbox.messages import OutboxRouter, enqueue, stamped

_COLUMNS = """position, event_id, stream_id, stream_version, event_type, schema_version,
    partition_key, data, occurred_at, recorded_at, correlation_id, causation_id, actor"""

_APPEND = """SELECT appended_position, appended_version, appended_at
FROM eventstore_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"""
"""The key's lock, the version check, the events, their outbox rows and the relay's wake-up in
one round trip (the function: shared/eventstore/sql/0004_append_function.sql). Without the
caller's own writes it runs alone, in autocommit: one statement is one transaction."""


_APPEND_MANY = f"""
WITH heads AS (
    SELECT s, x, coalesce((SELECT max(stream_version) FROM events WHERE stream_id = s), 0) AS v
    FROM unnest($1::text[], $2::int[]) AS h(s, x)),
ok AS (SELECT bool_and(x = {ANY_VERSION} OR v = x) AS fine FROM heads)
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,
                    partition_key, data, occurred_at, correlation_id, causation_id, actor)
SELECT u.a, u.s, heads.v + u.n, u.d, u.e, u.k, u.g, u.h, $11, $12, $13
FROM ok, unnest($3::uuid[], $4::text[], $5::int[], $6::text[], $7::int[], $8::text[], $9::jsonb[],
                $10::timestamptz[]) WITH ORDINALITY AS u(a, s, n, d, e, k, g, h, o)
JOIN heads ON heads.s = u.s
WHERE ok.fine
ORDER BY u.o
RETURNING {_COLUMNS}
"""
"""``_APPEND`` for several streams (each once): every head is checked, and either all events
are inserted, in the order given (``n`` numbers each stream's events from 1), or none."""


VERSION_CONFLICTS = Counter(
    "eventstore_version_conflicts_total",
    "Appends refused because the stream moved on since it was read (each is retried or answered 409)",
    ["service"],
)


def _record(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(**dict(row))


class PostgresEventStore:
    def __init__(
        self,
        pool: asyncpg.Pool,
        router: OutboxRouter | None = None,
        *,
        service: str = "unknown",
        group_commit: bool = False,
    ) -> None:
        """``group_commit``: appends of concurrent commands on different streams are written
        together, with the callers' own writes, in one transaction (``shared.eventstore.group_commit``)."""
        self._pool = pool
        self._router = router
        self._conflicts = VERSION_CONFLICTS.labels(service)
        self._group = GroupCommit(pool, self._conflicts.inc) if group_commit else None

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version", stream_id
        )
        return [_record(r) for r in rows]

    async def read_payloads(self, stream_id: str) -> list[tuple[str, int, dict[str, Any]]]:
        """(event_type, schema_version, data) of a stream in order: all that folding needs."""
        rows = await self._pool.fetch(
            "SELECT event_type, schema_version, data FROM events WHERE stream_id = $1 ORDER BY stream_version",
            stream_id,
        )
        return [tuple(r) for r in rows]

    async def read_all(self, after_position: int = 0, limit: int = 10_000) -> list[RecordedEvent]:
        """Committed events after a position, in position order (for replays and audits).

        A position taken earlier can commit later across different keys, so a reader that
        tails this must re-read from its last position, not trust that gaps stay empty. For
        one key, order is exact (see the advisory lock in ``append``).
        """
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2", after_position, limit
        )
        return [_record(r) for r in rows]

    async def stream_version(self, stream_id: str) -> int:
        v = await self._pool.fetchval("SELECT max(stream_version) FROM events WHERE stream_id = $1", stream_id)
        return v or 0

    async def position_at(self, stream_id: str, stream_version: int) -> int | None:
        """The position the event at ``stream_version`` of ``stream_id`` got (None: no such event)."""
        position: int | None = await self._pool.fetchval(
            "SELECT position FROM events WHERE stream_id = $1 AND stream_version = $2", stream_id, stream_version
        )
        return position

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        partition_key: str,
        ctx: CommandContext,
        in_transaction: InTransaction | None = None,
    ) -> list[RecordedEvent]:
        """Append ``events`` after ``expected_version`` (NEW_STREAM, an exact version, or ANY).

        Raises ConcurrencyError when the stream moved on; nothing is written then.
        """
        if not events:
            return []
        if not tracing.enabled():
            return await self._append(stream_id, expected_version, events, partition_key, ctx, in_transaction)
        with tracing.span("eventstore append", stream=stream_id, events=len(events)):
            return await self._append(stream_id, expected_version, events, partition_key, ctx, in_transaction)

    async def _append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        partition_key: str,
        ctx: CommandContext,
        in_transaction: InTransaction | None,
    ) -> list[RecordedEvent]:
        pending = [PendingEvent.of(stream_id, partition_key, e, ctx) for e in events]
        messages = [(n, m) for n, p in enumerate(pending, start=1) for m in self._router(p)] if self._router else []
        args = (
            key_lock(partition_key),  # same key -> commits in position order; the relay and consumers rely on it
            stream_id,
            expected_version,
            partition_key,
            ctx.correlation_id,
            ctx.causation_id,
            ctx.actor,
            [e.event_id for e in events],
            [e.event_type for e in events],
            [e.schema_version for e in events],
            [e.data for e in events],
            [e.occurred_at for e in events],
            [m.topic for _, m in messages],
            [m.key for _, m in messages],
            [m.event_id for _, m in messages],
            [m.payload for _, m in messages],
            [m.headers for _, m in messages],
            [n if m.stamp else None for n, m in messages],
        )
        if self._group is not None:
            return await self._group.append(
                Queued(
                    stream_id,
                    expected_version,
                    pending,
                    messages,
                    args[0],
                    in_transaction,
                    lambda: self._alone(stream_id, expected_version, pending, args, in_transaction),
                )
            )
        return await self._alone(stream_id, expected_version, pending, args, in_transaction)

    async def _alone(
        self,
        stream_id: str,
        expected_version: int,
        pending: list[PendingEvent],
        args: tuple[Any, ...],
        in_transaction: InTransaction | None,
    ) -> list[RecordedEvent]:
        """The append as one call of ``eventstore_append``: alone, in autocommit (one round trip),
        with the caller's write when it is a :class:`RowWrite` (in the same statement); with
        other writes of the caller's, in a transaction of its own."""
        async with self._pool.acquire() as conn:
            if in_transaction is None:
                return self._recorded(stream_id, expected_version, pending, await self._call(conn, args))
            if isinstance(in_transaction, RowWrite):
                sql = with_append(_APPEND, len(args), in_transaction.shape)
                rows = await self._call(conn, (*args, *in_transaction.args), sql)
                return self._recorded(stream_id, expected_version, pending, rows)
            await conn.execute("BEGIN")
            try:  # the rest of the transaction is ours to end (on any failure the pool's reset rolls back as well)
                recorded = self._recorded(stream_id, expected_version, pending, await self._call(conn, args))
                await in_transaction(conn, recorded)
                await conn.execute("COMMIT")
            except BaseException:
                with suppress(Exception):  # a broken connection is reset (rolled back) by the pool
                    await conn.execute("ROLLBACK")
                raise
        return recorded

    async def _call(self, conn: asyncpg.Connection, args: tuple[Any, ...], sql: str = _APPEND) -> list[asyncpg.Record]:
        try:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "events_stream_version_key":  # written under another key's lock
                self._conflicts.inc()
                raise ConcurrencyError(args[1], args[2]) from exc
            raise
        return rows

    def _recorded(
        self, stream_id: str, expected_version: int, pending: list[PendingEvent], rows: list[asyncpg.Record]
    ) -> list[RecordedEvent]:
        if rows[0][0] is None:  # the stream is not at the expected version: nothing was written
            self._conflicts.inc()
            raise ConcurrencyError(stream_id, expected_version, rows[0][1])
        return [p.recorded(row[0], row[1], row[2]) for p, row in zip(pending, rows, strict=True)]

    async def append_many(
        self, appends: Sequence[Append], *, ctx: CommandContext, in_transaction: InTransactionMany | None = None
    ) -> list[list[RecordedEvent]]:
        """``EventStore.append_many``: one transaction, one lock statement, one insert and one
        outbox insert for every stream (a stream appears at most once)."""
        appends = [a for a in appends if a.events]
        if not appends:
            return []
        if len({a.stream_id for a in appends}) < len(appends):
            raise ValueError("append_many: a stream appears twice (decide its events together)")
        # Every key's lock, in one order for every writer (no deadlock between two groups; a
        # single append holds one key): per key, insert order = commit order, as in ``append``.
        locks = ",".join(str(k) for k in sorted({key_lock(a.partition_key) for a in appends}))
        with tracing.span("eventstore append_many", streams=len(appends)):
            async with self._pool.acquire() as conn:
                await conn.execute(
                    f"BEGIN; SELECT count(pg_advisory_xact_lock(k)) FROM unnest('{{{locks}}}'::bigint[]) AS k"
                )
                try:
                    recorded = await self._insert_many(conn, appends, ctx)
                    if self._router is not None:
                        await enqueue(conn, [stamped(m, r) for part in recorded for r in part for m in self._router(r)])
                    if in_transaction is not None:
                        await in_transaction(conn, recorded)
                    await conn.execute("COMMIT")
                except BaseException:
                    with suppress(Exception):
                        await conn.execute("ROLLBACK")
                    raise
        return recorded

    async def _insert_many(
        self, conn: asyncpg.Connection, appends: Sequence[Append], ctx: CommandContext
    ) -> list[list[RecordedEvent]]:
        events = [(a, n, e) for a in appends for n, e in enumerate(a.events, start=1)]
        try:
            rows = await conn.fetch(
                _APPEND_MANY,
                [a.stream_id for a in appends],
                [a.expected_version for a in appends],
                [e.event_id for _, _, e in events],
                [a.stream_id for a, _, _ in events],
                [n for _, n, _ in events],
                [e.event_type for _, _, e in events],
                [e.schema_version for _, _, e in events],
                [a.partition_key for a, _, _ in events],
                [e.data for _, _, e in events],
                [e.occurred_at for _, _, e in events],
                ctx.correlation_id,
                ctx.causation_id,
                ctx.actor,
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "events_stream_version_key":
                self._conflicts.inc()
                raise ConcurrencyError(appends[0].stream_id, appends[0].expected_version) from exc
            raise
        if not rows:
            heads = dict(
                await conn.fetch(
                    "SELECT stream_id, max(stream_version) FROM events WHERE stream_id = ANY($1::text[]) GROUP BY 1",
                    [a.stream_id for a in appends],
                )
            )
            self._conflicts.inc()
            clash = next(
                (
                    a
                    for a in appends
                    if a.expected_version != ANY_VERSION and heads.get(a.stream_id, 0) != a.expected_version
                ),
                appends[0],
            )
            raise ConcurrencyError(clash.stream_id, clash.expected_version, heads.get(clash.stream_id, 0))
        by_stream: dict[str, list[RecordedEvent]] = {}
        for row in rows:
            by_stream.setdefault(row["stream_id"], []).append(_record(row))
        return [sorted(by_stream[a.stream_id], key=lambda r: r.stream_version) for a in appends]
