"""The delivery log in PostgreSQL: record what is to be sent, claim one delivery, settle it.

Claiming is a row lock, not a lease: :meth:`DeliveryLog.claim` opens a transaction, takes
``SELECT … FOR UPDATE`` on the (event, recipient) row and keeps it for ONE SMTP attempt;
the outcome (sent / failed / dead / attempts + error) is written and committed in that same
transaction. So:

- two replicas (or a redelivery racing the first delivery) never send the same e-mail at
  the same time: the second waits on the lock (at most ``lock_timeout``), then reads
  ``sent`` and does nothing;
- a process killed mid-send leaves no claim behind: its connection closes, PostgreSQL rolls
  the transaction back, the row is ``pending`` again for whoever gets the redelivery;
- a connection that hangs instead of closing is cut by ``idle_in_transaction_session_timeout``.

The retry schedule lives here too: a temporary failure sets ``next_attempt_at`` (database
clock) and the retry worker picks the due rows (:meth:`DeliveryLog.due_retries`); a reopened
notification is due at once. Nothing of it lives in a process's memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from services.notifier.domain.emails import (
    DeliveryStatus,
    DeliveryView,
    DueRetry,
    Notification,
    NotificationView,
    OutgoingEmail,
)
from services.notifier.domain.recipients import RejectedRecipient

_DELIVERIES = """SELECT recipient, role, status, attempts, last_error, message_id, sent_at
                 FROM deliveries"""


class ClaimBusy(Exception):
    """Another process held the delivery longer than ``lock_timeout``: try again later."""


class Claim:
    """One locked delivery row inside an open transaction; settle it with one ``mark_*``."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        event_id: UUID,
        recipient: str,
        status: DeliveryStatus,
        attempts: int,
        last_error: str | None,
        scheduled: bool = False,
        due: bool = False,
    ) -> None:
        self._conn, self.event_id, self.recipient = conn, event_id, recipient
        self.status, self.attempts, self.last_error = status, attempts, last_error
        self.scheduled, self.due = scheduled, due
        """On the retry schedule; and if so, whether its time has come."""

    async def _update(
        self,
        status: DeliveryStatus,
        attempts: int,
        error: str | None,
        sent: bool = False,
        retry_in: float | None = None,
    ) -> None:
        await self._conn.execute(
            """UPDATE deliveries SET status = $3, attempts = $4, last_error = $5,
                      sent_at = CASE WHEN $6 THEN now() ELSE NULL END, updated_at = now(),
                      next_attempt_at = now() + make_interval(secs => $7::float8)
               WHERE event_id = $1 AND recipient = $2""",
            self.event_id,
            self.recipient,
            status,
            attempts,
            error,
            sent,
            retry_in,
        )
        self.status, self.attempts, self.last_error = status, attempts, error

    async def mark_sent(self, attempts: int) -> None:
        await self._update("sent", attempts, None, sent=True)

    async def mark_failed(self, attempts: int, error: str) -> None:
        await self._update("failed", attempts, error)

    async def mark_dead(self, attempts: int, error: str) -> None:
        await self._update("dead", attempts, error)

    async def mark_retry(self, attempts: int, error: str, retry_in: float) -> None:
        """Pending, on the retry schedule: due ``retry_in`` seconds from now."""
        await self._update("pending", attempts, error, retry_in=retry_in)


@dataclass(frozen=True)
class ClaimTimeouts:
    lock_seconds: float = 30.0
    """How long to wait for a delivery another process is sending right now."""
    idle_in_transaction_seconds: float = 120.0
    """Must exceed one SMTP attempt (connect + send + quit, each bounded by the SMTP timeout)."""


