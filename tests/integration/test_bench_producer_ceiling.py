"""The relay's Python ceiling (bench/producer_ceiling.py) does what it says: every record it
counts is on the topic, spread over the partitions by key as the relay's are, each of the size
asked for. A functional check, briefly run; its speed is the bench's business."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.producer_ceiling import measure

RECORDS = 2_500  # more than two chunks, so the last one is partial
SIZE = 300


async def test_every_record_counted_is_on_the_topic_keyed_and_sized_as_asked(stack, fresh_topic) -> None:
    rate = await _measure(stack.kafka_bootstrap, fresh_topic)
    assert rate > 0
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(fresh_topic, p) for p in range(6)]  # the fresh_topic fixture's partitions
        ends = await consumer.end_offsets(tps)
        assert sum(ends.values()) == RECORDS
        assert sum(1 for n in ends.values() if n) == 6  # keyed like outbox rows: every partition gets some
        consumer.assign(tps)
        batch = await consumer.getmany(timeout_ms=5_000, max_records=100)
        records = [r for rs in batch.values() for r in rs]
        assert records and all(len(r.key) + len(r.value) == SIZE for r in records)
    finally:
        await consumer.stop()


async def _measure(bootstrap: str, topic: str) -> float:
    import asyncio

    return await asyncio.to_thread(measure, bootstrap, topic, RECORDS, SIZE)
