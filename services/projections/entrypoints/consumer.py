"""The Kafka subscriber: a batch consumer of the contracts topics for the projections group.

* topics ``contracts.events.v1`` AND ``contracts.schedule.v1``: the contracts service appends
  time events to the contract's own stream, so the stream versions a projection must see in
  sequence are spread over both (time events change no read model, only the sequence);
* the two topics are co-partitioned (key = client id, same partition count) and the range
  assignor gives partition N of both to the same member;
* group ``abonent.projections``, ``auto_offset_reset="earliest"`` (a new group replays all);
* ``batch=True``: up to ``max_records`` records applied in ONE database transaction;
  ``batch_timeout_ms`` is short on purpose: a batch is whatever is fetched (``getmany``
  returns as soon as any record is there, it never lingers for more), but after a wait that
  found nothing FastStream sleeps ``batch_timeout_ms`` more *without* fetching — with 200 ms
  an event arriving in that sleep waited up to 200 ms (most of accepted → visible at rest);
  with 10 ms idle polling costs well under 1 % of a core;
* ``AckPolicy.MANUAL``: offsets are committed to Kafka only *after* the transaction commits
  (auto-commit off), in the background, so the next batch does not wait for the broker. A failed batch is nacked — every partition is sought back to its first
  record — and retried after a back-off: at-least-once delivery, exactly-once effect (the
  stream-version check makes a redelivery change nothing).
* The offsets stored in the read model (same transaction as the data) are the source of
  truth: on every assignment the consumer seeks to them — to the beginning for a partition
  the read model never consumed (a fresh or restored database replays what it lacks). The
  offsets committed to Kafka are kept for lag tooling and as a fallback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from contextlib import suppress
from typing import Any

import asyncpg
from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from services.projections.application.projector import Prepared, Projector
from services.projections.entrypoints import metrics
from shared.logging import get_logger
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE, PROJECTIONS_GROUP

TOPICS = (CONTRACTS_EVENTS, CONTRACTS_SCHEDULE)
ISOLATE_AFTER = 3
"""Consecutive failures after which a batch is applied record by record (see Projector.isolate)."""

log = get_logger("projections.consumer")


async def _raw_records(message: Any) -> list[Any]:
    """Decoder: hand the handler the raw ConsumerRecords (decoding is ours, poison-safe)."""
    return list(message.raw_message)


async def _lenient_parser(records: Any, original: Any) -> Any:
    try:
        return await original(records)
    except UnicodeDecodeError:  # a header that is not UTF-8 must not block the partition
        clean = tuple(dataclasses.replace(r, headers=[
            (k, v.decode(errors="replace").encode()) for k, v in r.headers]) for r in records)
        return await original(clean)


def _observe_delays(records: list[Any], batch: Prepared | None, committed: float) -> None:
    """How long after each event was recorded, and sent to Kafka, its batch committed (the
    moment queries can see it). Read from the decoded batch: no extra decoding."""
    for record in records:
        if (produced := getattr(record, "timestamp", None)) is not None:
            metrics.SINCE_PRODUCED.observe(max(committed - produced / 1000, 0.0))
    for item in batch.incoming if batch is not None else ():
        if item.envelope is not None:
            metrics.SINCE_RECORDED.observe(max(committed - item.envelope.recorded_at.timestamp(), 0.0))


class SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: EventsConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        consumer, pool = self._owner.subscriber.consumer, self._owner.pool
        if consumer is None or pool is None:
            return
        self._owner.joined = True  # a member of the group, even with no partition to consume
        if not assigned:
            return
        rows = await pool.fetch("SELECT topic, partition, next_offset FROM consumed_offsets")
        stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        fresh = [tp for tp in assigned if (tp.topic, tp.partition) not in stored]
        for tp in assigned:
            if (tp.topic, tp.partition) in stored:
                consumer.seek(tp, stored[(tp.topic, tp.partition)])
        if fresh:
            await consumer.seek_to_beginning(*fresh)
        log.info("positions set from the read model", stored=len(assigned) - len(fresh),
                 from_beginning=len(fresh))


class EventsConsumer:
    def __init__(self, broker: KafkaBroker, *, max_records: int = 500, batch_timeout_ms: int = 10,
                 topics: tuple[str, ...] = TOPICS, group: str = PROJECTIONS_GROUP) -> None:
        self.topics, self.group = topics, group
        self.pool: asyncpg.Pool | None = None
        self.projector: Projector | None = None
        self.next_offsets: dict[tuple[str, int], int] = {}
        self.joined = False
        self._failures = 0
        self._uncommitted: dict[tuple[str, int], int] = {}
        self._committer: asyncio.Task[None] | None = None
        self.subscriber = broker.subscriber(
            *topics, group_id=group, auto_offset_reset="earliest", batch=True,
            max_records=max_records, batch_timeout_ms=batch_timeout_ms,
            partition_assignment_strategy=(RangePartitionAssignor,),
            listener=SeekToStoredOffsets(self),
            ack_policy=AckPolicy.MANUAL, decoder=_raw_records, parser=_lenient_parser,
            title="projections", description="Contracts events → coverage, contracts, debtors, income")

        @self.subscriber
        async def apply_batch(records: Any, msg: KafkaMessage) -> None:
            await self.handle(records, msg)

    def bind(self, pool: asyncpg.Pool, projector: Projector) -> None:
        self.pool, self.projector = pool, projector

    async def handle(self, records: list[Any], msg: Any) -> None:
        assert self.pool is not None and self.projector is not None, "bind() first"
        if not records:
            return
        started = time.perf_counter()
        try:
            batch = self.projector.prepare(records) if self._failures < ISOLATE_AFTER else None
            async with self.pool.acquire() as conn:
                if batch is None:  # find and dead-letter a record that cannot apply
                    result = await self.projector.isolate(conn, records)
                else:  # a record the database refuses for good is isolated at once
                    result = await self.projector.apply_or_isolate(conn, batch)
        except Exception as exc:  # noqa: BLE001 - any failure: redeliver the batch, later
            self._failures += 1
            metrics.FAILURES.inc()
            delay = min(0.2 * 2 ** min(self._failures, 5), 5.0)
            log.exception("batch failed; it will be redelivered", error=repr(exc), retry_in=delay,
                          records=len(records), failures=self._failures)
            with suppress(Exception):
                await msg.nack()
            await asyncio.sleep(delay)
            return
        self._failures = 0
        _observe_delays(records, batch, time.time())
        self._commit_soon(result.next_offsets)  # only now that the transaction is committed
        self._observe(result, len(records), time.perf_counter() - started)

    def _commit_soon(self, next_offsets: dict[tuple[str, int], int]) -> None:
        """Commit to Kafka in the background, the newest offsets, one commit at a time.

        The read model's own offsets (committed with the data) are where the consumer resumes;
        Kafka's copy is for lag tooling and a fallback. Awaiting it put a broker round trip
        into every batch's cycle, which is what an event arriving meanwhile waits for."""
        self._uncommitted.update(next_offsets)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending(), name="projections-commit")

    async def _commit_pending(self) -> None:
        consumer = self.subscriber.consumer
        while self._uncommitted and consumer is not None:
            offsets, self._uncommitted = self._uncommitted, {}
            try:
                await consumer.commit({TopicPartition(t, p): o for (t, p), o in offsets.items()})
            except KafkaError as exc:  # e.g. CommitFailedError after a rebalance: resumed from the read model
                log.warning("offset commit failed after apply", error=repr(exc))

    def _observe(self, result: Any, size: int, seconds: float) -> None:
        metrics.BATCH_SECONDS.observe(seconds)
        metrics.BATCH_SIZE.observe(size)
        for outcome in ("applied", "skipped", "parked", "dead_lettered"):
            if value := getattr(result, outcome):
                metrics.EVENTS.labels(outcome).inc(value)
        for event_type, n in result.applied_types.items():
            metrics.APPLIED.labels(event_type).inc(n)
        if result.parked or result.unparked:
            metrics.PARKED.inc(result.parked - result.unparked)
        consumer = self.subscriber.consumer
        for (topic, partition), nxt in result.next_offsets.items():
            self.next_offsets[(topic, partition)] = nxt
            high = consumer.highwater(TopicPartition(topic, partition)) if consumer else None
            if high is not None:
                metrics.LAG.labels(topic, str(partition)).set(max(high - nxt, 0))
        log.debug("batch applied", records=size, applied=result.applied, skipped=result.skipped,
                  parked=result.parked, dead_lettered=result.dead_lettered, seconds=round(seconds, 4))

    @property
    def running(self) -> bool:
        """Started and a member of its group (positions set from the read model)."""
        return self.subscriber.consumer is not None and self.joined

    async def lag(self) -> dict[str, int | None]:
        """Per assigned partition: records on the broker not yet applied (None: unknown yet)."""
        consumer = self.subscriber.consumer
        if consumer is None:
            return {}
        out: dict[str, int | None] = {}
        for tp in sorted(consumer.assignment(), key=lambda t: (t.topic, t.partition)):
            high = consumer.highwater(tp)
            nxt = self.next_offsets.get((tp.topic, tp.partition))
            if nxt is None and high is not None:
                nxt = await asyncio.wait_for(consumer.position(tp), 2.0)
            lag = None if high is None or nxt is None else max(high - nxt, 0)
            if lag is not None:
                metrics.LAG.labels(tp.topic, str(tp.partition)).set(lag)
            out[f"{tp.topic}/{tp.partition}"] = lag
        return out
