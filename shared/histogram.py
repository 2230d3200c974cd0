"""Many observations of a Prometheus histogram at once.

``Histogram.observe`` takes a lock for the sum and one for the bucket, and walks the bounds in
Python, per amount. A consumer that observes two delays per event spent 9 % of a catch-up's
CPU there (bench/results/notes-20261202-live-catch-up-plans.md). :func:`observe_all` sorts a
batch's amounts into the buckets with ``bisect`` and takes each touched bucket's lock once;
what it records is exactly what observing each amount records.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable

from prometheus_client import Histogram


def observe_all(histogram: Histogram, amounts: Iterable[float]) -> None:
    """``histogram.observe(a)`` for every ``a`` in ``amounts`` (a histogram without labels, or
    one labelled child). Reads prometheus_client's own bucket fields (pinned in pyproject)."""
    values = list(amounts)
    if not values:
        return
    bounds = histogram._upper_bounds  # ascending, the last +Inf: a <= bound → bisect_left
    histogram._sum.inc(sum(values))
    for index, count in Counter(bisect_left(bounds, v) for v in values).items():
        histogram._buckets[index].inc(count)
