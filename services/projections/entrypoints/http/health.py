"""``/health/live``, ``/health/ready`` (database, Kafka, consumer with its lag), ``/metrics``.

Ready answers 503 when the database or Kafka is unreachable, when the consumer should run
but does not, or when the total lag is above ``max_lag`` (if set). The lag per partition and
the number of parked events are always reported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

Check = Callable[[], Awaitable[None]]
ConsumerStatus = Callable[[], Awaitable[dict[str, Any]]]


def health_router(checks: dict[str, Check], consumer_status: ConsumerStatus,
                  max_lag: int | None = None) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready")
    async def ready() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported
                results[name] = f"failing: {exc!r}"[:300]
        try:
            consumer = await consumer_status()
        except Exception as exc:  # noqa: BLE001
            consumer = {"enabled": True, "running": False, "error": repr(exc)[:300]}
        ok = all(v == "ok" for v in results.values())
        if consumer.get("enabled") and not consumer.get("running"):
            ok = False
        if max_lag is not None and (consumer.get("lag_total") or 0) > max_lag:
            ok = False
        return JSONResponse(status_code=200 if ok else 503, content={
            "status": "ready" if ok else "not_ready", "checks": results, "consumer": consumer})

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
