"""shared.consumer.pacing: a partition ahead of its partner with a backlog is paused until the
partner has caught up with it; caught up, nothing is paused."""

from __future__ import annotations

import asyncio
import gc
import weakref
from dataclasses import dataclass, field

from aiokafka import TopicPartition
from aiokafka.consumer.fetcher import READ_UNCOMMITTED, PartitionRecords
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords

from shared.backoff import Backoff
from shared.consumer import ConsumerRuntime, DeadLetterProducer, Subscription
from shared.consumer.pacing import DroppedBuffers, Pacing, record_position
from shared.kafka_security import plaintext
from tests.support.fake_kafka import FakeConsumer, attach


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def at(topic: str, partition: int, offset: int, position: int | None) -> Record:
    headers = [("event_type", b"x"), ("position", str(position).encode())] if position is not None else []
    return Record(topic, partition, offset, headers)


EVENTS, SCHEDULE = "events", "schedule"


def consumer(high: dict[tuple[str, int], int]) -> FakeConsumer:
    return FakeConsumer(high=high)


def offsets(*records: Record) -> dict[tuple[str, int], int]:
    return {(r.topic, r.partition): r.offset + 1 for r in records}


def test_the_position_header_is_read_and_a_record_without_one_has_none() -> None:
    assert record_position(at(EVENTS, 0, 0, 42)) == 42
    assert record_position(at(EVENTS, 0, 0, None)) is None
    assert record_position(Record(EVENTS, 0, 0, [("position", b"not a number")])) is None
    assert record_position(Record(EVENTS, 0, 0, {"position": b"7"})) == 7  # type: ignore[arg-type]  # a mapping, as decoding accepts


def steer(
    pacing: Pacing, kafka: FakeConsumer, *handled: Record, earlier: tuple[Record, ...] = ()
) -> set[tuple[str, int]]:
    """``handled`` settled, after ``earlier`` fetches: what is paused now."""
    pacing.handled(list(handled))
    pacing.steer(kafka, offsets(*earlier, *handled))
    return kafka.paused


def test_a_partition_ahead_of_its_partner_with_a_backlog_is_paused_until_the_partner_passes_it() -> None:
    kafka = consumer({(EVENTS, 0): 10_000, (SCHEDULE, 0): 10_000, (EVENTS, 1): 10, (SCHEDULE, 1): 10})
    pacing = Pacing(backlog=500, lead=100)
    ahead = at(SCHEDULE, 0, 99, 50_000)
    assert steer(pacing, kafka, ahead, at(EVENTS, 0, 99, 1_000)) == {(SCHEDULE, 0)}  # partition 1: no backlog
    # the partner moves, still behind: the partition stays paused
    assert steer(pacing, kafka, at(EVENTS, 0, 2_000, 30_000), earlier=(ahead,)) == {(SCHEDULE, 0)}
    # the partner passes it: resumed (and the partner, now ahead by less than the lead, runs on)
    assert steer(pacing, kafka, at(EVENTS, 0, 4_000, 50_050), earlier=(ahead,)) == set()


def test_a_partner_whose_backlog_is_worked_off_releases_the_partition_ahead() -> None:
    kafka = consumer({(EVENTS, 0): 10_000, (SCHEDULE, 0): 10_000})
    pacing = Pacing(backlog=500, lead=100)
    ahead = at(SCHEDULE, 0, 99, 50_000)
    assert steer(pacing, kafka, ahead, at(EVENTS, 0, 99, 1_000)) == {(SCHEDULE, 0)}
    # 399 records left: under the backlog
    assert steer(pacing, kafka, at(EVENTS, 0, 9_600, 20_000), earlier=(ahead,)) == set()


def test_caught_up_nothing_is_paused_however_far_apart_the_positions() -> None:
    kafka = consumer({(EVENTS, 0): 100, (SCHEDULE, 0): 3})
    assert steer(Pacing(backlog=500, lead=100), kafka, at(SCHEDULE, 0, 2, 90_000), at(EVENTS, 0, 99, 10)) == set()


def test_within_the_lead_nothing_is_paused_and_an_unknown_place_pauses_nothing() -> None:
    kafka = consumer({(EVENTS, 0): 10_000, (SCHEDULE, 0): 10_000})
    assert steer(Pacing(backlog=500, lead=100), kafka, at(SCHEDULE, 0, 99, 1_100), at(EVENTS, 0, 99, 1_000)) == set()
    # the partner's place unknown
    assert steer(Pacing(backlog=500, lead=100), kafka, at(SCHEDULE, 0, 99, 90_000), at(EVENTS, 0, 99, None)) == set()


