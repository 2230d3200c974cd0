"""Which topics each recorded contracts event goes to.

* every business fact -> contracts.events.v1 (the full internal envelope);
* every time event -> contracts.schedule.v1;
* payments and debts also -> payments.v1, in their PUBLIC schema (``to_public``), under a
  stable event id derived from the internal one, so a republish dedupes on the consumer side.
"""

from __future__ import annotations

import uuid

from shared.events.base import registry
from shared.events.envelope import Envelope
from shared.events.payments import PUBLISHED_TYPES, to_public
from shared.events.schedule import (
    ServicePeriodBecameOverdue,
    ServicePeriodEnded,
    ServicePeriodEndingSoon,
    ServicePeriodStarted,
)
from shared.eventstore.records import RecordedEvent
from shared.outbox.messages import OutboxMessage, envelope_message, outbox_headers
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE, PAYMENTS

SCHEDULE_TYPES = frozenset(
    t.event_type
    for t in (ServicePeriodEndingSoon, ServicePeriodStarted, ServicePeriodEnded, ServicePeriodBecameOverdue)
)
_PUBLIC_NAMESPACE = uuid.UUID("6f1d7c1e-3b43-4d8e-9a55-0c6e2d1f0a11")


def public_event_id(internal_event_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_PUBLIC_NAMESPACE, str(internal_event_id))


def route(event: RecordedEvent) -> list[OutboxMessage]:
    topic = CONTRACTS_SCHEDULE if event.event_type in SCHEDULE_TYPES else CONTRACTS_EVENTS
    messages = [envelope_message(topic, event)]
    if event.event_type not in PUBLISHED_TYPES:  # most events: no payload model to build
        return messages
    public = to_public(registry.load(event.event_type, event.schema_version, event.data))
    if public is not None:
        env = Envelope(
            event_id=public_event_id(event.event_id),
            event_type=public.event_type,
            schema_version=public.schema_version,
            stream_id=event.stream_id,
            stream_version=event.stream_version,
            position=event.position,
            partition_key=event.partition_key,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            correlation_id=event.correlation_id,
            causation_id=str(event.event_id),
            actor=event.actor,
            data=public.model_dump(mode="json"),
        )
        messages.append(
            OutboxMessage(
                topic=PAYMENTS,
                key=event.partition_key,
                event_id=env.event_id,
                payload=env.to_bytes(),
                headers=outbox_headers(env),
            )
        )
    return messages
