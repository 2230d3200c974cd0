"""Invoice PDFs share their thread's font configuration.

WeasyPrint's default — a new ``FontConfiguration`` per document — left ~0.3 MB of fontconfig
and Pango state behind per invoice (the notifier reached 564 MB over a burst of ~1,200
invoices; measured flat at 84 MB over 160 with one per thread) and cost a third more CPU. The
resident size is too noisy to assert on in a test process, so this counts what leaked: font
configurations made."""

from __future__ import annotations

import threading

from shared.events import contracts as ev
from shared.invoices import render_pdf
from shared.invoices.render import _font_config
from tests.support.invoices import invoice_document


def invoice(n: int) -> ev.InvoiceDocument:
    return invoice_document(
        number=f"2026-{n:06d}", buyer=ev.Party(name=f"ООО «Ромашка {n}»", tax_id="7712345678"), contract_number=f"A-{n}"
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
