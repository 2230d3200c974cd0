"""The event store and its outbox in memory: the same contract as ``PostgresEventStore``.

For application tests without a database (``tests/unit``) and for trying a service out. It
passes the same contract tests as the PostgreSQL store (``tests/support/eventstore_contract.py``):
expected versions, unique event ids, position order, and one append = one transaction with
its outbox messages and the caller's ``in_transaction`` writes.

One lock serialises every append (as a table lock would), so commit order is position order
for every key, not just within one. A hook writes through the ``MemoryTransaction`` it gets:
what it stages is applied only when the append commits.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.ports import InTransaction, InTransactionMany
from shared.eventstore.records import ANY_VERSION, Append, CommandContext, NewEvent, PendingEvent, RecordedEvent
from shared.outbox.messages import OutboxMessage, OutboxRouter, stamped


class DuplicateEventId(ValueError):
    """An event_id already in the store (PostgreSQL: the ``events_event_id_key`` violation)."""


class MemoryTransaction:
    """What an append's hook writes through: ``stage`` a change, applied at commit only."""

    def __init__(self) -> None:
        self._staged: list[Callable[[], None]] = []

    def stage(self, change: Callable[[], None]) -> None:
        self._staged.append(change)

    def commit(self) -> None:
        for change in self._staged:
            change()


def staged(change: Callable[[], None]) -> Callable[[MemoryTransaction, list[RecordedEvent]], Awaitable[None]]:
    """An ``in_transaction`` write that applies ``change`` when the append commits."""

    async def write(tx: MemoryTransaction, _: list[RecordedEvent]) -> None:
        tx.stage(change)

    return write


class MemoryEventStore:
    def __init__(self, router: OutboxRouter | None = None) -> None:
        self._router = router
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._all: list[RecordedEvent] = []
        self._event_ids: set[Any] = set()
        self._positions = itertools.count(1)
        self._lock = asyncio.Lock()
        self.outbox: list[OutboxMessage] = []
        """Messages in the order a relay would publish them (commit order)."""

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        return list(self._streams.get(stream_id, ()))

    async def read_payloads(self, stream_id: str) -> list[tuple[str, int, dict[str, Any]]]:
        return [(e.event_type, e.schema_version, e.data) for e in self._streams.get(stream_id, ())]

    async def read_all(self, after_position: int = 0, limit: int = 10_000) -> list[RecordedEvent]:
        return [e for e in self._all if e.position > after_position][:limit]

    async def stream_version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, ()))

    async def position_at(self, stream_id: str, stream_version: int) -> int | None:
        events = self._streams.get(stream_id, [])
        return events[stream_version - 1].position if 0 < stream_version <= len(events) else None

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
        if not events:
            return []

        async def hook(tx: MemoryTransaction, recorded: list[list[RecordedEvent]]) -> None:
            if in_transaction is not None:
                await in_transaction(tx, recorded[0])

        (recorded,) = await self.append_many(
            [Append(stream_id, expected_version, events, partition_key)], ctx=ctx, in_transaction=hook
        )
        return recorded

    async def append_many(
        self, appends: Sequence[Append], *, ctx: CommandContext, in_transaction: InTransactionMany | None = None
    ) -> list[list[RecordedEvent]]:
        appends = [a for a in appends if a.events]
        if not appends:
            return []
        if len({a.stream_id for a in appends}) < len(appends):
            raise ValueError("append_many: a stream appears twice (decide its events together)")
        async with self._lock:
            for a in appends:
                current = len(self._streams.get(a.stream_id, ()))
                if a.expected_version != ANY_VERSION and a.expected_version != current:
                    raise ConcurrencyError(a.stream_id, a.expected_version, current)
            ids = [e.event_id for a in appends for e in a.events]
            if len(set(ids)) < len(ids) or self._event_ids.intersection(ids):
                raise DuplicateEventId(f"event_id already recorded: {sorted(map(str, ids))}")
            now = datetime.now(UTC)
            recorded: list[list[RecordedEvent]] = []
            for a in appends:
                current = len(self._streams.get(a.stream_id, ()))
                recorded.append(
                    [
                        PendingEvent.of(a.stream_id, a.partition_key, e, ctx).recorded(
                            next(self._positions), current + n, now
                        )
                        for n, e in enumerate(a.events, start=1)
                    ]
                )
            flat = [r for part in recorded for r in part]
            messages = [stamped(m, r) for r in flat for m in self._router(r)] if self._router else []
            tx = MemoryTransaction()
            if in_transaction is not None:
                await in_transaction(tx, recorded)
            # commit: nothing above wrote anything, so a failure left the store as it was
            for r in flat:
                self._streams.setdefault(r.stream_id, []).append(r)
            self._all.extend(flat)
            self._event_ids.update(ids)
            self.outbox.extend(messages)
            tx.commit()
        return recorded
