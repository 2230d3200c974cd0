"""The consumer ceiling of benchmark 3 and of ``bench.catch_up``: a bare aiokafka consumer
reading both contracts topics from the beginning to their end offsets, decoding nothing,
writing nowhere."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.projections.entrypoints.consumer import TOPICS
from shared.topics import ALL_TOPICS


async def end_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [
            TopicPartition(spec.name, p) for spec in ALL_TOPICS if spec.name in TOPICS for p in range(spec.partitions)
        ]
        return await consumer.end_offsets(tps)
    finally:
        await consumer.stop()


async def bare_consumer(bootstrap: str) -> tuple[int, float]:
    """Records and seconds to read both topics from the beginning to their end offsets."""
    ends = await end_offsets(bootstrap)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        started, count = time.perf_counter(), 0
        todo = {tp for tp, end in ends.items() if end > 0}
        while todo:
            batch = await consumer.getmany(*todo, timeout_ms=1000, max_records=5000)
            for tp, records in batch.items():
                count += len(records)
                if records and records[-1].offset + 1 >= ends[tp]:
                    todo.discard(tp)
        return count, time.perf_counter() - started
    finally:
        await consumer.stop()
