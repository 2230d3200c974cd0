"""The outbox relay against real Kafka and PostgreSQL, including a broker outage and a SIGKILL.

10,000 events from 8 concurrent writers over 500 streams must reach Kafka exactly once after
dedup by event id, in stream order per key. A commit that lands while a batch is being
published must not wait for the relay's idle timeout; a standby relay (the lock held by
another) does not wake on every commit.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from contextlib import suppress
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from deploy.local import api
from deploy.local.layout import StackPorts
from shared.db.locks import RELAY_LOCK
from shared.events.envelope import Envelope
from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.records import CommandContext, NewEvent
from shared.eventstore.store import PostgresEventStore
from shared.kafka_security import plaintext
from shared.outbox.messages import OutboxMessage, enqueue, envelope_message
from shared.outbox.relay import OutboxRelay, make_producer
from tests.support.kafka import raw_values

TOTAL_EVENTS = 10_000
STREAMS = 500
WRITERS = 8


def start_relay(database_url: str, bootstrap: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.outbox",
            "--database-url",
            database_url,
            "--bootstrap-servers",
            bootstrap,
            "--batch-size",
            "500",
        ],
        env={**os.environ, "ABONENT_LOG_FORMAT": "json", "OUTBOX_HTTP_PORT": str(StackPorts.free().kafka)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_until(predicate, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def consume_all(bootstrap: str, topic: str, expected: int, timeout: float) -> list[Envelope]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    seen: set[uuid.UUID] = set()
    received: list[Envelope] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(seen) < expected and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batches.values():
                for record in records:
                    env = Envelope.from_bytes(record.value)
                    assert record.key.decode() == env.partition_key
                    received.append(env)
                    seen.add(env.event_id)
    finally:
        await consumer.stop()
    return received


async def test_relay_delivers_every_event_once_in_order_through_outage_and_sigkill(
    stack,
    eventstore_pool,
    eventstore_db,
    fresh_topic,
):
    if not getattr(stack, "managed", False):
        pytest.skip("needs a stack this test session started itself, to stop and start its broker")
    store = PostgresEventStore(eventstore_pool, router=lambda e: [envelope_message(fresh_topic, e)])
    streams = [f"thing-{uuid.uuid4()}" for _ in range(STREAMS)]
    key_of = {s: f"client-{i % (STREAMS // 2)}" for i, s in enumerate(streams)}
    appended: list = []
    versions: dict[str, int] = defaultdict(int)

    async def writer(seed: int) -> None:
        rnd = random.Random(seed)
        while len(appended) < TOTAL_EVENTS:
            stream = rnd.choice(streams)
            n = min(rnd.randint(1, 4), TOTAL_EVENTS - len(appended))
            if n <= 0:
                return
            events = [NewEvent(uuid.uuid4(), "Happened", 1, {"w": seed}, datetime.now(UTC)) for _ in range(n)]
            ctx = CommandContext(correlation_id=str(uuid.uuid4()), actor=f"writer-{seed}", now=datetime.now(UTC))
            try:
                recorded = await store.append(stream, versions[stream], events, partition_key=key_of[stream], ctx=ctx)
            except ConcurrencyError:
                versions[stream] = await store.stream_version(stream)
                continue
            versions[stream] = recorded[-1].stream_version
            appended.extend(recorded)

    relay = start_relay(eventstore_db, stack.kafka_bootstrap)
    try:
        writers = asyncio.gather(*(writer(i) for i in range(WRITERS)))
        await wait_until(lambda: _at_least(appended, 2_500), 60, "first events")
        await asyncio.to_thread(api.stop_kafka, stack.run_dir)
        await asyncio.sleep(10)  # the outage itself: writes go on, the relay must wait
        stuck = await eventstore_pool.fetchval("SELECT count(*) FROM outbox")
        assert stuck > 0, "the outage did not hold anything back: the test proves nothing"
        await asyncio.to_thread(api.start_kafka, stack.run_dir)
        await wait_until(lambda: _at_least(appended, 6_000), 120, "more events")
        relay.send_signal(signal.SIGKILL)
        relay.wait()
        relay = start_relay(eventstore_db, stack.kafka_bootstrap)
        await writers
        await wait_until(lambda: _outbox_empty(eventstore_pool), 180, "the outbox to drain")
    finally:
        relay.terminate()
        relay.wait(timeout=20)

    received = await consume_all(stack.kafka_bootstrap, fresh_topic, len(appended), timeout=120)
    first_seen: dict[uuid.UUID, Envelope] = {}
    for env in received:
        first_seen.setdefault(env.event_id, env)
    assert len(appended) >= TOTAL_EVENTS
    assert set(first_seen) == {e.event_id for e in appended}  # none lost, none invented

    per_key: dict[str, list[int]] = defaultdict(list)
    per_stream: dict[str, list[int]] = defaultdict(list)
    for env in first_seen.values():  # dict keeps first-arrival order
        per_key[env.partition_key].append(env.position)
        per_stream[env.stream_id].append(env.stream_version)
    for key, positions in per_key.items():
        assert positions == sorted(positions), f"key {key} out of order"
    for stream, seen_versions in per_stream.items():
        assert seen_versions == list(range(1, len(seen_versions) + 1)), f"{stream} out of order"


class CommitDuringFirstPublish(OutboxRelay):
    """A relay whose first batch is still being published when another transaction commits
    an outbox row and its NOTIFY reaches the relay."""

    def __init__(self, *args, topic: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.topic = topic
        self.committed_at: float | None = None

    async def publish_batch(self) -> int:
        published = await super().publish_batch()
        if self.committed_at is None and published:
            async with self._pool.acquire() as conn, conn.transaction():
                await enqueue(conn, [message(self.topic)])
            self.committed_at = time.monotonic()
            await wait_until(lambda: _is_set(self._wake), 5, "the NOTIFY to reach the relay")
        return published


def message(topic: str) -> OutboxMessage:
    return OutboxMessage(
        topic=topic, key="client-1", event_id=uuid.uuid4(), payload=b"{}", headers={"event_type": "Happened"}
    )


async def test_a_commit_during_a_publish_is_published_without_waiting_for_idle_wait(
    stack,
    eventstore_pool,
    fresh_topic,
):
    idle_wait = 5.0
    async with eventstore_pool.acquire() as conn, conn.transaction():
        await enqueue(conn, [message(fresh_topic)])
    relay = CommitDuringFirstPublish(
        eventstore_pool,
        lambda: make_producer(plaintext(stack.kafka_bootstrap), "test-relay"),
        idle_wait=idle_wait,
        topic=fresh_topic,
    )
    task = asyncio.create_task(relay.run())
    try:
        await wait_until(lambda: _at_least_published(relay, 2), 2 * idle_wait, "both rows published")
        assert relay.committed_at is not None
        waited = time.monotonic() - relay.committed_at
    finally:
        relay.stop()
        await task
    assert waited < idle_wait / 5, f"the second row waited {waited:.2f}s: its NOTIFY was lost"


class CountingRelay(OutboxRelay):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.attempts = 0

    async def publish_batch(self) -> int:
        self.attempts += 1
        return await super().publish_batch()


async def test_a_standby_relay_tries_the_lock_every_idle_wait_not_on_every_commit(
    stack,
    eventstore_pool,
    fresh_topic,
):
    """Another relay holds ``RELAY_LOCK`` while 30 transactions commit (30 NOTIFYs): the standby
    tries once per ``idle_wait``, and publishes everything once the lock is free."""
    idle_wait, commits = 2.0, 30
    holder = await eventstore_pool.acquire()
    holding = holder.transaction()
    await holding.start()
    await holder.execute("SELECT pg_advisory_xact_lock($1)", RELAY_LOCK)
    relay = CountingRelay(
        eventstore_pool, lambda: make_producer(plaintext(stack.kafka_bootstrap), "test-relay"), idle_wait=idle_wait
    )
    task = asyncio.create_task(relay.run())
    try:
        await wait_until(lambda: _at_least_attempts(relay, 1), 30, "the relay's first try")
        for _ in range(commits):
            async with eventstore_pool.acquire() as conn, conn.transaction():
                await enqueue(conn, [message(fresh_topic)])
            await asyncio.sleep(0.02)
        tries_while_standby = relay.attempts
        assert relay.stats.published == 0
        assert tries_while_standby <= 3, f"{tries_while_standby} tries for {commits} commits: it woke on NOTIFY"
        await holding.rollback()
        await wait_until(lambda: _at_least_published(relay, commits), 4 * idle_wait, "the rows once the lock is free")
    finally:
        relay.stop()
        await task
        with suppress(asyncpg.InterfaceError):  # already rolled back unless an assertion failed first
            await holding.rollback()
        await eventstore_pool.release(holder)


async def _at_least_attempts(relay: CountingRelay, n: int) -> bool:
    return relay.attempts >= n


async def _is_set(event: asyncio.Event) -> bool:
    return event.is_set()


async def _at_least_published(relay: OutboxRelay, n: int) -> bool:
    return relay.stats.published >= n


async def _at_least(items: list, n: int) -> bool:
    return len(items) >= n


async def _outbox_empty(pool) -> bool:
    return await pool.fetchval("SELECT count(*) FROM outbox") == 0


def relay_in_rounds(pool, bootstrap: str, name: str, *, batch_size: int, rounds: int) -> OutboxRelay:
    """A relay publishing ``rounds`` batches of ``batch_size`` rows a transaction."""
    return OutboxRelay(
        pool,
        lambda: make_producer(plaintext(bootstrap), name),
        batch_size=batch_size,
        rounds=rounds,
        idle_wait=0.2,
        service=name,
    )


async def test_a_refusal_in_a_later_round_quarantines_one_row_and_every_other_key_follows_in_order(
    stack, eventstore_pool, fresh_topic
):
    """Several batches per transaction (``rounds``): the batch that meets the broker's "never"
    is published row by row, the batches before it stay published, nothing after it was sent
    ahead of it, and the next transaction goes on from there."""
    keys = [f"client-{i}" for i in range(20)]
    rows = [
        OutboxMessage(topic=fresh_topic, key=keys[i % 20], event_id=uuid.uuid4(), payload=b'{"n": %d}' % i, headers={})
        for i in range(400)
    ]
    too_big = rows[183] = OutboxMessage(
        topic=fresh_topic, key=rows[183].key, event_id=rows[183].event_id, payload=b"x" * 3_000_000, headers={}
    )
    async with eventstore_pool.acquire() as conn, conn.transaction():
        await enqueue(conn, rows)
    relay = relay_in_rounds(eventstore_pool, stack.kafka_bootstrap, "test-rounds", batch_size=50, rounds=5)
    task = asyncio.create_task(relay.run())
    held_back = [m for m in rows[184:] if m.key == too_big.key]
    try:

        async def only_held_back_left() -> bool:
            left = await eventstore_pool.fetchval("SELECT count(*) FROM outbox")
            return left == len(held_back)

        await wait_until(only_held_back_left, 90, "every row but those behind the refused one to leave")
    finally:
        relay.stop()
        await task
    assert [r["event_id"] for r in await eventstore_pool.fetch("SELECT event_id FROM outbox_quarantine")] == [
        too_big.event_id
    ]
    expected = [m for m in rows if m is not too_big and m not in held_back]
    consumer = AIOKafkaConsumer(
        fresh_topic, bootstrap_servers=stack.kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    first: dict[bytes, str] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(first) < len(expected) and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    first.setdefault(r.value, r.key.decode())
    finally:
        await consumer.stop()
    assert set(first) == {m.payload for m in expected}  # none lost; none of the held-back key's later rows
    for key in keys:  # per key, first arrivals in outbox order
        arrived = [p for p, k in first.items() if k == key]
        assert arrived == [m.payload for m in expected if m.key == key], key


async def test_a_row_that_commits_late_goes_before_its_keys_later_rows_even_mid_transaction(
    stack, eventstore_pool, fresh_topic, monkeypatch
):
    """A writer draws an outbox id, then commits after the relay has read past it (ids are
    drawn at insert, commits land in another order). Its key's next row commits right after it
    (writers lock per key) — here while the relay's first batch is in flight, before the
    relay reads its next batch in the same transaction. That read must not see the key's later
    row: Kafka would have it before the earlier one. The relay's transaction reads one snapshot,
    so both wait for the next transaction, which reads them in id order."""
    late, later = (
        OutboxMessage(topic=fresh_topic, key="client-late", event_id=uuid.uuid4(), payload=p, headers={})
        for p in (b'{"n": "late"}', b'{"n": "later"}')
    )
    others = [
        OutboxMessage(topic=fresh_topic, key=f"client-{i}", event_id=uuid.uuid4(), payload=b"{}", headers={})
        for i in range(10)
    ]
    straggler = await eventstore_pool.acquire()
    pending = straggler.transaction()
    await pending.start()
    await enqueue(straggler, [late])  # its id is drawn now, below the others'
    async with eventstore_pool.acquire() as conn, conn.transaction():
        await enqueue(conn, others)  # a full first batch (batch_size 10) the relay reads without `late`

    from shared.outbox import relay as relay_module

    real_send = relay_module.send
    calls = 0

    async def send_then_commit_the_straggler(producer, prepared):
        nonlocal calls
        calls += 1
        futures = await real_send(producer, prepared)
        if calls == 1:  # the first batch is in flight: `late` commits, then its key's next row
            await pending.commit()
            async with eventstore_pool.acquire() as conn, conn.transaction():
                await enqueue(conn, [later])
        return futures

    monkeypatch.setattr(relay_module, "send", send_then_commit_the_straggler)
    relay = relay_in_rounds(eventstore_pool, stack.kafka_bootstrap, "test-late", batch_size=10, rounds=3)
    task = asyncio.create_task(relay.run())
    try:

        async def drained() -> bool:
            return await eventstore_pool.fetchval("SELECT count(*) FROM outbox") == 0

        await wait_until(drained, 30, "every row to be published")
    finally:
        relay.stop()
        await task
        await eventstore_pool.release(straggler)
    assert calls >= 2
    arrived = await raw_values(stack.kafka_bootstrap, fresh_topic, expected=2, key=b"client-late")
    assert arrived[:2] == [late.payload, later.payload]
