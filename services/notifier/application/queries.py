"""Read side of the delivery log: what was sent, to whom, for which event."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from services.notifier.application.ports import Log
from services.notifier.domain.emails import NotificationView

MAX_LIMIT = 500


@dataclass(frozen=True)
class NotificationsPage:
    items: list[NotificationView]
    next_offset: int | None


class NotificationQueries:
    def __init__(self, delivery_log: Log) -> None:
        self._log = delivery_log

    async def list(self, client_id: UUID | None, limit: int, offset: int) -> NotificationsPage:
        """Newest first; asks for one more than ``limit`` to know whether a next page exists."""
        limit = max(1, min(limit, MAX_LIMIT))
        rows = await self._log.list_notifications(client_id, limit + 1, offset)
        more = len(rows) > limit
        return NotificationsPage(rows[:limit], offset + limit if more else None)
