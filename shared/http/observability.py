"""Correlation ids, Prometheus metrics and health endpoints, the same for every service."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORRELATION_HEADER = "X-Correlation-ID"

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

HEALTH_CHECK_UP = Gauge(
    "health_check_up",
    "1 when the dependency a health check asks answered at the last /health/ready, 0 when not",
    ["check"],
)

READINESS = {
    "type": "object",
    "properties": {"status": {"enum": ["ready", "not_ready"]}, "checks": {"type": "object"}},
    "required": ["status", "checks"],
}

ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises (anything) when the dependency it checks is not usable."""

ReadinessReport = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
"""A richer check: (ready?, details shown under its name), e.g. a consumer and its lag."""


class RequestContext:
    """Correlation id on ``request.state``, on every log line and on the response, and the
    request counted and timed by route. (The actor comes from the bearer token: shared.auth.)

    Plain ASGI, not ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware runs every
    request's app in an extra anyio task and pipes the response through memory streams, which
    a small request pays for in CPU.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        correlation_id = headers.get(CORRELATION_HEADER) or str(uuid.uuid4())
        state = scope.setdefault("state", {})
        state["correlation_id"] = correlation_id
        status = 500  # what the client gets when the app fails before answering

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        started = time.perf_counter()
        try:
            with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
                await self.app(scope, receive, answer)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], path, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], path).observe(time.perf_counter() - started)


def install_request_context(app: FastAPI) -> None:
    app.add_middleware(RequestContext)


async def _run_checks(checks: dict[str, ReadinessCheck]) -> dict[str, str]:
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable", reported
            results[name] = f"failing: {exc!r}"[:300]
        HEALTH_CHECK_UP.labels(name).set(1 if results[name] == "ok" else 0)
    return results


def health_router(
    checks: dict[str, ReadinessCheck],
    reports: dict[str, ReadinessReport] | None = None,
    informational: dict[str, ReadinessCheck] | None = None,
) -> APIRouter:
    """``/health/live`` (the process answers), ``/health/ready`` (it can serve: every check in
    ``checks`` passes), ``/metrics``.

    ``informational`` checks are asked and reported too (in the body and in the
    ``health_check_up`` gauge) but do not make the process unready: Kafka for a service whose
    outbox absorbs Kafka's absence (docs/operations.md, "Probes").
    """
    router = APIRouter(tags=["operations"])

    @router.get("/health/live")
    async def health_live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/health/ready",
        response_class=JSONResponse,
        responses={
            200: {"description": "every check passes", "content": {"application/json": {"schema": READINESS}}},
            503: {
                "description": "a check failed (named in the body)",
                "content": {"application/json": {"schema": READINESS}},
            },
        },
    )
    async def health_ready() -> JSONResponse:
        results = await _run_checks(checks)
        ok = all(v == "ok" for v in results.values())
        content: dict[str, Any] = {"checks": results}
        if informational:
            content["informational"] = await _run_checks(informational)
        for name, report in (reports or {}).items():
            try:
                report_ok, content[name] = await report()
            except Exception as exc:  # noqa: BLE001 - a failing report means "not ready", reported
                report_ok, content[name] = False, {"error": repr(exc)[:300]}
            ok = ok and report_ok
        return JSONResponse(
            status_code=200 if ok else 503, content={"status": "ready" if ok else "not_ready", **content}
        )

    @router.get(
        "/metrics",
        response_class=Response,
        responses={
            200: {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}
        },
    )
    async def get_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
