"""The composition root of the contracts service: settings -> adapters -> application -> app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict

from services.contracts.adapters.outbox_routing import route
from services.contracts.application.commands import ContractsApplication
from services.contracts.entrypoints.http.routes import router
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


def create_app(settings: ContractsSettings | None = None) -> FastAPI:
    settings = settings or ContractsSettings()  # type: ignore[call-arg]
    configure_logging(settings.log.format, settings.log.level)
    probe = KafkaProbe(settings.kafka.bootstrap_servers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dsn = settings.database_url.get_secret_value()
        await apply_migrations(dsn, migrations_dir("contracts"))
        pool = await create_pool(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        app.state.pool = pool
        app.state.contracts = ContractsApplication(EventStore(pool, router=route),
                                                     settings.calendar.grace_days)
        try:
            async with relay_in_background(
                pool, settings.kafka.bootstrap_servers,
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
    )
    return app
