"""shared.consumer's runtime without Kafka: commit with the effect, redeliver on failure,
back-off, start with retry, lag."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.errors import KafkaError
from prometheus_client import REGISTRY

import shared.consumer.runtime as runtime_module
from shared.backoff import Backoff, retry_until_done
from shared.consumer import ConsumerRuntime, DeadLetterProducer, Offsets, Subscription
from shared.consumer.runtime import PROBE_FAILURES, REBUILD_AFTER
from shared.kafka_security import plaintext
from tests.support.fake_kafka import FakeConsumer, attach


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes | None = b"v"
    key: bytes | None = b"k"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class Handler:
    errors: list[Exception] = field(default_factory=list)
    settle_on_failure: bool = False
    offsets: Offsets | None = None
    seen_failures: list[int] = field(default_factory=list)
    failed_calls: list[tuple[str, int]] = field(default_factory=list)

    async def handle(self, records: Sequence[Any], failures: int) -> Offsets | None:
        self.seen_failures.append(failures)
        if self.errors:
            raise self.errors.pop(0)
        return self.offsets

    async def failed(self, records: Sequence[Any], error: Exception, failures: int) -> bool:
        self.failed_calls.append((str(error), failures))
        if isinstance(error, LookupError):
            raise RuntimeError("the dead-letter topic is unreachable too")
        return self.settle_on_failure


def runtime(handler: Handler, **kwargs: Any) -> tuple[ConsumerRuntime, FakeConsumer, list[tuple[str, int, int]]]:
    kafka = plaintext("127.0.0.1:1")
    lags: list[tuple[str, int, int]] = []
    r = ConsumerRuntime(
        kafka,
        Subscription(("a", "b"), "group", "client"),
        handler,
        DeadLetterProducer(kafka, "client-dlq"),
        backoff=Backoff(0, 0),
        on_lag=lambda t, p, n: lags.append((t, p, n)),
        **kwargs,
    )
    return r, attach(r, FakeConsumer(high={("a", 0): 10, ("b", 1): 3})), lags


FETCH = [Record("a", 0, 5), Record("b", 1, 0), Record("a", 0, 6), Record("b", 1, 1)]


async def test_a_handled_fetch_commits_the_next_offset_of_every_partition_and_reports_lag() -> None:
    r, kafka, lags = runtime(Handler())
    assert await r.process(FETCH)
    await r.flush_commits()
    assert kafka.committed == [{("a", 0): 7, ("b", 1): 2}]
    assert r.next_offsets == {("a", 0): 7, ("b", 1): 2}
    assert sorted(lags) == [("a", 0, 3), ("b", 1, 1)]
    assert await r.lag() == {"a/0": 3, "b/1": 1}


async def test_the_offsets_a_handler_returns_are_the_ones_committed() -> None:
    r, kafka, _ = runtime(Handler(offsets={("a", 0): 9}))
    await r.process(FETCH)
    await r.flush_commits()
    assert kafka.committed == [{("a", 0): 9}]


async def test_a_fetch_whose_partition_was_revoked_while_it_was_handled_is_still_settled() -> None:
    """aiokafka has no highwater for a partition it no longer owns: the runtime must not trip
    over it (the loop would die and the partitions it keeps would stall)."""
    r, kafka, lags = runtime(Handler())
    del kafka.high[("b", 1)]  # revoked during handle()
    assert await r.process(FETCH)
    await r.flush_commits()
    assert lags == [("a", 0, 3)] and kafka.committed == [{("a", 0): 7}]  # b/1 is its new owner's


async def test_a_failed_fetch_is_sought_back_per_partition_and_nothing_is_committed() -> None:
    failures: list[None] = []
    handler = Handler(errors=[ValueError("db down"), ValueError("db down")])
    r, kafka, _ = runtime(handler, on_failure=lambda: failures.append(None))
    assert not await r.process(FETCH)
    assert sorted(kafka.seeks) == [("a", 0, 5), ("b", 1, 0)]
    assert not await r.process(FETCH)
    assert await r.process(FETCH)
    await r.flush_commits()
    assert handler.seen_failures == [0, 1, 2]  # the handler knows how often it failed in a row
    assert handler.failed_calls == [("db down", 1), ("db down", 2)]
    assert len(failures) == 2 and r.failures == 0
    assert kafka.committed == [{("a", 0): 7, ("b", 1): 2}]


async def test_records_the_handler_settles_after_a_failure_are_committed() -> None:
    r, kafka, _ = runtime(Handler(errors=[ValueError("a bug")], settle_on_failure=True))
    assert await r.process(FETCH)
    await r.flush_commits()
    assert kafka.seeks == [] and kafka.committed == [{("a", 0): 7, ("b", 1): 2}]


async def test_settling_that_fails_too_redelivers() -> None:
    r, kafka, _ = runtime(Handler(errors=[LookupError("a bug")]))
    assert not await r.process(FETCH)
    assert kafka.commits == 0 and len(kafka.seeks) == 2


async def test_stop_commits_what_is_settled_and_closes_the_clients() -> None:
    r, kafka, _ = runtime(Handler())
    await r.process(FETCH)
    await r.stop()
    assert kafka.committed == [{("a", 0): 7, ("b", 1): 2}] and kafka.stopped
    assert r.client is None and not r.running and r.dead_letters.producer is None


def test_the_back_off_doubles_up_to_its_bound() -> None:
    assert [Backoff(0.4, 5.0).delay(n) for n in range(1, 8)] == [0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]
    jittered = [Backoff(1.0, 30.0, jitter=1.0).delay(3) for _ in range(50)]
    assert all(4.0 <= d <= 5.0 for d in jittered)


async def test_starting_is_retried_on_the_back_off_until_it_succeeds() -> None:
    attempts: list[int] = []
    slept: list[float] = []

    async def start() -> None:
        attempts.append(1)
        if len(attempts) < 4:
            raise ConnectionRefusedError("no broker yet")

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    await retry_until_done(start, Backoff(0.5, 1.0), "start", sleep=sleep)
    assert len(attempts) == 4 and slept == [0.5, 1.0, 1.0]


async def test_starting_never_gives_up_until_the_runtime_is_stopped() -> None:
    attempts: list[int] = []

    async def start() -> None:
        attempts.append(1)
        raise ConnectionRefusedError("no broker")

    task = asyncio.create_task(retry_until_done(start, Backoff(0.01, 0.01), "start"))
    await asyncio.sleep(0.2)
    assert not task.done() and len(attempts) > 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_fetches_settled_within_a_second_of_a_commit_share_the_next_one() -> None:
    """At a trickle of records a commit per fetch was a fifth of the broker's work: after a
    commit, what settles within ``every`` seconds goes in one commit; a flush (revocation,
    stop) commits it at once."""
    r, kafka, _ = runtime(Handler())
    assert await r.process([Record("a", 0, 5)])  # committed at once
    await asyncio.sleep(0.01)
    for offset in (6, 7, 8):
        assert await r.process([Record("a", 0, offset), Record("b", 1, offset)])
    await asyncio.sleep(0.05)
    assert kafka.committed == [{("a", 0): 6}]  # the rest waits out the interval
    await r.flush_commits()
    assert kafka.committed == [{("a", 0): 6}, {("a", 0): 9, ("b", 1): 9}]


class WedgedConsumer(FakeConsumer):
    """aiokafka after its coordination task died: every fetch raises the same error."""

    async def getmany(self, *partitions: Any, timeout_ms: int = 0, max_records: int | None = None) -> Any:
        self.fetches.append(([], timeout_ms))
        raise KafkaError("Unexpected error during coordination RuntimeError('the handler is closed')")


def rebuilds(r: ConsumerRuntime, reason: str) -> float:
    labels = {"consumer": r.group, "reason": reason}
    return REGISTRY.get_sample_value("consumer_client_rebuilds_total", labels) or 0.0


async def consumed_after_a_rebuild(r: ConsumerRuntime) -> FakeConsumer:
    """Run the loop until the client it builds in place of the attached one has committed a
    fetch (or 2 s passed); the new client."""
    fresh = FakeConsumer(high={("a", 0): 10}, chunks={("a", 0): [[Record("a", 0, 5)]]})

    async def start_clients() -> None:
        attach(r, fresh)

    r._start_clients = start_clients  # type: ignore[method-assign]  # no Kafka here
    task = asyncio.create_task(r._consume())
    for _ in range(200):
        if fresh.committed:
            break
        await asyncio.sleep(0.01)
    r.request_stop()
    await asyncio.wait_for(task, 2)
    return fresh


async def test_a_client_that_keeps_failing_every_fetch_is_built_again() -> None:
    """The fault suite of 2 December: after every broker was killed at once, the notifier's
    aiokafka consumer failed every fetch for good; a new client recovers, the old one is stopped."""
    handler = Handler()
    r, _, _ = runtime(handler, start_backoff=Backoff(0, 0))
    wedged = attach(r, WedgedConsumer(high={("a", 0): 10}))
    before = rebuilds(r, "fetch_failures")
    fresh = await consumed_after_a_rebuild(r)
    assert len(wedged.fetches) == REBUILD_AFTER and wedged.stopped
    assert rebuilds(r, "fetch_failures") == before + 1  # ops see it: consumer_client_rebuilds_total
    assert r.client is fresh and fresh.committed == [{("a", 0): 6}]


async def test_an_idle_client_that_knows_no_live_broker_is_built_again(monkeypatch) -> None:
    """The fault suite of 2 December: the projections client knew only the broker killed for
    good; it fetched nothing and raised nothing. Its metadata probe fails; a new client, built
    from the bootstrap list, recovers."""
    monkeypatch.setattr(runtime_module, "PROBE_EVERY", 0.0)
    r, _, _ = runtime(Handler(), start_backoff=Backoff(0, 0))
    lost = attach(r, FakeConsumer(high={("a", 0): 10}, unreachable=True))
    before = rebuilds(r, "no_broker_answers")
    fresh = await consumed_after_a_rebuild(r)
    assert lost.probes == PROBE_FAILURES and lost.stopped
    assert rebuilds(r, "no_broker_answers") == before + 1
    assert r.client is fresh and fresh.committed == [{("a", 0): 6}]


async def test_an_idle_client_whose_brokers_answer_is_kept(monkeypatch) -> None:
    monkeypatch.setattr(runtime_module, "PROBE_EVERY", 0.0)
    r, kafka, _ = runtime(Handler())
    task = asyncio.create_task(r._consume())
    while kafka.probes < 2 * PROBE_FAILURES:
        await asyncio.sleep(0.005)
    r.request_stop()
    await asyncio.wait_for(task, 2)
    assert r.client is kafka and not kafka.stopped


class StartsSlowly:
    """An aiokafka consumer whose ``start()`` has not returned yet (its group coordinator
    already running in aiokafka's own task)."""

    made: list[StartsSlowly] = []

    def __init__(self, **_: Any) -> None:
        self.starting = asyncio.Event()
        self.stopped = False
        StartsSlowly.made.append(self)

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        self.topics = topics

    async def start(self) -> None:
        self.starting.set()
        await asyncio.Event().wait()

    async def stop(self) -> None:
        self.stopped = True


async def test_a_runtime_stopped_while_its_client_starts_stops_that_client(monkeypatch) -> None:
    """The first-fill test of 2 December: an app stopped right after its consumer started left
    an aiokafka client behind whose coordinator joined the group and took partitions; its
    rebalance listener then used a pool already closed."""
    monkeypatch.setattr(runtime_module, "AIOKafkaConsumer", StartsSlowly)
    StartsSlowly.made.clear()
    r, _, _ = runtime(Handler())
    r.client = None
    monkeypatch.setattr(r.dead_letters, "start", _nothing)
    monkeypatch.setattr(r.dead_letters, "stop", _nothing)
    r.start()
    await asyncio.wait_for(_started(StartsSlowly.made), 2)
    await asyncio.wait_for(r.stop(), 2)
    assert [c.stopped for c in StartsSlowly.made] == [True]
    assert r.client is None


async def _nothing() -> None:
    return None


async def _started(made: list[StartsSlowly]) -> None:
    while not made:
        await asyncio.sleep(0.005)
    await made[0].starting.wait()
