"""``python -m services.contracts.entrypoints.scheduler``: the time-event loop (any number of replicas).

Every interval it runs the same tick as ``POST /scheduler/tick`` for today in the company's
time zone (``ABONENT_TIMEZONE``, docs/design.md §8), not the server's.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import UTC, datetime

from prometheus_client import start_http_server

from services.contracts.application.scheduler import tick
from services.contracts.bootstrap import contracts_application
from services.contracts.settings import ContractsSettings
from shared import tracing
from shared.db.pool import create_pool
from shared.eventstore.records import CommandContext
from shared.logging import configure_logging, get_logger
from shared.settings import load_or_exit

log = get_logger("contracts.scheduler")


async def run(settings: ContractsSettings) -> None:
    pool = await create_pool(settings.database_url.get_secret_value(), min_size=1, max_size=4, service="scheduler")
    app = contracts_application(pool, settings, settings.calendar.grace_days, service="scheduler")
    tracing.configure("contracts-scheduler")
    if settings.scheduler_metrics_port is not None:  # this process has no HTTP app of its own
        start_http_server(settings.scheduler_metrics_port, addr=settings.http_host)
    calendar = settings.calendar.calendar()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    log.info("scheduler started", interval=settings.scheduler_interval_seconds)
    try:
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
    finally:
        await pool.close()


if __name__ == "__main__":
    s = load_or_exit(ContractsSettings)
    configure_logging(s.log.format, s.log.level)
    asyncio.run(run(s))
