"""The relay's scan floor (issue 20): after a large drain the relay's first read of a transaction
walked the dead entries at the left of the outbox's primary key until a vacuum (recorded →
produced p50 161 ms at 50 commands/s at full scale). Its scans now start at a floor below which
no row is left or can still commit — never past a row whose writer is still open, nor past a
quarantined row, which comes back under its own id when released."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from aiokafka.errors import KafkaConnectionError

from shared.kafka_security import plaintext
from shared.outbox import quarantine
from shared.outbox.messages import OutboxMessage, enqueue
from shared.outbox.quarantine import SELECT_BATCH
from shared.outbox.relay import EXACT_UP_TO, MEASURE, OutboxRelay, make_producer
from shared.outbox.scan_floor import ScanFloor
from tests.support.kafka import raw_values
from tests.support.plans import blocks_touched


def message(topic: str = "t", key: str = "k", payload: bytes = b"{}") -> OutboxMessage:
    return OutboxMessage(topic=topic, key=key, event_id=uuid.uuid4(), payload=payload, headers={})


async def committed(pool, n: int, topic: str = "t") -> list[int]:
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, [message(topic, f"k{i}") for i in range(n)])
    return [r["id"] for r in await pool.fetch("SELECT id FROM outbox ORDER BY id")]


async def published(pool, ids: list[int]) -> None:
    """What the relay does once Kafka acknowledged them."""
    await pool.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", ids)


async def steps(floor: ScanFloor, pool, n: int = 3) -> int:
    for _ in range(n):
        await floor.step(pool)
    return floor.value


async def test_the_floor_rises_past_published_rows_and_never_past_a_writer_still_open(eventstore_pool) -> None:
    pool = eventstore_pool
    floor = ScanFloor(every=0)
    assert await steps(floor, pool) == 1  # a fresh sequence has handed out nothing: the first id is 1

    first = await committed(pool, 100)
    await published(pool, first)
    assert await steps(floor, pool) == first[-1] + 1

    straggler = await pool.acquire()
    try:
        pending = straggler.transaction()
        await pending.start()
        await enqueue(straggler, [message(key="late")])
        late = await straggler.fetchval("SELECT max(id) FROM outbox")
        after = await committed(pool, 10)
        await published(pool, after)
        # Every row above it is gone and its own is invisible: only its open transaction holds
        # the floor at its id.
        assert await steps(floor, pool, 5) <= late
        await pending.commit()
    finally:
        await pool.release(straggler)

    assert await steps(floor, pool) == late  # committed, not published yet: the floor stays on it
    assert [r["id"] for r in await pool.fetch(SELECT_BATCH, 10, floor.value)] == [late]
    await published(pool, [late])
    assert await steps(floor, pool) == after[-1] + 1


async def test_the_floor_stops_at_a_quarantined_row_which_comes_back_under_its_own_id(eventstore_pool) -> None:
    pool = eventstore_pool
    ids = await committed(pool, 3)
    await pool.execute(quarantine.MOVE, ids[0], "refused for good")
    await published(pool, ids[1:])
    floor = ScanFloor(every=0)
    assert await steps(floor, pool) == ids[0]

    assert await quarantine.release(pool, ids[0], "retry")
    assert [r["id"] for r in await pool.fetch(SELECT_BATCH, 10, floor.value)] == [ids[0]]


async def test_after_a_large_drain_the_first_read_of_a_relay_transaction_reads_a_few_pages(eventstore_pool) -> None:
    pool = eventstore_pool
    await pool.execute("ALTER TABLE outbox SET (autovacuum_enabled = false)")  # as between two vacuums
    await pool.execute(
        """INSERT INTO outbox (topic, key, event_id, payload, headers)
           SELECT 't', 'k' || g, gen_random_uuid(), convert_to(repeat('x', 200), 'UTF8'), '{}'
           FROM generate_series(1, 50000) g"""
    )
    await pool.execute("DELETE FROM outbox")
    floor = ScanFloor(every=0)
    await steps(floor, pool)
    newest = (await committed(pool, 1))[0]

    from_the_left = await blocks_touched(pool, SELECT_BATCH, 1000, 0)
    from_the_floor = await blocks_touched(pool, SELECT_BATCH, 1000, floor.value)
    assert floor.value == newest
    assert [r["id"] for r in await pool.fetch(SELECT_BATCH, 1000, floor.value)] == [newest]
    assert from_the_left > 100, from_the_left  # the dead entries of 50,000 rows, page after page
    assert from_the_floor < 10, from_the_floor


async def test_a_sequence_that_caches_ids_per_session_keeps_the_floor_at_zero(eventstore_pool) -> None:
    pool = eventstore_pool
    await pool.execute("ALTER SEQUENCE outbox_id_seq CACHE 20")
    await published(pool, await committed(pool, 5))
    floor = ScanFloor(every=0)
    assert await steps(floor, pool) == 0
    assert not floor.due()


def stepping_often(pool, bootstrap: str, name: str) -> OutboxRelay:
    """A relay that wakes and steps its scan floor every 50 ms."""
    return OutboxRelay(
        pool,
        lambda: make_producer(plaintext(bootstrap), name),
        idle_wait=0.05,
        floor_every=0.05,
        service=name,
    )


async def test_the_relay_publishes_a_row_committed_after_the_floor_rose_past_its_neighbours(
    stack, eventstore_pool, fresh_topic
) -> None:
    """The relay's own loop, stepping the floor every 50 ms while a writer holds a drawn id
    open for seconds and other rows are published around it."""
    pool = eventstore_pool
    relay = stepping_often(pool, stack.kafka_bootstrap, "test-floor")
    task = asyncio.create_task(relay.run())
    straggler = await pool.acquire()
    try:
        await committed(pool, 20, fresh_topic)
        await wait_until(lambda: relay.floor.value > 20, "the floor to rise past the published rows")
        pending = straggler.transaction()
        await pending.start()
        await enqueue(straggler, [message(fresh_topic, "late", b'{"n": "late"}')])
        late = await straggler.fetchval("SELECT max(id) FROM outbox")
        for _ in range(10):  # rows above it, published while it is open
            await committed(pool, 5, fresh_topic)
            await asyncio.sleep(0.1)
        await wait_for_empty(pool)
        assert 20 < relay.floor.value <= late, (relay.floor.value, late)
        await pending.commit()
        await wait_for_empty(pool)
    finally:
        await pool.release(straggler)
        relay.stop()
        await task

    arrived = await raw_values(stack.kafka_bootstrap, fresh_topic, expected=71)
    assert len(arrived) == 71 and b'{"n": "late"}' in arrived


async def wait_until(predicate, what: str, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def wait_for_empty(pool, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await pool.fetchval("SELECT count(*) FROM outbox"):
        assert loop.time() < deadline, "the relay left rows in the outbox"
        await asyncio.sleep(0.05)


async def test_a_sequence_found_below_the_floor_sends_it_back_to_zero(eventstore_pool) -> None:
    """A database restored from a backup under a running relay: its ids start again below the
    floor the relay had read from the database before."""
    pool = eventstore_pool
    await published(pool, await committed(pool, 10))
    floor = ScanFloor(every=0)
    assert await steps(floor, pool) == 11
    await pool.execute("SELECT setval('outbox_id_seq', 3)")
    assert await steps(floor, pool, 1) == 0
    assert await steps(floor, pool, 2) == 4
    newest = (await committed(pool, 1))[0]
    assert [r["id"] for r in await pool.fetch(SELECT_BATCH, 10, floor.value)] == [newest] == [4]


async def test_a_failed_relay_batch_sends_the_floor_back_to_zero(
    stack, eventstore_pool, fresh_topic, monkeypatch
) -> None:
    """A failure may mean PostgreSQL restarted or was restored: the relay forgets its floor, and
    the retry reads from the left of the primary key."""
    from shared.outbox import relay as relay_module

    pool = eventstore_pool
    relay = stepping_often(pool, stack.kafka_bootstrap, "test-floor-reset")
    real_send = relay_module.send
    floors_at_send: list[int] = []

    async def fail_once(producer, prepared):
        floors_at_send.append(relay.floor.value)
        if len(floors_at_send) == 1:
            raise KafkaConnectionError()
        return await real_send(producer, prepared)

    task = asyncio.create_task(relay.run())
    try:
        await committed(pool, 20, fresh_topic)
        await wait_until(lambda: relay.floor.value > 20, "the floor to rise past the published rows")
        monkeypatch.setattr(relay_module, "send", fail_once)
        await committed(pool, 1, fresh_topic)
        await wait_for_empty(pool)
        await wait_until(lambda: relay.floor.value > 21, "the floor to rise again")
    finally:
        relay.stop()
        await task
    assert relay.stats.failures == 1
    assert floors_at_send[0] > 20 and floors_at_send[1] == 0, floors_at_send


async def test_the_backlog_is_counted_when_small_and_spanned_when_large(eventstore_pool) -> None:
    """The relay measures every 5 s in its loop. A count of every row took 1–3.6 s a time while
    millions of rows waited (the full run of 3 December 17:41); past ``EXACT_UP_TO`` ids the
    figure is the span of ids, found by the primary key alone."""
    pool = eventstore_pool
    assert dict(await pool.fetchrow(MEASURE, 0, EXACT_UP_TO)) == {"rows": 0, "age": 0}

    await committed(pool, 5)
    with contextlib.suppress(RuntimeError):  # a write rolled back: its id is a gap
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, [message()])
            raise RuntimeError
    await committed(pool, 5)
    small = await pool.fetchrow(MEASURE, 0, EXACT_UP_TO)
    assert small["rows"] == 10 and small["age"] > 0  # counted: the gap is not a row

    await pool.execute(
        """INSERT INTO outbox (topic, key, event_id, payload, headers)
           SELECT 't', 'k', gen_random_uuid(), '', '{}' FROM generate_series(1, 30000)"""
    )
    ids = await pool.fetchrow("SELECT min(id) AS first, max(id) AS last FROM outbox")
    assert (await pool.fetchrow(MEASURE, 0, 20_000))["rows"] == ids["last"] - ids["first"] + 1 == 30_011
    async with pool.acquire() as conn:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE measure(bigint, bigint) AS {MEASURE}")
        try:
            touched = await blocks_touched(conn, "EXECUTE measure(0, 20000)")
        finally:
            await conn.execute("DEALLOCATE measure; RESET plan_cache_mode")
    assert touched < 20, touched  # three probes of the key, not a read of 30,011 rows
