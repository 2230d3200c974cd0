"""``python -m services.contracts.entrypoints.scheduler``: the time-event loop (any number of replicas).

Every interval it runs the same tick as ``POST /scheduler/tick`` for today in the company's
time zone (``ABONENT_TIMEZONE``, docs/design.md §8), not the server's. Probes and metrics
(``scheduler_*``, its pool) answer on ``CONTRACTS_HTTP_HOST:CONTRACTS_SCHEDULER_HTTP_PORT``.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import UTC, datetime

import typer

from services.contracts.application.commands import ContractsApplication
from services.contracts.application.scheduler import tick
from services.contracts.bootstrap import contracts_application
from services.contracts.settings import ContractsSettings
from shared import tracing
from shared.calendar import CompanyCalendar
from shared.db.pool import create_pool
from shared.eventstore.records import CommandContext
from shared.http.probe_server import probe_server
from shared.logging import configure_logging, get_logger
from shared.settings import load_or_exit

log = get_logger("contracts.scheduler")


async def run(settings: ContractsSettings) -> None:
    pool = await create_pool(settings.database_url.get_secret_value(), min_size=1, max_size=4, service="scheduler")
    app = contracts_application(pool, settings, settings.calendar.grace_days, service="scheduler")
    tracing.configure("contracts-scheduler")
    calendar = settings.calendar.calendar()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)

    async def database() -> None:
        await pool.fetchval("SELECT 1")

    try:
        async with probe_server("scheduler", settings.http_host, settings.scheduler_http_port, {"database": database}):
            log.info(
                "scheduler started", interval=settings.scheduler_interval_seconds, probes=settings.scheduler_http_port
            )
            await _loop(app, settings, calendar, stopping)
    finally:
        await pool.close()


async def _loop(
    app: ContractsApplication, settings: ContractsSettings, calendar: CompanyCalendar, stopping: asyncio.Event
) -> None:
    while not stopping.is_set():
        now = datetime.now(UTC)
        ctx = CommandContext(correlation_id=str(uuid.uuid4()), actor="scheduler", now=now)
        try:
            with tracing.span("scheduler tick", correlation_id=ctx.correlation_id):
                await tick(app, calendar.today(now), ctx, settings.scheduler_batch, calendar)
        except Exception:  # one bad tick must not stop the loop; it is logged
            log.exception("scheduler tick failed")
        try:
            await asyncio.wait_for(stopping.wait(), settings.scheduler_interval_seconds)
        except TimeoutError:
            pass


cli = typer.Typer(add_completion=False)


@cli.command(
    help="Run the scheduler loop: every CONTRACTS_SCHEDULER_INTERVAL_SECONDS the tick for today in "
    "ABONENT_TIMEZONE. Probes and metrics on CONTRACTS_HTTP_HOST:CONTRACTS_SCHEDULER_HTTP_PORT. "
    "Any number of replicas may run: each time event is still emitted once."
)
def main() -> None:
    s = load_or_exit(ContractsSettings)
    configure_logging(s.log.format, s.log.level)
    asyncio.run(run(s))


if __name__ == "__main__":
    cli(prog_name="python -m services.contracts.entrypoints.scheduler")
