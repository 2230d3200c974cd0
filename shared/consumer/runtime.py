"""The consumer loop every Kafka consumer of Abonent runs: fetch → handle → commit.

* **Start with retry**: the dead-letter producer and the group consumer start together and
  are retried on the back-off while Kafka is unreachable (the service answers meanwhile).
* **Handle**: the handler gets the raw records of one fetch (at most ``max_records``, as
  fetched: whatever is there, it never lingers for more) and settles every one of them —
  applies its effect, or dead-letters it — or raises.
* **Commit with the effect**: only after the handler returned are the fetch's next offsets
  committed to Kafka (auto-commit is off), in the background (``commits``); pending commits
  are flushed before partitions are revoked and before the consumer stops.
* **Redeliver on failure**: each partition is sought back to its first record of the fetch
  and, after a bounded back-off, fetched again — at-least-once delivery; the handler makes
  the effect exactly-once. ``Handler.failed`` may settle the records instead (dead-letter
  them) so a record that can only fail again does not block its partition forever.
* **Rebuild a wedged client**: after ``REBUILD_AFTER`` fetches failed in a row the aiokafka
  consumer is stopped and a new one joins the group (aiokafka does not recover from the death
  of its coordination task), and after ``PROBE_FAILURES`` probes of an idle client found no
  broker it knows answering (aiokafka never goes back to the bootstrap list);
* **Metrics and lag**: ``on_failure`` per failed fetch, ``on_lag`` per partition handled,
  :meth:`ConsumerRuntime.lag` for health pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import ConsumerStoppedError, KafkaError
from prometheus_client import Counter

from shared.backoff import Backoff, retry_until_done
from shared.consumer.commits import BackgroundCommits, Offsets
from shared.consumer.dead_letter import DeadLetterProducer
from shared.consumer.pacing import DroppedBuffers, Pacing
from shared.kafka_security import client_options
from shared.logging import get_logger
from shared.settings import KafkaSettings

log = get_logger("consumer.runtime")

CLIENT_REBUILDS = Counter(
    "consumer_client_rebuilds_total",
    "Kafka consumer clients stopped and built again after they wedged",
    ["consumer", "reason"],
)
"""``consumer``: the group; ``reason``: ``fetch_failures`` (``REBUILD_AFTER`` fetches failed in a
row) or ``no_broker_answers`` (``PROBE_FAILURES`` idle probes found no broker it knows)."""

START_BACKOFF = Backoff(0.5, 10.0)
REBUILD_AFTER = 5
"""Fetches failed in a row after which the Kafka client is stopped and built again. aiokafka's
group coordination runs in one background task; when that task dies of an unexpected error
(seen when every broker was killed at once: a write on a closed transport), every later fetch
raises the same ``KafkaError`` and the consumer never recovers by itself (the fault suite,
2 December). A new client joins the group again and resumes from the committed offsets."""
PROBE_EVERY = 10.0
"""Seconds between two probes of an idle client's cluster metadata (``consumer.topics()``).
aiokafka refreshes its metadata only from the brokers it knows and never goes back to the
bootstrap list: a client left knowing one broker, which is then lost for good, fetches nothing
and raises nothing ever after (the fault suite, 2 December). Its probe fails instead."""
PROBE_FAILURES = 3
"""Failed probes in a row after which the client is built again (from the bootstrap list)."""


class Handler(Protocol):
    async def handle(self, records: Sequence[ConsumerRecord], failures: int) -> Offsets | None:
        """Settle every record, or raise to have them all redelivered. ``failures``: how many
        times in a row handling failed before this call. May return the next offsets (the
        runtime computes them otherwise)."""

    async def failed(self, records: Sequence[ConsumerRecord], error: Exception, failures: int) -> bool:
        """After ``handle`` raised ``error`` (the ``failures``-th failure in a row): True when
        the records were settled anyway (dead-lettered), False to redeliver them."""


OnAssigned = Callable[[AIOKafkaConsumer, Sequence[TopicPartition]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    topics: tuple[str, ...]
    group: str
    client_id: str
    max_records: int = 500
    poll_timeout_ms: int = 100
    """The longest one idle poll waits; a record arriving ends it at once."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """More ``AIOKafkaConsumer`` arguments (assignor, max_poll_interval_ms …)."""


def next_offsets(records: Sequence[ConsumerRecord]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.topic, r.partition)
        out[key] = max(out.get(key, 0), r.offset + 1)
    return out


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka ships no types
    def __init__(self, runtime: ConsumerRuntime, consumer: AIOKafkaConsumer) -> None:
        self._runtime, self._consumer = runtime, consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        # what was settled is committed by its owner (bounded: the group waits meanwhile)
        await self._runtime.flush_commits(timeout=10.0)
        if self._runtime.pacing is not None:
            self._runtime.pacing.forget(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        runtime = self._runtime
        runtime.joined = True  # a member of the group, even with no partition to consume
        log.info(
            "partitions assigned",
            group=runtime.subscription.group,
            partitions=sorted(f"{tp.topic}/{tp.partition}" for tp in assigned),
        )
        if assigned and runtime.on_assigned is not None:
            await runtime.on_assigned(self._consumer, list(assigned))


class ConsumerRuntime:
    def __init__(
        self,
        kafka: KafkaSettings,
        subscription: Subscription,
        handler: Handler,
        dead_letters: DeadLetterProducer,
        *,
        backoff: Backoff,
        on_assigned: OnAssigned | None = None,
        on_failure: Callable[[], None] | None = None,
        on_lag: Callable[[str, int, int], None] | None = None,
        graceful_seconds: float = 15.0,
        start_backoff: Backoff = START_BACKOFF,
        pacing: Pacing | None = None,
    ) -> None:
        """``pacing``: keep co-partitioned topics in step during a backlog (``shared.consumer.pacing``)."""
        self.subscription, self.handler, self.dead_letters = subscription, handler, dead_letters
        self.on_assigned, self._on_failure, self._on_lag = on_assigned, on_failure, on_lag
        self._kafka, self._backoff, self._start_backoff = kafka, backoff, start_backoff
        self._graceful = graceful_seconds
        self.pacing = pacing
        self.dropped_buffers = DroppedBuffers()
        self.client: AIOKafkaConsumer | None = None
        self.joined = False
        self.next_offsets: dict[tuple[str, int], int] = {}
        self.failures = 0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._commits = BackgroundCommits(lambda: self.client, subscription.group)

    @property
    def topics(self) -> tuple[str, ...]:
        return self.subscription.topics

    @property
    def group(self) -> str:
        return self.subscription.group

    @property
    def running(self) -> bool:
        """Started and a member of its group."""
        return self.client is not None and self.joined

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group}")

    async def _run(self) -> None:
        await self._start_until_done("started")
        await self._consume()

    async def _start_until_done(self, started: str) -> None:
        """Start the clients, retried on the back-off until they start (or the task is cancelled)."""
        topics = list(self.topics)
        await retry_until_done(
            self._start_clients, self._start_backoff, "start the Kafka consumer", topics=topics, group=self.group
        )
        log.info(f"consumer {started}", topics=topics, group=self.group)

    async def _start_clients(self) -> None:
        await self.dead_letters.start()
        sub = self.subscription
        consumer = AIOKafkaConsumer(
            **client_options(self._kafka),
            client_id=sub.client_id,
            group_id=sub.group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **sub.options,
        )
        consumer.subscribe(list(sub.topics), listener=_Rebalance(self, consumer))
        try:
            await consumer.start()
        except BaseException:  # cancelled too (stopped while starting): its coordinator task
            with suppress(Exception):  # would otherwise go on, join the group, take partitions
                await consumer.stop()
            raise
        self.client = consumer

    async def _consume(self) -> None:
        consumer, sub = self.client, self.subscription
        assert consumer is not None
        fetch_errors = probe_failures = 0
        loop = asyncio.get_running_loop()
        probe_at = loop.time() + PROBE_EVERY
        while not self._stopping.is_set():
            try:
                fetched = await consumer.getmany(timeout_ms=sub.poll_timeout_ms, max_records=sub.max_records)
            except ConsumerStoppedError:
                return
            except KafkaError as exc:
                fetch_errors += 1
                if fetch_errors >= REBUILD_AFTER:
                    consumer = await self._rebuild_client("fetch_failures", error=repr(exc), failures=fetch_errors)
                    if consumer is None:
                        return  # stopped meanwhile
                    fetch_errors = 0
                    continue
                delay = self._start_backoff.delay(fetch_errors)
                log.error("fetching failed", error=repr(exc), retry_in=delay, group=self.group)
                await self._pause(delay)
                continue
            fetch_errors = 0
            if self.pacing is not None:
                if not fetched:
                    self.pacing.release(consumer)
                self.dropped_buffers.after_poll(self.pacing, idle=not fetched)
            if not fetched:
                if loop.time() >= probe_at:
                    probe_at = loop.time() + PROBE_EVERY
                    probe_failures = 0 if await self._metadata_reachable(consumer) else probe_failures + 1
                    if probe_failures >= PROBE_FAILURES:
                        if (consumer := await self._rebuild_client("no_broker_answers")) is None:
                            return  # stopped meanwhile
                        probe_failures = 0
                continue
            probe_failures, probe_at = 0, loop.time() + PROBE_EVERY
            records = list(chain.from_iterable(fetched.values()))
            try:
                await self.process(records)
            except Exception:
                log.exception("consumer loop error; the records will be redelivered", group=self.group)
                self._redeliver(records)
                await self._pause(self._backoff.delay(max(self.failures, 1)))

    async def _metadata_reachable(self, consumer: AIOKafkaConsumer) -> bool:
        """Whether a broker the client knows answers a metadata request (an idle client's probe)."""
        try:
            await asyncio.wait_for(consumer.topics(), 5.0)
        except (KafkaError, TimeoutError) as exc:
            log.warning("no broker the Kafka consumer knows answers", error=repr(exc), group=self.group)
            return False
        return True

    async def _rebuild_client(self, reason: str, **detail: object) -> AIOKafkaConsumer | None:
        """Stop the Kafka client (what is settled committed first, if it still can) and start
        a new one, retried until it starts or the runtime stops (then None)."""
        log.warning("the Kafka consumer is built again", group=self.group, reason=reason, **detail)
        CLIENT_REBUILDS.labels(self.group, reason).inc()
        with suppress(Exception):
            await self.flush_commits(timeout=5.0)
        old, self.client, self.joined = self.client, None, False
        if self.pacing is not None:
            self.pacing.forget(set(self.pacing.positions))
        if old is not None:
            with suppress(Exception):
                await asyncio.wait_for(old.stop(), 10.0)
        if not self._stopping.is_set():
            await self._start_until_done("started again")
        return self.client

    async def process(self, records: Sequence[ConsumerRecord]) -> bool:
        """Handle one fetch: True when it is settled (its offsets are committed), False when
        it is given back for redelivery."""
        try:
            offsets = await self.handler.handle(records, self.failures)
        except Exception as exc:
            self.failures += 1
            if self._on_failure is not None:
                self._on_failure()
            if self._stopping.is_set():
                log.info("stopping: records given back unsettled", records=len(records), reason=str(exc))
                self._redeliver(records)
                return False
            try:
                if await self.handler.failed(records, exc, self.failures):
                    return self._settled(records, None)
            except Exception as settle_exc:  # noqa: BLE001 - e.g. Kafka down too: retry later
                exc = settle_exc
            delay = self._backoff.delay(self.failures)
            first = records[0]
            log.error(
                "handling failed; the records will be redelivered",
                error=repr(exc),
                exc_info=exc,
                retry_in=round(delay, 2),
                records=len(records),
                topic=first.topic,
                partition=first.partition,
                offset=first.offset,
                failures=self.failures,
            )
            self._redeliver(records)
            await self._pause(delay)
            return False
        return self._settled(records, offsets)

    def _settled(self, records: Sequence[ConsumerRecord], offsets: Offsets | None) -> bool:
        self.failures = 0
        offsets = offsets if offsets is not None else next_offsets(records)
        self.next_offsets.update(offsets)
        self._commits.soon(offsets)
        consumer = self.client
        if self.pacing is not None and consumer is not None:
            self.pacing.handled(records)
            self.pacing.steer(consumer, self.next_offsets)
        if self._on_lag is not None and consumer is not None:
            assigned = consumer.assignment()  # a partition revoked while handling has no highwater
            for (topic, partition), nxt in offsets.items():
                tp = TopicPartition(topic, partition)
                if tp in assigned and (high := consumer.highwater(tp)) is not None:
                    self._on_lag(topic, partition, max(high - nxt, 0))
        return True

    def _redeliver(self, records: Sequence[ConsumerRecord]) -> None:
        """Seek every partition of the fetch back to its first record in it (later records are
        fetched again)."""
        first: dict[tuple[str, int], int] = {}
        for r in records:
            key = (r.topic, r.partition)
            first[key] = min(first.get(key, r.offset), r.offset)
        if self.client is not None:
            for (topic, partition), offset in first.items():
                with suppress(Exception):  # a partition revoked meanwhile: its new owner reads it
                    self.client.seek(TopicPartition(topic, partition), offset)

    async def flush_commits(self, timeout: float | None = None) -> None:
        await self._commits.flush(timeout)

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the runtime stops."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def request_stop(self) -> None:
        """From now on a failure gives its records back at once (no pause, no settling)."""
        self._stopping.set()

    async def stop(self) -> None:
        """Let the fetch in hand finish (up to ``graceful_seconds``), commit what is settled,
        leave the group."""
        self.request_stop()
        task, self._task = self._task, None
        if task is not None:
            if self.client is None:  # still starting: nothing in hand
                task.cancel()
            done, _ = await asyncio.wait({task}, timeout=self._graceful)
            if not done:
                task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task
        with suppress(Exception):
            await self.flush_commits()
        consumer, self.client = self.client, None
        if consumer is not None:
            await consumer.stop()
        await self.dead_letters.stop()

    async def lag(self) -> dict[str, int | None]:
        """Per assigned partition: records on the broker not yet handled (None: unknown yet)."""
        consumer = self.client
        if consumer is None:
            return {}
        out: dict[str, int | None] = {}
        for tp in sorted(consumer.assignment(), key=lambda t: (t.topic, t.partition)):
            if tp not in consumer.assignment():  # revoked while an earlier one was awaited
                continue
            high = consumer.highwater(tp)
            nxt = self.next_offsets.get((tp.topic, tp.partition))
            if nxt is None and high is not None:
                nxt = await asyncio.wait_for(consumer.position(tp), 2.0)
            lag = None if high is None or nxt is None else max(high - nxt, 0)
            if lag is not None and self._on_lag is not None:
                self._on_lag(tp.topic, tp.partition, lag)
            out[f"{tp.topic}/{tp.partition}"] = lag
        return out
