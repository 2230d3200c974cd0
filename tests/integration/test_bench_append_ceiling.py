"""The write path's one-file ceiling (bench/append_ceiling.py) does what it says: every event
it appends reaches Kafka and leaves the outbox. A functional check, briefly run; its speed is
the bench's business."""

from __future__ import annotations

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.append_ceiling import TOPIC, append_and_publish
from bench.tools import with_database


async def test_every_appended_event_is_published_and_leaves_the_outbox(stack) -> None:
    dsn = stack.database_urls["contracts"]
    rate = await append_and_publish(dsn, stack.kafka_bootstrap, seconds=1.0, writers=4)
    assert rate > 0
    conn = await asyncpg.connect(with_database(dsn, "bench_append"))
    try:
        events = await conn.fetchval("SELECT count(*) FROM events")
        assert events > 0 and await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await conn.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(TOPIC, p) for p in range(12)]  # bench.tools.create_topic's default
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        assert sum(ends.values()) - sum(starts.values()) >= events  # (an earlier run's records may be there too)
    finally:
        await consumer.stop()
