"""Invoices by mail (issue 17): InvoiceIssued → the client's accountant and the manager, each
with the PDF; other business facts are skipped; a reminder says when the contract ends."""

from __future__ import annotations

import email
import email.policy
from datetime import date

from services.notifier.adapters.smtp import build_message
from services.notifier.adapters.templates import TemplateRenderer
from services.notifier.domain.recipients import Recipient
from shared.events import contracts as ev
from shared.formatting import Locale
from shared.topics import CONTRACTS_EVENTS
from tests.support.invoices import invoice_document
from tests.unit.notifier.notifier_events import Client, ending_soon, envelope, record_of
from tests.unit.notifier.test_notifier_application import make


def invoice_issued(client: Client, billing_email: str | None = "buh@romashka.example") -> ev.InvoiceIssued:
    doc = invoice_document(
        buyer=ev.Party(name=client.name, tax_id="7712345678"),
        contract_id=client.contract_id,
        contract_number=client.number,
        contract_title=client.title,
    )
    return ev.InvoiceIssued(
        contract_id=client.contract_id,
        client_id=client.client_id,
        period_id=doc.period_id,
        invoice=doc,
        billing_email=billing_email,
        manager_name=client.manager_name,
        manager_email=client.manager_email,
        automatic=True,
    )


def on_events_topic(env):
    rec = record_of(env)
    rec.topic = CONTRACTS_EVENTS
    return rec


async def test_an_invoice_goes_to_the_billing_address_and_the_manager_with_its_pdf() -> None:
    notifier, log, sender, dlq = make()
    client = Client()
    rec = on_events_topic(envelope(invoice_issued(client), client))
    handled = await notifier.handle(rec)
    assert handled.outcome.value == "delivered", handled
    assert sorted(e.recipient for e in sender.sent) == sorted(["buh@romashka.example", str(client.manager_email)])
    for sent in sender.sent:
        assert "2026-000042" in sent.subject
        (pdf,) = sent.attachments
        assert pdf.filename == "schet-2026-000042.pdf" and pdf.data.startswith(b"%PDF")
        message = email.message_from_bytes(build_message(sent).as_bytes(), policy=email.policy.default)
        assert [a.get_filename() for a in message.iter_attachments()] == ["schet-2026-000042.pdf"]
        assert message.get_body(preferencelist=("plain",)) is not None
    assert not dlq.published
    assert len(sender.sent) == 2 and not (await notifier.handle(rec)).deliveries[0].error


async def test_without_a_billing_address_the_manager_gets_it_to_forward() -> None:
    notifier, _, sender, _ = make()
    client = Client()
    await notifier.handle(on_events_topic(envelope(invoice_issued(client, billing_email=None), client)))
    assert [e.recipient for e in sender.sent] == [client.manager_email]
    assert "перешлите счёт клиенту" in sender.sent[0].text


async def test_other_business_facts_are_skipped_by_their_header() -> None:
    notifier, _, sender, dlq = make()
    client = Client()
    opened = ev.ContractOpened(
        contract_id=client.contract_id, client_id=client.client_id, number="A-1", title="t", signed_on=date(2026, 1, 1)
    )
    handled = await notifier.handle(on_events_topic(envelope(opened, client)))
    assert handled.outcome.value == "ignored" and not sender.sent and not dlq.published


def test_a_last_periods_reminder_says_when_the_contract_ends() -> None:
    client = Client()
    event = ending_soon(client, next_period=False).model_copy(update={"contract_ends_on": date(2026, 12, 31)})
    cases: tuple[tuple[Locale, str], ...] = (
        ("ru", "следующего периода нет: договор заканчивается 31 декабря 2026"),
        ("en", "no next period: the contract ends on 31 december 2026"),
    )
    for locale, words in cases:
        out = TemplateRenderer(locale).render("reminder", event, Recipient(client.manager_email or "", "manager"))
        assert words in out.text.lower() and words in out.html.lower()
