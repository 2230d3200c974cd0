"""Invoice PDFs share their thread's font configuration.

WeasyPrint's default — a new ``FontConfiguration`` per document — left ~0.3 MB of fontconfig
and Pango state behind per invoice (the notifier reached 564 MB over a burst of ~1,200
invoices; measured flat at 84 MB over 160 with one per thread) and cost a third more CPU. The
resident size is too noisy to assert on in a test process, so this counts what leaked: font
configurations made."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

from shared.events import contracts as ev
from shared.invoices import render_pdf
from shared.invoices.render import _font_config


def invoice(n: int) -> ev.InvoiceDocument:
    return ev.InvoiceDocument(
        invoice_id=uuid.uuid4(),
        number=f"2026-{n:06d}",
        issued_on=date(2026, 3, 22),
        due_on=date(2026, 4, 1),
        seller=ev.Party(name="ООО «Абонент Сервис»", tax_id="7701234567", bank_account="р/с 40702810900000000001"),
        buyer=ev.Party(name=f"ООО «Ромашка {n}»", tax_id="7712345678"),
        contract_id=uuid.uuid4(),
        contract_number=f"A-{n}",
        contract_title="Обслуживание",
        contract_signed_on=date(2025, 12, 20),
        period_id=uuid.uuid4(),
        starts_on=date(2026, 4, 1),
        ends_on=date(2026, 6, 30),
        payment_terms="prepaid",
        amount=Decimal("30000.00"),
        currency="RUB",
    )


def test_invoice_after_invoice_in_one_thread_makes_one_font_configuration(monkeypatch) -> None:
    made = counting(monkeypatch)
    for n in range(5):
        assert render_pdf(invoice(n)).startswith(b"%PDF")
    assert len(made) <= 1  # none if an earlier test of this process already rendered here


def test_each_thread_has_its_own_font_configuration(monkeypatch) -> None:
    made = counting(monkeypatch)
    seen: list[int] = []

    def render_two() -> None:
        for n in range(2):
            render_pdf(invoice(n))
        seen.append(id(_font_config()))

    workers = [threading.Thread(target=render_two) for _ in range(2)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert len(made) == 2  # one per new thread, not one per document (Pango's font map is per thread)
    assert len(set(seen)) == 2


def counting(monkeypatch) -> list[object]:
    from weasyprint.text.fonts import FontConfiguration

    made: list[object] = []
    original = FontConfiguration.__init__

    def init(self, *args, **kwargs) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(FontConfiguration, "__init__", init)
    return made
