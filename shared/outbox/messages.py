"""Outbox messages: what a service promises to publish, written in the event's transaction.

A router decides, per recorded event, which topics get which message. Routers are pure
functions of the event, so a replay of the store would route exactly as the live path did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from shared import tracing
from shared.events.envelope import Envelope
from shared.eventstore.records import RecordedEvent

NOTIFY_CHANNEL = "abonent_outbox"


@dataclass(frozen=True)
class OutboxMessage:
    topic: str
    key: str
    event_id: UUID
    payload: bytes
    headers: dict[str, str]


OutboxRouter = Callable[[RecordedEvent], Sequence[OutboxMessage]]


def outbox_headers(env: Envelope) -> dict[str, str]:
    """The Kafka headers of ``env`` as the outbox row keeps them, with the trace context of the
    request that wrote it (``traceparent``, when tracing is on): the relay copies them as they are."""
    headers = {k: v.decode() for k, v in env.kafka_headers()}
    tracing.inject(headers)
    return headers


def envelope_message(topic: str, event: RecordedEvent) -> OutboxMessage:
    """The common case: the event's full envelope on ``topic``, keyed by its partition key."""
    env = event.envelope()
    return OutboxMessage(
        topic=topic,
        key=event.partition_key,
        event_id=event.event_id,
        payload=env.to_bytes(),
        headers=outbox_headers(env),
    )


async def enqueue(conn: asyncpg.Connection, messages: Sequence[OutboxMessage]) -> None:
    """Insert ``messages`` in order inside the caller's transaction and wake the relay."""
    if not messages:
        return
    # One round trip: the CTE always runs to completion; the NOTIFY is delivered at commit, so
    # the relay never looks before the rows are visible.
    await conn.execute(
        """WITH queued AS (
               INSERT INTO outbox (topic, key, event_id, payload, headers)
               SELECT t, k, e, p, h
               FROM unnest($1::text[], $2::text[], $3::uuid[], $4::bytea[], $5::jsonb[])
                    WITH ORDINALITY AS u(t, k, e, p, h, n)
               ORDER BY n)
           SELECT pg_notify($6, '')""",
        [m.topic for m in messages],
        [m.key for m in messages],
        [m.event_id for m in messages],
        [m.payload for m in messages],
        [m.headers for m in messages],
        NOTIFY_CHANNEL,
    )
