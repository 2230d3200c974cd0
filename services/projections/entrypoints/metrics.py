"""Prometheus metrics of the projections consumer (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "projections_events_total",
    "Events consumed, by outcome (applied, skipped duplicate, parked ahead of a gap, dead_lettered)",
    ["outcome"],
)
APPLIED = Counter("projections_events_applied_total", "Events applied to the read model", ["event_type"])
BATCH_SECONDS = Histogram(
    "projections_batch_apply_seconds",
    "Time to apply one batch (decode, transaction, commit)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram("projections_batch_size", "Records per batch", buckets=(1, 10, 50, 100, 250, 500, 1000, 5000))
LAG = Gauge("projections_consumer_lag", "Records in the partition not yet applied", ["topic", "partition"])
DEAD_LETTERS = Counter("projections_dead_letters_total", "Messages sent to the dead-letter topic")
PARKED = Gauge("projections_parked_events", "Events waiting for a missing predecessor")
STALE_CLIENTS = Gauge(
    "projections_stale_clients", "Clients whose stream is stopped at an event that cannot be applied (answers stale)"
)
WAIT_LOOKS = Histogram(
    "projections_min_position_looks",
    "Looks at the read model per query waiting for min_position (1: reached, or stale, at the "
    "first look); each wake-up of a waiting query costs one",
    buckets=(1, 2, 3, 5, 8, 13, 21),
)
FAILURES = Counter("projections_batch_failures_total", "Batches that failed and will be redelivered")
EVENT_DELAY = Histogram(
    "projections_event_delay_seconds",
    "From an event's recording (since=recorded: the envelope's recorded_at, the writer's "
    "database clock) or its Kafka timestamp (since=produced: the relay's send) to the commit "
    "of the batch that consumed it: how far the read model trails the writes. Across hosts "
    "it includes their clock skew (clamped at 0).",
    ["since"],
    buckets=(
        0.001,
        0.0025,
        0.005,
        0.0075,
        0.01,
        0.015,
        0.02,
        0.03,
        0.05,
        0.075,
        0.1,
        0.15,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10,
        30,
        60,
        300,
    ),
)
SINCE_RECORDED = EVENT_DELAY.labels("recorded")
SINCE_PRODUCED = EVENT_DELAY.labels("produced")
