"""The composition root of the contracts service: settings -> adapters -> application -> app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import asyncpg
from fastapi import FastAPI

from services.contracts.adapters.invoices_table import PostgresInvoiceBook
from services.contracts.adapters.outbox_routing import route
from services.contracts.adapters.statement_tables import PostgresPayerDirectory, PostgresStatementLedger
from services.contracts.adapters.time_events_table import PostgresTimeEventsDue
from services.contracts.application.commands import ContractsApplication
from services.contracts.application.statements import StatementImport
from services.contracts.entrypoints.http.invoice_routes import router as invoice_router
from services.contracts.entrypoints.http.routes import router
from services.contracts.entrypoints.http.statement_routes import IMPORT_PATH
from services.contracts.entrypoints.http.statement_routes import router as statement_router
from services.contracts.settings import ContractsSettings
from shared.calendar import CompanyCalendar
from shared.db.migrations import apply_migrations, migrations_dir
from shared.db.pool import create_pool
from shared.eventstore.store import PostgresEventStore
from shared.http.app import create_service_app
from shared.http.idempotency import PostgresIdempotencyStore
from shared.kafka_probe import KafkaProbe
from shared.logging import configure_logging, get_logger
from shared.outbox.supervisor import readiness_report, relay_in_background

log = get_logger("contracts")


def contracts_application(
    pool: asyncpg.Pool, settings: ContractsSettings, grace_days: int, service: str = "contracts"
) -> ContractsApplication:
    """The application on PostgreSQL (the HTTP service and the scheduler loop build the same)."""
    invoices = PostgresInvoiceBook(pool)
    return ContractsApplication(
        # concurrent commands' one-call appends share transactions (shared/eventstore/group_commit.py)
        PostgresEventStore(pool, router=route, service=service, group_commit=True),
        PostgresTimeEventsDue(pool),
        grace_days,
        invoices=invoices,
        company=settings.company(),
        invoice_days_before_due=settings.invoice_days_before_due,
        directory=PostgresPayerDirectory(pool),
        state_cache_size=settings.state_cache_size,
    )


def statement_import(pool: asyncpg.Pool, contracts: ContractsApplication) -> StatementImport:
    assert contracts.directory is not None
    return StatementImport(contracts, contracts.directory, PostgresStatementLedger(pool))


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
        pool = await create_pool(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max, service="contracts")
        app.state.pool = pool
        app.state.idempotency = PostgresIdempotencyStore(pool)
        app.state.calendar = calendar
        app.state.contracts = contracts_application(pool, settings, calendar.grace_days)
        app.state.statements = statement_import(pool, app.state.contracts)
        try:
            async with relay_in_background(
                pool,
                settings.kafka,
                f"{settings.kafka.client_id_prefix}-contracts-relay",
                enabled=settings.run_relay,
                service="contracts",
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
        routers=[router, invoice_router, statement_router],
        checks={"database": database},
        informational={"kafka": probe},  # the outbox absorbs Kafka's absence (docs/operations.md)
        reports={"relay": readiness_report(lambda: getattr(app.state, "relay", None))},
        lifespan=lifespan,
        auth=settings.auth,
        body_limits={IMPORT_PATH: settings.statement_max_bytes},
        service="contracts",
    )
    app.state.latest_paid_on = latest_paid_on
    app.state.calendar = calendar
    app.state.allow_future_ticks = settings.allow_future_ticks
    app.state.invoice_locale = settings.invoice_locale
    return app
