"""observe_all records what observing each amount records."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

from shared.histogram import observe_all

AMOUNTS = [0.0, 0.001, 0.0010001, 0.004, 0.005, 0.2, 0.25, 7.0, 1e9, 0.003]


def _samples(registry: CollectorRegistry) -> list[tuple[str, dict[str, str], float]]:
    samples = (s for m in registry.collect() for s in m.samples)
    return [(s.name, s.labels, s.value) for s in samples if not s.name.endswith("_created")]


def test_observing_all_at_once_equals_observing_each() -> None:
    one, each = CollectorRegistry(), CollectorRegistry()
    buckets = (0.001, 0.005, 0.25, 5)
    a = Histogram("delay_seconds", "d", ["since"], buckets=buckets, registry=one)
    b = Histogram("delay_seconds", "d", ["since"], buckets=buckets, registry=each)
    observe_all(a.labels("x"), AMOUNTS)
    observe_all(a.labels("x"), [])
    for amount in AMOUNTS:
        b.labels("x").observe(amount)
    assert _samples(one) == _samples(each)
    assert ("delay_seconds_bucket", {"since": "x", "le": "0.001"}, 2.0) in _samples(one)  # a bound counts its own value
