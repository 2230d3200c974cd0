"""Run an outbox relay as its own process: ``python -m shared.outbox --database-url ...``.

Services also run the same relay inside their own process; running it here as well is safe
(one publisher at a time, see ``shared.outbox.relay``).
"""

from __future__ import annotations

import asyncio
import signal

import typer
import uvloop

from shared.db.pool import create_pool
from shared.http.probe_server import probe_server
from shared.logging import configure_logging, get_logger
from shared.outbox.relay import OutboxRelay, make_producer
from shared.runtime import tune_gc
from shared.settings import KafkaSettings, load_or_exit

app = typer.Typer(add_completion=False)


@app.command()
def main(
    database_url: str = typer.Option(..., envvar="OUTBOX_DATABASE_URL", help="the service's database"),
    bootstrap_servers: str | None = typer.Option(
        None, help="overrides ABONENT_KAFKA_BOOTSTRAP_SERVERS; the rest of ABONENT_KAFKA_* applies"
    ),
    client_id: str = typer.Option("abonent-outbox-relay"),
    batch_size: int = typer.Option(1000),
    log_format: str = typer.Option("console", envvar="ABONENT_LOG_FORMAT"),
    service: str = typer.Option("outbox", help="the service label of the relay's metrics"),
    http_host: str = typer.Option("127.0.0.1", envvar="OUTBOX_HTTP_HOST", help="where /health/* and /metrics answer"),
    http_port: int = typer.Option(8006, envvar="OUTBOX_HTTP_PORT"),
) -> None:
    """Kafka's address and security come from ABONENT_KAFKA_* (shared.settings.KafkaSettings)."""
    configure_logging(log_format)
    tune_gc()
    given = {"bootstrap_servers": bootstrap_servers} if bootstrap_servers else {}
    kafka = load_or_exit(KafkaSettings, **given)
    uvloop.run(_run(database_url, kafka, client_id, batch_size, service, (http_host, http_port)))  # as the services run


async def _run(
    database_url: str,
    kafka: KafkaSettings,
    client_id: str,
    batch_size: int,
    service: str,
    probes: tuple[str, int],
) -> None:
    # The structlog chain masks the password in the URL (shared.logging).
    get_logger("outbox").info(
        "relay starting",
        batch_size=batch_size,
        database=database_url,
        kafka=kafka.bootstrap_servers,
        security=kafka.security_protocol,
    )
    pool = await create_pool(database_url, min_size=2, max_size=3)
    relay = OutboxRelay(pool, lambda: make_producer(kafka, client_id), batch_size=batch_size, service=service)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.stop)

    async def database() -> None:
        await pool.fetchval("SELECT 1")

    try:
        async with probe_server("outbox-relay", *probes, {"database": database}):
            await relay.run()
    finally:
        await pool.close()
        get_logger("outbox").info("relay stopped", published=relay.stats.published)


if __name__ == "__main__":
    app()
