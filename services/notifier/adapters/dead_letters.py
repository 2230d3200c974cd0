"""The notifier's dead-letter topic: shared.consumer's publisher on an idempotent producer.

The producer is started with the consumer (and re-created if Kafka was unreachable then);
``publish`` returns only after every in-sync replica has the dead letter, so the consumer
commits the source offset after, never before.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from shared.consumer import DeadLetterPublisher, make_dead_letter_producer
from shared.consumer.decoding import RawRecord
from shared.settings import KafkaSettings


class KafkaDeadLetters:
    def __init__(self, kafka: KafkaSettings, client_id: str, group: str,
                 on_published: Any = None) -> None:
        self._kafka, self._client_id = kafka, client_id
        self.producer: AIOKafkaProducer | None = None
        self.publisher = DeadLetterPublisher(self._send, group, on_published=on_published)

    @property
    def topic(self) -> str:
        return self.publisher.topic

    async def start(self) -> None:
        if self.producer is not None:
            return
        producer = make_dead_letter_producer(self._kafka, self._client_id)
        try:
            await producer.start()
        except Exception:
            await producer.stop()
            raise
        self.producer = producer

    async def _send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any) -> None:
        if self.producer is None:
            await self.start()
        assert self.producer is not None
        await self.producer.send_and_wait(topic, value=value, key=key, headers=headers)

    async def publish(self, record: RawRecord, error: str) -> None:
        await self.publisher.publish(record, error)

    async def stop(self) -> None:
        producer, self.producer = self.producer, None
        if producer is not None:
            await producer.stop()
