"""Closing the relay's producer never waits forever for records it cannot deliver (the fault
suite saw a producer whose only known broker was gone for good: aiokafka's ``stop`` waits for
every record, so the relay hung and published nothing)."""

from __future__ import annotations

import asyncio

from shared.kafka_producer import stop_producer


class Closable:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class StuckProducer:
    """``stop`` flushes first, and the flush never ends (aiokafka retrying a dead broker)."""

    def __init__(self) -> None:
        self._sender, self.client = Closable(), Closable()

    async def stop(self) -> None:
        await asyncio.Event().wait()


class FineProducer(StuckProducer):
    async def stop(self) -> None:
        await self._sender.close()
        await self.client.close()


async def test_a_producer_that_cannot_flush_is_dropped_after_the_wait() -> None:
    producer = StuckProducer()
    await asyncio.wait_for(stop_producer(producer, flush_seconds=0.1), 5)
    assert producer._sender.closed and producer.client.closed  # its records failed, nothing left to land late


async def test_a_producer_that_flushes_is_stopped_as_usual() -> None:
    producer = FineProducer()
    await stop_producer(producer, flush_seconds=5)
    assert producer._sender.closed and producer.client.closed
