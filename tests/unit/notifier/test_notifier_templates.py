"""E-mail templates: ru and en, reminder with and without a next period, the debt notice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.notifier.adapters.templates import TemplateRenderer
from services.notifier.domain.recipients import Recipient
from shared.formatting import long_date, money, payment_terms
from tests.unit.notifier.notifier_events import Client, ending_soon, overdue

MANAGER = Recipient("irina@example.com", "manager", "Ирина Петрова")
GENERAL = Recipient("ops@example.com", "general")


@pytest.mark.parametrize(
    ("amount", "locale", "text"),
    [
        ("30000", "ru", "30 000,00 RUB"),
        ("30000.5", "en", "30,000.50 RUB"),
        ("1234567.89", "ru", "1 234 567,89 RUB"),
        ("999.99", "en", "999.99 RUB"),
        ("0", "ru", "0,00 RUB"),
        ("-1500", "ru", "-1 500,00 RUB"),
    ],
)
def test_money_is_grouped_with_two_decimals(amount: str, locale: str, text: str) -> None:
    assert money(Decimal(amount), "RUB", locale) == text  # type: ignore[arg-type]  # parametrized locale text


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "text"),
    [
        ("30000.00", "JPY", "en", "30,000 JPY"),
        ("30000", "KRW", "ru", "30 000 KRW"),
        ("1250.5", "KWD", "en", "1,250.500 KWD"),
        ("1250.125", "BHD", "ru", "1 250,125 BHD"),
    ],
)
def test_money_shows_the_currency_minor_units(amount: str, currency: str, locale: str, text: str) -> None:
    assert money(Decimal(amount), currency, locale) == text  # type: ignore[arg-type]  # parametrized locale text


def test_dates_and_terms_read_naturally() -> None:
    assert long_date(date(2026, 3, 31), "ru") == "31 марта 2026"
    assert long_date(date(2026, 4, 1), "en") == "1 April 2026"
    assert payment_terms("prepaid", "ru") == "предоплата"
    assert payment_terms("postpaid", "en") == "postpaid"


def test_ru_reminder_names_the_period_the_next_one_its_amount_and_due_date() -> None:
    client = Client(name="ООО «Ромашка»", number="A-17")
    out = TemplateRenderer("ru").render("reminder", ending_soon(client, amount="45000.00"), MANAGER)
    assert out.subject == ("Напоминание: договор № A-17 (ООО «Ромашка») — период заканчивается 31 марта 2026")
    for body in (out.text, out.html):
        assert "Ирина Петрова" in body
        assert "31 марта 2026" in body  # the period ends
        assert "45 000,00 RUB" in body  # the next period costs
        assert "1 апреля 2026" in body  # … and is due
        assert "A-17" in body
        assert "продлить" not in body
    assert out.text.startswith("Здравствуйте, Ирина Петрова!")
    assert "выставьте клиенту счёт" in out.text


def test_ru_reminder_without_next_period_says_the_contract_needs_prolongation() -> None:
    out = TemplateRenderer("ru").render("reminder", ending_soon(Client(), next_period=False), GENERAL)
    for body in (out.text, out.html):
        assert "Следующего периода в договоре нет — договор нужно продлить" in body
        assert "оплата до" not in body
    assert out.text.startswith("Здравствуйте!")  # the general address is not the manager


def test_en_reminder_with_and_without_next_period() -> None:
    client = Client(name="Acme Ltd", number="C-9", manager_name="John Smith")
    renderer = TemplateRenderer("en")
    out = renderer.render("reminder", ending_soon(client), MANAGER)
    assert out.subject == "Reminder: contract C-9 (Acme Ltd) — service period ends on 31 March 2026"
    assert "30,000.00 RUB, due on 1 April 2026" in out.text
    assert "<strong>30,000.00 RUB</strong>" in out.html
    out = renderer.render("reminder", ending_soon(client, next_period=False), GENERAL)
    assert "the contract needs to be prolonged" in out.text
    assert "the contract needs to be prolonged" in out.html


def test_reminder_mentions_what_is_still_owed_on_the_current_period() -> None:
    out = TemplateRenderer("ru").render("reminder", ending_soon(Client(), paid=False), MANAGER)
    assert "остаток к оплате 20 000,00 RUB" in out.text


@pytest.mark.parametrize(
    ("locale", "subject", "since"),
    [
        ("ru", "Задолженность: договор № D-1 (Beta) — 25 000,00 RUB", "Задолженность с: 1 апреля 2026"),
        ("en", "Overdue payment: contract D-1 (Beta) — 25,000.00 RUB", "Overdue since: 1 April 2026"),
    ],
)
def test_debt_notice_has_amount_due_and_since_when(locale: str, subject: str, since: str) -> None:
    out = TemplateRenderer(locale).render(  # type: ignore[arg-type]  # parametrized locale text
        "debt_notice",
        overdue(Client(name="Beta", number="D-1")),
        MANAGER,
    )
    assert out.subject == subject
    assert since in out.text
    assert "25" in out.html and "1 " in out.html


def test_html_is_escaped_and_the_subject_is_one_line() -> None:
    client = Client(name="<script>x</script>\r\nBcc: evil@example.com", number="N-1")
    out = TemplateRenderer("en").render("reminder", ending_soon(client), MANAGER)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "\n" not in out.subject and "\r" not in out.subject


def test_unknown_locale_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown locale"):
        TemplateRenderer("de")  # type: ignore[arg-type]  # an unsupported locale on purpose
