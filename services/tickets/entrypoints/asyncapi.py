"""The AsyncAPI document of what the tickets service publishes (``tickets.events.v1``).

Generated from the same pydantic models the service writes (``make asyncapi``); a new event
type appears by adding its model to ``TICKET_EVENTS`` and regenerating.
"""

from __future__ import annotations

from shared.asyncapi.document import Channel, Spec
from shared.events.tickets import TICKET_EVENTS
from shared.topics import TICKETS_EVENTS

tickets = Spec(
    file="tickets.events.v1.json",
    title="Abonent tickets — tickets.events.v1",
    version="1.0.0",
    description="What the tickets service publishes for other services.",
    channels=[
        Channel(
            TICKETS_EVENTS,
            "Tickets registered (with the coverage snapshot the dispatcher was shown and any override "
            "reason) and the lines of their cost specifications. The Kafka key is the client id. "
            "Delivery is at-least-once: deduplicate by event_id. Each record's value is the envelope.",
            TICKET_EVENTS,
        )
    ],
)
