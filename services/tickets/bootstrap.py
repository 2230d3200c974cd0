"""The composition root of the tickets service: settings -> adapters -> application -> app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.tickets.adapters.circuit_breaker import CircuitBreaker
from services.tickets.adapters.coverage_client import HttpCoverageSource
from services.tickets.adapters.outbox_routing import route
from services.tickets.adapters.price_list_table import PostgresPriceList
from services.tickets.adapters.tickets_table import TicketsTable
from services.tickets.application.price_list import PriceListApplication
from services.tickets.application.tickets import TicketsApplication
from services.tickets.entrypoints.http.price_list_routes import router as price_list_router
from services.tickets.entrypoints.http.tickets_routes import router as tickets_router
from services.tickets.settings import TicketsSettings
from shared.auth import ServiceToken
from shared.db.migrations import apply_migrations, migrations_dir
from shared.db.pool import create_pool
from shared.eventstore.store import PostgresEventStore
from shared.http.app import create_service_app
from shared.http.idempotency import PostgresIdempotencyStore
from shared.kafka_probe import KafkaProbe
from shared.logging import configure_logging, get_logger
from shared.outbox.supervisor import readiness_report, relay_in_background

log = get_logger("tickets")


def create_app(settings: TicketsSettings | None = None) -> FastAPI:
    settings = settings or TicketsSettings()
    configure_logging(settings.log.format, settings.log.level)
    probe = KafkaProbe(settings.kafka)
    static = settings.projections_token.get_secret_value() if settings.projections_token else None
    service_token = ServiceToken(settings.auth, "tickets", static=static)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dsn = settings.database_url.get_secret_value()
        await apply_migrations(dsn, migrations_dir("tickets"))
        pool = await create_pool(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max, service="tickets")
        coverage = HttpCoverageSource(
            settings.projections_url,
            timeout=settings.coverage_timeout_seconds,
            wait_timeout=settings.coverage_wait_timeout_seconds,
            breaker=CircuitBreaker(settings.coverage_breaker_failures, settings.coverage_breaker_reset_seconds),
            max_connections=settings.coverage_max_connections,
            token=service_token,
        )
        price_list = PostgresPriceList(pool)
        app.state.pool = pool
        app.state.idempotency = PostgresIdempotencyStore(pool)
        app.state.coverage = coverage
        app.state.tickets = TicketsApplication(
            # concurrent registrations share transactions (shared/eventstore/group_commit.py)
            PostgresEventStore(pool, router=route, service="tickets", group_commit=True),
            coverage,
            price_list,
            TicketsTable(pool),
            policy=settings.not_covered_policy,
            calendar=settings.calendar.calendar(),
            state_cache_size=settings.state_cache_size,
        )
        app.state.price_list = PriceListApplication(price_list)
        try:
            async with relay_in_background(
                pool,
                settings.kafka,
                f"{settings.kafka.client_id_prefix}-tickets-relay",
                enabled=settings.run_relay,
                service="tickets",
            ) as relay:
                app.state.relay = relay
                log.info(
                    "tickets service started",
                    port=settings.http_port,
                    relay=settings.run_relay,
                    projections=settings.projections_url,
                    policy=settings.not_covered_policy,
                )
                yield
        finally:
            await coverage.close()
            await probe.close()
            await pool.close()

    async def database() -> None:
        await app.state.pool.fetchval("SELECT 1")

    app = create_service_app(
        title="Abonent tickets",
        description="Ticket registration with the client's coverage, the price list and each "
        "ticket's cost specification.",
        routers=[tickets_router, price_list_router],
        checks={"database": database},
        informational={"kafka": probe},  # the outbox absorbs Kafka's absence (docs/operations.md)
        reports={"relay": readiness_report(lambda: getattr(app.state, "relay", None))},
        lifespan=lifespan,
        auth=settings.auth,
        service="tickets",
    )
    return app
