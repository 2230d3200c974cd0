"""Read what services published, as an integrator would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.events.envelope import Envelope


async def collect(
    bootstrap: str,
    topic: str,
    *,
    key: str,
    until: Callable[[list[Envelope]], bool],
    timeout: float = 30.0,
) -> list[Envelope]:
    """Envelopes on ``topic`` with Kafka key ``key`` (from the beginning) until ``until`` holds."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    found: list[Envelope] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not until(found):
            if loop.time() > deadline:
                raise AssertionError(f"timed out on {topic}: got {[e.event_type for e in found]}")
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                found.extend(
                    Envelope.from_bytes(r.value) for r in records if r.key is not None and r.key.decode() == key
                )
    finally:
        await consumer.stop()
    return found


async def partitions_of(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of ``topics`` (each topic must exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    assert {p.topic for p in partitions} == set(topics), f"not every topic of {topics} exists"
    return partitions


async def catch_up(bootstrap: str, group: str, topics: Sequence[str]) -> None:
    """Commit ``group``'s offsets at the end of every one of ``topics``: a consumer under test
    starts as one that has caught up, instead of first handling what other test packages
    produced (the notifier reads two topics; skipping one left it mailing every earlier invoice)."""
    partitions = await partitions_of(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(dict(await consumer.end_offsets(partitions)))
    finally:
        await consumer.stop()
