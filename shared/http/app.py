"""The FastAPI shell every service shares: error shape, correlation ids, health, metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI

from shared.http.errors import install_error_handlers
from shared.http.observability import (
    ReadinessCheck, ReadinessReport, health_router, install_request_context,
)


def create_service_app(
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    checks: dict[str, ReadinessCheck],
    reports: dict[str, ReadinessReport] | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    version: str = "1.0.0",
) -> FastAPI:
    app = FastAPI(
        title=title, description=description, version=version, lifespan=lifespan,
    )
    install_error_handlers(app)
    install_request_context(app)
    app.include_router(health_router(checks, reports))
    for router in routers:
        app.include_router(router)
    return app


