"""Invoices in the contract aggregate (issue 17): one per period, numbered by the command,
issued automatically N days before the period falls due."""

from datetime import datetime
from uuid import uuid4

import pytest

from services.contracts.domain.commands import (
    CompanyDetails,
    EmitDueTimeEvents,
    InvoiceNumbering,
    Invoicing,
    IssueInvoice,
    TerminateContract,
)
from services.contracts.domain.time_events import pending_time_events
from shared.domain_errors import RuleViolated
from shared.events import contracts as ev
from shared.events import schedule as sch
from tests.unit.contracts.contracts_helpers import CONTRACT_ID, added, client, d, given, opened, paid, then_state, when

Q1, Q2 = uuid4(), uuid4()
BASE = (
    opened(),
    added(Q1, "2026-01-01", "2026-03-31", remind_on="2026-03-25"),
    added(Q2, "2026-04-01", "2026-06-30", amount="35000.00", remind_on="2026-06-25"),
)
COMPANY = CompanyDetails("ООО «Сервис»", "7701234567", "Москва", "р/с 40702810000000000001")
BUYER = client(tax_id="7712345678", address="Москва, ул. Ленина, 1", billing_email="buh@romashka.example")


def issue(period_id, seq: int = 123, on: str = "2026-03-20") -> IssueInvoice:
    return IssueInvoice(CONTRACT_ID, period_id, uuid4(), d(on), BUYER, COMPANY, InvoiceNumbering(2026, seq))


def test_issue_makes_the_whole_document_with_the_number_given():
    (event,) = when(given(*BASE), issue(Q2))
    assert isinstance(event, ev.InvoiceIssued)
    doc = event.invoice
    assert doc.number == "2026-000123"
    assert (doc.starts_on, doc.ends_on, str(doc.amount), doc.currency, doc.due_on) == (
        d("2026-04-01"),
        d("2026-06-30"),
        "35000.00",
        "RUB",
        d("2026-04-01"),
    )
    assert doc.seller.tax_id == "7701234567" and doc.seller.bank_account
    assert (doc.buyer.name, doc.buyer.tax_id) == ("ООО Ромашка", "7712345678")
    assert event.billing_email == "buh@romashka.example" and event.manager_email == "ivan@example.com"


def test_a_period_has_one_invoice_issuing_again_changes_nothing():
    _, state = then_state(given(*BASE), issue(Q2))
    assert when(state, issue(Q2, seq=124)) == []
    assert state.invoice_of(Q2).number == "2026-000123"


def test_a_void_period_is_not_invoiced():
    _, state = then_state(given(*BASE), TerminateContract(CONTRACT_ID, d("2026-04-01"), "moved", today=d("2026-03-01")))
    with pytest.raises(RuleViolated) as err:
        when(state, issue(Q2))
    assert err.value.rule == "period_void"


def tick(as_of: str, seq: int = 7, days: int | None = 10) -> EmitDueTimeEvents:
    invoicing = None if days is None else Invoicing(days, COMPANY, InvoiceNumbering(2026, seq))
    return EmitDueTimeEvents(
        CONTRACT_ID,
        d(as_of),
        BUYER,
        now=datetime.fromisoformat(as_of + "T12:00:00+00:00"),
        invoicing=invoicing,
    )


def test_automatic_invoice_ten_days_before_due_numbered_in_order():
    state = given(*BASE)
    assert [(t.kind, t.due_on) for t in pending_time_events(state, invoice_days=10) if t.kind == "invoice"] == [
        ("invoice", d("2025-12-22")),
        ("invoice", d("2026-03-22")),
    ]
    events, state = then_state(state, tick("2026-03-22"))
    invoices = [e for e in events if isinstance(e, ev.InvoiceIssued)]
    assert [(i.period_id, i.invoice.number, i.invoice.issued_on, i.automatic) for i in invoices] == [
        (Q1, "2026-000007", d("2026-03-22"), True),
        (Q2, "2026-000008", d("2026-03-22"), True),
    ]
    assert invoices[0].late and not invoices[1].late  # Q1's day (22 December) was long past
    # exactly once
    assert not [e for e in when(state, tick("2026-04-02", seq=9)) if isinstance(e, ev.InvoiceIssued)]


def test_a_paid_period_gets_no_automatic_invoice():
    state = given(*BASE, paid(Q2, uuid4(), "35000.00", "35000.00", True, paid_on="2026-03-01"))
    events = when(state, tick("2026-03-22"))
    assert [e.period_id for e in events if isinstance(e, ev.InvoiceIssued)] == [Q1]


def test_without_the_setting_no_invoice_is_issued_automatically():
    events = when(given(*BASE), tick("2026-03-22", days=None))
    assert not [e for e in events if isinstance(e, ev.InvoiceIssued)]


def test_the_reminder_carries_the_next_periods_invoice_when_issued():
    _, state = then_state(given(*BASE), issue(Q2, on="2026-03-20"))
    events = when(state, tick("2026-03-25", days=None))
    reminder = next(e for e in events if isinstance(e, sch.ServicePeriodEndingSoon))
    assert reminder.next_invoice is not None and reminder.next_invoice.number == "2026-000123"


def test_a_period_added_inside_the_window_gets_an_invoice_that_is_news():
    """Added on 27 March for 1 April: its invoice day (22 March) passed five days ago, but the
    invoice is what the client pays by, so it is not old news (mailed); once the period is past
    due by more than ABONENT_LATE_EVENT_DAYS (3), it is."""
    state = given(opened(), added(Q2, "2026-04-01", "2026-06-30"))
    (invoice,) = [e for e in when(state, tick("2026-03-27")) if isinstance(e, ev.InvoiceIssued)]
    assert (invoice.invoice.issued_on, invoice.late) == (d("2026-03-27"), False)
    (on_time,) = [e for e in when(state, tick("2026-04-04")) if isinstance(e, ev.InvoiceIssued)]
    assert not on_time.late
    (old,) = [e for e in when(state, tick("2026-04-05")) if isinstance(e, ev.InvoiceIssued)]
    assert old.late
