"""Aggregate state -> response bodies."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from services.contracts.application.commands import ReceiptWritten
from services.contracts.domain.client import ClientState
from services.contracts.domain.contract import ContractState
from services.contracts.domain.renewal import renews_on
from services.contracts.entrypoints.http.schemas import (
    AutoRenewView,
    ClientView,
    ContractView,
    EventView,
    InvoiceRefView,
    InvoiceView,
    PartyView,
    PaymentView,
    PeriodView,
    ReceiptCreated,
    ReceiptPart,
)
from shared.events.contracts import InvoiceDocument
from shared.eventstore.records import RecordedEvent
from shared.formatting import Locale
from shared.invoices.words import amount_in_words
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
                invoice=_invoice_ref(state, p.period_id),
            )
            for p in state.periods
        ],
        auto_renew=None
        if state.auto_renew is None
        else AutoRenewView(
            enabled=state.auto_renew.enabled,
            notice_days=state.auto_renew.notice_days,
            indexation_percent=str(state.auto_renew.indexation_percent),
            term_months=state.auto_renew.term_months,
            renews_on=renews_on(state),
        ),
    )


def _invoice_ref(state: ContractState, period_id: UUID) -> InvoiceRefView | None:
    doc = state.invoice_of(period_id)
    return (
        None if doc is None else InvoiceRefView(invoice_id=doc.invoice_id, number=doc.number, issued_on=doc.issued_on)
    )


def invoice_view(state: ContractState, doc: InvoiceDocument, locale: Locale) -> InvoiceView:
    period = state.period(doc.period_id)
    paid_amount = period.paid_amount if period is not None else Decimal(0)
    return InvoiceView(
        invoice_id=doc.invoice_id,
        number=doc.number,
        issued_on=doc.issued_on,
        due_on=doc.due_on,
        seller=PartyView(**doc.seller.model_dump()),
        buyer=PartyView(**doc.buyer.model_dump()),
        contract_id=doc.contract_id,
        contract_number=doc.contract_number,
        contract_title=doc.contract_title,
        contract_signed_on=doc.contract_signed_on,
        period_id=doc.period_id,
        starts_on=doc.starts_on,
        ends_on=doc.ends_on,
        payment_terms=doc.payment_terms,
        amount=format_amount(doc.amount, doc.currency),
        currency=doc.currency,
        amount_in_words=amount_in_words(doc.amount, doc.currency, locale),
        paid_amount=format_amount(paid_amount, doc.currency),
        paid=paid_amount >= doc.amount,
        pdf=f"/invoices/{doc.invoice_id}.pdf",
    )


def client_view(state: ClientState) -> ClientView:
    return ClientView(
        id=state.id,
        name=state.name,
        manager_name=state.manager_name,
        manager_email=state.manager_email,
        version=state.version,
        tax_id=state.tax_id,
        address=state.address,
        billing_email=state.billing_email,
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
