"""A small circuit breaker: after N failures in a row, stop calling for a while.

closed ──N consecutive failures──▶ open ──reset_after elapsed──▶ half-open (one trial call)
half-open ──trial succeeds──▶ closed;  half-open ──trial fails──▶ open again.

While open, ``allow()`` answers False at once: callers skip the dependency and use their
fallback, so a dead dependency costs nothing per request. Single event loop, no locks needed.
A trial that never reports back (its task was cancelled) is given up after ``reset_after``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(
        self, failure_threshold: int = 3, reset_after: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failure_threshold < 1 or reset_after <= 0:
            raise ValueError("failure_threshold must be >= 1 and reset_after > 0")
        self._threshold, self._reset_after, self._clock = failure_threshold, reset_after, clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_since: float | None = None

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        return HALF_OPEN if self._clock() - self._opened_at >= self._reset_after else OPEN

    def allow(self) -> bool:
        """May the caller try the dependency now? (In half-open: one trial at a time.)"""
        state = self.state
        if state == CLOSED:
            return True
        if state == OPEN:
            return False
        now = self._clock()
        if self._trial_since is not None and now - self._trial_since < self._reset_after:
            return False
        self._trial_since = now
        return True

    def record_success(self) -> None:
        self._failures, self._opened_at, self._trial_since = 0, None, None

    def record_failure(self) -> None:
        self._failures += 1
        if self._opened_at is not None or self._failures >= self._threshold:
            self._opened_at, self._trial_since = self._clock(), None
