"""Jinja2 templates for the e-mails: ``templates/<locale>/<kind>.{subject.txt,txt,html}``.

HTML templates are auto-escaped (a client called ``<b>ООО "Рога"</b>`` stays text); the
subject and the plain text are not HTML and are not escaped. Undefined variables are an
error, so a typo in a template fails the unit tests, not a real e-mail.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifier.domain.emails import Attachment, Rendered
from services.notifier.domain.recipients import NotificationKind, Recipient
from shared import formatting, invoices
from shared.events.contracts import InvoiceIssued
from shared.events.schedule import ServicePeriodBecameOverdue, ServicePeriodEndingSoon
from shared.formatting import Locale

Notified = ServicePeriodEndingSoon | ServicePeriodBecameOverdue | InvoiceIssued

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"  # package data: in the wheel too


def _environment(directory: Path, locale: Locale) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = lambda amount, currency: formatting.money(amount, currency, locale)
    env.filters["date"] = lambda day: formatting.long_date(day, locale)
    env.filters["terms"] = lambda terms: formatting.payment_terms(terms, locale)
    return env


def _one_line(text: str) -> str:
    """A subject is one header line: no CR/LF may reach the message (header injection)."""
    return " ".join(text.split())


class TemplateRenderer:
    def __init__(self, locale: Locale = "ru", directory: Path = TEMPLATES_DIR) -> None:
        if locale not in formatting.LOCALES:
            raise ValueError(f"unknown locale {locale!r}; known: {', '.join(formatting.LOCALES)}")
        self.locale = locale
        self._env = _environment(directory, locale)

    def attachments(self, kind: NotificationKind, event: Notified) -> tuple[Attachment, ...]:
        """The invoice's PDF: the issued one, or the next period's on a reminder."""
        doc = event.invoice if isinstance(event, InvoiceIssued) else getattr(event, "next_invoice", None)
        if doc is None:
            return ()
        return (
            Attachment(invoices.filename(doc, self.locale), "application/pdf", invoices.render_pdf(doc, self.locale)),
        )

    def render(self, kind: NotificationKind, event: Notified, recipient: Recipient) -> Rendered:
        context = self.context(event, recipient)
        base = f"{self.locale}/{kind}"
        return Rendered(
            subject=_one_line(self._env.get_template(f"{base}.subject.txt").render(context)),
            text=self._env.get_template(f"{base}.txt").render(context),
            html=self._env.get_template(f"{base}.html").render(context),
        )

    @staticmethod
    def context(event: Notified, recipient: Recipient) -> dict[str, Any]:
        if isinstance(event, InvoiceIssued):
            doc = event.invoice
            return {
                "event": event,
                "recipient": recipient,
                "invoice": doc,
                "client_name": doc.buyer.name,
                "manager_name": event.manager_name,
                "contract_number": doc.contract_number,
                "contract_title": doc.contract_title,
            }
        context: dict[str, Any] = {
            "event": event,
            "recipient": recipient,
            "client_name": event.client_name,
            "manager_name": event.manager_name,
            "contract_number": event.contract_number,
            "contract_title": event.contract_title,
        }
        if isinstance(event, ServicePeriodEndingSoon):
            owed: Decimal = max(event.period.amount - event.period.paid_amount, Decimal("0"))
            context.update(
                period=event.period,
                next_period=event.next_period,
                owed=owed,
                next_owed=None
                if event.next_period is None
                else max(event.next_period.amount - event.next_period.paid_amount, Decimal("0")),
                renewal=event.renewal,
                contract_ends_on=event.contract_ends_on,
                next_invoice=event.next_invoice,
            )
        return context
