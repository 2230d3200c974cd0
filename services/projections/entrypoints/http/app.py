"""The projections HTTP app: queries + operations endpoints. Wiring happens in bootstrap."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from services.projections.entrypoints.http import routes
from services.projections.entrypoints.http.health import Check, ConsumerStatus, health_router
from shared.http.errors import install_error_handlers
from shared.http.observability import install_request_context

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(*, lifespan: Lifespan, checks: dict[str, Check], consumer_status: ConsumerStatus,
               max_lag: int | None = None) -> FastAPI:
    app = FastAPI(title="Abonent projections", version="1.0.0", lifespan=lifespan, description=(
        "Read models built from contracts.events.v1: coverage, contracts list, debtors, income. "
        "Every answer carries the `position` it reflects and a `stale` flag; pass `min_position` "
        "to read your own writes."))
    install_error_handlers(app)
    install_request_context(app)
    app.include_router(routes.router)
    app.include_router(health_router(checks, consumer_status, max_lag))
    return app


__all__ = ["AsyncIterator", "create_app"]
