"""What the application needs from the outside world; the adapters implement these."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol
from uuid import UUID

from services.notifier.domain.emails import (
    Attachment,
    DeliveryStatus,
    DeliveryView,
    DueRetry,
    Notification,
    NotificationView,
    OutgoingEmail,
    Rendered,
)
from services.notifier.domain.recipients import NotificationKind, Recipient, RejectedRecipient
from shared.consumer.decoding import RawRecord
from shared.events.contracts import InvoiceIssued
from shared.events.schedule import ServicePeriodBecameOverdue, ServicePeriodEndingSoon


class Sender(Protocol):
    async def send(self, email: OutgoingEmail) -> None:
        """Return once the SMTP server accepted it; raise ``SendFailure`` otherwise."""


class Renderer(Protocol):
    def render(
        self,
        kind: NotificationKind,
        event: ServicePeriodEndingSoon | ServicePeriodBecameOverdue | InvoiceIssued,
        recipient: Recipient,
    ) -> Rendered: ...

    def attachments(
        self, kind: NotificationKind, event: ServicePeriodEndingSoon | ServicePeriodBecameOverdue | InvoiceIssued
    ) -> tuple[Attachment, ...]:
        """The files the e-mail carries (an invoice's PDF); rendered once per event."""
        ...


class ClaimedDelivery(Protocol):
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    scheduled: bool
    """On the retry schedule (the consumer moved on; the retry worker sends it)."""
    due: bool
    """Scheduled and its time has come."""

    async def mark_sent(self, attempts: int) -> None: ...
    async def mark_failed(self, attempts: int, error: str) -> None: ...
    async def mark_dead(self, attempts: int, error: str) -> None: ...
    async def mark_retry(self, attempts: int, error: str, retry_in: float) -> None: ...


class Log(Protocol):
    async def record(
        self,
        notification: Notification,
        emails: Sequence[OutgoingEmail],
        rejected: Sequence[RejectedRecipient],
        rejected_message_ids: Sequence[str],
        status: DeliveryStatus = "pending",
    ) -> list[DeliveryView]:
        """Record the notification and its deliveries (``emails`` in ``status``) the first
        time; return the deliveries as they stand (a second call adds no recipient)."""

    def claim(self, event_id: UUID, recipient: str) -> AbstractAsyncContextManager[ClaimedDelivery]: ...

    async def reopen(self, event_id: UUID) -> tuple[dict[str, Any] | None, int] | None: ...

    async def reject_message(
        self, topic: str, partition: int, offset: int, event_id: UUID | None, event_type: str | None, reason: str
    ) -> None: ...

    async def deliveries_of(self, event_id: UUID) -> list[DeliveryView]: ...

    async def due_retries(self, limit: int) -> list[DueRetry]: ...

    async def retry_queue_size(self) -> int: ...

    async def list_notifications(self, client_id: UUID | None, limit: int, offset: int) -> list[NotificationView]: ...


class DeadLetters(Protocol):
    async def publish(self, record: RawRecord, error: str) -> None:
        """Return once Kafka acknowledged the dead letter."""


class Metrics(Protocol):
    def sent(self, kind: str) -> None: ...
    def failed(self, kind: str) -> None: ...
    def retried(self, kind: str) -> None: ...
    def dead_lettered(self, reason: str) -> None: ...
    def event(self, outcome: str) -> None: ...


class NoMetrics:
    def sent(self, kind: str) -> None: ...
    def failed(self, kind: str) -> None: ...
    def retried(self, kind: str) -> None: ...
    def dead_lettered(self, reason: str) -> None: ...
    def event(self, outcome: str) -> None: ...