def test_a_rebalance_forgets_the_revoked_partitions_and_what_was_paused() -> None:
    pacing = Pacing()
    pacing.handled([at(EVENTS, 0, 1, 5), at(EVENTS, 1, 1, 7)])
    pacing.paused = {TopicPartition(EVENTS, 1)}
    pacing.forget({TopicPartition(EVENTS, 0)})
    assert pacing.positions == {TopicPartition(EVENTS, 1): 7} and pacing.paused == set()


class Settle:
    async def handle(self, records: object, failures: int) -> None:
        return None

    async def failed(self, records: object, error: Exception, failures: int) -> bool:
        return False


def paced_runtime() -> tuple[ConsumerRuntime, FakeConsumer]:
    kafka_settings = plaintext("127.0.0.1:1")
    runtime = ConsumerRuntime(
        kafka_settings,
        Subscription((EVENTS, SCHEDULE), "group", "client", poll_timeout_ms=1),
        Settle(),
        DeadLetterProducer(kafka_settings, "client-dlq"),
        backoff=Backoff(0, 0),
        pacing=Pacing(backlog=500, lead=100),
    )
    return runtime, attach(runtime, consumer({(EVENTS, 0): 10_000, (SCHEDULE, 0): 10_000}))


async def test_the_runtime_paces_after_each_settled_fetch() -> None:
    runtime, kafka = paced_runtime()
    assert await runtime.process([at(SCHEDULE, 0, 99, 50_000), at(EVENTS, 0, 99, 1_000)])
    assert kafka.paused == {(SCHEDULE, 0)}
    assert await runtime.process([at(EVENTS, 0, 5_000, 60_000)])
    assert kafka.paused == {(EVENTS, 0)}  # now the events partition is ahead of the schedule's backlog


async def test_an_idle_poll_resumes_every_paused_partition() -> None:
    """The partner is not delivering (its leader moving, say): nothing stays held back for it."""
    runtime, kafka = paced_runtime()
    assert await runtime.process([at(SCHEDULE, 0, 99, 50_000), at(EVENTS, 0, 99, 1_000)])
    assert kafka.paused == {(SCHEDULE, 0)}
    loop = asyncio.create_task(runtime._consume())  # the fake has nothing to fetch: an idle poll
    for _ in range(100):
        await asyncio.sleep(0.005)
        if not kafka.paused:
            break
    runtime.request_stop()
    await loop
    assert kafka.paused == set() and runtime.pacing is not None and runtime.pacing.paused == set()


def test_dropped_buffers_are_collected_after_pauses_at_most_every_few_seconds_and_when_caught_up() -> None:
    now = [100.0]
    pacing, dropped = Pacing(), DroppedBuffers(every=5.0, clock=lambda: now[0])
    dropped.after_poll(pacing, idle=False)
    assert dropped.collections == 0  # nothing paused: nothing dropped
    pacing.pauses = 1
    dropped.after_poll(pacing, idle=False)
    assert dropped.collections == 1
    pacing.pauses, now[0] = 2, 103.0
    dropped.after_poll(pacing, idle=False)
    assert dropped.collections == 1  # within 5 s of the last one, fetches still coming
    dropped.after_poll(pacing, idle=True)
    assert dropped.collections == 2  # caught up: at once
    dropped.after_poll(pacing, idle=True)
    assert dropped.collections == 2  # no pause since
    pacing.pauses, now[0] = 3, 108.5
    dropped.after_poll(pacing, idle=False)
    assert dropped.collections == 3


def half_read_fetch_buffer() -> weakref.ref[PartitionRecords]:
    """aiokafka's buffer of one fetch, read in part, then dropped — what it does to the buffer of
    a partition pacing paused. Returns a weak reference: alive while anything holds the buffer."""
    builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 1 << 20)
    for offset in range(10):
        builder.append(offset, 0, b"k", b"x" * 1000, [])
    buffer = PartitionRecords(
        TopicPartition("t", 0), MemoryRecords(bytes(builder.build())), None, 0, None, None, True, READ_UNCOMMITTED
    )
    next(buffer)  # half-read, as a paused partition's buffer is when it is dropped
    return weakref.ref(buffer)


def test_a_dropped_fetch_buffer_waits_for_the_collector_and_dropped_buffers_collects_it() -> None:
    before = gc.get_threshold()
    gc.collect()
    gc.set_threshold(100_000, 50, 100)  # shared.runtime.tune_gc's
    try:
        left = half_read_fetch_buffer()
        assert left() is not None  # a reference cycle: dropped, yet alive until a collection
        pacing, dropped = Pacing(), DroppedBuffers()
        pacing.pauses = 1
        dropped.after_poll(pacing, idle=False)
        assert left() is None and dropped.collections == 1
    finally:
        gc.set_threshold(*before)
