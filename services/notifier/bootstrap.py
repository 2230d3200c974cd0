"""The composition root of the notifier: settings → adapters → application → app.

Only this module reads settings; tests call :func:`create_app` with the settings they need.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import shared.events  # noqa: F401 - registers every payload model (schedule ones included)
from services.notifier.adapters.delivery_log import ClaimBusy, ClaimTimeouts, DeliveryLog
from services.notifier.adapters.smtp import SmtpSender
from services.notifier.adapters.templates import TemplateRenderer
from services.notifier.application.delivery import Deliverer
from services.notifier.application.notify import NotifyPolicy, ScheduleNotifier
from services.notifier.application.queries import NotificationQueries
from services.notifier.entrypoints.consumer import schedule_consumer
from services.notifier.entrypoints.http import router
from services.notifier.entrypoints.metrics import PrometheusMetrics
from services.notifier.entrypoints.retries import RetryWorker
from services.notifier.settings import NotifierSettings
from shared.consumer import DeadLetterProducer, DeadLetterPublisher
from shared.db.migrations import apply_migrations, migrations_dir
from shared.db.pool import create_pool
from shared.http.app import create_service_app
from shared.kafka_probe import KafkaProbe
from shared.logging import configure_logging, get_logger

log = get_logger("notifier")


def _attempt_seconds(settings: NotifierSettings) -> float:
    """One SMTP attempt: connect, [STARTTLS, AUTH], MAIL, RCPT, DATA, QUIT — each bounded."""
    return settings.smtp_timeout * 6


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    configure_logging(settings.log.format, settings.log.level)
    kafka = settings.kafka
    client_id = f"{settings.kafka.client_id_prefix}-notifier"
    policy = settings.retry_policy
    attempt_seconds = _attempt_seconds(settings)
    # Above the longest a record can take (one attempt per recipient, concurrently: the next
    # ones are on the retry schedule), so the group never evicts a consumer mid-attempt.
    max_poll_ms = int((attempt_seconds + 60) * 1000)
    metrics = PrometheusMetrics()
    dead_letter_producer = DeadLetterProducer(kafka, f"{client_id}-dlq")
    dead_letters = DeadLetterPublisher(dead_letter_producer.send, settings.group_id)
    sender = SmtpSender(settings.smtp)
    probe = KafkaProbe(kafka)
    renderer = TemplateRenderer(settings.locale)
    general = settings.general_emails
    message_id_domain = settings.message_id_domain or settings.from_email.rsplit("@", 1)[1]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dsn = settings.database_url.get_secret_value()
        await apply_migrations(dsn, migrations_dir("notifier"))
        pool = await create_pool(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max, service="notifier")
        delivery_log = DeliveryLog(
            pool, ClaimTimeouts(lock_seconds=attempt_seconds + 5, idle_in_transaction_seconds=attempt_seconds * 2 + 30)
        )
        app.state.pool = pool
        app.state.delivery_log = delivery_log
        app.state.queries = NotificationQueries(delivery_log)
        app.state.smtp_probe = sender.probe
        deliverer = Deliverer(delivery_log, sender, policy, metrics, busy_exceptions=(ClaimBusy,))
        notifier = ScheduleNotifier(
            delivery_log,
            deliverer,
            renderer,
            dead_letters,
            NotifyPolicy(settings.from_email, general, message_id_domain),
            metrics,
        )
        app.state.notifier = notifier
        consumer = schedule_consumer(
            kafka,
            notifier,
            dead_letter_producer,
            client_id=client_id,
            group=settings.group_id,
            max_poll_interval_ms=max_poll_ms,
            graceful_seconds=max(settings.smtp_timeout * 2, 15.0),
        )
        app.state.consumer = consumer
        retries = RetryWorker(notifier, delivery_log, every=settings.retry_poll_seconds)
        app.state.retries = retries
        if settings.consume:
            consumer.start()
            retries.start()
        log.info(
            "notifier started",
            port=settings.http_port,
            smtp=repr(settings.smtp),
            general=list(general),
            locale=settings.locale,
            max_attempts=policy.max_attempts,
            group=settings.group_id,
            dead_letter_topic=dead_letters.topic,
        )
        if not general:
            log.warning("NOTIFY_GENERAL_EMAIL is empty: only managers get notifications")
        try:
            yield
        finally:
            notifier.stop()  # no new attempt starts; records not settled stay uncommitted
            await retries.stop()
            await consumer.stop()  # and the dead-letter producer, started by a retry too
            await probe.close()
            await pool.close()

    async def database() -> None:
        await app.state.pool.fetchval("SELECT 1")

    async def consuming() -> None:
        if settings.consume and not app.state.consumer.running:
            raise RuntimeError("the Kafka consumer is not running")

    app = create_service_app(
        title="Abonent notifier",
        description="E-mails the reminders (ServicePeriodEndingSoon) and debt notices "
        "(ServicePeriodBecameOverdue) of contracts.schedule.v1, exactly once per "
        "event and recipient, and keeps the delivery log. `/health/smtp` tells "
        "whether the SMTP server answers (readiness does not depend on it).",
        routers=[router],
        checks={"database": database, "consumer": consuming},
        informational={"kafka": probe},  # the HTTP API serves without it (docs/operations.md)
        lifespan=lifespan,
        auth=settings.auth,
        service="notifier",
    )
    return app
