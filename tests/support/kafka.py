"""Read what services published, as an integrator would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.events.envelope import Envelope
from shared.topics import dead_letter_topic


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


async def raw_values(
    bootstrap: str, topic: str, *, expected: int, key: bytes | None = None, timeout: float = 30.0
) -> list[bytes]:
    """The values on ``topic`` (of Kafka key ``key`` only, if given), from the beginning, once
    ``expected`` have arrived or ``timeout`` has passed: the caller asserts on what came."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    arrived: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(arrived) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                arrived += [r.value for r in records if key is None or r.key == key]
    finally:
        await consumer.stop()
    return arrived


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


async def dead_letters(
    bootstrap: str,
    group: str,
    source_topic: str,
    partition: int,
    offset: int,
    *,
    sent_by: str | None = None,
    at_least: int = 1,
    timeout: float = 30.0,
) -> list[ConsumerRecord]:
    """The dead letters in ``group``'s dead-letter topic for the record at ``source_topic``
    ``partition`` ``offset`` (its ``dlq_source_*`` headers; partition and offset alone are not
    unique: a group reads several topics) — only those a reader of consumer group ``sent_by``
    sent, when given (``dlq_consumer_group``). Read until ``at_least`` are found, then to the
    topic's end so that the count is whole; fewer if ``timeout`` passes first."""
    source = (source_topic.encode(), str(partition).encode(), str(offset).encode())

    def of_source(r: ConsumerRecord) -> bool:
        headers = dict(r.headers)
        if sent_by is not None and headers.get("dlq_consumer_group") != sent_by.encode():
            return False
        return tuple(headers.get(f"dlq_source_{h}") for h in ("topic", "partition", "offset")) == source

    consumer = AIOKafkaConsumer(
        dead_letter_topic(group),
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found) < at_least and loop.time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(r for r in records if of_source(r))
        if len(found) >= at_least:
            ends = await consumer.end_offsets(list(consumer.assignment()))
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend(r for r in records if of_source(r))
        return found
    finally:
        await consumer.stop()
