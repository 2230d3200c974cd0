"""Process-wide tuning every long-running Abonent process applies at start-up."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Requests and batches allocate many short-lived objects; with the default thresholds the
    cyclic GC keeps re-scanning every long-lived object (a large share of a replay's decode
    time). Freeze what start-up created and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
