"""Read side of the delivery log: what was sent, to whom, for which event."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from services.notifier.application.ports import Log
from services.notifier.domain.emails import NotificationView
from shared.http.paging import next_page, offset


@dataclass(frozen=True)
class NotificationsPage:
    items: list[NotificationView]
    next_page: int | None


class NotificationQueries:
    def __init__(self, delivery_log: Log) -> None:
        self._log = delivery_log

    async def list(self, client_id: UUID | None, page: int, page_size: int) -> NotificationsPage:
        """Newest first; asks for one more than ``page_size`` to know whether a next page exists."""
        rows = await self._log.list_notifications(client_id, page_size + 1, offset(page, page_size))
        return NotificationsPage(rows[:page_size], next_page(page, page_size, len(rows)))
