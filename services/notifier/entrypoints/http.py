"""HTTP routes of the notifier: the delivery log, and whether SMTP answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.notifier.application.notify import ScheduleNotifier
from services.notifier.application.queries import NotificationQueries
from services.notifier.domain.emails import NotificationView
from services.notifier.entrypoints import metrics
from shared.auth import Role, allow
from shared.http.errors import ApiError
from shared.http.paging import PageNo, PageSize

router = APIRouter()


# async: FastAPI runs a plain ``def`` dependency in its thread pool, a hand-off per request
async def _queries(request: Request) -> NotificationQueries:
    return request.app.state.queries


async def _notifier(request: Request) -> ScheduleNotifier:
    return request.app.state.notifier


async def _smtp_probe(request: Request) -> Callable[[], Awaitable[None]]:
    return request.app.state.smtp_probe


Queries = Annotated[NotificationQueries, Depends(_queries)]
Notifier = Annotated[ScheduleNotifier, Depends(_notifier)]
SmtpProbe = Annotated[Callable[[], Awaitable[None]], Depends(_smtp_probe)]


class DeliveryOut(BaseModel):
    recipient: str
    role: str
    status: str
    attempts: int
    last_error: str | None
    message_id: str
    sent_at: datetime | None


class NotificationOut(BaseModel):
    event_id: UUID
    event_type: str
    kind: str
    client_id: UUID
    contract_id: UUID
    contract_number: str
    recipients: list[str]
    subject: str
    sent_at: datetime | None
    status: str
    received_at: datetime
    deliveries: list[DeliveryOut]


class NotificationsOut(BaseModel):
    items: list[NotificationOut]
    page: int
    page_size: int
    next_page: int | None = Field(description="the page to ask for next; null on the last")


def _view(n: NotificationView) -> NotificationOut:
    return NotificationOut(
        event_id=n.event_id,
        event_type=n.event_type,
        kind=n.kind,
        client_id=n.client_id,
        contract_id=n.contract_id,
        contract_number=n.contract_number,
        recipients=[d.recipient for d in n.deliveries],
        subject=n.subject,
        sent_at=n.sent_at,
        status=n.status,
        received_at=n.received_at,
        deliveries=[
            DeliveryOut(
                recipient=d.recipient,
                role=d.role,
                status=d.status,
                attempts=d.attempts,
                last_error=d.last_error,
                message_id=d.message_id,
                sent_at=d.sent_at,
            )
            for d in n.deliveries
        ],
    )


@router.get(
    "/notifications",
    response_model=NotificationsOut,
    tags=["notifications"],
    summary="What was sent, to whom, for which event (newest first)",
    dependencies=[allow(Role.MANAGER)],
)
async def list_notifications(
    queries: Queries,
    client_id: UUID | None = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> NotificationsOut:
    found = await queries.list(client_id, page, page_size)
    return NotificationsOut(
        items=[_view(n) for n in found.items], page=page, page_size=page_size, next_page=found.next_page
    )


class RetryOut(BaseModel):
    event_id: UUID
    reopened: int
    """Deliveries that had run out of attempts, now on the retry schedule, due at once (kept
    in the delivery log: the retry worker of any replica sends them, even after a restart)."""


@router.post(
    "/notifications/{event_id}/retry",
    status_code=202,
    response_model=RetryOut,
    tags=["notifications"],
    summary="Send a dead-lettered notification again (after SMTP is fixed)",
    dependencies=[allow(Role.ADMIN)],
)
async def retry_notification(event_id: UUID, notifier: Notifier) -> RetryOut:
    reopened = await notifier.reopen(event_id)
    if reopened is None:
        raise ApiError(404, "not_found", f"no notification for event {event_id}", "event_id")
    if reopened.record is None:
        raise ApiError(
            409,
            "no_stored_event",
            "this notification predates stored events; replay its message from the dead-letter topic instead",
            "event_id",
        )
    return RetryOut(event_id=event_id, reopened=reopened.deliveries)


@router.get(
    "/health/smtp",
    tags=["operations"],
    summary="Whether the SMTP server answers (information; readiness does not depend on it)",
)
async def smtp_health(probe: SmtpProbe) -> dict[str, Any]:
    try:
        await probe()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        metrics.SMTP_UP.set(0)
        return {"status": "unreachable", "error": str(exc)[:300]}
    metrics.SMTP_UP.set(1)
    return {"status": "reachable"}
