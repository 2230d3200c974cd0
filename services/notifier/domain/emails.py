"""What the notifier writes: one notification per event, one e-mail per recipient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from services.notifier.domain.recipients import NotificationKind, Role

DeliveryStatus = Literal["pending", "sent", "failed", "dead", "skipped_late"]
"""``pending`` — not sent yet (or a temporary failure, to be retried); ``sent`` — the SMTP
server accepted it; ``failed`` — refused for good (5xx); ``dead`` — attempts exhausted or
the address is not an address: dead-lettered; ``skipped_late`` — the event was old news
(``late``: emitted more than ABONENT_LATE_EVENT_DAYS after its date), so it was not mailed."""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Notification:
    """The event-level record: what happened and to which client."""

    event_id: UUID
    event_type: str
    kind: NotificationKind
    client_id: UUID
    contract_id: UUID
    contract_number: str
    subject: str
    correlation_id: str | None = None
    envelope: dict[str, Any] | None = None
    """The whole event as received (JSON form), kept so the notification can be retried."""


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    event_id: UUID
    kind: NotificationKind
    recipient: str
    role: Role
    sender: str
    message_id: str
    subject: str
    text: str
    html: str
    correlation_id: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    recipient: str
    status: DeliveryStatus
    attempts: int
    error: str | None = None
    already_done: bool = False
    """True when another delivery (a redelivery, another replica) had already settled it."""


@dataclass(frozen=True, slots=True)
class DeliveryView:
    recipient: str
    role: Role
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    message_id: str
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class NotificationView:
    event_id: UUID
    event_type: str
    kind: NotificationKind
    client_id: UUID
    contract_id: UUID
    contract_number: str
    subject: str
    received_at: datetime
    deliveries: tuple[DeliveryView, ...]

    @property
    def status(self) -> str:
        """``pending`` while any recipient waits; then ``dead`` > ``failed`` > ``skipped_late`` > ``sent``."""
        statuses = {d.status for d in self.deliveries}
        for status in ("pending", "dead", "failed", "skipped_late"):
            if status in statuses:
                return status
        return "sent"

    @property
    def sent_at(self) -> datetime | None:
        times = [d.sent_at for d in self.deliveries if d.sent_at is not None]
        return max(times) if times else None


@dataclass(frozen=True, slots=True)
class DueRetry:
    """A delivery on the retry schedule whose time has come, with the envelope to render it from."""

    event_id: UUID
    recipient: str
    role: str
    envelope: dict[str, Any]
