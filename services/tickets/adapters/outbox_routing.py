"""Every ticket event goes to ``tickets.events.v1`` in its full envelope, keyed by client id."""

from __future__ import annotations

from shared.eventstore.records import PendingEvent
from shared.outbox.messages import OutboxMessage, envelope_message
from shared.topics import TICKETS_EVENTS


def route(event: PendingEvent) -> list[OutboxMessage]:
    return [envelope_message(TICKETS_EVENTS, event)]
