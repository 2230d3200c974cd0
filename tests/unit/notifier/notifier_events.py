"""Schedule events and envelopes as the contracts service emits them (random ids)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from shared.events.envelope import Envelope
from shared.events.schedule import (
    NextPeriodSnapshot,
    PeriodSnapshot,
    ServicePeriodBecameOverdue,
    ServicePeriodEndingSoon,
    ServicePeriodStarted,
)


@dataclass
class Client:
    name: str = "ООО «Ромашка»"
    manager_name: str = "Ирина Петрова"
    manager_email: str | None = None
    client_id: UUID = field(default_factory=uuid.uuid4)
    contract_id: UUID = field(default_factory=uuid.uuid4)
    number: str = field(default_factory=lambda: f"A-{uuid.uuid4().hex[:6]}")
    title: str = "Абонентское обслуживание ИТ"

    def __post_init__(self) -> None:
        if self.manager_email is None:
            self.manager_email = f"irina.{uuid.uuid4().hex[:8]}@example.com"

    def context(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "client_id": self.client_id,
            "client_name": self.name,
            "manager_name": self.manager_name,
            "manager_email": self.manager_email,
            "contract_number": self.number,
            "contract_title": self.title,
        }


def q1(paid: bool = True) -> PeriodSnapshot:
    return PeriodSnapshot(
        period_id=uuid.uuid4(),
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 3, 31),
        amount=Decimal("30000.00"),
        currency="RUB",
        payment_terms="prepaid",
        paid_amount=Decimal("30000.00") if paid else Decimal("10000.00"),
        paid=paid,
    )


def q2(amount: str = "30000.00") -> NextPeriodSnapshot:
    return NextPeriodSnapshot(
        period_id=uuid.uuid4(),
        starts_on=date(2026, 4, 1),
        ends_on=date(2026, 6, 30),
        amount=Decimal(amount),
        currency="RUB",
        payment_terms="prepaid",
        paid_amount=Decimal("0.00"),
        paid=False,
        due_on=date(2026, 4, 1),
    )


def ending_soon(
    client: Client, *, next_period: bool = True, amount: str = "30000.00", paid: bool = True
) -> ServicePeriodEndingSoon:
    return ServicePeriodEndingSoon(
        **client.context(),
        period=q1(paid),
        next_period=q2(amount) if next_period else None,
        remind_on=date(2026, 3, 25),
    )


def overdue(client: Client) -> ServicePeriodBecameOverdue:
    return ServicePeriodBecameOverdue(
        **client.context(),
        period_id=uuid.uuid4(),
        starts_on=date(2026, 4, 1),
        ends_on=date(2026, 6, 30),
        payment_terms="prepaid",
        due_on=date(2026, 4, 1),
        overdue_on=date(2026, 4, 1),
        amount=Decimal("30000.00"),
        paid_amount=Decimal("5000.00"),
        amount_due=Decimal("25000.00"),
        currency="RUB",
    )


def started(client: Client) -> ServicePeriodStarted:
    p = q1()
    return ServicePeriodStarted(
        **client.context(),
        period_id=p.period_id,
        starts_on=p.starts_on,
        ends_on=p.ends_on,
        amount=p.amount,
        currency=p.currency,
        payment_terms=p.payment_terms,
        paid_amount=p.paid_amount,
        paid=p.paid,
    )


def envelope(event: Any, client: Client, *, data: dict[str, Any] | None = None, version: int = 7) -> Envelope:
    now = datetime.now(UTC)
    return Envelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=f"contract-{client.contract_id}",
        stream_version=version,
        position=version,
        partition_key=str(client.client_id),
        occurred_at=now,
        recorded_at=now,
        correlation_id=str(uuid.uuid4()),
        causation_id=None,
        actor="scheduler",
        data=data if data is not None else event.model_dump(mode="json"),
    )


@dataclass
class Record:
    """What aiokafka's ConsumerRecord offers the notifier."""

    value: bytes | None
    key: bytes | None = b"k"
    topic: str = "contracts.schedule.v1"
    partition: int = 0
    offset: int = 0
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def record_of(env: Envelope, offset: int = 0) -> Record:
    return Record(env.to_bytes(), env.partition_key.encode(), offset=offset, headers=env.kafka_headers())
