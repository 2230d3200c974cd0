"""Apply one batch of Kafka records to the read model — in ONE transaction.

1. Decode every record; poison ones go to the dead-letter sink *before* anything commits.
2. In one transaction: take the batch locks, load the last applied version of every stream
   in the batch and its parked events, decide apply / skip / park (``domain.sequencing``),
   load the rows those events touch, fold them (``domain.fold``), write the dirty rows, the
   new stream versions, parked/unparked events and the next offset of every partition seen.
3. Only then may the caller acknowledge the offsets to Kafka.

A redelivered batch finds its streams' versions already applied and changes nothing; the
stored offsets only move forward (``GREATEST``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson

from services.projections.application.ports import Connection, ProjectionStore, Row
from services.projections.domain.fold import evolve, ids_touched
from services.projections.domain.rows import Fact
from services.projections.domain.sequencing import plan
from shared.consumer import Decoded, Poison, decode_batch
from shared.consumer.decoding import RawRecord
from shared.events.base import EventRegistry, registry
from shared.events.envelope import Envelope
from shared.logging import bound_context, get_logger

PoisonSink = Callable[[Sequence[Poison]], Awaitable[None]]

log = get_logger("projections.projector")


@dataclass(slots=True)
class Incoming:
    """A decoded event plus what is needed to park it and to say where it came from
    (treated as immutable; not frozen because that makes it slow to build)."""

    fact: Fact
    event_id: UUID
    schema_version: int
    wire_data: dict[str, Any]
    topic: str
    partition: int
    offset: int
    envelope: Envelope | None = None
    """For log context (None when reloaded from the parked table)."""

    @property
    def stream_id(self) -> str:
        return self.fact.stream_id

    @property
    def stream_version(self) -> int:
        return self.fact.stream_version

    def parked_row(self) -> tuple[Any, ...]:
        f = self.fact
        return (
            f.stream_id,
            f.stream_version,
            self.event_id,
            f.event_type,
            self.schema_version,
            f.client_id,
            f.position,
            self.wire_data,
            self.topic,
            self.partition,
            self.offset,
        )


@dataclass(frozen=True)
class Prepared:
    received: int
    incoming: list[Incoming]
    poison: list[Poison]
    next_offsets: dict[tuple[str, int], int]
    records: Sequence[RawRecord] = ()


@dataclass
class BatchResult:
    received: int = 0
    applied: int = 0
    skipped: int = 0
    parked: int = 0
    unparked: int = 0
    dead_lettered: int = 0
    max_position: int | None = None
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    applied_types: dict[str, int] = field(default_factory=dict)


def incoming_from(decoded: Decoded) -> Incoming:
    env, record, event = decoded.envelope, decoded.record, decoded.payload
    client_id = getattr(event, "client_id", None) or UUID(env.partition_key)  # every contracts event has it
    fact = Fact(env.stream_id, env.stream_version, client_id, env.position, event)
    return Incoming(
        fact, env.event_id, env.schema_version, env.data, record.topic, record.partition, record.offset, env
    )


@dataclass(frozen=True, slots=True)
class ParkedRow:
    """A parked event as stored, not decoded yet. Every batch of its stream loads it again
    until one applies it, and sequencing needs only its place in the stream: it is validated
    once, when it is applied (:func:`incoming_from_parked`)."""

    row: Row

    @property
    def stream_id(self) -> str:
        return self.row["stream_id"]

    @property
    def stream_version(self) -> int:
        return self.row["stream_version"]


def incoming_from_parked(row: Row, events: EventRegistry) -> Incoming:
    wire = row["data"] if isinstance(row["data"], dict) else orjson.loads(row["data"])
    event = events.load(row["event_type"], row["schema_version"], wire)
    fact = Fact(row["stream_id"], row["stream_version"], row["client_id"], row["position"], event)
    return Incoming(
        fact,
        row["event_id"],
        row["schema_version"],
        wire,
        row["source_topic"],
        row["source_partition"],
        row["source_offset"],
    )


class Projector:
    def __init__(self, store: ProjectionStore, dead_letters: PoisonSink, events: EventRegistry = registry) -> None:
        self._store = store
        self._dead_letters = dead_letters
        self._events = events

    def decode(self, records: Iterable[RawRecord]) -> tuple[list[Incoming], list[Poison]]:
        decoded, poison = decode_batch(records, self._events)
        incoming: list[Incoming] = []
        for d in decoded:
            try:
                incoming.append(incoming_from(d))
            except (ValueError, KeyError, TypeError) as exc:
                poison.append(Poison(d.record, f"cannot read {d.envelope.event_type}: {exc!r}"))
        return incoming, poison

    async def apply_or_isolate(
        self, conn: Connection, batch: Sequence[RawRecord] | Prepared, *, live: bool = True
    ) -> BatchResult:
        """:meth:`apply`; if the database refuses the batch for good, :meth:`isolate` it."""
        try:
            return await self.apply(conn, batch, live=live)
        except self._store.refused:
            records = batch.records if isinstance(batch, Prepared) else batch
            return await self.isolate(conn, records, live=live)

    async def isolate(self, conn: Connection, records: Sequence[RawRecord], *, live: bool = True) -> BatchResult:
        """Apply a batch one record per transaction, and dead-letter a record that fails on
        its own (a value the database refuses, say a NUL character in a text) so the
        partition moves on. A record failing for a passing reason raises, as before."""
        total = BatchResult(received=len(records))
        for record in records:
            try:
                result = await self.apply(conn, [record], live=live)
            except self._store.refused as exc:
                await self._dead_letters([Poison(record, f"cannot apply: {exc!r}"[:1000])])
                only_offset = Prepared(1, [], [], {(record.topic, record.partition): record.offset + 1})
                result = await self.apply(conn, only_offset, live=live)
                result.dead_lettered += 1
            for name in ("applied", "skipped", "parked", "unparked", "dead_lettered"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
            total.next_offsets.update(result.next_offsets)
        return total

    def prepare(self, records: Sequence[RawRecord]) -> Prepared:
        """The CPU part of a batch (no I/O): safe to run in a worker thread ahead of time."""
        next_offsets: dict[tuple[str, int], int] = {}
        for r in records:
            key = (r.topic, r.partition)
            next_offsets[key] = max(next_offsets.get(key, 0), r.offset + 1)
        incoming, poison = self.decode(records)
        return Prepared(len(records), incoming, poison, next_offsets, records)

    async def apply(
        self, conn: Connection, records: Sequence[RawRecord] | Prepared, *, live: bool = True
    ) -> BatchResult:
        """``live``: take the batch locks, keep the rollups in step and NOTIFY waiting queries
        (off for a rebuild's private schema, which fills its rollups once at the end)."""
        batch = records if isinstance(records, Prepared) else self.prepare(records)
        incoming, poison = batch.incoming, batch.poison
        result = BatchResult(received=batch.received, next_offsets=batch.next_offsets)
        await self._dead_letters(poison)
        result.dead_lettered = len(poison)

        store = self._store
        async with store.transaction(conn):
            if live:
                await store.lock_for_batch(conn, (p for _, p in result.next_offsets))
            streams = list({i.stream_id for i in incoming})
            last = await store.load_versions(conn, streams) if streams else {}
            waiting: dict[str, dict[int, Incoming | ParkedRow]] = {}
            for row in await store.load_parked(conn, streams) if streams else []:
                waiting.setdefault(row["stream_id"], {})[row["stream_version"]] = ParkedRow(row)
            decision = plan(incoming, last, waiting)
            applying = [
                i if isinstance(i, Incoming) else incoming_from_parked(i.row, self._events) for i in decision.apply
            ]

            touched: dict[str, set[UUID]] = {"contract_id": set(), "period_id": set(), "payment_id": set()}
            for item in applying:
                for name, value in ids_touched(item.fact.event).items():
                    touched[name].add(value)
            ws = await store.load(
                conn,
                list({i.fact.client_id for i in applying}),
                list(touched["contract_id"]),
                list(touched["period_id"]),
                list(touched["payment_id"]),
            )
            for item in applying:
                evolve(ws, item.fact)
            await store.save(conn, ws, rollups=live)
            await store.save_versions(conn, decision.versions)
            # only this batch's own events are newly parked: Incoming, never a ParkedRow
            await store.park(conn, [i.parked_row() for i in decision.park])  # type: ignore[union-attr]  # a decision with events to park always has its rows
            await store.unpark(conn, [(i.stream_id, i.stream_version) for i in decision.unpark])
            positions = [i.fact.position for i in applying if i.fact.position is not None]
            result.max_position = max(positions, default=None)
            # every live batch wakes waiters: a global min_position also waits for consumed offsets
            await store.save_offsets(conn, result.next_offsets, notify=live, position=result.max_position)

        result.applied, result.skipped = len(applying), decision.skipped
        result.parked, result.unparked = len(decision.park), len(decision.unpark)
        for item in applying:
            result.applied_types[item.fact.event_type] = result.applied_types.get(item.fact.event_type, 0) + 1
        if logging.getLogger("projections.projector").isEnabledFor(logging.DEBUG):
            _log_each(applying, "event applied")
            # usually a time event ahead of a fact from the other topic
            _log_each(decision.park, "event parked until its predecessor arrives")  # type: ignore[arg-type]  # parked items are log-able incoming facts
        return result


def _log_each(items: Iterable[Incoming], message: str) -> None:
    for item in items:
        context = (
            item.envelope.log_context()
            if item.envelope is not None
            else {"event_id": item.event_id, "stream": item.stream_id, "stream_version": item.stream_version}
        )
        with bound_context(context):
            log.debug(message, topic=item.topic, partition=item.partition, offset=item.offset)
