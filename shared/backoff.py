"""Bounded exponential back-off from tenacity: the one schedule every retry loop waits by.

Used by the Kafka consumer runtime (between redeliveries, and while Kafka is unreachable at
start) and by the outbox relay (after a failed batch). The waits are ``initial, 2×initial,
4×initial …`` capped at ``maximum``; ``attempt`` counts consecutive failures from 1.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base

from shared.logging import get_logger

log = get_logger("backoff")


class Backoff:
    """The wait before the next try after ``attempt`` consecutive failures."""

    def __init__(self, initial: float, maximum: float, jitter: float = 0.0) -> None:
        wait: wait_base = wait_exponential(multiplier=initial, max=maximum)
        self.wait = wait + wait_random(0, jitter) if jitter else wait
        self.initial, self.maximum = initial, maximum

    def delay(self, attempt: int) -> float:
        state = RetryCallState(AsyncRetrying(), None, (), {})
        state.attempt_number = max(attempt, 1)
        return float(self.wait(state))


async def retry_until_done(
    action: Callable[[], Awaitable[None]],
    backoff: Backoff,
    what: str,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    **context: object,
) -> None:
    """Run ``action`` until it succeeds, waiting ``backoff`` between failures (for a client
    that must start while its server may not be up yet). Cancel the caller to give up."""

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning(
            f"cannot {what} yet",
            error=repr(error),
            retry_in=round(state.upcoming_sleep, 2),
            attempts=state.attempt_number,
            **context,
        )

    options: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(Exception), wait=backoff.wait, before_sleep=before_sleep, reraise=True, **options
    )
    async for attempt in retrying:
        with attempt:
            await action()
