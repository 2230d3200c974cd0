"""The in-process relay, watched: its death is noticed, it is restarted, readiness says so.

``OutboxRelay.run`` survives Kafka and PostgreSQL outages by itself; anything else that escapes
it (a bug, an error class nobody expected) used to end the task silently while the service
stayed ready and its outbox grew (issue 15). :class:`SupervisedRelay` runs it again after a
back-off, keeps ``relay_up`` (1/0) and answers the readiness page: ``503`` while the relay is
down, and the quarantined rows and the rows waiting behind them (``shared.outbox.quarantine``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from prometheus_client import Gauge

from shared.backoff import Backoff
from shared.logging import get_logger
from shared.outbox import quarantine
from shared.outbox.relay import OutboxRelay, make_producer
from shared.settings import KafkaSettings

log = get_logger("outbox.supervisor")

RELAY_UP = Gauge("relay_up", "1 while the service's in-process outbox relay runs", ["service"])

RESTART = Backoff(0.5, 30.0)
HEALTHY_AFTER = 60.0
"""A run that lasted this long resets the back-off: the next death is a new story."""


class SupervisedRelay:
    def __init__(self, relay: OutboxRelay, pool: asyncpg.Pool, backoff: Backoff = RESTART) -> None:
        self.relay, self._pool, self._backoff = relay, pool, backoff
        self.up = False
        self.restarts = 0
        self.last_error: str | None = None
        self._stopping = asyncio.Event()
        self._gauge = RELAY_UP.labels(relay.service)

    def _set_up(self, up: bool) -> None:
        self.up = up
        self._gauge.set(1 if up else 0)

    async def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            self._set_up(True)
            try:
                await self.relay.run()
            except Exception as exc:
                self._set_up(False)
                failures = 1 if time.monotonic() - started > HEALTHY_AFTER else failures + 1
                self.restarts += 1
                self.last_error = repr(exc)[:500]
                delay = self._backoff.delay(failures)
                log.exception("the outbox relay died; restarting it", retry_in=round(delay, 2), restarts=self.restarts)
                try:
                    await asyncio.wait_for(self._stopping.wait(), delay)
                except TimeoutError:
                    continue
        self._set_up(False)

    def stop(self) -> None:
        self._stopping.set()
        self.relay.stop()

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, details) for ``/health/ready``: not ready while the relay is down."""
        details: dict[str, Any] = {"up": self.up, "restarts": self.restarts}
        if self.last_error is not None:
            details["last_error"] = self.last_error
        details.update(await quarantine.report(self._pool))
        return self.up, details


@asynccontextmanager
async def relay_in_background(
    pool: asyncpg.Pool,
    kafka: KafkaSettings,
    client_id: str,
    *,
    enabled: bool = True,
    service: str = "outbox",
) -> AsyncIterator[SupervisedRelay | None]:
    """Run a watched relay beside a service for the duration of the block (what each lifespan does)."""
    if not enabled:
        yield None
        return
    supervised = SupervisedRelay(OutboxRelay(pool, lambda: make_producer(kafka, client_id), service=service), pool)
    task = asyncio.create_task(supervised.run(), name="outbox-relay")
    try:
        yield supervised
    finally:
        supervised.stop()
        await task


def readiness_report(
    relay: Callable[[], SupervisedRelay | None],
) -> Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]:
    """The ``relay`` entry of a service's ``/health/ready`` (``relay()``: the running one, or
    None when this process does not relay — a standalone relay publishes instead)."""

    async def report() -> tuple[bool, dict[str, Any]]:
        running = relay()
        if running is None:
            return True, {"in_process": False}
        return await running.readiness()

    return report
