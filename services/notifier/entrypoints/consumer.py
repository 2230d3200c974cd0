"""The notifier's consumer of ``contracts.schedule.v1`` and ``contracts.events.v1`` (for
InvoiceIssued only; the other facts are skipped by their header), one record at a time.

It runs on ``shared.consumer``'s runtime; what is particular to it:

* group ``abonent.notifier`` (one delivery log, any number of replicas);
* ``auto_offset_reset="earliest"``: a new group starts from the oldest reminder kept —
  the delivery log makes re-reading harmless, and nothing due is skipped;
* the offset is committed only after the application has settled the record (every e-mail
  sent / failed / dead / on the retry schedule and recorded, or the record dead-lettered and
  acknowledged by Kafka).
  If handling raises (database or Kafka unreachable), the record is sought back and retried
  after a growing pause: at-least-once, never at-most-once.
* One record at a time per consumer, and one SMTP attempt per recipient for it: a temporary
  failure puts that delivery on the retry schedule in the delivery log (the retry worker,
  ``entrypoints/retries.py``, sends it later) and the record is settled, so one recipient
  answering 4xx delays no other event. ``max_poll_interval_ms`` is set above one attempt.
* A record whose handling fails is retried while the cause looks like an outage (database,
  Kafka or network unreachable — waiting is right); if it fails ``give_up_after`` times in a
  row for any other reason (a bug, data the database refuses), it is dead-lettered with the
  error and the partition moves on: no crash loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import asyncpg
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError

from services.notifier.application.delivery import ShuttingDown, TryAgain
from services.notifier.entrypoints import metrics
from shared import tracing
from shared.consumer import Backoff, ConsumerRuntime, DeadLetterProducer, Subscription
from shared.consumer.decoding import RawRecord
from shared.settings import KafkaSettings
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE, NOTIFIER_GROUP

OUTAGES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    KafkaError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.QueryCanceledError,
    TryAgain,
    ShuttingDown,
)
"""Failures that say "something we depend on is down or busy": retried without a bound."""

REDELIVERY = Backoff(1.0, 30.0)


class Notifier(Protocol):
    async def handle(self, record: RawRecord) -> object: ...
    async def give_up(self, record: RawRecord, error: str) -> object: ...


class NotifyEach:
    """The runtime's handler: each record to the application; a record that keeps failing
    for a reason other than an outage is given up (dead-lettered) after ``give_up_after``."""

    def __init__(self, notifier: Notifier, give_up_after: int = 5) -> None:
        self.notifier, self.give_up_after = notifier, give_up_after
        self._failing: tuple[str, int, int] | None = None
        self._same_record_failures = 0

    async def handle(self, records: Sequence[ConsumerRecord], failures: int) -> None:
        for record in records:
            with tracing.consuming("notifier handle", record):  # in the trace of the event's writer
                await self.notifier.handle(record)
        self._failing, self._same_record_failures = None, 0

    async def failed(self, records: Sequence[ConsumerRecord], error: Exception, failures: int) -> bool:
        record = records[0]
        coordinates = (record.topic, record.partition, record.offset)
        if coordinates != self._failing:
            self._failing, self._same_record_failures = coordinates, 0
        self._same_record_failures += 1
        if isinstance(error, OUTAGES) or self._same_record_failures < self.give_up_after:
            return False
        await self.notifier.give_up(record, repr(error)[:500])
        self._failing, self._same_record_failures = None, 0
        return True


def _lag(topic: str, partition: int, lag: int) -> None:
    metrics.LAG.labels(topic, str(partition)).set(lag)


TOPICS = (CONTRACTS_SCHEDULE, CONTRACTS_EVENTS)
"""What the notifier reads: the reminders and overdue notices, and the issued invoices."""


def schedule_consumer(
    kafka: KafkaSettings,
    notifier: Notifier,
    dead_letters: DeadLetterProducer,
    *,
    client_id: str,
    group: str = NOTIFIER_GROUP,
    max_poll_interval_ms: int = 300_000,
    topics: tuple[str, ...] = TOPICS,
    give_up_after: int = 5,
    graceful_seconds: float = 15.0,
) -> ConsumerRuntime:
    subscription = Subscription(
        topics,
        group,
        client_id,
        max_records=1,
        options={"max_poll_interval_ms": max_poll_interval_ms, "rebalance_timeout_ms": max_poll_interval_ms},
    )
    return ConsumerRuntime(
        kafka,
        subscription,
        NotifyEach(notifier, give_up_after),
        dead_letters,
        backoff=REDELIVERY,
        on_failure=metrics.HANDLER_FAILURES.inc,
        on_lag=_lag,
        graceful_seconds=graceful_seconds,
    )
