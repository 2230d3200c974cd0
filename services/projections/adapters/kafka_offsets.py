"""The end offsets of the consumed topics, asked of Kafka when a global query waits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import suppress

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from shared.kafka_security import client_options
from shared.settings import KafkaSettings

_partitioner = DefaultPartitioner()

Key = tuple[str, int]


def partition_of(key: str, partitions: int) -> int:
    """The partition a producer's default partitioner (Kafka's murmur2, as the outbox relay
    uses) puts ``key`` in, out of ``partitions``."""
    every = list(range(partitions))
    return int(_partitioner(key.encode(), every, every))


class EndOffsets:
    """``await end_offsets()`` → next offset to be written, per (topic, partition)
    (``application.ports.TopicEnds``).

    A waiting query needs end offsets read *after* it asked (read-your-writes rule (b) in
    ``application.queries``), so concurrent callers share one request only if it is sent after
    each of them asked: callers arriving while a request is in flight wait for it and share the
    next one. Under load that is one request per round trip instead of one per query.
    """

    partition_of = staticmethod(partition_of)

    def __init__(
        self,
        kafka: KafkaSettings,
        topics: Sequence[str],
        client_id: str,
        timeout: float = 2.0,
        start_timeout: float = 10.0,
    ) -> None:
        self._kafka, self._topics, self._client_id = kafka, tuple(topics), client_id
        self._timeout, self._start_timeout = timeout, start_timeout
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._lock = asyncio.Lock()
        self._asking: asyncio.Lock = asyncio.Lock()
        self._next: asyncio.Future[dict[Key, int]] | None = None
        """The request every caller since the one in flight shares: not sent yet."""
        self._requests: set[asyncio.Future[dict[Key, int]]] = set()
        """Requests sent or waiting to be: cancelled by ``close``."""

    async def _start(self) -> AIOKafkaConsumer:
        async with self._lock:
            if self._consumer is None:
                admin = AIOKafkaAdminClient(**client_options(self._kafka))
                await admin.start()
                try:
                    described = await admin.describe_topics(list(self._topics))
                finally:
                    await admin.close()
                self._partitions = [
                    TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]
                ]
                consumer = AIOKafkaConsumer(
                    **client_options(self._kafka), group_id=None, client_id=self._client_id, enable_auto_commit=False
                )
                await consumer.start()
                self._consumer = consumer
            return self._consumer

    async def records(self) -> int:
        """Records on the topics now, every partition's end offset summed (offsets start at 0;
        what retention deleted counts too, which only errs towards a larger backlog)."""
        return sum((await self()).values())

    async def __call__(self) -> dict[Key, int]:
        if self._next is None:
            request = asyncio.ensure_future(self._send_next())
            request.add_done_callback(self._done)
            self._next = request
            self._requests.add(request)
        return await asyncio.shield(self._next)  # a caller cancelled does not cancel the others'

    def _done(self, request: asyncio.Future[dict[Key, int]]) -> None:
        """Every caller of a shared request may have gone: its error is theirs, not the loop's."""
        self._requests.discard(request)
        if not request.cancelled():
            request.exception()

    async def _send_next(self) -> dict[Key, int]:
        async with self._asking:  # the request before this one is answered: send this one
            self._next = None  # whoever asks from now on shares the request after this one
            return await self._ask()

    async def _ask(self) -> dict[Key, int]:
        consumer = await asyncio.wait_for(self._start(), self._start_timeout)
        try:
            ends = await asyncio.wait_for(consumer.end_offsets(self._partitions), self._timeout)
        except Exception:
            await self._disconnect()  # the next request connects afresh
            raise
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    async def warm_up(self) -> None:
        """Connect ahead of the first query that needs it; failures are retried on use."""
        with suppress(Exception):  # Kafka not there yet: the first waiting query retries
            await self()

    async def close(self) -> None:
        """At shutdown: the requests in flight or waiting are cancelled, then the client stops."""
        for request in list(self._requests):
            request.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await request
        await self._disconnect()

    async def _disconnect(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()
