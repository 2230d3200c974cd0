"""The AsyncAPI description of what the tickets service publishes (``tickets.events.v1``).

Generated from the same pydantic models the service writes, so it cannot drift:
``faststream docs gen services.tickets.entrypoints.asyncapi:app --out <file>`` writes it.
The publisher only describes the topic (the outbox relay does the publishing).
"""

from __future__ import annotations

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from shared.events.base import one_of
from shared.events.envelope import Envelope
from shared.events.tickets import TICKET_EVENTS
from shared.topics import TICKETS_EVENTS

broker = KafkaBroker("127.0.0.1:19092", description="Abonent's Kafka cluster")

broker.publisher(
    TICKETS_EVENTS,
    title="tickets.events.v1",
    description=(
        "Tickets registered (with the coverage snapshot the dispatcher was shown and any "
        "override reason) and the lines of their cost specifications. Every message is an "
        "envelope (event_id, event_type, schema_version, stream_id, stream_version, position, "
        "partition_key, occurred_at, recorded_at, correlation_id, causation_id, actor, data); "
        "the same ids travel as Kafka headers. The Kafka key is the client id. Delivery is "
        "at-least-once: deduplicate by event_id. `data` is one of the payloads below."
    ),
    schema=one_of(TICKET_EVENTS),
)
broker.publisher("envelope", title="(envelope)", description="The envelope every message travels in.", schema=Envelope)

app = FastStream(
    broker,
    specification=AsyncAPI(
        title="Abonent tickets — tickets.events.v1",
        version="1.0.0",
        description="What the tickets service publishes for other services.",
    ),
)
