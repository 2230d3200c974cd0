"""Exact percentiles (nearest rank over every sample) and run summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median

QUANTILES = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99.9", 0.999))


def percentile(ordered: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of already sorted samples (exact: no binning)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def latency_summary(samples: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/p99.9/max of latencies in seconds, as milliseconds."""
    ordered = sorted(samples)
    out = {name: percentile(ordered, q) * 1000 for name, q in QUANTILES}
    out["max"] = (ordered[-1] * 1000) if ordered else math.nan
    return out


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, min, max) of per-run values, ignoring runs that produced nothing (NaN)."""
    good = [v for v in values if not math.isnan(v)]
    if not good:
        return math.nan, math.nan, math.nan
    return median(good), min(good), max(good)
