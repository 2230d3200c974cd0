"""Publish a message the consumer cannot process to its group's dead-letter topic.

The raw key, value and headers go unchanged; these headers are added so an operator can
see why and where from, and replay it after a fix::

    dlq_error, dlq_source_topic, dlq_source_partition, dlq_source_offset, dlq_group,
    dlq_consumer_group

``dlq_group`` names the dead-letter topic's owner (``<group>.dlq``); ``dlq_consumer_group`` the
consumer group whose reader sent it — the same, unless a second read model (its own
``PROJECTIONS_CONSUMER_GROUP``) or that read model's first fill sends to the service's topic.
:class:`DeadLetterProducer` is the one producer that sends them; ``publish_all`` waits for
Kafka's acknowledgement of every dead letter: call it *before* committing the batch's
offsets, so a crash in between re-delivers (and re-dead-letters) the message instead of
losing it. Duplicates in the DLQ carry the same source offset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer
from prometheus_client import Counter

from shared.kafka_producer import stop_producer
from shared.kafka_security import client_options
from shared.logging import get_logger
from shared.settings import KafkaSettings
from shared.topics import dead_letter_topic

if TYPE_CHECKING:
    from shared.consumer.decoding import Poison, RawRecord

DLQ_HEADERS = (
    "dlq_error",
    "dlq_source_topic",
    "dlq_source_partition",
    "dlq_source_offset",
    "dlq_group",
    "dlq_consumer_group",
)

Headers = list[tuple[str, bytes]]
Send = Callable[[str, bytes | None, bytes | None, Headers], Awaitable[None]]
"""``send(topic, key, value, headers)``: returns once the broker has acknowledged it."""

log = get_logger("consumer.dead_letter")

DEAD_LETTERS = Counter(
    "dead_letters_total", "Messages sent to a consumer's dead-letter topic", ["consumer", "topic", "reason"]
)
"""``consumer``: the group; ``topic``: the source topic; ``reason``: :func:`reason_kind`."""

_KINDS = (
    ("empty", "empty"),
    ("record too large", "too_large"),
    ("invalid envelope", "invalid_envelope"),
    ("unknown event type", "unknown_event_type"),
    ("invalid ", "invalid_payload"),
    ("cannot ", "cannot_apply"),
    ("undeliverable", "undeliverable"),
    ("handling failed", "handler_error"),
)


def reason_kind(reason: str) -> str:
    """A dead letter's reason as a metric label (few values): the reason text names the detail."""
    lowered = reason.lower()
    return next((kind for prefix, kind in _KINDS if lowered.startswith(prefix)), "other")


class DeadLetterProducer:
    """The one Kafka producer of a consumer's dead letters (:class:`Send`).

    Idempotence forces ``acks=all``: a dead letter is acknowledged by every in-sync replica.
    Started with the consumer; if Kafka was unreachable then, ``send`` starts it first.
    """

    def __init__(self, kafka: KafkaSettings, client_id: str) -> None:
        self._kafka, self._client_id = kafka, client_id
        self.producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        if self.producer is not None:
            return
        producer = AIOKafkaProducer(
            **client_options(self._kafka),
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            request_timeout_ms=10_000,
        )
        try:
            await producer.start()
        except Exception:
            await stop_producer(producer)
            raise
        self.producer = producer

    async def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers) -> None:
        await self.start()
        assert self.producer is not None
        await self.producer.send_and_wait(topic, value=value, key=key, headers=headers)

    async def stop(self) -> None:
        producer, self.producer = self.producer, None
        if producer is not None:
            await stop_producer(producer)


def _raw_headers(headers: object) -> Headers:
    items: Iterable[tuple[str, object]]
    items = headers.items() if hasattr(headers, "items") else (headers or [])  # type: ignore[assignment]  # aiokafka's headers: a dict or a list of pairs
    out: Headers = []
    for name, value in items:
        if name in DLQ_HEADERS:  # a re-dead-lettered message keeps only the latest reason
            continue
        out.append((name, value if isinstance(value, bytes) else str(value).encode()))
    return out


class DeadLetterPublisher:
    def __init__(
        self,
        send: Send,
        group: str,
        on_published: Callable[[int], None] | None = None,
        *,
        consumer_group: str | None = None,
    ) -> None:
        """``group``: whose dead-letter topic; ``consumer_group``: the group of the reader that
        sends (``group`` when not given)."""
        self._send = send
        self.group = group
        self.consumer_group = consumer_group or group
        self.topic = dead_letter_topic(group)
        self._on_published = on_published

    def headers_for(self, record: RawRecord, error: str) -> Headers:
        return [
            *_raw_headers(record.headers),
            ("dlq_error", error.encode()),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
            ("dlq_group", self.group.encode()),
            ("dlq_consumer_group", self.consumer_group.encode()),
        ]

    async def publish(self, record: RawRecord, error: str) -> None:
        log.warning(
            "dead-lettering message",
            error=error,
            source_topic=record.topic,
            source_partition=record.partition,
            source_offset=record.offset,
            dlq_topic=self.topic,
        )
        await self._send(self.topic, record.key, record.value, self.headers_for(record, error))
        DEAD_LETTERS.labels(self.group, record.topic, reason_kind(error)).inc()
        if self._on_published is not None:
            self._on_published(1)

    async def publish_all(self, poison: Sequence[Poison]) -> None:
        if poison:
            await asyncio.gather(*(self.publish(p.record, p.reason) for p in poison))
