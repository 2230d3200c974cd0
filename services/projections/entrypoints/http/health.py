"""Readiness of the consumer: running (when it should) and its lag within ``max_lag``.

The shared ``/health/ready`` reports it under ``consumer`` next to the database and Kafka
checks; the lag per partition and the number of parked events are always shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shared.http.observability import ReadinessReport

ConsumerStatus = Callable[[], Awaitable[dict[str, Any]]]


def consumer_report(consumer_status: ConsumerStatus, max_lag: int | None = None) -> ReadinessReport:
    async def report() -> tuple[bool, dict[str, Any]]:
        consumer = await consumer_status()
        ok = not (consumer.get("enabled") and not consumer.get("running"))
        if max_lag is not None and (consumer.get("lag_total") or 0) > max_lag:
            ok = False
        return ok, consumer

    return report
