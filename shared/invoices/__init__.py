"""Invoices as people read them: HTML from one Jinja2 template, PDF by WeasyPrint, in Russian
or English, the total in words for RUB (num2words).

The contracts service serves them (``GET /invoices/{id}.pdf``); the notifier attaches them to
e-mails. Both render from the same ``InvoiceDocument`` (the InvoiceIssued payload), so the
PDF a client gets by mail is the one the API shows. WeasyPrint needs Pango and a font with
Cyrillic (Debian: ``libpango-1.0-0``, ``libpangoft2-1.0-0``, ``fonts-dejavu-core``;
``make system-packages`` installs them where missing).
"""

from shared.invoices.render import LABELS, filename, render_html, render_pdf
from shared.invoices.words import amount_in_words

__all__ = ["LABELS", "amount_in_words", "filename", "render_html", "render_pdf"]
