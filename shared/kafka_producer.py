"""Stopping an aiokafka producer without waiting forever for records it cannot deliver."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from shared.logging import get_logger

log = get_logger("kafka.producer")

PRODUCER_FLUSH_SECONDS = 5.0
"""How long closing a producer waits for the records it still holds."""


async def stop_producer(producer: AIOKafkaProducer, flush_seconds: float = PRODUCER_FLUSH_SECONDS) -> None:
    """``producer.stop()``, but never waiting more than ``flush_seconds`` for its records.

    aiokafka's ``stop`` waits until every record it holds is delivered. A producer whose known
    cluster is only a broker that is gone for good (it learnt the cluster from a broker that had
    just restarted and knew only itself, then that broker died) retries that broker forever, so
    a relay waited forever for it and published nothing (seen in the fault suite). After the
    wait its sender is stopped, which fails the records it held (the relay's rows were rolled
    back and go again with a fresh producer, so nothing the old one held can land after them;
    a dead letter not sent leaves its record uncommitted), and its connections are closed. (The
    sender is the producer's own attribute: what ``stop`` itself closes after the flush;
    aiokafka is pinned in pyproject.toml.)"""
    try:
        await asyncio.wait_for(producer.stop(), flush_seconds)
    except TimeoutError:
        log.warning("the Kafka producer did not deliver what it held in time; dropping it", seconds=flush_seconds)
        await producer._sender.close()  # private: see the docstring
        await producer.client.close()
