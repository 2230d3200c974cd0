"""Create the topics of docs/design.md §3 (idempotent): ``python -m shared.kafka_topics``.

Replication is configurable because the right value depends on the cluster: 1 on the local
single broker, 3 with ``min.insync.replicas`` 2 on a production cluster (with the producers'
``acks=all`` a write then survives one broker lost and refuses to land on one broker only).
On Kubernetes the chart's Strimzi ``KafkaTopic`` resources say the same thing declaratively.
"""

from __future__ import annotations

from collections.abc import Sequence

import typer
import uvloop
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.kafka_security import client_options
from shared.logging import configure_logging, get_logger
from shared.settings import KafkaSettings, LogSettings, load_or_exit
from shared.topics import ALL_TOPICS, TopicSpec


class TopicSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABONENT_TOPICS_", extra="ignore")

    replication_factor: int = Field(1, ge=1, description="copies of every partition (3 in production)")
    min_insync_replicas: int = Field(1, ge=1, description="copies an acks=all write needs (2 in production)")


def topic_configs(spec: TopicSpec, settings: TopicSettings) -> dict[str, str]:
    return {"retention.ms": str(spec.retention_ms), "min.insync.replicas": str(settings.min_insync_replicas)}


async def create_topics(
    kafka: KafkaSettings, settings: TopicSettings | None = None, specs: Sequence[TopicSpec] = ALL_TOPICS
) -> list[str]:
    """Create the missing ones; returns their names. Existing topics are left as they are."""
    settings = settings or TopicSettings()
    if settings.min_insync_replicas > settings.replication_factor:
        raise ValueError(
            f"ABONENT_TOPICS_MIN_INSYNC_REPLICAS={settings.min_insync_replicas} is more than "
            f"ABONENT_TOPICS_REPLICATION_FACTOR={settings.replication_factor}: no write could ever succeed"
        )
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in specs if t.name not in existing]
        if missing:
            new = [
                NewTopic(
                    t.name,
                    num_partitions=t.partitions,
                    replication_factor=settings.replication_factor,
                    topic_configs=topic_configs(t, settings),
                )
                for t in missing
            ]
            try:
                response = await admin.create_topics(new)
            except TopicAlreadyExistsError:
                return []
            _raise_errors(response)
        return [t.name for t in missing]
    finally:
        await admin.close()


def _raise_errors(response: object) -> None:
    """aiokafka returns per-topic errors in the response instead of raising them."""
    problems = []
    for topic, code, *message in getattr(response, "topic_errors", []):
        if code not in (0, 36):  # 36: TOPIC_ALREADY_EXISTS (another starter won the race)
            problems.append(f"{topic}: error {code} {message[0] if message else ''}".strip())
    if problems:
        raise RuntimeError("topic creation refused: " + "; ".join(problems))


cli = typer.Typer(add_completion=False)


@cli.command(
    help="Create the missing topics (12 partitions each, retention -1 for the event topics) with "
    "ABONENT_TOPICS_REPLICATION_FACTOR and ABONENT_TOPICS_MIN_INSYNC_REPLICAS on the cluster of "
    "ABONENT_KAFKA_*; existing topics are left alone."
)
def main() -> None:
    kafka = load_or_exit(KafkaSettings)
    settings = load_or_exit(TopicSettings)
    log = load_or_exit(LogSettings)
    configure_logging(log.format, log.level)
    created = uvloop.run(create_topics(kafka, settings))
    get_logger("topics").info(
        "topics ready",
        created=created,
        replication_factor=settings.replication_factor,
        min_insync_replicas=settings.min_insync_replicas,
    )


if __name__ == "__main__":
    cli(prog_name="python -m shared.kafka_topics")
