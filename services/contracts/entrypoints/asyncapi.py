"""The AsyncAPI documents of what the contracts service publishes.

Generated from the same pydantic models the service writes, so they cannot drift:
``make asyncapi`` writes ``docs/asyncapi/payments.v1.json`` (the public feed) and
``docs/asyncapi/contracts-internal.json``; ``make asyncapi-check`` (part of ``make test``)
fails when a committed file no longer matches, or when payments.v1 breaks its released copy
(``docs/asyncapi/released/payments.v1.json``). Two documents, because the public payloads
share names with internal ones. A new event type appears by adding its model to a list below
(``CONTRACT_EVENTS`` …) and regenerating.
"""

from __future__ import annotations

from shared.asyncapi.document import Channel, Spec
from shared.events.contracts import CONTRACT_EVENTS
from shared.events.payments import PUBLIC_EVENTS
from shared.events.schedule import SCHEDULE_EVENTS
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE, PAYMENTS

DELIVERY = (
    "The Kafka key is the client id, so one client's events arrive in order. Delivery is "
    "at-least-once: deduplicate by event_id. Each record's value is the envelope; `event_type` "
    "says which message it is; ignore event types and fields you do not know."
)

payments = Spec(
    file="payments.v1.json",
    title="Abonent payments.v1 — public feed",
    version="1.0.0",
    description=(
        "Payments, cancellations, overdue periods, settled and written-off debts and adjusted "
        "receivables, for accounting, CRM and BI. Consumer guide: docs/integrating.md."
    ),
    channels=[
        Channel(
            PAYMENTS,
            "The public, stable payments feed. Fields may be added (optional); a change that breaks "
            "a consumer is a new topic (payments.v2) published alongside this one. " + DELIVERY,
            PUBLIC_EVENTS,
        )
    ],
)

internal = Spec(
    file="contracts-internal.json",
    title="Abonent contracts — internal topics",
    version="1.0.0",
    description="What the contracts service publishes for Abonent's own services (projections, notifier).",
    channels=[
        Channel(
            CONTRACTS_EVENTS,
            "Internal facts about clients, contracts, periods and payments. " + DELIVERY,
            CONTRACT_EVENTS,
        ),
        Channel(
            CONTRACTS_SCHEDULE,
            "Time events emitted when their date comes (reminders, starts, ends, overdue). " + DELIVERY,
            SCHEDULE_EVENTS,
        ),
    ],
)
