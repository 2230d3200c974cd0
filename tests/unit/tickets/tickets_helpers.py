"""Builders for the tickets unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from services.tickets.domain.commands import AddTicketItem, RegisterTicket
from services.tickets.domain.price_list import PriceItem
from shared.events.tickets import CoverageSnapshot, CoverageWarning, MoneyTotal, OwedPeriod

NOW = datetime(2026, 5, 15, 9, 30, tzinfo=UTC)
CLIENT = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
CONTRACT = uuid.UUID("00000000-0000-4000-8000-0000000000c2")


def snapshot(
    status: str = "covered",
    on: date = date(2026, 5, 15),
    owed: str | None = None,
    warnings: tuple[tuple[str, str], ...] = (),
) -> CoverageSnapshot:
    owed_periods = (
        ()
        if owed is None
        else (
            OwedPeriod(
                contract_id=CONTRACT,
                period_id=uuid.uuid4(),
                starts_on=date(2026, 4, 1),
                ends_on=date(2026, 6, 30),
                payment_terms="prepaid",
                due_on=date(2026, 4, 1),
                amount_due=Decimal(owed),
                currency="RUB",
                days_overdue=44,
            ),
        )
    )
    return CoverageSnapshot(
        status=status,
        on=on,
        owed=owed_periods,
        totals=() if owed is None else (MoneyTotal(amount=Decimal(owed), currency="RUB"),),
        warnings=tuple(CoverageWarning(code=c, message=m) for c, m in warnings),
        source_position=42,
        checked_at=NOW,
    )


NOT_COVERED = snapshot(
    "not_covered",
    on=date(2027, 1, 15),
    warnings=(
        ("NO_ACTIVE_PERIOD", "no active service period on 2027-01-15: service cannot be provided under subscription"),
    ),
)


def register(
    coverage: CoverageSnapshot | None = None,
    *,
    policy: str = "warn",
    title: str = "Printer does not print",
    override_reason: str | None = None,
    ticket_id: uuid.UUID | None = None,
) -> RegisterTicket:
    coverage = coverage or snapshot()
    return RegisterTicket(
        ticket_id=ticket_id or uuid.uuid4(),
        client_id=CLIENT,
        title=title,
        registered_at=datetime.combine(coverage.on, NOW.timetz()),
        registered_on=coverage.on,
        coverage=coverage,
        policy=policy,  # type: ignore[arg-type]  # the tests name the policy as text
        override_reason=override_reason,
    )


def item(code: str = "WS-SETUP", price: str = "1500.00", currency: str = "RUB", active: bool = True) -> PriceItem:
    return PriceItem(code, "Workstation set-up", "pcs", Decimal(price), currency, active)


def add(
    ticket_id: uuid.UUID,
    price_item: PriceItem | None,
    quantity: str = "1",
    line_id: uuid.UUID | None = None,
    code: str = "WS-SETUP",
) -> AddTicketItem:
    return AddTicketItem(ticket_id, line_id or uuid.uuid4(), code, Decimal(quantity), price_item)
