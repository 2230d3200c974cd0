"""Create the topics of docs/design.md §3 (idempotent) on the local single broker."""

from __future__ import annotations

from shared.kafka_topics import TopicSettings
from shared.kafka_topics import create_topics as _create
from shared.settings import KafkaSettings


async def create_topics(kafka: KafkaSettings) -> list[str]:
    """One broker: one copy of each partition."""
    return await _create(kafka, TopicSettings(replication_factor=1, min_insync_replicas=1))
