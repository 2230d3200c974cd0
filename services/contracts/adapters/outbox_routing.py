"""Which topics each recorded contracts event goes to.

* every business fact -> contracts.events.v1 (the full internal envelope);
* every time event -> contracts.schedule.v1;
* payments and debts also -> payments.v1, in their PUBLIC schema (``to_public``), under a
  stable event id derived from the internal one, so a republish dedupes on the consumer side.
"""

from __future__ import annotations

import uuid

from shared.events.base import registry
from shared.events.payments import PUBLISHED_TYPES, to_public
from shared.events.schedule import (
    ServicePeriodBecameOverdue,
    ServicePeriodEnded,
    ServicePeriodEndingSoon,
    ServicePeriodStarted,
)
from shared.eventstore.records import PendingEvent
from shared.outbox.messages import OutboxMessage, envelope_draft, envelope_message
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE, PAYMENTS

SCHEDULE_TYPES = frozenset(
    t.event_type
    for t in (ServicePeriodEndingSoon, ServicePeriodStarted, ServicePeriodEnded, ServicePeriodBecameOverdue)
)
_PUBLIC_NAMESPACE = uuid.UUID("6f1d7c1e-3b43-4d8e-9a55-0c6e2d1f0a11")


def public_event_id(internal_event_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_PUBLIC_NAMESPACE, str(internal_event_id))


def route(event: PendingEvent) -> list[OutboxMessage]:
    topic = CONTRACTS_SCHEDULE if event.event_type in SCHEDULE_TYPES else CONTRACTS_EVENTS
    messages = [envelope_message(topic, event)]
    if event.event_type not in PUBLISHED_TYPES:  # most events: no payload model to build
        return messages
    public = to_public(registry.load(event.event_type, event.schema_version, event.data))
    if public is not None:
        # the same envelope around the public payload; the store stamps position,
        # stream_version and recorded_at into it as into the internal one
        fields = event.envelope_fields()
        fields.update(
            event_id=public_event_id(event.event_id),
            event_type=public.event_type,
            schema_version=public.schema_version,
            causation_id=str(event.event_id),
            data=public.model_dump(mode="json"),
        )
        messages.append(envelope_draft(PAYMENTS, event.partition_key, fields))
    return messages
