"""Prometheus metrics of the projections consumer (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("projections_events_total", "Events consumed, by outcome "
                 "(applied, skipped duplicate, parked ahead of a gap, dead_lettered)", ["outcome"])
APPLIED = Counter("projections_events_applied_total", "Events applied to the read model", ["event_type"])
BATCH_SECONDS = Histogram(
    "projections_batch_apply_seconds", "Time to apply one batch (decode, transaction, commit)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
BATCH_SIZE = Histogram("projections_batch_size", "Records per batch",
                       buckets=(1, 10, 50, 100, 250, 500, 1000, 5000))
LAG = Gauge("projections_consumer_lag", "Records in the partition not yet applied", ["topic", "partition"])
DEAD_LETTERS = Counter("projections_dead_letters_total", "Messages sent to the dead-letter topic")
PARKED = Gauge("projections_parked_events", "Events waiting for a missing predecessor")
FAILURES = Counter("projections_batch_failures_total", "Batches that failed and will be redelivered")
