"""The composition root of the contracts service: settings -> adapters -> application -> app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from fastapi import FastAPI

from services.contracts.adapters.outbox_routing import route
from services.contracts.adapters.time_events_table import PostgresTimeEventsDue
from services.contracts.application.commands import ContractsApplication
from services.contracts.entrypoints.http.routes import router
from services.contracts.settings import ContractsSettings
from shared.calendar import CompanyCalendar
from shared.db.migrations import apply_migrations, migrations_dir
from shared.db.pool import create_pool
from shared.eventstore.store import PostgresEventStore
from shared.http.app import create_service_app
from shared.http.idempotency import PostgresIdempotencyStore
from shared.kafka_probe import KafkaProbe
from shared.logging import configure_logging, get_logger
from shared.outbox.relay import relay_in_background

log = get_logger("contracts")


def create_app(settings: ContractsSettings | None = None, calendar: CompanyCalendar | None = None) -> FastAPI:
    settings = settings or ContractsSettings()
    calendar = calendar or settings.calendar.calendar()

    def latest_paid_on() -> date:
        """Tomorrow in the company's zone, asked per request (the bound moves at midnight)."""
        return calendar.latest_paid_on()

    configure_logging(settings.log.format, settings.log.level)
    probe = KafkaProbe(settings.kafka)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dsn = settings.database_url.get_secret_value()
        await apply_migrations(dsn, migrations_dir("contracts"))
        pool = await create_pool(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        app.state.pool = pool
        app.state.idempotency = PostgresIdempotencyStore(pool)
        app.state.calendar = calendar
        app.state.contracts = ContractsApplication(
            PostgresEventStore(pool, router=route), PostgresTimeEventsDue(pool), calendar.grace_days
        )
        try:
            async with relay_in_background(
                pool,
                settings.kafka,
                f"{settings.kafka.client_id_prefix}-contracts-relay",
                enabled=settings.run_relay,
            ) as relay:
                app.state.relay = relay
                log.info("contracts service started", port=settings.http_port, relay=settings.run_relay)
                yield
        finally:
            await probe.close()
            await pool.close()

    async def database() -> None:
        await app.state.pool.fetchval("SELECT 1")

    app = create_service_app(
        title="Abonent contracts",
        description="Clients, contracts, service periods, payments and the scheduler of time events.",
        routers=[router],
        checks={"database": database, "kafka": probe},
        lifespan=lifespan,
        auth=settings.auth,
    )
    app.state.latest_paid_on = latest_paid_on
    app.state.calendar = calendar
    app.state.allow_future_ticks = settings.allow_future_ticks
    return app
