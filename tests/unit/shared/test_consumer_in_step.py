"""The runtime reading partitions in step (``Subscription(in_step=True)``): a partition ahead
waits for the one behind, only partitions with nothing held are fetched again, and records
held back are dropped when their partition is sought back or revoked (fetched again later)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.backoff import Backoff
from shared.consumer import ConsumerRuntime, DeadLetterProducer, Offsets, Subscription
from shared.consumer.runtime import _Rebalance
from shared.kafka_security import plaintext
from tests.support.fake_kafka import FakeConsumer, attach

POLL_MS = 100


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    timestamp: int
    value: bytes | None = b"v"
    key: bytes | None = b"k"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def chunk(topic: str, first: int, *stamps: int) -> list[Record]:
    return [Record(topic, 0, first + i, t) for i, t in enumerate(stamps)]


@dataclass
class Handler:
    errors: list[Exception] = field(default_factory=list)
    handled: list[list[Any]] = field(default_factory=list)
    stop_after: int = 0
    """Calls of ``handle`` after which the runtime is asked to stop (0: never)."""
    runtime: ConsumerRuntime | None = None
    calls: int = 0

    async def handle(self, records: Sequence[Any], failures: int) -> Offsets | None:
        self.calls += 1
        if self.runtime is not None and self.calls == self.stop_after:
            self.runtime.request_stop()
        if self.errors:
            raise self.errors.pop(0)
        self.handled.append(list(records))
        return None

    async def failed(self, records: Sequence[Any], error: Exception, failures: int) -> bool:
        return False


@dataclass
class LookingAhead(Handler):
    ahead: list[list[Any]] = field(default_factory=list)

    def look_ahead(self, records: Sequence[Any]) -> None:
        self.ahead.append(list(records))


def in_step(
    handler: Handler, high: dict[tuple[str, int], int], max_records: int = 100
) -> tuple[ConsumerRuntime, FakeConsumer]:
    kafka = plaintext("127.0.0.1:1")
    r = ConsumerRuntime(
        kafka,
        Subscription(("facts", "schedule"), "group", "client", max_records, POLL_MS, in_step=True),
        handler,
        DeadLetterProducer(kafka, "client-dlq"),
        backoff=Backoff(0, 0),
    )
    handler.runtime = r
    return r, attach(r, FakeConsumer(high=high))


def stamps(records: Sequence[Record]) -> list[tuple[str, int]]:
    return [(r.topic, r.timestamp) for r in records]


FACTS, SCHEDULE = ("facts", 0), ("schedule", 0)


async def test_in_a_backlog_a_partition_ahead_waits_for_the_one_behind() -> None:
    handler = Handler(stop_after=2)
    # a backlog: facts has more on the broker than fetched, more than a batch takes
    r, kafka = in_step(handler, {FACTS: 500, SCHEDULE: 3})
    kafka.chunks = {FACTS: [chunk("facts", 0, 1, 2, 3)], SCHEDULE: [chunk("schedule", 0, 2, 5, 9)]}
    handle = handler.handle

    async def then_more_facts(records: Sequence[Any], failures: int) -> Offsets | None:
        kafka.chunks[FACTS].append(chunk("facts", 3, 6, 7, 10))  # fetched while the batch is handled
        return await handle(records, failures)

    handler.handle = then_more_facts  # type: ignore[method-assign]  # the next fetch arrives meanwhile
    await r._consume()
    assert [stamps(b) for b in handler.handled] == [
        [("facts", 1), ("facts", 2), ("facts", 3), ("schedule", 2)],  # schedule's 5 and 9: newer than facts reached
        [("schedule", 5), ("schedule", 9), ("facts", 6), ("facts", 7)],  # facts' 10: newer than schedule reached
    ]


async def test_caught_up_nothing_waits_for_a_partition_a_few_records_behind() -> None:
    handler = Handler(stop_after=1)
    r, kafka = in_step(handler, {FACTS: 6, SCHEDULE: 3})  # 3 records behind: less than a batch
    kafka.chunks = {FACTS: [chunk("facts", 0, 1, 2, 3)], SCHEDULE: [chunk("schedule", 0, 2, 5, 9)]}
    await r._consume()
    assert [stamps(b) for b in handler.handled][0] == [
        ("facts", 1),
        ("facts", 2),
        ("facts", 3),
        ("schedule", 2),
        ("schedule", 5),
        ("schedule", 9),
    ]


async def test_caught_up_everything_held_goes_out_at_once() -> None:
    handler = Handler(stop_after=1)
    r, kafka = in_step(handler, {FACTS: 3, SCHEDULE: 3})
    kafka.chunks = {FACTS: [chunk("facts", 0, 1, 2, 3)], SCHEDULE: [chunk("schedule", 0, 2, 5, 9)]}
    await r._consume()
    assert [stamps(b) for b in handler.handled] == [
        [("facts", 1), ("facts", 2), ("facts", 3), ("schedule", 2), ("schedule", 5), ("schedule", 9)]
    ]


async def test_the_next_batch_is_handed_ahead_while_one_is_handled_then_handled_as_it_was() -> None:
    handler = LookingAhead(stop_after=3)
    r, kafka = in_step(handler, {FACTS: 3, SCHEDULE: 3}, max_records=2)
    kafka.chunks = {FACTS: [chunk("facts", 0, 1, 2, 3)], SCHEDULE: [chunk("schedule", 0, 2, 5, 9)]}
    await r._consume()
    batches = [stamps(b) for b in handler.handled]
    assert batches == [
        [("facts", 1), ("facts", 2)],
        [("schedule", 2), ("schedule", 5)],
        [("facts", 3), ("schedule", 9)],
    ]
    assert [stamps(b) for b in handler.ahead] == batches[1:]  # each prepared while the one before ran


async def test_when_a_batch_fails_the_one_taken_ahead_goes_back_too() -> None:
    handler = LookingAhead(errors=[RuntimeError("database down")], stop_after=1)
    r, kafka = in_step(handler, {FACTS: 500, SCHEDULE: 3}, max_records=2)
    kafka.chunks = {FACTS: [chunk("facts", 0, 1, 2, 3)], SCHEDULE: [chunk("schedule", 0, 2, 5, 9)]}
    await r._consume()
    assert [stamps(b) for b in handler.ahead] == [[("schedule", 2), ("facts", 3)]]
    # facts back to its first record of the failed batch, schedule to its first of the one ahead
    assert set(kafka.seeks) == {("facts", 0, 0), ("schedule", 0, 0)}
    assert len(r.in_step) == 0 and not handler.handled and not kafka.committed


async def test_a_revocation_forgets_what_is_held() -> None:
    r, kafka = in_step(Handler(), {FACTS: 3, SCHEDULE: 3})
    r.in_step.add({FACTS: chunk("facts", 0, 1), SCHEDULE: chunk("schedule", 0, 2, 5, 9)})
    generation = r.in_step.generation
    await _Rebalance(r, kafka).on_partitions_revoked(set())
    assert len(r.in_step) == 0 and r.in_step.generation > generation  # a batch taken ahead is not handled
