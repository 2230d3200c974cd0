"""Aggregate state -> response bodies."""

from __future__ import annotations

from services.contracts.application.commands import ReceiptWritten
from services.contracts.domain.client import ClientState
from services.contracts.domain.contract import ContractState
from services.contracts.entrypoints.http.schemas import (
    ClientView,
    ContractView,
    EventView,
    PaymentView,
    PeriodView,
    ReceiptCreated,
    ReceiptPart,
)
from shared.eventstore.records import RecordedEvent
from shared.money import format_amount


def contract_view(state: ContractState) -> ContractView:
    return ContractView(
        id=state.id,
        client_id=state.client_id,
        number=state.number,
        title=state.title,
        signed_on=state.signed_on,
        status=state.status,
        terminated_on=state.terminated_on,
        terminates_on=state.terminates_on,
        credit=format_amount(state.credit),
        version=state.version,
        periods=[
            PeriodView(
                period_id=p.period_id,
                starts_on=p.starts_on,
                ends_on=p.ends_on,
                amount=format_amount(p.amount, p.currency),
                currency=p.currency,
                payment_terms=p.payment_terms,
                remind_on=p.remind_on,
                paid_amount=format_amount(p.paid_amount, p.currency),
                paid=p.paid,
                void=state.is_void(p),
                payments=[
                    PaymentView(
                        payment_id=x.payment_id,
                        amount=format_amount(x.amount, p.currency),
                        paid_on=x.paid_on,
                        reference=x.reference,
                        cancelled=x.cancelled,
                        receipt_id=x.receipt_id,
                    )
                    for x in p.payments
                ],
            )
            for p in state.periods
        ],
    )


def client_view(state: ClientState) -> ClientView:
    return ClientView(
        id=state.id,
        name=state.name,
        manager_name=state.manager_name,
        manager_email=state.manager_email,
        tax_id=state.tax_id,
        version=state.version,
    )


def event_view(e: RecordedEvent) -> EventView:
    return EventView(
        event_id=e.event_id,
        event_type=e.event_type,
        stream_version=e.stream_version,
        position=e.position,
        recorded_at=e.recorded_at,
        occurred_at=e.occurred_at,
        actor=e.actor,
        correlation_id=e.correlation_id,
        causation_id=e.causation_id,
        data=e.data,
    )


def receipt_view(written: ReceiptWritten) -> ReceiptCreated:
    return ReceiptCreated(
        receipt_id=written.receipt_id,
        position=written.position,
        payments=[
            ReceiptPart(payment_id=payment_id, period_id=period_id, amount=format_amount(amount, written.currency))
            for payment_id, period_id, amount in written.payments
        ],
    )
