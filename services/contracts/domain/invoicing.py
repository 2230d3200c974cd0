"""Invoices: one per service period, a document fixed when it is issued.

``issue`` makes the InvoiceIssued of a period: the company (seller) and the client (buyer) as
they are that day, the period, its cost and ``due_on`` (``shared.owed``). The number is the one
the command brings (``InvoiceNumbering``: read before deciding, claimed by the append in the
same transaction, so numbers have no gaps and no repeats: docs/design.md "Invoice numbers").

- A period has one invoice: issuing again answers with the one issued (no new event).
- A void period (on or after the termination date) gets none; a terminated contract may still
  be invoiced for its earlier periods (old debts get paid).
- Automatically (``time_events``): ``days_before_due`` before ``due_on``, for a period not
  void, not paid in full and costing more than 0; its invoice is dated the day the scheduler
  acts for.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from uuid import UUID

from services.contracts.domain.commands import CompanyDetails, IssueInvoice
from services.contracts.domain.periods import Period
from shared.domain_errors import NotFound, RuleViolated
from shared.events import contracts as ev

if TYPE_CHECKING:
    from datetime import date

    from services.contracts.domain.client import ClientState
    from services.contracts.domain.commands import InvoiceNumbering
    from services.contracts.domain.contract import ContractState


def document(
    state: ContractState,
    period: Period,
    invoice_id: UUID,
    number: str,
    issued_on: date,
    client: ClientState,
    company: CompanyDetails,
) -> ev.InvoiceDocument:
    return ev.InvoiceDocument(
        invoice_id=invoice_id,
        number=number,
        issued_on=issued_on,
        due_on=period.due_on,
        seller=ev.Party(
            name=company.name, tax_id=company.tax_id, address=company.address, bank_account=company.bank_account
        ),
        buyer=ev.Party(name=client.name, tax_id=client.tax_id, address=client.address),
        contract_id=state.id,
        contract_number=state.number,
        contract_title=state.title,
        contract_signed_on=state.signed_on,
        period_id=period.period_id,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        payment_terms=period.payment_terms,
        amount=period.amount,
        currency=period.currency,
    )


def issued(
    state: ContractState,
    period: Period,
    invoice_id: UUID,
    issued_on: date,
    client: ClientState,
    company: CompanyDetails,
    numbering: InvoiceNumbering,
    offset: int = 0,
    automatic: bool = False,
    late: bool = False,
) -> ev.InvoiceIssued:
    if client.id != state.client_id:
        raise RuleViolated("client_mismatch", f"client {client.id} does not own contract {state.number}", "client")
    if numbering.year != issued_on.year:
        raise ValueError(f"numbering of {numbering.year} for an invoice dated {issued_on}")
    doc = document(state, period, invoice_id, numbering.number(offset), issued_on, client, company)
    return ev.InvoiceIssued(
        contract_id=state.id,
        client_id=state.client_id,
        period_id=period.period_id,
        invoice=doc,
        billing_email=client.billing_email,
        manager_name=client.manager_name,
        manager_email=client.manager_email or None,
        automatic=automatic,
        late=late,
    )


def issue(command: IssueInvoice, state: ContractState) -> list[ev.InvoiceIssued]:
    period = state.period(command.period_id)
    if period is None:
        raise NotFound("period_not_found", f"period {command.period_id} is not in contract {state.number}", "period_id")
    if state.invoice_of(period.period_id) is not None:
        return []
    if state.is_void(period):
        raise RuleViolated(
            "period_void",
            f"{period.describe()} starts on or after the termination date: it is not owed, so not invoiced",
            "period_id",
        )
    return [
        issued(state, period, command.invoice_id, command.issued_on, command.client, command.company, command.numbering)
    ]


def wants_auto_invoice(state: ContractState, period: Period) -> bool:
    """Whether the scheduler still has to invoice ``period``."""
    return state.invoice_of(period.period_id) is None and not period.paid and period.amount > 0


def auto_invoice_id(period_id: UUID) -> UUID:
    """One automatic invoice per period: its id is made from the period (retries name it again)."""
    return uuid.uuid5(period_id, "invoice")
