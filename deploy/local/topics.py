"""Create the topics of docs/design.md §3 (idempotent) on the local broker or cluster."""

from __future__ import annotations

from shared.kafka_topics import TopicSettings
from shared.kafka_topics import create_topics as _create
from shared.settings import KafkaSettings


async def create_topics(kafka: KafkaSettings, copies: TopicSettings | None = None) -> list[str]:
    """``copies``: default one copy of each partition (one broker); a cluster passes
    ``deploy.local.kafka.replication`` of its size."""
    return await _create(kafka, copies or TopicSettings(replication_factor=1, min_insync_replicas=1))
