"""Handle one record of ``contracts.schedule.v1``: decide, record, deliver, dead-letter.

The outcome tells the consumer it may commit the offset; any exception means "nothing was
settled for sure — redeliver me" (database down, Kafka down while dead-lettering).

- undecodable (not JSON, not an envelope, unknown event type, payload failing its schema),
  an event of another topic, or an event with nobody to write to → recorded in
  ``rejected_messages`` and dead-lettered with the reason;
- ``ServicePeriodStarted`` / ``ServicePeriodEnded`` → ignored;
- a reminder or a debt notice marked ``late`` (old news: a contract entered after the fact)
  → recorded with every delivery ``skipped_late``; nothing is mailed;
- a reminder or a debt notice → one delivery per recipient, a first attempt each,
  concurrently; a temporary failure puts that delivery on the retry schedule kept in the
  delivery log and the record is settled — the consumer goes on with the next event, and
  :meth:`ScheduleNotifier.retry_due` (the retry worker) makes the next attempts when they
  are due. Recipients whose address is invalid, and deliveries that ran out of attempts, are
  ``dead`` and the event is dead-lettered with every reason. Re-handling the same event
  re-publishes the dead letter (at-least-once) but never re-sends a settled e-mail. The
  recipients are fixed the first time an event is recorded (a changed
  ``NOTIFY_GENERAL_EMAIL`` adds nobody to it);
- :meth:`ScheduleNotifier.reopen` (``POST /notifications/{event_id}/retry``) gives the
  deliveries that ran out of attempts a fresh count and puts them on the schedule, due now:
  kept in the database, so a restart does not forget them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.notifier.application.delivery import Deliverer
from services.notifier.application.ports import DeadLetters, Log, Metrics, NoMetrics, Renderer
from services.notifier.domain.emails import Attachment, DeliveryResult, DueRetry, Notification, OutgoingEmail
from services.notifier.domain.message_ids import message_id
from services.notifier.domain.recipients import (
    Audience,
    NotAScheduleEvent,
    NotificationKind,
    Recipient,
    audience,
    invoice_audience,
    kind_of,
)
from shared.consumer.decoding import Decoded, PoisonMessage, RawRecord, decode_record
from shared.events.contracts import InvoiceIssued
from shared.events.envelope import Envelope, EnvelopeHead, headers_to_dict
from shared.events.schedule import ServicePeriodBecameOverdue, ServicePeriodEndingSoon
from shared.logging import bound_context, get_logger
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE

Notified = ServicePeriodEndingSoon | ServicePeriodBecameOverdue | InvoiceIssued

log = get_logger("notifier")


class Outcome(StrEnum):
    IGNORED = "ignored"
    DELIVERED = "delivered"  # every recipient settled: sent, or failed for good
    RETRY_SCHEDULED = "retry_scheduled"  # some recipient's next attempt is on the retry schedule
    SKIPPED_LATE = "skipped_late"  # old news: recorded, not mailed
    DEAD_LETTERED = "dead_lettered"  # the event (or part of it) went to the dead-letter topic


@dataclass(frozen=True)
class NotifyPolicy:
    sender: str
    general: tuple[str, ...]
    message_id_domain: str


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    deliveries: tuple[DeliveryResult, ...] = ()
    reason: str | None = None


class ScheduleNotifier:
    def __init__(
        self,
        delivery_log: Log,
        deliverer: Deliverer,
        renderer: Renderer,
        dead_letters: DeadLetters,
        policy: NotifyPolicy,
        metrics: Metrics | None = None,
    ) -> None:
        self._log, self._deliverer, self._renderer = delivery_log, deliverer, renderer
        self._dead_letters, self.policy = dead_letters, policy
        self._metrics = metrics or NoMetrics()

    def stop(self) -> None:
        """Stop retrying: records still waiting for SMTP are given back unsettled."""
        self._deliverer.stop()

    async def reopen(self, event_id: UUID) -> Reopened | None:
        """Make a dead-lettered notification deliverable again (after SMTP is fixed).

        Deliveries that ran out of attempts get a fresh count; :meth:`handle` on the returned
        record then sends what is not sent yet (the claims keep it exactly-once even if the
        same event arrives from Kafka meanwhile). ``None``: the event is unknown here.
        """
        reopened = await self._log.reopen(event_id)
        if reopened is None:
            return None
        stored, count = reopened
        if stored is None:
            return Reopened(count, None)
        env = Envelope.model_validate(stored)
        log.info("notification reopened", event_id=str(event_id), deliveries=count)
        return Reopened(count, _Replayed(env.partition_key.encode(), env.to_bytes(), env.kafka_headers()))

    async def retry_due(self, limit: int = 50) -> int:
        """The retry worker's step: one attempt for each delivery whose retry is due (at most
        ``limit``, concurrently: a failing recipient delays no other). An event with a delivery
        that ran out of attempts is dead-lettered (once, with every reason). Returns how many
        were due."""
        due = await self._log.due_retries(limit)
        outcomes = await asyncio.gather(*(self._retry(d) for d in due), return_exceptions=True)
        dead: dict[UUID, tuple[dict[str, Any], list[str]]] = {}
        for d, outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome
            if isinstance(outcome, Exception):  # busy elsewhere, a database blip: due again next round
                log.warning("a due retry failed; it stays due", event_id=str(d.event_id), error=repr(outcome))
            elif outcome.status == "dead" and not outcome.already_done:
                dead.setdefault(d.event_id, (d.envelope, []))[1].append(f"{d.recipient!r}: {outcome.error}")
        for stored, reasons in dead.values():
            env = Envelope.model_validate(stored)
            replayed = _Replayed(env.partition_key.encode(), env.to_bytes(), env.kafka_headers())
            await self._dead_letter(replayed, "undeliverable: " + "; ".join(reasons), "undeliverable")
            self._metrics.event(Outcome.DEAD_LETTERED)
        return len(due)

    async def _retry(self, due: DueRetry) -> DeliveryResult:
        env = Envelope.model_validate(due.envelope)
        event = decode_record(_Replayed(env.partition_key.encode(), env.to_bytes(), env.kafka_headers())).payload
        kind = kind_of(event)
        assert kind is not None and isinstance(event, ServicePeriodEndingSoon | ServicePeriodBecameOverdue)
        recipient = Recipient(due.recipient, due.role, event.manager_name if due.role == "manager" else None)  # type: ignore[arg-type]  # the log keeps the role as text
        with bound_context(env.log_context()):
            return await self._deliverer.deliver(self._compose(kind, event, env, recipient), scheduled=True)

    async def give_up(self, record: RawRecord, error: str) -> Handled:
        """Dead-letter a record whose handling keeps failing for a reason that is not an
        outage (a bug, data the database refuses), so it cannot block its partition forever."""
        return await self._reject(
            record, f"handling failed repeatedly: {error}", _envelope_hint(record), "handler_error"
        )

    async def handle(self, record: RawRecord) -> Handled:
        if record.topic == CONTRACTS_EVENTS and _envelope_hint(record).event_type not in (None, "InvoiceIssued"):
            self._metrics.event(Outcome.IGNORED)  # of the business facts only invoices are mailed
            return Handled(Outcome.IGNORED)
        try:
            decoded = decode_record(record)
        except PoisonMessage as exc:
            return await self._reject(record, exc.reason, _envelope_hint(record), "undecodable")
        with bound_context(decoded.envelope.log_context()):
            try:
                kind = kind_of(decoded.payload)
            except NotAScheduleEvent as exc:
                return await self._reject(record, str(exc), decoded.envelope, "not_a_schedule_event")
            if kind is None:
                log.debug("schedule event needs no notification")
                self._metrics.event(Outcome.IGNORED)
                return Handled(Outcome.IGNORED)
            return await self._notify(decoded, kind)

    async def _notify(self, decoded: Decoded, kind: NotificationKind) -> Handled:
        event = decoded.payload
        assert isinstance(event, Notified)
        env = decoded.full_envelope()  # kept whole in the log, for retries
        if isinstance(event, InvoiceIssued):
            who = invoice_audience(event.billing_email, event.manager_name, event.manager_email)
        else:
            who = audience(event.manager_name, event.manager_email, self.policy.general)
        for warning in who.warnings:
            log.warning(warning, client_id=str(event.client_id), contract=_contract_number(event))
        if who.nobody:
            return await self._reject(
                decoded.record,
                "no recipients: the client's manager has no e-mail and no general address is configured",
                env,
                "no_recipients",
            )
        try:
            files = () if event.late else await asyncio.to_thread(self._renderer.attachments, kind, event)
            emails = [self._compose(kind, event, env, r, files) for r in who.recipients]
            subject = emails[0].subject if emails else self._subject(kind, event, who)
        except Exception as exc:  # noqa: BLE001 - a template that cannot render this event
            return await self._reject(decoded.record, f"cannot render the {kind} e-mail: {exc!r}", env, "render_failed")
        # The recipients are fixed when the event is first recorded: a redelivery or a retry
        # after NOTIFY_GENERAL_EMAIL changed finishes what was started, it adds nobody.
        rows = await self._log.record(
            Notification(
                env.event_id,
                env.event_type,
                kind,
                event.client_id,
                event.contract_id,
                _contract_number(event),
                subject,
                env.correlation_id,
                env.model_dump(mode="json"),
            ),
            emails,
            who.rejected,
            [message_id(env.event_id, r.address, self.policy.message_id_domain) for r in who.rejected],
            "skipped_late" if event.late else "pending",
        )
        if event.late:
            log.info("late notification recorded, not mailed", kind=kind)
            self._metrics.event(Outcome.SKIPPED_LATE)
            return Handled(
                Outcome.SKIPPED_LATE,
                tuple(
                    DeliveryResult(row.recipient, row.status, row.attempts, row.last_error, already_done=True)
                    for row in rows
                ),
            )
        composed = {e.recipient: e for e in emails}
        pending = [
            composed.get(row.recipient)
            or self._compose(
                kind,
                event,
                env,
                Recipient(row.recipient, row.role, event.manager_name if row.role == "manager" else None),
                files,
            )
            for row in rows
            if row.status == "pending"
        ]
        # Every attempt runs to its own end before an error is raised: none is left running
        # behind a record the consumer has already given back.
        settled = await asyncio.gather(*(self._deliverer.deliver(e) for e in pending), return_exceptions=True)
        for outcome in settled:
            if isinstance(outcome, BaseException):
                raise outcome
        sent_now = {r.recipient: r for r in settled if isinstance(r, DeliveryResult)}
        results = tuple(
            sent_now.get(row.recipient)
            or DeliveryResult(row.recipient, row.status, row.attempts, row.last_error, already_done=True)
            for row in rows
        )
        reasons = [f"{r.recipient!r}: {r.error}" for r in results if r.status == "dead"]
        if reasons:
            await self._dead_letter(decoded.record, "undeliverable: " + "; ".join(reasons), "undeliverable")
            self._metrics.event(Outcome.DEAD_LETTERED)
            return Handled(Outcome.DEAD_LETTERED, results, "; ".join(reasons))
        if any(r.status == "pending" for r in results):
            self._metrics.event(Outcome.RETRY_SCHEDULED)
            log.info("notification waits for retries", kind=kind, deliveries={r.recipient: r.status for r in results})
            return Handled(Outcome.RETRY_SCHEDULED, results)
        self._metrics.event(Outcome.DELIVERED)
        log.info("notification settled", kind=kind, deliveries={r.recipient: r.status for r in results})
        return Handled(Outcome.DELIVERED, results)

    def _compose(
        self,
        kind: NotificationKind,
        event: Notified,
        env: Envelope,
        recipient: Recipient,
        files: tuple[Attachment, ...] = (),
    ) -> OutgoingEmail:
        rendered = self._renderer.render(kind, event, recipient)
        return OutgoingEmail(
            event_id=env.event_id,
            kind=kind,
            recipient=recipient.address,
            role=recipient.role,
            sender=self.policy.sender,
            message_id=message_id(env.event_id, recipient.address, self.policy.message_id_domain),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            correlation_id=env.correlation_id,
            attachments=files,
        )

    def _subject(self, kind: NotificationKind, event: Notified, who: Audience) -> str:
        role = who.rejected[0].role if who.rejected else "general"
        return self._renderer.render(kind, event, Recipient("-", role, event.manager_name)).subject

    async def _reject(self, record: RawRecord, reason: str, env: EnvelopeHead | _Hint | None, category: str) -> Handled:
        event_id = getattr(env, "event_id", None)
        event_type = getattr(env, "event_type", None)
        log.warning(
            "message rejected",
            reason=reason,
            event_id=str(event_id) if event_id else None,
            event_type=event_type,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )
        await self._log.reject_message(record.topic, record.partition, record.offset, event_id, event_type, reason)
        await self._dead_letter(record, reason, category)
        self._metrics.event(Outcome.DEAD_LETTERED)
        return Handled(Outcome.DEAD_LETTERED, reason=reason)

    async def _dead_letter(self, record: RawRecord, reason: str, category: str) -> None:
        await self._dead_letters.publish(record, reason)
        self._metrics.dead_lettered(category)


def _contract_number(event: Notified) -> str:
    return event.invoice.contract_number if isinstance(event, InvoiceIssued) else event.contract_number


@dataclass
class _Replayed:
    """A stored envelope as a record: dead letters of a retry name no source offset (-1)."""

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    topic: str = CONTRACTS_SCHEDULE
    partition: int = -1
    offset: int = -1


@dataclass(frozen=True)
class Reopened:
    deliveries: int
    record: RawRecord | None
    """None when the notification predates stored envelopes: replay it from the DLQ instead."""


@dataclass(frozen=True)
class _Hint:
    event_id: UUID | None
    event_type: str | None


def _envelope_hint(record: RawRecord) -> _Hint:
    """The ids from the Kafka headers, when the body itself cannot be read."""
    headers = headers_to_dict(record.headers or [])
    try:
        event_id: UUID | None = UUID(headers["event_id"]) if "event_id" in headers else None
    except ValueError:
        event_id = None
    return _Hint(event_id, headers.get("event_type"))
