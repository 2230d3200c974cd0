"""The outbox relay: moves committed outbox rows to Kafka, in order, without losing any.

Rules that keep it correct:

* **One publisher at a time.** Each batch runs inside a transaction that first takes
  ``pg_try_advisory_xact_lock(RELAY_LOCK)``. A second relay (another replica, or a restarted
  one while the old one is still dying) finds the lock taken and waits, so two relays never
  publish the same rows, or publish them out of order, at once. If the holder dies, its
  transaction aborts, the lock goes with it and the rows are still there. A relay that found
  the lock taken is a standby: it tries again every ``idle_wait``, not on every commit's
  NOTIFY (which would cost it, and PostgreSQL, a transaction per commit of the service).
* **Order per key.** Writers take a per-key advisory lock before their outbox insert, so for
  one key id order = commit order; the relay reads in id order and the idempotent producer
  (``enable_idempotence`` forces ``acks=all``) keeps that order inside each partition.
* **Nothing dropped.** Rows are deleted in the same transaction only after the broker has
  acknowledged every message of the batch. If Kafka is down, the batch is rolled back and
  retried after a back-off. A crash between the acks and the commit republishes the batch:
  delivery is at-least-once, and consumers deduplicate by event id / stream version.
* **Pipelined, never ahead.** One transaction publishes up to ``rounds`` batches: while Kafka
  acknowledges batch N, the rows of N-1 are deleted and N+1 is read and built, but N+1 is sent
  only after every record of N is acknowledged — so nothing is ever sent past a batch that
  failed, and a rollback leaves every row the transaction read.
* **Scans start at the floor.** Every transaction's first read starts at an id below which no
  row is left or can still commit (``shared.outbox.scan_floor``), not at the left of the
  primary key, where a large drain leaves dead entries until a vacuum.
* **Nothing blocks the rest.** A row the broker refuses for good (too large, no such topic)
  is moved to ``outbox_quarantine`` with the error, and the rows of its key after it wait
  behind it (``shared.outbox.quarantine``); every other key goes on.

It uses aiokafka's producer directly (FastStream runs on it too): the relay builds one
record batch per partition itself (``create_batch``/``send_batch``) and awaits the acks of a
whole outbox batch together, because ``producer.send`` per message costs a coroutine, a size
estimate, a future and aiokafka's pure-Python murmur2 for every row (figures:
docs/decisions/performance.md). Here the partition is computed once per distinct key per
batch, with the same ``DefaultPartitioner`` (Kafka's murmur2, what the Java client picks) from
the producer's own cluster metadata, so keys land where they did before and where consumers
expect them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from prometheus_client import Counter, Gauge

from shared.backoff import Backoff
from shared.db.locks import RELAY_LOCK
from shared.kafka_producer import stop_producer
from shared.kafka_security import client_options
from shared.logging import get_logger
from shared.outbox import scan_floor
from shared.outbox.messages import NOTIFY_CHANNEL
from shared.outbox.quarantine import DELETE_AND_SELECT_AFTER, REFUSED_FOR_GOOD, SELECT_BATCH, isolate
from shared.settings import KafkaSettings

log = get_logger("outbox.relay")

# The producer's default (make_producer sets no other), called directly: see the module doc.
_partitioner = DefaultPartitioner()

Destination = tuple[str, int]  # (topic, partition)

PUBLISHED = Counter("relay_published_total", "Outbox rows the relay published and Kafka acknowledged", ["service"])
FAILURES = Counter(
    "relay_failures_total", "Relay batches that failed and were rolled back to be retried", ["service", "reason"]
)
BACKLOG = Gauge("outbox_backlog_rows", "Outbox rows not yet published (measured by the relay)", ["service"])
OLDEST_AGE = Gauge(
    "outbox_oldest_age_seconds", "Age of the oldest outbox row not yet published; 0 when empty", ["service"]
)
MEASURE_EVERY = 5.0
"""Seconds between two measurements of the backlog (a count over the outbox table)."""


def failure_reason(exc: BaseException) -> str:
    """A small, fixed set of label values for ``relay_failures_total``."""
    if isinstance(exc, KafkaError):
        return "kafka"
    if isinstance(exc, asyncpg.PostgresError):
        return "database"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return "network"


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    failures: int = 0
    quarantined: int = 0
    last_published_at: float | None = None


def make_producer(kafka: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **client_options(kafka),
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=10_000,
    )


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer_factory: Callable[[], AIOKafkaProducer],
        *,
        batch_size: int = 1000,
        rounds: int = 10,
        idle_wait: float = 0.5,
        max_backoff: float = 5.0,
        service: str = "outbox",
        floor_every: float = scan_floor.EVERY,
    ) -> None:
        """``service``: the ``service`` label of this relay's metrics (contracts, tickets).
        ``rounds``: batches of ``batch_size`` rows one transaction publishes at most, each read
        while Kafka acknowledges the one before (see ``publish_batch``). ``floor_every``:
        seconds between two steps of the scan floor (``shared.outbox.scan_floor``)."""
        self._pool = pool
        self.floor = scan_floor.ScanFloor(floor_every)
        self.service = service
        self._published = PUBLISHED.labels(service)
        self._measured_at = 0.0
        self._producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self._listener: asyncpg.Connection | None = None
        self._batch_size = batch_size
        self._rounds = rounds
        self._backlog = False  # the last transaction stopped with rows left behind it
        self._standby = False  # the last transaction found another relay holding the lock
        self._idle_wait = idle_wait
        self._backoff = Backoff(0.1, max_backoff)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.stats = RelayStats()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Publish until ``stop()``; survives Kafka and PostgreSQL outages."""
        try:
            await self._loop()
        finally:  # also when an unexpected error ends the run (the supervisor restarts it)
            await self._drop_listener()
            await self._close_producer()

    async def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                if self._producer is None:
                    self._producer = self._producer_factory()
                    await self._producer.start()
                if self._listener is None or self._listener.is_closed():
                    await self._drop_listener()
                    self._listener = await self._pool.acquire()
                    await self._listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
                # Cleared before the batch is read, not before the sleep: a NOTIFY for a
                # commit that lands while this batch is published must cut the sleep short.
                self._wake.clear()
                self._backlog = False
                await self.publish_batch()
                failures = 0
                if not self._standby and self.floor.due():
                    await self.floor.step(self._pool)
                if time.monotonic() - self._measured_at >= MEASURE_EVERY:
                    await self.measure()
                if not self._backlog:
                    await self._sleep(self._idle_wait, wake_on_notify=not self._standby)
            except (TimeoutError, KafkaError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.stats.failures += 1
                self.floor.reset()  # the database may not be the one the floor was read from
                FAILURES.labels(self.service, failure_reason(exc)).inc()
                failures += 1
                backoff = self._backoff.delay(failures)
                log.warning("relay batch failed, will retry", error=repr(exc), retry_in=backoff)
                await self._drop_listener()
                if isinstance(exc, (KafkaError, asyncio.TimeoutError)):
                    # A fresh producer (new producer id) resends the rolled-back batch in order.
                    await self._close_producer()
                await self._sleep(backoff, wake_on_notify=False)

    async def _drop_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            await self._release(listener)

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await stop_producer(producer)
            except Exception as exc:  # noqa: BLE001 - closing a broken producer may fail too
                log.debug("producer stop failed", error=repr(exc))

    async def publish_batch(self) -> int:
        """Publish up to ``rounds`` batches in one transaction if this relay holds the lock;
        returns how many rows were published.

        Pipelined, in order: batch N is sent; while Kafka acknowledges it, the rows batch N-1
        published are deleted and batch N+1 is read and built (one round trip, one CPU slice);
        batch N+1 is sent only once every record of N is acknowledged. So a failure leaves
        nothing sent after what failed, and a rolled-back transaction leaves every row it read
        in the outbox (sent again later: at-least-once, as after a crash before the commit).
        """
        # One snapshot for every round (REPEATABLE READ): a row that commits after the first
        # read, with an id below the rows already read, and its key's later rows (which commit
        # after it: writers lock per key) are all left to the next transaction, which reads them
        # in id order. Read committed, the next round's ``id > last`` read saw the later row and
        # not the earlier one, and Kafka got a key's events out of order.
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            self._standby = not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", RELAY_LOCK)
            if self._standby:
                return 0
            rows = await conn.fetch(SELECT_BATCH, self._batch_size, self.floor.value)
            if not rows:
                return 0
            producer = self._producer
            assert producer is not None
            acknowledged: list[int] = []  # published, not deleted yet
            published = quarantined = 0
            try:
                prepared = await prepare(producer, rows)
                for round_ in range(1, self._rounds + 1):
                    sent = await send(producer, prepared)
                    following: list[asyncpg.Record] = []
                    if len(rows) == self._batch_size:
                        if round_ < self._rounds:
                            following = await conn.fetch(
                                DELETE_AND_SELECT_AFTER, acknowledged, rows[-1][0], self._batch_size
                            )
                            acknowledged = []
                        else:
                            self._backlog = True  # a full last batch: more may be waiting
                    await acknowledged_all(sent)
                    acknowledged.extend(row[0] for row in rows)
                    published += len(rows)
                    if not following:
                        break
                    rows = following
                    prepared = await prepare(producer, rows)
            except REFUSED_FOR_GOOD as exc:
                # ``rows`` is the batch not (wholly) acknowledged; nothing after it was sent.
                log.warning("the broker refused a batch for good: publishing it row by row", error=repr(exc))
                await conn.execute(DELETE, acknowledged)
                sent_alone, quarantined = await isolate(conn, await self._fresh_producer(), rows, self.service, publish)
                published += sent_alone
                self.stats.quarantined += quarantined
                await self._close_producer()  # the next batch starts a fresh idempotent sequence
                self._backlog = True  # the rows after the quarantined one go at once, not after idle_wait
            else:
                await conn.execute(DELETE, acknowledged)
        self.stats.published += published
        self._published.inc(published)
        self.stats.batches += 1
        self.stats.last_published_at = time.time()
        return published

    async def _fresh_producer(self) -> AIOKafkaProducer:
        """A new producer (new producer id): the refused batch left the old one's sequence
        numbers behind for its partitions."""
        await self._close_producer()
        self._producer = self._producer_factory()
        await self._producer.start()
        return self._producer

    async def _sleep(self, seconds: float, wake_on_notify: bool = True) -> None:
        """Wait ``seconds``, or less on stop() or (if ``wake_on_notify``) a NOTIFY since the
        last batch was read."""
        waiters = [asyncio.ensure_future(self._stopping.wait())]
        if wake_on_notify:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for w in waiters:
            w.cancel()

    async def _release(self, conn: asyncpg.Connection) -> None:
        try:
            await conn.remove_listener(NOTIFY_CHANNEL, self._on_notify)
        except Exception:  # noqa: BLE001 - a dead connection has no listener left to remove
            pass
        await self._pool.release(conn)

    def stop(self) -> None:
        self._stopping.set()

    async def measure(self) -> None:
        """Set ``outbox_backlog_rows`` and ``outbox_oldest_age_seconds`` from the table."""
        row = await self._pool.fetchrow(MEASURE, self.floor.value, EXACT_UP_TO)
        BACKLOG.labels(self.service).set(row["rows"])
        OLDEST_AGE.labels(self.service).set(max(float(row["age"]), 0.0))
        self._measured_at = time.monotonic()

    async def pending(self) -> int:
        count: int = await self._pool.fetchval("SELECT count(*) FROM outbox")
        return count


EXACT_UP_TO = 100_000
"""Up to this many ids between the first and the last waiting row the backlog is counted; above,
the span of ids is the figure (the rows, plus the ids of rolled-back writes between them)."""

MEASURE = """
    WITH ends AS (
        SELECT (SELECT id FROM outbox WHERE id >= $1 ORDER BY id LIMIT 1) AS first,
               (SELECT id FROM outbox WHERE id >= $1 ORDER BY id DESC LIMIT 1) AS last,
               (SELECT created_at FROM outbox WHERE id >= $1 ORDER BY id LIMIT 1) AS oldest)
    SELECT CASE WHEN first IS NULL THEN 0
                WHEN last - first < $2 THEN (SELECT count(*) FROM outbox WHERE id BETWEEN first AND last)
                ELSE last - first + 1 END AS rows,
           coalesce(extract(epoch FROM clock_timestamp() - oldest), 0) AS age
    FROM ends"""
"""The backlog and the oldest row's age, from the scan floor $1 (nothing is left below it), by
the primary key only: the relay runs it every 5 s, in its loop. A count of every row — a
sequential scan, or the generic plan's walk of the key with a heap fetch a row — took 1–3.6 s
a time while millions of rows waited (PostgreSQL's log of the full run of 3 December 17:41)."""

DELETE = "DELETE FROM outbox WHERE id = ANY($1::bigint[])"
ACK_TIMEOUT = 30.0

Prepared = list[tuple[Destination, BatchBuilder]]


async def publish(producer: AIOKafkaProducer, rows: Sequence[asyncpg.Record]) -> None:
    """Send outbox ``rows`` (id, topic, key, payload, headers) and wait for every ack.

    Raises ``KafkaError`` (or ``TimeoutError``) if any record batch is not acknowledged, so
    the caller rolls back and nothing is deleted.
    """
    await acknowledged_all(await send(producer, await prepare(producer, rows)))


async def prepare(producer: AIOKafkaProducer, rows: Sequence[asyncpg.Record]) -> Prepared:
    """``rows`` as record batches per partition, in the order they are to be sent."""
    topics = {row[1] for row in rows}
    partitions = {topic: sorted(await producer.partitions_for(topic)) for topic in topics}
    queued = [
        (i, tp, batch)
        for tp, group in group_by_partition(rows, partitions).items()
        for i, batch in enumerate(record_batches(producer, group))
    ]
    # Every partition's first batch before any second one: send_batch waits until the
    # previous batch of the same partition is drained, which would hold the others back.
    queued.sort(key=itemgetter(0))
    return [(tp, batch) for _, tp, batch in queued]


async def send(producer: AIOKafkaProducer, prepared: Prepared) -> list[asyncio.Future[Any]]:
    """Hand the batches to the producer; their futures resolve on Kafka's acknowledgement."""
    return [await producer.send_batch(batch, topic, partition=partition) for (topic, partition), batch in prepared]


async def acknowledged_all(futures: list[asyncio.Future[Any]]) -> None:
    await asyncio.wait_for(asyncio.gather(*futures), timeout=ACK_TIMEOUT)


def group_by_partition(
    rows: Iterable[asyncpg.Record],
    partitions: dict[str, list[int]],
) -> dict[Destination, list[asyncpg.Record]]:
    """``rows`` grouped by the partition their key hashes to, id order kept within each.

    ``partitions`` is every topic's sorted partition ids. The hash runs once per distinct
    (topic, key) of the batch; rows of one key always share a group, so per-key order holds.
    """
    groups: dict[Destination, list[asyncpg.Record]] = {}
    by_key: dict[tuple[str, str], list[asyncpg.Record]] = {}
    for row in rows:
        group = by_key.get((row[1], row[2]))
        if group is None:
            topic, key = row[1], row[2]
            partition = _partitioner(key.encode(), partitions[topic], partitions[topic])
            group = by_key[(topic, key)] = groups.setdefault((topic, partition), [])
        group.append(row)
    return groups


def record_batches(producer: AIOKafkaProducer, rows: Iterable[asyncpg.Record]) -> list[BatchBuilder]:
    """``rows`` of one partition as record batches in order; a new one starts when one is full
    (``max_batch_size``). A batch always takes its first record, however large."""
    batches = [producer.create_batch()]
    for row in rows:
        key, value = row[2].encode(), row[3]
        headers = [(name, text.encode()) for name, text in row[4].items()]
        if batches[-1].append(timestamp=None, key=key, value=value, headers=headers) is None:
            batches.append(producer.create_batch())
            batches[-1].append(timestamp=None, key=key, value=value, headers=headers)
    return batches
