"""Outbox messages: what a service promises to publish, written in the event's transaction.

A router decides, per event, which topics get which message. Routers are pure functions of
the event, so a replay of the store would route exactly as the live path did. They run before
the event is recorded (``PendingEvent``: the store appends the events and their messages in one
statement, ``eventstore_append``), so an envelope message leaves out what the store assigns
(``STORE_FIELDS``) and is marked ``stamp``: the store adds those fields as it assigns them
(in SQL; ``stamped`` is the same in Python, for the memory store and ``append_many``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from shared import tracing
from shared.events.envelope import CONTENT_TYPE, HEADER_NAMES, Envelope
from shared.eventstore.records import PendingEvent, RecordedEvent

NOTIFY_CHANNEL = "abonent_outbox"
"""Also named in ``eventstore_append`` (shared/eventstore/sql/0004)."""

STORE_FIELDS = ("position", "stream_version", "recorded_at")
"""The envelope fields the store assigns as it records an event (a stamped message lacks them)."""


@dataclass(frozen=True)
class OutboxMessage:
    topic: str
    key: str
    event_id: UUID
    payload: bytes
    headers: dict[str, str]
    stamp: bool = False
    """The payload is an envelope (a JSON object) of the event it was routed from without
    ``STORE_FIELDS``, and the headers lack ``position`` and ``stream_version``: the store's
    append adds them from that event (``stamped``)."""


OutboxRouter = Callable[[PendingEvent], Sequence[OutboxMessage]]


def outbox_headers(env: Envelope) -> dict[str, str]:
    """The Kafka headers of ``env`` as the outbox row keeps them, with the
    trace context of the request that wrote it (``traceparent``, when tracing is on): the relay
    copies them as they are."""
    headers = {k: v.decode() for k, v in env.kafka_headers()}
    tracing.inject(headers)
    return headers


def _uuid(value: Any) -> str:
    """orjson writes ``uuid.UUID`` itself, not asyncpg's subclass of it (ids read back from a row)."""
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def envelope_draft(topic: str, key: str, fields: dict[str, Any]) -> OutboxMessage:
    """A message carrying an envelope of the event being appended: ``fields`` are the
    envelope's fields but ``STORE_FIELDS`` (orjson writes UUIDs and datetimes itself); the
    headers are ``Envelope.kafka_headers``' but those the store stamps."""
    headers = {name: str(fields[name]) for name in HEADER_NAMES if fields.get(name) is not None}
    headers["content-type"] = CONTENT_TYPE
    tracing.inject(headers)
    return OutboxMessage(
        topic=topic,
        key=key,
        event_id=fields["event_id"],
        payload=orjson.dumps(fields, default=_uuid, option=orjson.OPT_UTC_Z),
        headers=headers,
        stamp=True,
    )


def envelope_message(topic: str, event: PendingEvent) -> OutboxMessage:
    """The common case: the event's full envelope on ``topic``, keyed by its partition key."""
    return envelope_draft(topic, event.partition_key, event.envelope_fields())


def stamped(message: OutboxMessage, event: RecordedEvent) -> OutboxMessage:
    """``message`` as the store writes it once ``event`` (the one it was routed from) is
    recorded: the Python twin of the stamp in ``eventstore_append``."""
    if not message.stamp:
        return message
    head = orjson.dumps(
        {"position": event.position, "stream_version": event.stream_version, "recorded_at": event.recorded_at},
        option=orjson.OPT_UTC_Z,
    )
    return replace(
        message,
        payload=head[:-1] + b"," + message.payload[1:],
        headers={**message.headers, "position": str(event.position), "stream_version": str(event.stream_version)},
        stamp=False,
    )


async def enqueue(conn: asyncpg.Connection, messages: Sequence[OutboxMessage]) -> None:
    """Insert ``messages`` in order inside the caller's transaction and wake the relay."""
    if not messages:
        return
    if any(m.stamp for m in messages):
        raise ValueError("an envelope message still lacks its event's position: enqueue stamped(message, event)")
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
