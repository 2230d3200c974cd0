"""The projections HTTP app: queries + operations endpoints. Wiring happens in bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from services.projections.entrypoints.http import routes
from services.projections.entrypoints.http.health import ConsumerStatus, consumer_report
from shared.auth import AuthSettings
from shared.http.app import create_service_app
from shared.http.observability import ReadinessCheck

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(*, lifespan: Lifespan, checks: dict[str, ReadinessCheck], consumer_status: ConsumerStatus,
               max_lag: int | None = None, auth: AuthSettings | None = None) -> FastAPI:
    return create_service_app(
        title="Abonent projections",
        description=(
            "Read models built from contracts.events.v1: coverage, contracts list, debtors, income. "
            "Every answer carries the `position` it reflects and a `stale` flag; pass `min_position` "
            "to read your own writes."),
        routers=[routes.router], checks=checks,
        reports={"consumer": consumer_report(consumer_status, max_lag)}, lifespan=lifespan, auth=auth)
