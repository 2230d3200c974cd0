"""Group commit: appends of concurrent commands on different streams written in one transaction.

An append costs a round trip, a statement and a commit whatever it carries; measured, eight
streams in one transaction cost about a quarter of the CPU per stream of eight separate
appends, in this process and in PostgreSQL alike (``python -m bench.append_cost``; figures in
docs/decisions/performance.md). So appends queue here, and one writer at a time takes what has
queued — up to ``max_streams``, each stream once — and writes it in one transaction (up to
``writers`` such transactions at once):

1. ``BEGIN`` and every key's advisory lock, in one sorted order (as ``append_many``: per key,
   insert order = commit order, and no two groups wait on each other);
2. the insert of every event whose stream is at its expected version (checked in the same
   statement, after the locks: its snapshot sees every commit of those keys);
3. their outbox rows, stamped with the positions just assigned, and the relay's wake-up;
4. each member's own writes (``in_transaction``: the scheduler's rows, the payer directory…)
   on the group's connection: the ``RowWrite`` s of one shape in one round trip, others one
   after another (``shared.eventstore.row_write.run_each``);
5. ``COMMIT``.

Nothing waits for a group to fill: an append finding the writer idle is written at once, alone,
by the one-call path (``eventstore_append``); what queues while a write is in flight goes next,
together. What one member's failure does to the others:

- a stream not at its expected version: only its command gets ``ConcurrencyError`` (the others
  are written, it is not, and its own writes do not run);
- any failure before the commit (a duplicate event id, a stream version taken under another
  key's lock, one member's own writes raising, a connection lost): the transaction rolls back
  and every member is written again alone, so each gets its own outcome (the failing one its
  error, the others their events);
- the commit's answer lost with the connection: every member gets that error, as a single
  append would — committed or not, the same for all. A cancelled writer cancels every member.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.ports import InTransaction
from shared.eventstore.records import ANY_VERSION, PendingEvent, RecordedEvent
from shared.eventstore.row_write import run_each
from shared.outbox.messages import OutboxMessage, enqueue, stamped

MAX_STREAMS = 64
"""Streams per group at most (one statement's arrays)."""
WRITERS = 4
"""Groups in flight at once. One writer would serialise every append of the process behind one
transaction's round trips (the members' own writes run one after another); a few keep the
connections busy while what queues meanwhile still goes together."""

_INSERT = f"""
WITH heads AS (
    SELECT s, x, coalesce((SELECT max(stream_version) FROM events WHERE stream_id = s), 0) AS v
    FROM unnest($1::text[], $2::int[]) AS h(s, x))
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,
                    partition_key, data, occurred_at, correlation_id, causation_id, actor)
SELECT u.a, u.s, heads.v + u.n, u.d, u.e, u.k, u.g, u.h, u.c, u.z, u.r
FROM unnest($3::uuid[], $4::text[], $5::int[], $6::text[], $7::int[], $8::text[], $9::jsonb[],
            $10::timestamptz[], $11::text[], $12::text[], $13::text[])
     WITH ORDINALITY AS u(a, s, n, d, e, k, g, h, c, z, r, o)
JOIN heads ON heads.s = u.s
WHERE heads.x = {ANY_VERSION} OR heads.v = heads.x
ORDER BY u.o
RETURNING stream_id, stream_version, position, recorded_at
"""
"""Every event of the streams at their expected version, in the order given (``n`` numbers a
stream's events from 1); a stream that moved on gets no rows."""


@dataclass(eq=False)
class Queued:
    """One command's append, waiting for a group."""

    stream_id: str
    expected_version: int
    pending: list[PendingEvent]
    messages: list[tuple[int, OutboxMessage]]
    """Each outbox message with the 1-based number of the event (in ``pending``) it was routed from."""
    lock: int
    in_transaction: InTransaction | None
    """The caller's own writes, run in the group's transaction after the events are inserted."""
    alone: Callable[[], Awaitable[list[RecordedEvent]]]
    """The same append written by itself (the one-call path)."""
    done: asyncio.Future[list[RecordedEvent]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def _settle(q: Queued, result: list[RecordedEvent] | BaseException) -> None:
    if q.done.done():  # the caller was cancelled meanwhile
        return
    if isinstance(result, BaseException):
        q.done.set_exception(result)
    else:
        q.done.set_result(result)


class GroupCommit:
    def __init__(
        self,
        pool: asyncpg.Pool,
        on_conflict: Callable[[], None],
        max_streams: int = MAX_STREAMS,
        writers: int = WRITERS,
    ) -> None:
        self._pool = pool
        self._on_conflict = on_conflict
        self._max = max_streams
        self._writers = writers
        self._queue: list[Queued] = []
        self._running: set[asyncio.Task[None]] = set()

    async def append(self, q: Queued) -> list[RecordedEvent]:
        self._queue.append(q)
        if len(self._running) < self._writers:
            self._running.add(asyncio.get_running_loop().create_task(self._write_queued()))
        return await q.done

    async def _write_queued(self) -> None:
        batch: list[Queued] = []
        try:
            while self._queue:
                batch, later, seen = [], [], set()
                for q in self._queue:
                    if q.done.done():  # cancelled before it was sent: not written, as a single append
                        continue
                    if q.stream_id in seen or len(batch) >= self._max:
                        later.append(q)  # one stream once per group: its next append is decided on the first
                    else:
                        seen.add(q.stream_id)
                        batch.append(q)
                self._queue = later
                if len(batch) == 1:
                    await self._alone(batch[0])
                elif batch:
                    await self._write(batch)
        except BaseException as exc:  # the writer itself failed or was cancelled: nobody waits forever
            for q in [*batch, *self._queue]:
                if not q.done.done():
                    q.done.cancel() if isinstance(exc, asyncio.CancelledError) else q.done.set_exception(exc)
            self._queue = []
            raise
        finally:  # at once, not in a done-callback: an append queued from now on starts a writer
            self._running.discard(asyncio.current_task())

    async def _alone(self, q: Queued) -> None:
        try:
            _settle(q, await q.alone())
        except Exception as exc:  # noqa: BLE001 - handed to the command that made it, raised there
            _settle(q, exc)

    async def _write(self, batch: list[Queued]) -> None:
        committing = [False]
        try:
            outcomes = await self._transaction(batch, committing)
        except Exception as exc:  # noqa: BLE001 - handed to every member, or each member goes alone
            if committing[0] and not isinstance(exc, asyncpg.PostgresError):
                for q in batch:  # the COMMIT's answer was lost: committed or not, the same for all
                    _settle(q, exc)
                return
            # rolled back for all (one member's statement or write failed, or the connection
            # before the commit): each alone, each with its own outcome
            await asyncio.gather(*(self._alone(q) for q in batch))
            return
        for q, outcome in zip(batch, outcomes, strict=True):
            _settle(q, outcome)

    async def _transaction(
        self, batch: list[Queued], committing: list[bool]
    ) -> list[list[RecordedEvent] | BaseException]:
        events = [(q, n, p) for q in batch for n, p in enumerate(q.pending, start=1)]
        locks = ",".join(str(k) for k in sorted({q.lock for q in batch}))
        async with self._pool.acquire() as conn:
            await conn.execute(
                f"BEGIN; SELECT count(pg_advisory_xact_lock(k)) FROM unnest('{{{locks}}}'::bigint[]) AS k"
            )
            try:
                rows = await conn.fetch(_INSERT, *_insert_args(batch, events))
                at: dict[tuple[str, int], asyncpg.Record] = {(r[0], r[1]): r for r in rows}
                first: dict[str, int] = {}  # each stream's first new version
                for stream_id, version in at:
                    first[stream_id] = min(version, first.get(stream_id, version))
                outcomes: list[list[RecordedEvent] | BaseException] = []
                messages: list[OutboxMessage] = []
                for q in batch:
                    if q.stream_id not in first:
                        self._on_conflict()
                        outcomes.append(ConcurrencyError(q.stream_id, q.expected_version))
                        continue
                    start = first[q.stream_id]
                    recorded = [p.recorded(*_assigned(at[(q.stream_id, start + i)])) for i, p in enumerate(q.pending)]
                    messages += [stamped(m, recorded[n - 1]) if m.stamp else m for n, m in q.messages]
                    outcomes.append(recorded)
                await enqueue(conn, messages)
                await run_each(
                    conn,
                    [
                        (q.in_transaction, outcome)
                        for q, outcome in zip(batch, outcomes, strict=True)
                        if q.in_transaction is not None and isinstance(outcome, list)
                    ],
                )
                committing[0] = True
                await conn.execute("COMMIT")
            except BaseException:
                with suppress(Exception):  # a broken connection is reset (rolled back) by the pool
                    await conn.execute("ROLLBACK")
                raise
        return outcomes


def _insert_args(batch: list[Queued], events: list[tuple[Queued, int, PendingEvent]]) -> tuple[Any, ...]:
    return (
        [q.stream_id for q in batch],
        [q.expected_version for q in batch],
        [p.event_id for _, _, p in events],
        [p.stream_id for _, _, p in events],
        [n for _, n, _ in events],
        [p.event_type for _, _, p in events],
        [p.schema_version for _, _, p in events],
        [p.partition_key for _, _, p in events],
        [p.data for _, _, p in events],
        [p.occurred_at for _, _, p in events],
        [p.correlation_id for _, _, p in events],
        [p.causation_id for _, _, p in events],
        [p.actor for _, _, p in events],
    )


def _assigned(row: asyncpg.Record) -> tuple[int, int, Any]:
    """(position, stream_version, recorded_at) of a row of ``_INSERT``."""
    return row[2], row[1], row[3]
