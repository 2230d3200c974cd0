"""In-memory stand-ins for the notifier's ports (the delivery log, SMTP, the DLQ)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.notifier.domain.emails import (
    DeliveryStatus,
    DeliveryView,
    DueRetry,
    Notification,
    NotificationView,
    OutgoingEmail,
)
from services.notifier.domain.failures import SendFailure
from services.notifier.domain.recipients import RejectedRecipient


@dataclass
class Row:
    role: str
    message_id: str
    status: DeliveryStatus = "pending"
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    next_attempt_at: float | None = None
    """On the retry schedule: due at this ``time.monotonic()``."""


class FakeClaim:
    def __init__(self, row: Row) -> None:
        self._row = row
        self.status, self.attempts, self.last_error = row.status, row.attempts, row.last_error
        self.scheduled = row.next_attempt_at is not None
        self.due = self.scheduled and row.next_attempt_at <= time.monotonic()  # type: ignore[operator]  # scheduled: set

    async def _set(
        self, status: DeliveryStatus, attempts: int, error: str | None, retry_in: float | None = None
    ) -> None:
        self._row.status, self._row.attempts, self._row.last_error = status, attempts, error
        self._row.sent_at = datetime.now(UTC) if status == "sent" else None
        self._row.next_attempt_at = None if retry_in is None else time.monotonic() + retry_in

    async def mark_sent(self, attempts: int) -> None:
        await self._set("sent", attempts, None)

    async def mark_failed(self, attempts: int, error: str) -> None:
        await self._set("failed", attempts, error)

    async def mark_dead(self, attempts: int, error: str) -> None:
        await self._set("dead", attempts, error)

    async def mark_retry(self, attempts: int, error: str, retry_in: float) -> None:
        await self._set("pending", attempts, error, retry_in)


class FakeLog:
    def __init__(self) -> None:
        self.notifications: dict[UUID, Notification] = {}
        self.rows: dict[tuple[UUID, str], Row] = {}
        self.locks: dict[tuple[UUID, str], asyncio.Lock] = {}
        self.rejected: list[tuple[Any, ...]] = []

    async def record(
        self,
        notification: Notification,
        emails: Sequence[OutgoingEmail],
        rejected: Sequence[RejectedRecipient],
        rejected_message_ids: Sequence[str],
        status: DeliveryStatus = "pending",
    ) -> list[DeliveryView]:
        if notification.event_id in self.notifications:
            return await self.deliveries_of(notification.event_id)
        self.notifications[notification.event_id] = notification
        for e in emails:
            self.rows.setdefault((e.event_id, e.recipient), Row(e.role, e.message_id, status))
        for r, mid in zip(rejected, rejected_message_ids, strict=True):
            self.rows.setdefault((notification.event_id, r.address), Row(r.role, mid, "dead", 0, r.reason))
        return await self.deliveries_of(notification.event_id)

    @asynccontextmanager
    async def claim(self, event_id: UUID, recipient: str) -> AsyncIterator[FakeClaim]:
        lock = self.locks.setdefault((event_id, recipient), asyncio.Lock())
        async with lock:
            yield FakeClaim(self.rows[(event_id, recipient)])

    async def reopen(self, event_id: UUID) -> tuple[dict[str, Any] | None, int] | None:
        if event_id not in self.notifications:
            return None
        count = 0
        for (eid, _), row in self.rows.items():
            if eid == event_id and row.status == "dead" and row.attempts > 0:
                row.status, row.attempts, count = "pending", 0, count + 1
                row.next_attempt_at = time.monotonic()
        return self.notifications[event_id].envelope, count

    async def due_retries(self, limit: int) -> list[DueRetry]:
        now = time.monotonic()
        due = [
            (row.next_attempt_at, DueRetry(eid, rcpt, row.role, self.notifications[eid].envelope or {}))
            for (eid, rcpt), row in self.rows.items()
            if row.status == "pending" and row.next_attempt_at is not None and row.next_attempt_at <= now
        ]
        return [d for _, d in sorted(due, key=lambda x: x[0])][:limit]

    async def retry_queue_size(self) -> int:
        return sum(r.status == "pending" and r.next_attempt_at is not None for r in self.rows.values())

    async def reject_message(self, *args: Any) -> None:
        self.rejected.append(args)

    async def deliveries_of(self, event_id: UUID) -> list[DeliveryView]:
        return [
            DeliveryView(
                rcpt,
                r.role,  # type: ignore[arg-type]  # the fake keeps the role as text
                r.status,
                r.attempts,
                r.last_error,
                r.message_id,
                r.sent_at,
            )
            for (eid, rcpt), r in self.rows.items()
            if eid == event_id
        ]

    async def list_notifications(self, client_id: UUID | None, limit: int, offset: int) -> list[NotificationView]:
        raise NotImplementedError


@dataclass
class FakeSender:
    """Fails with ``failures`` (in order, then succeeds); records every accepted e-mail."""

    failures: list[SendFailure] = field(default_factory=list)
    per_recipient: dict[str, SendFailure] = field(default_factory=dict)
    sent: list[OutgoingEmail] = field(default_factory=list)
    calls: int = 0
    delay: float = 0.0

    async def send(self, email: OutgoingEmail) -> None:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if email.recipient in self.per_recipient:
            raise self.per_recipient[email.recipient]
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(email)


@dataclass
class FakeDeadLetters:
    published: list[tuple[Any, str]] = field(default_factory=list)

    async def publish(self, record: Any, error: str) -> None:
        self.published.append((record, error))
