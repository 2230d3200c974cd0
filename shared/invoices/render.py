"""Render an ``InvoiceDocument`` to HTML (``templates/invoice.html``) and to PDF (WeasyPrint)."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from shared import formatting
from shared.events.contracts import InvoiceDocument
from shared.invoices.words import amount_in_words

TEMPLATES = Path(__file__).resolve().parent / "templates"  # package data: in the wheel too

LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "title": "Счёт на оплату № {number} от {date}",
        "seller": "Поставщик",
        "buyer": "Покупатель",
        "tax_id": "ИНН",
        "address": "Адрес",
        "bank": "Банковские реквизиты",
        "basis": "Основание",
        "contract": "Договор № {number} от {date}",
        "item": "Наименование",
        "period": "Период",
        "amount": "Сумма",
        "line": "Абонентское обслуживание по договору № {number} «{title}»",
        "total": "Итого к оплате",
        "vat": "Без НДС",
        "words": "Всего к оплате",
        "due": "Оплатить до {date} (включительно)",
        "terms": "Условия оплаты",
        "purpose": "В назначении платежа укажите: «Оплата по счёту № {number}»",
    },
    "en": {
        "title": "Invoice No. {number} of {date}",
        "seller": "Seller",
        "buyer": "Buyer",
        "tax_id": "Tax ID",
        "address": "Address",
        "bank": "Bank details",
        "basis": "Basis",
        "contract": "Contract No. {number} of {date}",
        "item": "Description",
        "period": "Period",
        "amount": "Amount",
        "line": "Subscription service under contract No. {number} \u201c{title}\u201d",
        "total": "Total due",
        "vat": "VAT not applicable",
        "words": "Amount in words",
        "due": "Please pay by {date}",
        "terms": "Payment terms",
        "purpose": "Payment reference: \u201cInvoice {number}\u201d",
    },
}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def context(doc: InvoiceDocument, locale: formatting.Locale) -> dict[str, Any]:
    labels = LABELS[locale]
    return {
        "doc": doc,
        "lang": locale,
        "t": labels,
        "title": labels["title"].format(number=doc.number, date=formatting.long_date(doc.issued_on, locale)),
        "contract": labels["contract"].format(
            number=doc.contract_number, date=formatting.long_date(doc.contract_signed_on, locale)
        ),
        "line": labels["line"].format(number=doc.contract_number, title=doc.contract_title),
        "period": f"{formatting.long_date(doc.starts_on, locale)} – {formatting.long_date(doc.ends_on, locale)}",
        "total": formatting.money(doc.amount, doc.currency, locale),
        "words": amount_in_words(doc.amount, doc.currency, locale),
        "due": labels["due"].format(date=formatting.long_date(doc.due_on, locale)),
        "terms": formatting.payment_terms(doc.payment_terms, locale),
        "purpose": labels["purpose"].format(number=doc.number),
    }


def render_html(doc: InvoiceDocument, locale: formatting.Locale = "ru") -> str:
    if locale not in LABELS:
        raise ValueError(f"unknown locale {locale!r}; known: {', '.join(LABELS)}")
    return _environment().get_template("invoice.html").render(context(doc, locale))


_per_thread = threading.local()


def _font_config() -> Any:
    """This thread's WeasyPrint ``FontConfiguration``, made once.

    WeasyPrint makes a new one per document unless given one, and each left ~0.3 MB of
    fontconfig and Pango state behind: the notifier grew to 564 MB over a burst of ~1,200
    invoices, and a document cost a third more CPU (157 against 106 ms). One per thread, not one
    per process: Pango's font map is not thread-safe, and ``asyncio.to_thread`` renders on any
    thread of the default pool (a handful at most)."""
    config = getattr(_per_thread, "fonts", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _per_thread.fonts = FontConfiguration()
    return config


def render_pdf(doc: InvoiceDocument, locale: formatting.Locale = "ru") -> bytes:
    """The invoice as a PDF (one A4 page). Takes a fraction of a second: run it off the event
    loop (``asyncio.to_thread``) in a server."""
    from weasyprint import HTML  # imported here: loading Pango is for the processes that print

    html = HTML(string=render_html(doc, locale), base_url=str(TEMPLATES))
    pdf: bytes = html.write_pdf(font_config=_font_config())
    return pdf


def filename(doc: InvoiceDocument, locale: str = "ru") -> str:
    return f"{'schet' if locale == 'ru' else 'invoice'}-{doc.number}.pdf"
