"""The Kafka subscriber of the notifier: ``contracts.schedule.v1``, one record at a time.

* group ``abonent.notifier`` (one delivery log, any number of replicas);
* ``auto_offset_reset="earliest"``: a new group starts from the oldest reminder kept —
  the delivery log makes re-reading harmless, and nothing due is skipped;
* ``AckPolicy.MANUAL`` with auto-commit off: the offset is committed only after the
  application has settled the record (every e-mail sent / failed / dead and recorded, or the
  record dead-lettered and acknowledged by Kafka). If handling raises (database or Kafka
  unreachable), the record is nacked — the consumer seeks back to it — and retried after a
  growing pause: at-least-once, never at-most-once.
* One record at a time per consumer: while an e-mail waits for SMTP to come back, the
  partitions of this consumer wait too — for at most the retry policy's worst case, after
  which the delivery is dead-lettered and the consumer moves on. ``max_poll_interval_ms``
  is set above that bound so the group does not evict a consumer that is only waiting.
* A record whose handling fails is retried while the cause looks like an outage (database,
  Kafka or network unreachable — waiting is right); if it fails ``give_up_after`` times in a
  row for any other reason (a bug, data the database refuses), it is dead-lettered with the
  error and the partition moves on: no crash loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import asyncpg
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from services.notifier.application.delivery import ShuttingDown, TryAgain
from services.notifier.application.notify import ScheduleNotifier
from services.notifier.entrypoints import metrics
from shared.logging import get_logger
from shared.topics import CONTRACTS_SCHEDULE, NOTIFIER_GROUP

log = get_logger("notifier.consumer")

OUTAGES: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, KafkaError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError, asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError, asyncpg.QueryCanceledError,
    TryAgain, ShuttingDown,
)
"""Failures that say "something we depend on is down or busy": retried without a bound."""


async def _raw_record(message: Any) -> Any:
    """Decoder: the handler gets the raw ConsumerRecord (decoding is ours, poison-safe)."""
    return message.raw_message


async def _lenient_parser(record: Any, original: Any) -> Any:
    try:
        return await original(record)
    except UnicodeDecodeError:  # a header that is not UTF-8 must not block the partition
        clean = dataclasses.replace(record, headers=[
            (k, v.decode(errors="replace").encode()) for k, v in record.headers])
        return await original(clean)



pause = asyncio.sleep
"""How the consumer waits between redeliveries (a module attribute, so tests can skip the wait
without replacing ``asyncio.sleep`` for every task in the event loop)."""

class ScheduleConsumer:
    def __init__(self, broker: KafkaBroker, *, group: str = NOTIFIER_GROUP,
                 max_poll_interval_ms: int = 300_000, topic: str = CONTRACTS_SCHEDULE,
                 give_up_after: int = 5) -> None:
        self.topic, self.group = topic, group
        self.notifier: ScheduleNotifier | None = None
        self.give_up_after = give_up_after
        self._failures = 0
        self._failing: tuple[str, int, int] | None = None
        self._same_record_failures = 0
        self._stopping = False
        self.subscriber = broker.subscriber(
            topic, group_id=group, auto_offset_reset="earliest", ack_policy=AckPolicy.MANUAL,
            max_poll_interval_ms=max_poll_interval_ms,
            rebalance_timeout_ms=max_poll_interval_ms,
            decoder=_raw_record, parser=_lenient_parser, title="notifier",
            description="Reminders and debt notices of contracts.schedule.v1 → e-mail")

        @self.subscriber
        async def on_schedule_event(record: Any, msg: KafkaMessage) -> None:
            await self.handle(record, msg)

    def bind(self, notifier: ScheduleNotifier) -> None:
        self.notifier = notifier

    def stop(self) -> None:
        """Before the broker stops: retries in flight give their record back at once."""
        self._stopping = True
        if self.notifier is not None:
            self.notifier.stop()

    async def handle(self, record: Any, msg: Any) -> None:
        assert self.notifier is not None, "bind() first"
        try:
            await self.notifier.handle(record)
        except Exception as exc:  # noqa: BLE001 - not settled: redeliver it, later
            if self._stopping:
                log.info("stopping: record given back unsettled", partition=record.partition,
                         offset=record.offset, reason=str(exc))
                await msg.nack()
                return
            if not await self._failed(record, msg, exc):
                return
        self._failures, self._failing, self._same_record_failures = 0, None, 0
        try:
            await msg.ack()  # commit the offset only now that the record is settled
        except KafkaError as exc:  # e.g. CommitFailedError after a rebalance: the new owner
            # gets it again and finds every delivery settled in the log
            log.warning("offset commit failed after handling", error=repr(exc))

    async def _failed(self, record: Any, msg: Any, exc: Exception) -> bool:
        """Nack and pause; True when the record was dead-lettered instead (commit it)."""
        assert self.notifier is not None
        coordinates = (record.topic, record.partition, record.offset)
        if coordinates != self._failing:
            self._failing, self._same_record_failures = coordinates, 0
        self._same_record_failures += 1
        self._failures += 1
        metrics.HANDLER_FAILURES.inc()
        if not isinstance(exc, OUTAGES) and self._same_record_failures >= self.give_up_after:
            try:
                await self.notifier.give_up(record, repr(exc)[:500])
                return True
            except Exception as dlq_exc:  # noqa: BLE001 - Kafka/DB down too: retry later
                exc = dlq_exc
        delay = min(0.5 * 2 ** min(self._failures, 6), 30.0)
        log.exception("handling failed; the message will be redelivered", error=repr(exc),
                      retry_in=delay, topic=record.topic, partition=record.partition,
                      offset=record.offset, failures=self._same_record_failures)
        await msg.nack()
        await pause(delay)
        return False

    @property
    def running(self) -> bool:
        return self.subscriber.consumer is not None
