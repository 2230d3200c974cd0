"""The one composition root of the projections service: settings → adapters → app.

Only this module reads settings; tests call :func:`create_app` / :func:`create_rebuild` with
the settings they need.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI

import shared.events.contracts  # noqa: F401 - registers the payload models of contracts.events.v1
from services.projections.adapters.db import open_pool, with_search_path
from services.projections.adapters.kafka_offsets import EndOffsets
from services.projections.adapters.notifications import AppliedNotifications
from services.projections.adapters.pg_schemas import PostgresPgSchemas
from services.projections.adapters.read_model import PostgresReadModel
from services.projections.adapters.replay import TopicReplay
from services.projections.adapters.store import ReadModelStore
from services.projections.application.first_fill import FirstFill
from services.projections.application.projector import PoisonSink, Projector
from services.projections.application.queries import Queries
from services.projections.application.rebuild import Rebuild
from services.projections.entrypoints import metrics
from services.projections.entrypoints.consumer import TOPICS, events_consumer
from services.projections.entrypoints.http import routes
from services.projections.entrypoints.http.health import consumer_report
from services.projections.entrypoints.replay_workers import ProcessSlices
from services.projections.settings import MAX_REBUILD_WORKERS, ProjectionsSettings
from shared.consumer import ConsumerRuntime, DeadLetterProducer, DeadLetterPublisher
from shared.db.migrations import apply_migrations, migrations_dir
from shared.http.app import create_service_app
from shared.kafka_probe import KafkaProbe
from shared.logging import configure_logging, get_logger
from shared.topics import PROJECTIONS_GROUP

log = get_logger("projections")


def create_app(settings: ProjectionsSettings | None = None) -> FastAPI:
    settings = settings or ProjectionsSettings()
    configure_logging(settings.log.format, settings.log.level)
    dsn = settings.database_url.get_secret_value()
    kafka = settings.kafka
    client_id = f"{kafka.client_id_prefix}-projections"
    probe = KafkaProbe(kafka)
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await apply_migrations(dsn, migrations_dir("projections"))  # as the other services; `migrate` too
        pool = await open_pool(
            dsn,
            settings.read_model_schema,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            service="projections",
        )
        notifications = AppliedNotifications(with_search_path(dsn, settings.read_model_schema))
        await notifications.start()
        state["pool"] = pool
        end_offsets = EndOffsets(kafka, TOPICS, f"{client_id}-offsets")
        warming = asyncio.create_task(end_offsets.warm_up())
        read_model = PostgresReadModel(pool)
        app.state.queries = Queries(
            read_model,
            notifications,
            end_offsets,
            settings.min_position_wait_seconds,
            grace_days=settings.calendar.grace_days,
            on_looks=metrics.WAIT_LOOKS.observe,
        )
        dead_letters = DeadLetterProducer(kafka, f"{client_id}-dlq")
        sink = dead_letter_sink(dead_letters, settings.consumer_group, metrics.DEAD_LETTERS.inc)
        projector = Projector(ReadModelStore(), sink)
        if settings.consume:  # the fix may be deployed now: stopped streams go on without a rebuild
            async with pool.acquire() as conn:
                await projector.resume(conn)
        metrics.PARKED.set(await pool.fetchval("SELECT count(*) FROM parked_events"))
        metrics.STALE_CLIENTS.set(await pool.fetchval("SELECT count(DISTINCT client_id) FROM stopped_streams"))
        consumer = events_consumer(
            kafka,
            pool,
            projector,
            dead_letters,
            client_id=client_id,
            group=settings.consumer_group,
            max_records=settings.batch_max_records,
            poll_timeout_ms=settings.batch_timeout_ms,
        )
        app.state.consumer = consumer
        first_fill = FirstFill(
            lambda: create_rebuild(settings, dead_letters=sink),
            read_model.consumed_nothing,
            end_offsets.records,
            settings.first_fill_from,
        )
        app.state.first_fill = first_fill
        consuming = asyncio.create_task(_fill_then_consume(first_fill, consumer)) if settings.consume else None
        try:
            yield
        finally:
            if consuming is not None:  # a fill still running is stopped: its schema is dropped
                consuming.cancel()
                with suppress(asyncio.CancelledError):
                    await consuming
            await consumer.stop()
            await probe.close()
            warming.cancel()
            with suppress(asyncio.CancelledError):
                await warming
            await end_offsets.close()
            await notifications.close()
            await pool.close()

    async def database() -> None:
        await state["pool"].fetchval("SELECT 1")

    async def consumer_status() -> dict[str, Any]:
        if not settings.consume:
            return {"enabled": False}
        consumer = app.state.consumer
        lag = await consumer.lag()
        known = [v for v in lag.values() if v is not None]
        parked = await state["pool"].fetchval("SELECT count(*) FROM parked_events")
        metrics.PARKED.set(parked)
        stale_clients = await state["pool"].fetchval("SELECT count(DISTINCT client_id) FROM stopped_streams")
        metrics.STALE_CLIENTS.set(stale_clients)
        return {
            "enabled": True,
            "running": consumer.running,
            "first_fill": app.state.first_fill.status.as_dict(),
            "topics": list(consumer.topics),
            "group": consumer.group,
            "lag": lag,
            "lag_total": sum(known) if known else None,
            "parked_events": parked,
            "stale_clients": stale_clients,
        }

    app = create_service_app(
        title="Abonent projections",
        description=(
            "Read models built from contracts.events.v1: coverage, contracts list, debtors, income. "
            "Every answer carries the `position` it reflects and a `stale` flag; pass `min_position` "
            "to read your own writes."
        ),
        routers=[routes.router],
        checks={"database": database},
        informational={"kafka": probe},  # reads serve from PostgreSQL, marked stale (docs/operations.md)
        reports={"consumer": consumer_report(consumer_status, settings.ready_max_lag)},
        lifespan=lifespan,
        auth=settings.auth,
        service="projections",
    )
    app.state.calendar = settings.calendar.calendar()
    return app


def dead_letter_sink(
    producer: DeadLetterProducer, consumer_group: str, on_published: Callable[[int], None] | None = None
) -> PoisonSink:
    """Poison records of the contracts topics → the projections group's dead-letter topic (whatever
    ``consumer_group`` reads them: a second read model's poison goes where ops look), each
    naming ``consumer_group`` in its ``dlq_consumer_group`` header."""
    publisher = DeadLetterPublisher(
        producer.send, PROJECTIONS_GROUP, on_published=on_published, consumer_group=consumer_group
    )
    return publisher.publish_all


async def _count_only(_: Any) -> None:
    return None


async def _fill_then_consume(first_fill: FirstFill, consumer: ConsumerRuntime) -> None:
    """The live consumer starts once a fresh read model is filled (or needs no fill). A fill
    that fails leaves the read model as it was (its schema dropped): the consumer goes on live."""
    try:
        await first_fill.run()
    except Exception:
        log.exception("the first fill failed; the consumer works the backlog off live")
    consumer.start()


def create_rebuild(
    settings: ProjectionsSettings,
    *,
    partitions: Collection[tuple[str, int]] | None = None,
    dead_letters: PoisonSink | None = None,
) -> Rebuild:
    """The rebuild/check use case: replays the topic with its own group-less reader.
    ``partitions``: a worker process's slice (it replays only those, and splits nothing
    further). ``dead_letters``: where poison records go — by default they are only counted
    (the live consumer already dead-lettered them); a first fill sends them, as the live
    consumer would have (its workers each with a producer of their own)."""
    pg_schemas = PostgresPgSchemas(settings.database_url.get_secret_value(), settings.read_model_schema)
    # the CPUs this process may run on (a cpuset narrows them; a CFS quota does not show here)
    workers = settings.rebuild_workers or min(len(os.sched_getaffinity(0)), MAX_REBUILD_WORKERS)
    return Rebuild(
        pg_schemas,
        lambda: TopicReplay(
            settings.kafka, TOPICS, f"{settings.kafka.client_id_prefix}-projections-rebuild", only=partitions
        ),
        Projector(ReadModelStore(), dead_letters or _count_only),
        batch_records=settings.rebuild_batch_records,
        slices=ProcessSlices(settings, dead_letters=dead_letters is not None) if partitions is None else None,
        workers=workers,
        parallel_from=settings.rebuild_parallel_from,
    )
