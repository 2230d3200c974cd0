"""Builders for the contracts domain tests: given-events / when-command / then-events."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from services.contracts.domain.client import ClientState
from services.contracts.domain.contract import ContractState, decide, evolve
from shared.events import contracts as ev
from shared.events.base import EventData
from shared.fold import fold

CLIENT_ID = UUID("00000000-0000-4000-8000-00000000c11e")
CONTRACT_ID = UUID("00000000-0000-4000-8000-0000000c0de0")


def d(text: str) -> date:
    return date.fromisoformat(text)


def new_id() -> UUID:
    return uuid4()


def client(**overrides: object) -> ClientState:
    values: dict[str, object] = dict(
        id=CLIENT_ID, name="ООО Ромашка", manager_name="Ivan Petrov", manager_email="ivan@example.com"
    )
    values.update(overrides)
    return ClientState(**values)  # type: ignore[arg-type]  # test keyword overrides


def opened(signed_on: str = "2025-12-20") -> ev.ContractOpened:
    return ev.ContractOpened(
        contract_id=CONTRACT_ID, client_id=CLIENT_ID, number="A-17", title="IT support", signed_on=d(signed_on)
    )


def added(
    period_id: UUID,
    starts_on: str,
    ends_on: str,
    amount: str = "30000.00",
    payment_terms: str = "prepaid",
    remind_on: str | None = None,
    currency: str = "RUB",
) -> ev.ServicePeriodAdded:
    return ev.ServicePeriodAdded(
        contract_id=CONTRACT_ID,
        client_id=CLIENT_ID,
        period_id=period_id,
        starts_on=d(starts_on),
        ends_on=d(ends_on),
        amount=amount,
        currency=currency,
        payment_terms=payment_terms,
        remind_on=d(remind_on) if remind_on else None,
    )


def paid(
    period_id: UUID,
    payment_id: UUID,
    amount: str,
    total_after: str,
    period_paid: bool,
    paid_on: str = "2026-01-10",
    reference: str | None = None,
) -> ev.PaymentRecorded:
    return ev.PaymentRecorded(
        contract_id=CONTRACT_ID,
        client_id=CLIENT_ID,
        period_id=period_id,
        payment_id=payment_id,
        amount=amount,
        currency="RUB",
        paid_on=d(paid_on),
        reference=reference,
        period_paid_amount=total_after,
        period_paid=period_paid,
    )


def given(*events: EventData) -> ContractState | None:
    return fold(evolve, events, None)


def when(state: ContractState | None, command: object) -> list[EventData]:
    return decide(command, state)  # type: ignore[arg-type]  # helpers pass any contract command


def then_state(state: ContractState | None, command: object) -> tuple[list[EventData], ContractState]:
    """Decide, then fold the new events onto the state (what the repository does)."""
    events = when(state, command)
    after = state
    for e in events:
        after = evolve(after, e)
    assert after is not None
    return events, after


def money(text: str) -> Decimal:
    return Decimal(text)
