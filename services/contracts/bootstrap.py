"""The composition root of the contracts service: settings -> adapters -> application -> app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict

from services.contracts.adapters.outbox_routing import route
from services.contracts.application.commands import ContractsApplication
from services.contracts.entrypoints.http.routes import router
from shared.calendar import CompanyCalendar
from shared.db.migrations import apply_migrations, migrations_dir
from shared.db.pool import create_pool
from shared.eventstore.store import EventStore
from shared.kafka_probe import KafkaProbe
from shared.logging import configure_logging, get_logger
from shared.outbox.relay import relay_in_background
from shared.http.app import create_service_app
from shared.settings import ServiceSettings

log = get_logger("contracts")


class ContractsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRACTS_", extra="ignore")

    http_port: int = 8001
    run_relay: bool = True
    """Publish the outbox from this process (several replicas may: one publishes at a time)."""
    scheduler_interval_seconds: float = 60.0
    scheduler_batch: int = 500
    allow_future_payments: bool = False
    """Accept ``paid_on`` after tomorrow (company zone). Only for simulated time: the local
    stack, the demo and the e2e test play a whole future year (CONTRACTS_ALLOW_FUTURE_PAYMENTS)."""
    allow_future_ticks: bool = False
    """``POST /scheduler/tick`` with an ``as_of`` after today: for stacks that move through time
    on purpose (local stack, demo, tests); a production tick ahead of time is irreversible."""


def create_app(settings: ContractsSettings | None = None, calendar: CompanyCalendar | None = None) -> FastAPI:
    settings = settings or ContractsSettings()  # type: ignore[call-arg]
    calendar = calendar or settings.calendar.calendar()

    def latest_paid_on() -> date | None:
        return None if settings.allow_future_payments else calendar.latest_paid_on()
    configure_logging(settings.log.format, settings.log.level)
    probe = KafkaProbe(settings.kafka)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dsn = settings.database_url.get_secret_value()
        await apply_migrations(dsn, migrations_dir("contracts"))
        pool = await create_pool(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        app.state.pool = pool
        app.state.calendar = calendar
        app.state.contracts = ContractsApplication(EventStore(pool, router=route), calendar.grace_days)
        try:
            async with relay_in_background(
                pool, settings.kafka,
                f"{settings.kafka.client_id_prefix}-contracts-relay", enabled=settings.run_relay,
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
        routers=[router], checks={"database": database, "kafka": probe}, lifespan=lifespan,
        auth=settings.auth,
    )
    app.state.latest_paid_on = latest_paid_on
    app.state.calendar = calendar
    app.state.allow_future_ticks = settings.allow_future_ticks
    return app
