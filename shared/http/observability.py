"""Correlation ids, Prometheus metrics and health endpoints, the same for every service."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

CORRELATION_HEADER = "X-Correlation-ID"
ACTOR_HEADER = "X-Actor"

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency", ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises (anything) when the dependency it checks is not usable."""

ReadinessReport = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
"""A richer check: (ready?, details shown under its name), e.g. a consumer and its lag."""


def install_request_context(app: FastAPI) -> None:
    @app.middleware("http")
    async def request_context(request: Request, call_next):  # type: ignore[no-untyped-def]
        correlation_id = request.headers.get(CORRELATION_HEADER) or str(uuid.uuid4())
        request.state.correlation_id = correlation_id
        request.state.actor = request.headers.get(ACTOR_HEADER, "anonymous")
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        HTTP_LATENCY.labels(request.method, path).observe(time.perf_counter() - started)
        response.headers[CORRELATION_HEADER] = correlation_id
        return response


def health_router(checks: dict[str, ReadinessCheck],
                  reports: dict[str, ReadinessReport] | None = None) -> APIRouter:
    """``/health/live`` (the process answers), ``/health/ready`` (every check passes), ``/metrics``."""
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
        ok = all(v == "ok" for v in results.values())
        content: dict[str, Any] = {"checks": results}
        for name, report in (reports or {}).items():
            try:
                report_ok, content[name] = await report()
            except Exception as exc:  # noqa: BLE001 - a failing report means "not ready", reported
                report_ok, content[name] = False, {"error": repr(exc)[:300]}
            ok = ok and report_ok
        return JSONResponse(status_code=200 if ok else 503,
                            content={"status": "ready" if ok else "not_ready", **content})

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
