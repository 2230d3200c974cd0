"""Issue 15, relay head-of-line poison: a row the broker refuses for good (over the broker's
message size limit, a topic that does not exist) was retried forever and nothing behind it was
published. Now it is quarantined with the error, the other keys go on, and the later rows of
its own key wait behind it until an operator releases it."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.outbox import quarantine
from shared.outbox.messages import OutboxMessage, enqueue
from shared.outbox.relay import OutboxRelay
from tests.support.plans import blocks_touched


def message(topic: str, key: str, payload: bytes = b"{}") -> OutboxMessage:
    return OutboxMessage(topic=topic, key=key, event_id=uuid.uuid4(), payload=payload, headers={"event_type": "X"})


async def wait_until(predicate, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def keys_on(bootstrap: str, topic: str, expected: int) -> list[tuple[str, bytes]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    seen: list[tuple[str, bytes]] = []
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(seen) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                seen.extend((r.key.decode(), r.value) for r in records)
    finally:
        await consumer.stop()
    return seen


async def test_a_row_the_broker_refuses_for_good_is_quarantined_and_the_rest_goes_on(
    stack, eventstore_pool, fresh_topic
) -> None:
    a1 = message(fresh_topic, "a", b'{"n": "a1"}')
    too_big = message(fresh_topic, "b", b"x" * 3_000_000)  # the broker's limit is about 1 MB
    b2 = message(fresh_topic, "b", b'{"n": "b2"}')
    lost = message(f"no.such.topic.{uuid.uuid4().hex[:8]}", "c")
    a2 = message(fresh_topic, "a", b'{"n": "a2"}')
    async with eventstore_pool.acquire() as conn, conn.transaction():
        await enqueue(conn, [a1, too_big, b2, lost, a2])

    def producer() -> AIOKafkaProducer:  # a short metadata wait: the missing topic is given up sooner
        return AIOKafkaProducer(
            bootstrap_servers=stack.kafka_bootstrap, enable_idempotence=True, acks="all", request_timeout_ms=3000
        )

    before = quarantine.QUARANTINED.labels("test-quarantine")._value.get()
    relay = OutboxRelay(eventstore_pool, producer, idle_wait=0.2, service="test-quarantine")
    task = asyncio.create_task(relay.run())
    try:

        async def only_b2_left() -> bool:
            return await eventstore_pool.fetchval("SELECT array_agg(event_id) FROM outbox") == [b2.event_id]

        await wait_until(only_b2_left, 90, "every row but the one behind the quarantined row to leave")
        held = {r["event_id"]: r["error"] for r in await eventstore_pool.fetch("SELECT * FROM outbox_quarantine")}
        assert set(held) == {too_big.event_id, lost.event_id}
        assert "TooLarge" in held[too_big.event_id], held[too_big.event_id]
        assert "UnknownTopicOrPartition" in held[lost.event_id], held[lost.event_id]
        assert await quarantine.report(eventstore_pool) == {"quarantined": 2, "waiting_behind_quarantine": 1}
        assert quarantine.QUARANTINED.labels("test-quarantine")._value.get() == before + 2

        published = await keys_on(stack.kafka_bootstrap, fresh_topic, 2)
        assert published == [("a", b'{"n": "a1"}'), ("a", b'{"n": "a2"}')]  # key a in order, b held back

        big_id = await eventstore_pool.fetchval(
            "SELECT id FROM outbox_quarantine WHERE event_id = $1", too_big.event_id
        )
        assert await quarantine.release(eventstore_pool, big_id, "discard")

        async def outbox_empty() -> bool:
            return await eventstore_pool.fetchval("SELECT count(*) FROM outbox") == 0

        await wait_until(outbox_empty, 30, "b2 to follow once the row ahead of it is released")
        published = await keys_on(stack.kafka_bootstrap, fresh_topic, 3)
        assert ("b", b'{"n": "b2"}') in published
    finally:
        relay.stop()
        await task


async def test_the_readiness_report_does_not_read_the_pages_a_large_drain_left_behind(eventstore_pool) -> None:
    """The bench's full-scale run: after the relay drained 9.5 million rows, contracts was not ready
    in 120 s — each /health/ready counted the waiting rows by a walk over the whole outbox, which
    a drain leaves at its largest until a vacuum truncates it (here: no vacuum, as between two)."""
    await eventstore_pool.execute("ALTER TABLE outbox SET (autovacuum_enabled = false)")
    await eventstore_pool.execute(
        """INSERT INTO outbox (topic, key, event_id, payload, headers)
           SELECT 't', 'k' || g, gen_random_uuid(), convert_to(repeat('x', 1000), 'UTF8'), '{}'
           FROM generate_series(1, 30000) g"""
    )
    await eventstore_pool.execute("DELETE FROM outbox")  # what the relay did, row by row
    pages = await eventstore_pool.fetchval("SELECT pg_relation_size('outbox') / current_setting('block_size')::int")
    assert pages > 3000, pages
    assert await quarantine.report(eventstore_pool) == {"quarantined": 0, "waiting_behind_quarantine": 0}

    held = message("t", "held")
    async with eventstore_pool.acquire() as conn, conn.transaction():
        await enqueue(conn, [held, message("t", "held"), message("t", "held"), message("t", "other")])
        first = await conn.fetchval("SELECT min(id) FROM outbox")
        await conn.execute(
            """INSERT INTO outbox_quarantine (id, topic, key, event_id, payload, headers, created_at, error)
               SELECT id, topic, key, event_id, payload, headers, created_at, 'refused' FROM outbox WHERE id = $1""",
            first,
        )
        await conn.execute("DELETE FROM outbox WHERE id = $1", first)
    assert await quarantine.report(eventstore_pool) == {"quarantined": 1, "waiting_behind_quarantine": 2}

    assert await blocks_touched(eventstore_pool, "SELECT count(*) FROM outbox") >= pages  # a walk reads them all
    assert await blocks_touched(eventstore_pool, quarantine.WAITING, first) < 50  # the report's reads do not
