"""Apply one batch of Kafka records to the read model — in ONE transaction.

1. Decode every record; poison ones go to the dead-letter sink *before* anything commits.
2. In one transaction: take the batch locks, load the last applied version of every stream
   in the batch and its parked events, decide apply / skip / park (``domain.sequencing``),
   load the rows those events touch, fold them (``domain.fold``), write the dirty rows, the
   new stream versions, parked/unparked events and the next offset of every partition seen.
3. Only then may the caller acknowledge the offsets to Kafka.

A redelivered batch finds its streams' versions already applied and changes nothing; the
stored offsets only move forward (``GREATEST``).

A client's stream **stops** honestly at an event that cannot be applied (issue 15): an event
type this version does not know or a payload its schema refuses (dead-lettered at once), or
an event the fold or the database keeps refusing (dead-lettered after the consumer's bounded
retries, :meth:`Projector.isolate`). The stop (``stopped_streams``) names the event and the
reason; the event waits in ``parked_events`` with its successors; answers about the client say
``stale`` and why. :meth:`Projector.resume` (at start-up) applies what the deployed code can
now read, without a rebuild; an event re-published at the stopped version resumes it too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from pydantic import ValidationError

from services.projections.application.ports import Connection, ProjectionStore, Row
from services.projections.application.reached import note_applied
from services.projections.domain.fold import evolve, ids_touched
from services.projections.domain.rows import Fact
from services.projections.domain.sequencing import Plan, plan
from shared.consumer import Decoded, Poison, decode_batch
from shared.consumer.decoding import RawRecord
from shared.events.base import EventRegistry, UnknownEventType, registry
from shared.events.envelope import Envelope, EnvelopeHead
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
    wire_data: dict[str, Any] | None
    """The payload as stored or received; None: read from ``decoded`` if it is parked."""
    topic: str
    partition: int
    offset: int
    envelope: EnvelopeHead | None = None
    """For log context (None when reloaded from the parked table)."""
    decoded: Decoded | None = None

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
            self.wire_data if self.wire_data is not None or self.decoded is None else self.decoded.wire_data(),
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
    reached: dict[int, int] = field(default_factory=dict)
    """The highest position applied per client bucket (``application.reached``)."""
    stopped: int = 0
    """Streams newly stopped by this batch."""
    resumed: int = 0
    """Stopped streams this batch let go on (an event re-published at the stopped version)."""
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    applied_types: dict[str, int] = field(default_factory=dict)

    def add(self, other: BatchResult) -> None:
        """Count ``other`` (another part of the same fetch) in too; ``received`` stays."""
        for name in ("applied", "skipped", "parked", "unparked", "dead_lettered", "stopped", "resumed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for bucket, position in other.reached.items():
            self.reached[bucket] = max(self.reached.get(bucket, position), position)
        for key, offset in other.next_offsets.items():
            self.next_offsets[key] = max(self.next_offsets.get(key, offset), offset)
        for event_type, n in other.applied_types.items():
            self.applied_types[event_type] = self.applied_types.get(event_type, 0) + n


def incoming_from(decoded: Decoded) -> Incoming:
    env, record, event = decoded.envelope, decoded.record, decoded.payload
    client_id = getattr(event, "client_id", None) or UUID(env.partition_key)  # every contracts event has it
    fact = Fact(env.stream_id, env.stream_version, client_id, env.position, event)
    return Incoming(
        fact, env.event_id, env.schema_version, None, record.topic, record.partition, record.offset, env, decoded
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


@dataclass(frozen=True, slots=True)
class Held:
    """An event this projection cannot apply (yet); its stream stops at it. ``row``: the
    event as a parked row, None when it cannot be stored (the database refuses its data)."""

    stream_id: str
    stream_version: int
    client_id: UUID
    event_id: UUID | None
    event_type: str | None
    reason: str
    row: tuple[Any, ...] | None

    def stop_row(self) -> tuple[Any, ...]:
        return (self.stream_id, self.client_id, self.stream_version, self.event_id, self.event_type, self.reason)


def held_from(envelope: Envelope | None, record: RawRecord, reason: str, *, keep: bool = True) -> Held | None:
    """What stops a stream, from an event whose envelope could be read (None otherwise: a
    record without a stream — not JSON, no envelope — is only dead-lettered)."""
    if envelope is None:
        return None
    try:
        client_id = UUID(envelope.partition_key)
    except ValueError:
        return None
    row = (
        envelope.stream_id,
        envelope.stream_version,
        envelope.event_id,
        envelope.event_type,
        envelope.schema_version,
        client_id,
        envelope.position,
        envelope.data,
        record.topic,
        record.partition,
        record.offset,
    )
    return Held(
        envelope.stream_id,
        envelope.stream_version,
        client_id,
        envelope.event_id,
        envelope.event_type,
        reason,
        row if keep else None,
    )


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
                poison.append(Poison(d.record, f"cannot read {d.envelope.event_type}: {exc!r}", d.full_envelope()))
        return incoming, poison

    async def apply_or_isolate(
        self,
        conn: Connection,
        batch: Sequence[RawRecord] | Prepared,
        *,
        live: bool = True,
        rollups: bool | None = None,
    ) -> BatchResult:
        """:meth:`apply`; if the database refuses the batch for good, :meth:`isolate` it."""
        try:
            return await self.apply(conn, batch, live=live, rollups=rollups)
        except self._store.refused:
            records = batch.records if isinstance(batch, Prepared) else batch
            return await self.isolate(conn, records, live=live, rollups=rollups)

    async def isolate(
        self, conn: Connection, records: Sequence[RawRecord], *, live: bool = True, rollups: bool | None = None
    ) -> BatchResult:
        """Apply a batch one record per transaction. A record that fails on its own, for any
        reason but an outage, is dead-lettered and stops its client's stream (the event kept
        to apply later, when it can be stored), so the partition moves on."""
        total = BatchResult(received=len(records))
        for record in records:
            try:
                result = await self.apply(conn, [record], live=live, rollups=rollups)
            except self._store.passing:
                raise
            except self._store.refused as exc:  # its data cannot be stored, not even parked
                reason = f"cannot apply: {exc!r}"[:1000]
                result = await self._stop_record(conn, record, reason, keep=False, live=live, rollups=rollups)
            except Exception as exc:
                log.exception("an event fails on its own: its stream stops", topic=record.topic, offset=record.offset)
                reason = f"cannot apply: {exc!r}"[:1000]
                result = await self._stop_record(conn, record, reason, keep=True, live=live, rollups=rollups)
            total.add(result)
        return total

    async def _stop_record(
        self, conn: Connection, record: RawRecord, reason: str, *, keep: bool, live: bool, rollups: bool | None
    ) -> BatchResult:
        await self._dead_letters([Poison(record, reason)])
        batch = self.prepare([record])
        decoded = batch.incoming[0].decoded if batch.incoming else None
        envelope = (
            decoded.full_envelope() if decoded is not None else (batch.poison[0].envelope if batch.poison else None)
        )
        held = held_from(envelope, record, reason, keep=keep)
        result = BatchResult(received=1, next_offsets=batch.next_offsets, dead_lettered=1)
        async with self._store.transaction(conn):
            if live:
                await self._store.begin_batch(conn, [record.partition])
            if held is not None:
                await self._apply_streams(conn, [], [held], result, live=live, rollups=rollups)
            await self._store.save_offsets(conn, result.next_offsets, notify=live, reached=result.reached)
        return result

    async def resume(self, conn: Connection) -> int:
        """Try every stopped stream again (at start-up: the fix may be deployed now). A stream
        whose held event this code can read and apply goes on, with its parked successors, in
        its own transaction; one that still fails stays stopped. Returns the streams resumed."""
        resumed = 0
        for stop in await self._store.load_stopped(conn, None):
            stream, version = stop["stream_id"], stop["stream_version"]
            parked = [r for r in await self._store.load_parked(conn, [stream]) if r["stream_version"] == version]
            if not parked:
                continue  # nothing kept to apply: waits for the event to be published again
            try:
                incoming_from_parked(parked[0], self._events)
            except (UnknownEventType, ValidationError, ValueError, KeyError, TypeError):
                continue  # this code cannot read it either
            result = BatchResult()
            try:
                async with self._store.transaction(conn):
                    await self._store.begin_batch(conn, [parked[0]["source_partition"]])
                    await self._store.unstop(conn, [stream])
                    await self._apply_streams(conn, [], [], result, live=True, also=[stream])
                    await self._store.save_offsets(conn, {}, notify=True, reached=result.reached)
            except self._store.passing:
                raise
            except Exception as exc:  # noqa: BLE001 - still failing: it stays stopped, logged
                log.warning("a stopped stream still cannot go on", stream=stream, version=version, error=repr(exc))
                continue
            resumed += 1
            log.info("a stopped stream goes on", stream=stream, version=version, applied=result.applied)
        return resumed

    def prepare(self, records: Sequence[RawRecord]) -> Prepared:
        """The CPU part of a batch (no I/O): safe to run in a worker thread ahead of time."""
        next_offsets: dict[tuple[str, int], int] = {}
        for r in records:
            key = (r.topic, r.partition)
            next_offsets[key] = max(next_offsets.get(key, 0), r.offset + 1)
        incoming, poison = self.decode(records)
        return Prepared(len(records), incoming, poison, next_offsets, records)

    async def apply(
        self,
        conn: Connection,
        records: Sequence[RawRecord] | Prepared,
        *,
        live: bool = True,
        rollups: bool | None = None,
    ) -> BatchResult:
        """``live``: take the batch locks, keep the rollups in step and NOTIFY waiting queries
        (off for a rebuild's private schema). ``rollups`` (default: ``live``): keep
        ``income_months`` and ``period_debts`` in step — a rebuild fills them once after its
        bulk replay, then keeps them while it chases the live consumer."""
        batch = records if isinstance(records, Prepared) else self.prepare(records)
        incoming, poison = batch.incoming, batch.poison
        result = BatchResult(received=batch.received, next_offsets=batch.next_offsets)
        await self._dead_letters(poison)
        result.dead_lettered = len(poison)

        held = [h for p in poison if (h := held_from(p.envelope, p.record, p.reason)) is not None]
        store = self._store
        async with store.transaction(conn):
            if live:
                await self._store.begin_batch(conn, (p for _, p in result.next_offsets), batch.received)
            applying, decision = await self._apply_streams(conn, incoming, held, result, live=live, rollups=rollups)
            # every live batch wakes waiters: a global min_position also waits for consumed offsets
            await self._store.save_offsets(conn, result.next_offsets, notify=live, reached=result.reached)

        if logging.getLogger("projections.projector").isEnabledFor(logging.DEBUG):
            _log_each(applying, "event applied")
            # usually a time event ahead of a fact from the other topic
            _log_each(decision.park, "event parked until its predecessor arrives")  # type: ignore[arg-type]  # parked items are log-able incoming facts
        return result

    async def _apply_streams(
        self,
        conn: Connection,
        incoming: Sequence[Incoming],
        held: Sequence[Held],
        result: BatchResult,
        *,
        live: bool,
        rollups: bool | None = None,
        also: Sequence[str] = (),
    ) -> tuple[list[Incoming], Plan[Incoming | ParkedRow]]:
        """Inside the caller's transaction: sequence, fold and write the events of the streams
        of ``incoming``, ``held`` and ``also``; stop the streams of ``held``."""
        store = self._store
        streams = list({i.stream_id for i in incoming} | {h.stream_id for h in held} | set(also))
        last, parked_rows, stopped_rows = await store.load_streams(conn, streams) if streams else ({}, [], [])
        waiting: dict[str, dict[int, Incoming | ParkedRow]] = {}
        for row in parked_rows:
            waiting.setdefault(row["stream_id"], {})[row["stream_version"]] = ParkedRow(row)
        stops = {r["stream_id"]: r["stream_version"] for r in stopped_rows}
        # an event published again at the version its stream stopped at (fixed) lifts the stop
        lifted = [i for i in incoming if stops.get(i.stream_id) == i.stream_version]
        for item in lifted:
            del stops[item.stream_id]
            waiting.get(item.stream_id, {}).pop(item.stream_version, None)
        stopping, held_rows = [], []
        readable = {(i.stream_id, i.stream_version) for i in incoming}
        for h in held:
            if h.stream_version <= last.get(h.stream_id, 0) or (h.stream_id, h.stream_version) in readable:
                continue  # that version is applied already, or comes readable in this very batch
            if h.row is not None and h.stream_version not in waiting.get(h.stream_id, {}):
                held_rows.append(h.row)
            if h.stream_version < stops.get(h.stream_id, h.stream_version + 1):
                stops[h.stream_id] = h.stream_version
                stopping.append(h)
        decision = plan(incoming, last, waiting, stops)
        applying = [i if isinstance(i, Incoming) else incoming_from_parked(i.row, self._events) for i in decision.apply]

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
        await store.save(conn, ws, rollups=live if rollups is None else rollups)
        await store.save_versions(conn, decision.versions)
        # only this batch's own events are newly parked: Incoming, never a ParkedRow
        await store.park(conn, [*(i.parked_row() for i in decision.park), *held_rows])  # type: ignore[union-attr]  # a decision with events to park always has its rows
        await store.unpark(
            conn,
            [(i.stream_id, i.stream_version) for i in decision.unpark]
            + [(i.stream_id, i.stream_version) for i in lifted],
        )
        await store.unstop(conn, [i.stream_id for i in lifted])
        await store.stop(conn, [h.stop_row() for h in stopping])
        for h in stopping:
            log.error(
                "a client's stream stops: an event cannot be applied; answers about the client are stale",
                client_id=str(h.client_id),
                stream=h.stream_id,
                stream_version=h.stream_version,
                event_id=str(h.event_id),
                event_type=h.event_type,
                reason=h.reason,
            )
        note_applied(result.reached, ((i.fact.client_id, i.fact.position) for i in applying))
        result.applied += len(applying)
        result.skipped += decision.skipped
        result.parked += len(decision.park) + len(held_rows)
        result.unparked += len(decision.unpark) + len(lifted)
        result.stopped += len(stopping)
        result.resumed += len(lifted)
        for item in applying:
            result.applied_types[item.fact.event_type] = result.applied_types.get(item.fact.event_type, 0) + 1
        return applying, decision


def _log_each(items: Iterable[Incoming], message: str) -> None:
    for item in items:
        context = (
            item.envelope.log_context()
            if item.envelope is not None
            else {"event_id": item.event_id, "stream": item.stream_id, "stream_version": item.stream_version}
        )
        with bound_context(context):
            log.debug(message, topic=item.topic, partition=item.partition, offset=item.offset)
