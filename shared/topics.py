"""Kafka topic names. The key of every message is the client id (one client's events stay in order)."""

from __future__ import annotations

from dataclasses import dataclass

CONTRACTS_EVENTS = "contracts.events.v1"
CONTRACTS_SCHEDULE = "contracts.schedule.v1"
PAYMENTS = "payments.v1"
TICKETS_EVENTS = "tickets.events.v1"

# One dead-letter topic per consuming group: "<group>.dlq".
PROJECTIONS_GROUP = "abonent.projections"
NOTIFIER_GROUP = "abonent.notifier"


def dead_letter_topic(group: str) -> str:
    return f"{group}.dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int = -1  # event topics are the record of what happened: keep them


DEFAULT_PARTITIONS = 12
"""Enough to spread 100k clients over a dozen consumers per group; cheap on one broker."""

ALL_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(CONTRACTS_EVENTS, DEFAULT_PARTITIONS),
    TopicSpec(CONTRACTS_SCHEDULE, DEFAULT_PARTITIONS),
    TopicSpec(PAYMENTS, DEFAULT_PARTITIONS),
    TopicSpec(TICKETS_EVENTS, DEFAULT_PARTITIONS),
    TopicSpec(dead_letter_topic(PROJECTIONS_GROUP), 1, retention_ms=30 * 24 * 3600 * 1000),
    TopicSpec(dead_letter_topic(NOTIFIER_GROUP), 1, retention_ms=30 * 24 * 3600 * 1000),
)