class DeliveryLog:
    def __init__(self, pool: asyncpg.Pool, timeouts: ClaimTimeouts | None = None) -> None:
        self._pool = pool
        self._timeouts = timeouts or ClaimTimeouts()

    async def record(
        self,
        notification: Notification,
        emails: Sequence[OutgoingEmail],
        rejected: Sequence[RejectedRecipient],
        rejected_message_ids: Sequence[str],
        status: DeliveryStatus = "pending",
    ) -> list[DeliveryView]:
        """Insert the notification with its deliveries (``emails`` in ``status``: ``pending``,
        or ``skipped_late`` for old news) once; return the deliveries as they stand. Only the
        first call decides the recipients (later calls add nobody)."""
        n = notification
        async with self._pool.acquire() as conn, conn.transaction():
            created = await conn.fetchval(
                """INSERT INTO notifications (event_id, event_type, kind, client_id, contract_id,
                                              contract_number, subject, correlation_id, envelope)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING
                   RETURNING true""",
                n.event_id,
                n.event_type,
                n.kind,
                n.client_id,
                n.contract_id,
                n.contract_number,
                n.subject,
                n.correlation_id,
                n.envelope,
            )
            if created:
                rows: list[tuple[Any, ...]] = [
                    (e.event_id, e.recipient, e.role, e.kind, e.subject, e.message_id, status, None) for e in emails
                ]
                rows += [
                    (n.event_id, r.address, r.role, n.kind, n.subject, mid, "dead", r.reason)
                    for r, mid in zip(rejected, rejected_message_ids, strict=True)
                ]
                await conn.executemany(
                    """INSERT INTO deliveries (event_id, recipient, role, kind, subject, message_id,
                                               status, last_error)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
                    rows,
                )
            found = await conn.fetch(_DELIVERIES + " WHERE event_id = $1 ORDER BY role DESC, recipient", n.event_id)
        return [DeliveryView(**dict(r)) for r in found]

    @asynccontextmanager
    async def claim(self, event_id: UUID, recipient: str) -> AsyncIterator[Claim]:
        """Lock the delivery row for one attempt; the block's ``mark_*`` commits on exit.

        Raises :class:`ClaimBusy` if another process holds it past ``lock_seconds``, and
        ``LookupError`` if :meth:`record` was never called for it.
        """
        t = self._timeouts
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL lock_timeout = '{int(t.lock_seconds * 1000)}ms'")
            await conn.execute(
                f"SET LOCAL idle_in_transaction_session_timeout = '{int(t.idle_in_transaction_seconds * 1000)}ms'"
            )
            try:
                row = await conn.fetchrow(
                    """SELECT status, attempts, last_error, next_attempt_at IS NOT NULL AS scheduled,
                              coalesce(next_attempt_at <= now(), false) AS due
                       FROM deliveries WHERE event_id = $1 AND recipient = $2 FOR UPDATE""",
                    event_id,
                    recipient,
                )
            except asyncpg.LockNotAvailableError:
                raise ClaimBusy(f"delivery {event_id}/{recipient} is being sent elsewhere") from None
            if row is None:
                raise LookupError(f"no delivery {event_id}/{recipient} in the log")
            yield Claim(
                conn,
                event_id,
                recipient,
                row["status"],
                row["attempts"],
                row["last_error"],
                row["scheduled"],
                row["due"],
            )

    async def reopen(self, event_id: UUID) -> tuple[dict[str, Any] | None, int] | None:
        """Put the deliveries that ran out of attempts back to ``pending`` with a fresh count.

        Returns the stored envelope and how many deliveries were reopened, or ``None`` for an
        unknown event. Deliveries rejected for an invalid address (0 attempts) stay ``dead``.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            head = await conn.fetchrow("SELECT envelope FROM notifications WHERE event_id = $1", event_id)
            if head is None:
                return None
            status = await conn.execute(
                """UPDATE deliveries SET status = 'pending', attempts = 0, updated_at = now(),
                          next_attempt_at = now(), last_error = 'reopened after: ' || coalesce(last_error, '')
                   WHERE event_id = $1 AND status = 'dead' AND attempts > 0""",
                event_id,
            )
            return head["envelope"], int(status.split()[-1])

    async def due_retries(self, limit: int) -> list[DueRetry]:
        """Deliveries on the retry schedule whose time has come, the longest waiting first."""
        rows = await self._pool.fetch(
            """SELECT d.event_id, d.recipient, d.role, n.envelope
               FROM deliveries d JOIN notifications n ON n.event_id = d.event_id
               WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND n.envelope IS NOT NULL
               ORDER BY d.next_attempt_at LIMIT $1""",
            limit,
        )
        return [DueRetry(r["event_id"], r["recipient"], r["role"], r["envelope"]) for r in rows]

    async def retry_queue_size(self) -> int:
        size: int = await self._pool.fetchval(
            "SELECT count(*) FROM deliveries WHERE status = 'pending' AND next_attempt_at IS NOT NULL"
        )
        return size

    async def reject_message(
        self, topic: str, partition: int, offset: int, event_id: UUID | None, event_type: str | None, reason: str
    ) -> None:
        await self._pool.execute(
            """INSERT INTO rejected_messages (topic, "partition", "offset", event_id, event_type, reason)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
            topic,
            partition,
            offset,
            event_id,
            event_type,
            reason,
        )

    async def deliveries_of(self, event_id: UUID) -> list[DeliveryView]:
        rows = await self._pool.fetch(_DELIVERIES + " WHERE event_id = $1 ORDER BY role DESC, recipient", event_id)
        return [DeliveryView(**dict(r)) for r in rows]

    async def list_notifications(self, client_id: UUID | None, limit: int, offset: int) -> list[NotificationView]:
        """Newest first, one entry per event with all its deliveries."""
        heads = await self._pool.fetch(
            """SELECT event_id, event_type, kind, client_id, contract_id, contract_number, subject,
                      received_at
               FROM notifications WHERE ($1::uuid IS NULL OR client_id = $1)
               ORDER BY received_at DESC, event_id DESC LIMIT $2 OFFSET $3""",
            client_id,
            limit,
            offset,
        )
        if not heads:
            return []
        rows = await self._pool.fetch(
            """SELECT event_id, recipient, role, status, attempts, last_error, message_id, sent_at
               FROM deliveries WHERE event_id = ANY($1::uuid[])
               ORDER BY role DESC, recipient""",
            [h["event_id"] for h in heads],
        )
        by_event: dict[UUID, list[DeliveryView]] = {}
        for r in rows:
            values = dict(r)
            by_event.setdefault(values.pop("event_id"), []).append(DeliveryView(**values))
        return [NotificationView(**dict(h), deliveries=tuple(by_event.get(h["event_id"], ()))) for h in heads]

    async def ping(self) -> None:
        await self._pool.fetchval("SELECT 1")
