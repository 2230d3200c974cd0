"""Read the real records on a topic as an integrator would: key, headers and value."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def read_records(
    bootstrap: str,
    topic: str,
    *,
    keys: set[str],
    until: Callable[[list[ConsumerRecord]], bool],
    timeout: float = 60.0,
) -> list[ConsumerRecord]:
    """The raw records (key, headers, value) on ``topic`` with a key in ``keys``, read from the
    beginning as a new consumer of the topic would, until ``until`` holds."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not until(found):
            assert loop.time() < deadline, (
                f"timed out on {topic}: got {[dict(r.headers).get('event_type') for r in found]}"
            )
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                found.extend(r for r in records if r.key is not None and r.key.decode() in keys)
    finally:
        await consumer.stop()
    return found
