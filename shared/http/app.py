"""The FastAPI shell every service shares: error shape, request limits, correlation ids,
bearer authentication, idempotency keys, health, metrics (docs/http.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI

from shared import tracing
from shared.auth.dependencies import document_auth
from shared.auth.settings import AuthSettings
from shared.auth.verify import Verifier
from shared.http.docs import offline_docs_app
from shared.http.errors import install_error_handlers
from shared.http.faults import UnhandledErrors
from shared.http.idempotency import IdempotentRequests
from shared.http.limits import RequestLimits
from shared.http.observability import (
    ReadinessCheck,
    ReadinessReport,
    health_router,
    install_request_context,
)
from shared.http.openapi import document_errors, operation_id
from shared.http.routes import route_table

LIMITS = (
    "\n\nErrors are RFC 9457 problem details (`application/problem+json`) with the broken rules in "
    "`errors: [{field, rule, message}]`. Any request may also get 400 (a malformed X-Correlation-ID, "
    "X-Causation-ID or Content-Length), 413 (a body over 1 MiB), 431 (headers over 16 KiB) and 405 "
    "with `Allow` (a method the path does not answer)."
)


def create_service_app(
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    checks: dict[str, ReadinessCheck],
    reports: dict[str, ReadinessReport] | None = None,
    informational: dict[str, ReadinessCheck] | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    version: str = "1.0.0",
    auth: AuthSettings | Verifier | None = None,
    body_limits: Mapping[str, int] | None = None,
    service: str | None = None,
) -> FastAPI:
    """``auth``: the bearer-token settings (default: ``ABONENT_AUTH_*`` from the environment).
    ``body_limits``: request-body limits for exact paths other than the 1 MiB of every route.
    ``service``: its name in traces (default: the title); tracing is on only when configured
    (``shared.tracing``).
    ``checks`` decide readiness; ``informational`` ones are only reported (see ``health_router``)."""
    auth = auth if auth is not None else AuthSettings()
    app = offline_docs_app(
        title=title,
        description=description + LIMITS,
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        redirect_slashes=False,  # "/clients/" is not "/clients": a 404, never a 307 to another method's route
    )
    app.state.auth = auth if isinstance(auth, Verifier) else Verifier(auth)
    app.state.auth_settings = auth if isinstance(auth, AuthSettings) else None
    install_error_handlers(app)
    # Starlette runs the middleware added last first: limits, correlation id, the catch-all,
    # idempotency keys, then the exception handlers and the routes.
    app.add_middleware(IdempotentRequests)
    app.add_middleware(UnhandledErrors)
    install_request_context(app)
    app.add_middleware(
        RequestLimits, body_limits=body_limits
    )  # added last = outermost: before anything reads the request
    health = health_router(checks, reports, informational)
    app.include_router(health)
    for router in routers:
        app.include_router(router)
    app.state.route_table = route_table([health, *routers])
    document_auth(app)
    tracing.instrument_app(app, service or title)
    document_errors(app)
    return app
