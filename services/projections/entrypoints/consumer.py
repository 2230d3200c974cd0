"""The projections consumer: the contracts topics → the read model, one batch per transaction.

It runs on ``shared.consumer``'s runtime; what is particular to it:

* topics ``contracts.events.v1`` AND ``contracts.schedule.v1``: the contracts service appends
  time events to the contract's own stream, so the stream versions a projection must see in
  sequence are spread over both (time events change no read model, only the sequence);
* the two topics are co-partitioned (key = client id, same partition count) and the range
  assignor gives partition N of both to the same member;
* group ``abonent.projections``, ``auto_offset_reset="earliest"`` (a new group replays all);
* records are read as fetched; while a partition works off a backlog, the same partition
  number of the other topic is paused whenever it runs ahead of it (``shared.consumer.pacing``:
  read as fetched, a catch-up parked a third of its events). Caught up, nothing is paused.
  (Issue 20 first tried reading the partitions in step, as the rebuild does, with a pump
  task: caught up at 300 events/s it fell seconds behind, so it was removed — bench/README.md,
  "Live catch-up".) An event read before its predecessor on the other topic is parked until
  its predecessor is applied;
* up to ``max_records`` records applied in ONE database transaction (a batch is whatever is
  there: a fetch returns as soon as any record is, it never lingers for more);
* offsets are committed to Kafka only *after* the transaction commits, in the background so
  the next batch does not wait for the broker. A failed batch is sought back and retried
  after a back-off: at-least-once delivery, exactly-once effect (the stream-version check
  makes a redelivery change nothing); after ``ISOLATE_AFTER`` failures in a row the batch is
  applied record by record and a record the database refuses is dead-lettered;
* the offsets stored in the read model (same transaction as the data) are the source of
  truth: on every assignment the consumer seeks to them — to the beginning for a partition
  the read model never consumed (a fresh or restored database replays what it lacks). The
  offsets committed to Kafka are kept for lag tooling and as a fallback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor

from services.projections.application.projector import BatchResult, Prepared, Projector
from services.projections.entrypoints import metrics
from shared import tracing
from shared.consumer import Backoff, ConsumerRuntime, DeadLetterProducer, Offsets, Subscription
from shared.consumer.pacing import Pacing
from shared.histogram import observe_all
from shared.logging import get_logger
from shared.settings import KafkaSettings
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE, PROJECTIONS_GROUP

TOPICS = (CONTRACTS_EVENTS, CONTRACTS_SCHEDULE)
ISOLATE_AFTER = 3
"""Consecutive failures after which a batch is applied record by record (see Projector.isolate)."""
REDELIVERY = Backoff(0.4, 5.0)
FETCH_BYTES = 256 * 1024
"""Per partition and fetch: ~200 events."""

log = get_logger("projections.consumer")


def _observe_delays(records: Sequence[ConsumerRecord], batch: Prepared | None, committed: float) -> None:
    """How long after each event was recorded, and sent to Kafka, its batch committed (the
    moment queries can see it). Read from the decoded batch: no extra decoding."""
    observe_all(
        metrics.SINCE_PRODUCED,
        (max(committed - r.timestamp / 1000, 0.0) for r in records if getattr(r, "timestamp", None) is not None),
    )
    incoming = batch.incoming if batch is not None else ()
    observe_all(
        metrics.SINCE_RECORDED,
        (max(committed - i.envelope.recorded_at.timestamp(), 0.0) for i in incoming if i.envelope is not None),
    )


class SeekToStoredOffsets:
    """On assignment: resume every partition where the read model's own offsets say."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def __call__(self, consumer: AIOKafkaConsumer, assigned: Sequence[TopicPartition]) -> None:
        rows = await self._pool.fetch("SELECT topic, partition, next_offset FROM consumed_offsets")
        stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        fresh = [tp for tp in assigned if (tp.topic, tp.partition) not in stored]
        for tp in assigned:
            if (tp.topic, tp.partition) in stored:
                consumer.seek(tp, stored[(tp.topic, tp.partition)])
        if fresh:
            await consumer.seek_to_beginning(*fresh)
        log.info("positions set from the read model", stored=len(assigned) - len(fresh), from_beginning=len(fresh))


class ApplyBatches:
    """The runtime's handler: one batch → one transaction of the read model."""

    def __init__(self, pool: asyncpg.Pool, projector: Projector) -> None:
        self.pool, self.projector = pool, projector

    async def handle(self, records: Sequence[ConsumerRecord], failures: int) -> Offsets:
        started = time.perf_counter()
        batch = self.projector.prepare(records) if failures < ISOLATE_AFTER else None
        # one span per record, in the trace of the request that wrote it (when tracing is on)
        with tracing.consuming_batch("projections apply", records):
            async with self.pool.acquire() as conn:
                if batch is None:  # find and dead-letter a record that cannot apply
                    result = await self.projector.isolate(conn, records)
                else:  # a record the database refuses for good is isolated at once
                    result = await self.projector.apply_or_isolate(conn, batch)
            if result.stopped or result.resumed:  # rare: count the clients again
                metrics.STALE_CLIENTS.set(await conn.fetchval("SELECT count(DISTINCT client_id) FROM stopped_streams"))
        _observe_delays(records, batch, time.time())
        _observe(result, len(records), time.perf_counter() - started)
        return result.next_offsets

    async def failed(self, records: Sequence[ConsumerRecord], error: Exception, failures: int) -> bool:
        return False  # redelivered; after ISOLATE_AFTER failures handle() isolates the culprit


def _observe(result: BatchResult, size: int, seconds: float) -> None:
    metrics.BATCH_SECONDS.observe(seconds)
    metrics.BATCH_SIZE.observe(size)
    for outcome in ("applied", "skipped", "parked", "dead_lettered"):
        if value := getattr(result, outcome):
            metrics.EVENTS.labels(outcome).inc(value)
    for event_type, n in result.applied_types.items():
        metrics.APPLIED.labels(event_type).inc(n)
    if result.parked or result.unparked:
        metrics.PARKED.inc(result.parked - result.unparked)
    log.debug(
        "batch applied",
        records=size,
        applied=result.applied,
        skipped=result.skipped,
        parked=result.parked,
        dead_lettered=result.dead_lettered,
        seconds=round(seconds, 4),
    )


def _lag(topic: str, partition: int, lag: int) -> None:
    metrics.LAG.labels(topic, str(partition)).set(lag)


def events_consumer(
    kafka: KafkaSettings,
    pool: asyncpg.Pool,
    projector: Projector,
    dead_letters: DeadLetterProducer,
    *,
    client_id: str,
    max_records: int = 2000,
    poll_timeout_ms: int = 100,
    topics: tuple[str, ...] = TOPICS,
    group: str = PROJECTIONS_GROUP,
    pacing: Callable[[], Pacing | None] = Pacing,
) -> ConsumerRuntime:
    """``pacing``: makes the runtime's :class:`Pacing` (None: read as fetched, nothing paused)."""
    subscription = Subscription(
        topics,
        group,
        client_id,
        max_records,
        poll_timeout_ms,
        {"partition_assignment_strategy": (RangePartitionAssignor,), "max_partition_fetch_bytes": FETCH_BYTES},
    )
    return ConsumerRuntime(
        kafka,
        subscription,
        ApplyBatches(pool, projector),
        dead_letters,
        backoff=REDELIVERY,
        on_assigned=SeekToStoredOffsets(pool),
        on_failure=metrics.FAILURES.inc,
        on_lag=_lag,
        pacing=pacing(),
    )
