"""The AsyncAPI description of what the contracts service publishes.

Generated from the same pydantic models the service writes, so it cannot drift:
``make asyncapi`` runs ``faststream docs gen`` for the two apps below and writes
``docs/asyncapi/payments.v1.json`` (the public feed) and ``docs/asyncapi/contracts-internal.json``;
``make asyncapi-check`` (part of ``make test``) fails when a committed file no longer matches.
Two documents, because the public payloads share names with internal ones.

The publishers here only describe the topics (the outbox relay does the publishing).
"""

from __future__ import annotations

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from shared.events.base import one_of
from shared.events.contracts import CONTRACT_EVENTS
from shared.events.envelope import Envelope
from shared.events.payments import PUBLIC_EVENTS
from shared.events.schedule import SCHEDULE_EVENTS
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE, PAYMENTS

public_broker = KafkaBroker("127.0.0.1:19092", description="Abonent's Kafka cluster")
internal_broker = KafkaBroker("127.0.0.1:19092", description="Abonent's Kafka cluster")

ENVELOPE_NOTE = (
    "Every message is an envelope (event_id, event_type, schema_version, stream_id, "
    "stream_version, position, partition_key, occurred_at, recorded_at, correlation_id, "
    "causation_id, actor, data); the same ids travel as Kafka headers. The Kafka key is the "
    "client id, so one client's events arrive in order. Delivery is at-least-once: "
    "deduplicate by event_id. `data` is one of the payloads below, chosen by event_type."
)

public_broker.publisher(
    PAYMENTS,
    title="payments.v1",
    description="The public, stable payments feed for accounting and CRM. A change that "
    "breaks a consumer is a new topic version, never an edit. " + ENVELOPE_NOTE,
    schema=one_of(PUBLIC_EVENTS),
)
internal_broker.publisher(
    CONTRACTS_EVENTS,
    title="contracts.events.v1",
    description="Internal facts about clients, contracts, periods and payments. " + ENVELOPE_NOTE,
    schema=one_of(CONTRACT_EVENTS),
)
internal_broker.publisher(
    CONTRACTS_SCHEDULE,
    title="contracts.schedule.v1",
    description="Time events emitted when their date comes (reminders, starts, ends, overdue). " + ENVELOPE_NOTE,
    schema=one_of(SCHEDULE_EVENTS),
)
for _broker in (public_broker, internal_broker):
    _broker.publisher(
        "envelope",
        title="(envelope)",
        description="The envelope every message travels in.",
        schema=Envelope,
    )

payments_app = FastStream(
    public_broker,
    specification=AsyncAPI(
        title="Abonent payments.v1 — public feed",
        version="1.0.0",
        description="Payments, cancellations, overdue periods and settled debts, for other systems.",
    ),
)
internal_app = FastStream(
    internal_broker,
    specification=AsyncAPI(
        title="Abonent contracts — internal topics",
        version="1.0.0",
        description="What the contracts service publishes for Abonent's own services.",
    ),
)
