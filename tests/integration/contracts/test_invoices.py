"""Invoices and renewal over HTTP on the real stack (issue 17).

- numbers run without gaps per company and year, even with two replicas issuing at once;
- a period has one invoice; JSON and PDF (read back with pdftotext, paged with pdftoppm);
- InvoiceIssued on contracts.events.v1 and payments.v1; the number lookup for statements;
- renewal by hand and its refusals.

``ABONENT_WRITE_DOCS_IMG=1`` also writes the PDF's first page to docs/img/invoice.png (the
README's picture).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from services.contracts.adapters.invoices_table import PostgresInvoiceBook
from services.contracts.bootstrap import create_app
from shared.topics import CONTRACTS_EVENTS, PAYMENTS
from tests.integration.contracts.conftest import contracts_settings
from tests.integration.contracts.scenario import sign_client_for_a_year
from tests.support.auth import bearer
from tests.support.kafka import collect
from tests.support.servers import serving

DOCS_IMG = Path(__file__).resolve().parents[3] / "docs" / "img" / "invoice.png"
COMPANY = {
    "company_name": "ООО «Абонент Сервис»",
    "company_address": "125009, Москва, ул. Тверская, д. 1, офис 10",
    "company_bank_account": "р/с 40702810900000000001 в ПАО «Банк», БИК 044525225, к/с 30101810400000000225",
}


def tax_id() -> str:
    """A company of its own per test: its own numbering series."""
    return "".join(random.choices("0123456789", k=10))


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def first_page_png(pdf: bytes, out: Path) -> Path:
    """The PDF's first page as a PNG (pdftoppm, 80 dpi): what the README shows."""
    src = out.with_suffix(".pdf")
    src.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-singlefile", str(src), str(out.with_suffix(""))], check=True
    )
    return out


async def test_numbers_have_no_gaps_per_company_and_year_with_two_replicas(stack):
    settings = contracts_settings(stack, run_relay=False, company_tax_id=tax_id(), **COMPANY)
    async with (
        serving(create_app(settings)) as one,
        serving(create_app(settings.model_copy(update={"http_port": 0}))) as two,
    ):
        contracts = [await sign_client_for_a_year(one, year=2033) for _ in range(3)]
        issued = await asyncio.gather(
            *(
                api.post(f"/contracts/{c.contract_id}/periods/{p}/invoice")
                for i, (c, p) in enumerate((c, p) for c in contracts for p in c.period_ids)
                for api in ((one, two)[i % 2],)
            )
        )
    assert all(r.status_code == 201 for r in issued), [r.text for r in issued if r.status_code != 201]
    numbers = sorted(r.json()["number"] for r in issued)
    year = str(date.today().year)  # issued by hand: dated today
    assert numbers == [f"{year}-{n:06d}" for n in range(1, 13)]


async def test_an_invoice_once_per_period_as_json_and_pdf_and_on_both_topics(stack, tmp_path):
    settings = contracts_settings(stack, run_relay=True, company_tax_id=tax_id(), **COMPANY)
    async with serving(create_app(settings)) as api:
        r = await api.post(
            "/clients",
            json={
                "name": "ООО «Ромашка»",
                "manager_name": "Ирина Петрова",
                "manager_email": "irina@romashka.example",
                "tax_id": "7712345678",
                "address": "115054, Москва, ул. Садовая, д. 5",
                "billing_email": "buh@romashka.example",
            },
        )
        assert r.status_code == 201, r.text
        client_id = r.json()["id"]
        assert (await api.get(f"/clients/{client_id}")).json()["billing_email"] == "buh@romashka.example"
        contract = await api.post(
            "/contracts",
            json={"client_id": client_id, "number": "ИТ-2034/17", "title": "ИТ-аутсорсинг", "signed_on": "2033-12-20"},
        )
        contract_id = contract.json()["id"]
        periods = await api.post(
            f"/contracts/{contract_id}/periods/schedule",
            json={
                "starts_on": "2034-01-01",
                "ends_on": "2034-12-31",
                "every": "quarter",
                "amount": "30000.00",
                "currency": "RUB",
                "payment_terms": "prepaid",
            },
        )
        q2 = periods.json()["period_ids"][1]
        url = f"/contracts/{contract_id}/periods/{q2}/invoice"
        first = await api.post(url, headers=bearer("accountant"))
        assert first.status_code == 201, first.text
        again = await api.post(url, headers=bearer("manager"))
        assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
        invoice_id, number = first.json()["invoice_id"], first.json()["number"]

        body = (await api.get(f"/invoices/{invoice_id}", headers=bearer("accountant"))).json()
        assert (body["number"], body["amount"], body["currency"], body["due_on"]) == (
            number,
            "30000.00",
            "RUB",
            "2034-04-01",
        )
        assert body["amount_in_words"] == "Тридцать тысяч рублей 00 копеек"
        assert body["buyer"]["tax_id"] == "7712345678" and body["seller"]["name"] == "ООО «Абонент Сервис»"
        assert body["paid"] is False and body["pdf"] == f"/invoices/{invoice_id}.pdf"
        english = (await api.get(f"/invoices/{invoice_id}", params={"lang": "en"})).json()
        assert english["amount_in_words"] == "Thirty thousand roubles 00 kopeks"
        view = (await api.get(f"/contracts/{contract_id}")).json()
        assert view["periods"][1]["invoice"]["number"] == number

        pdf = await api.get(f"/invoices/{invoice_id}.pdf", headers=bearer("manager"))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = pdf_text(pdf.content, tmp_path)
        assert f"№ {number}" in text and "30 000,00 RUB" in text and "Тридцать тысяч рублей 00 копеек" in text
        assert "7712345678" in text and "ИТ-2034/17" in text
        english_pdf = await api.get(f"/invoices/{invoice_id}.pdf", params={"lang": "en"})
        assert f"Invoice No. {number}" in pdf_text(english_pdf.content, tmp_path)
        png = first_page_png(pdf.content, tmp_path / "invoice.png")
        assert png.read_bytes().startswith(b"\x89PNG")
        if os.environ.get("ABONENT_WRITE_DOCS_IMG") == "1":
            shutil.copyfile(png, DOCS_IMG)

        missing = await api.get("/invoices/00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404 and missing.json()["errors"][0]["rule"] == "invoice_not_found"

        # read the feeds while this app's relay still runs (it publishes the outbox)
        def issued(found):
            return any(e.event_type == "InvoiceIssued" for e in found)

        internal = await collect(stack.kafka_bootstrap, CONTRACTS_EVENTS, key=client_id, until=issued, timeout=90)
        public = await collect(stack.kafka_bootstrap, PAYMENTS, key=client_id, until=issued, timeout=90)
        (event,) = [e for e in internal if e.event_type == "InvoiceIssued"]
        assert event.data["invoice"]["number"] == number and event.data["billing_email"] == "buh@romashka.example"
        (feed,) = [e for e in public if e.event_type == "InvoiceIssued"]
        assert (feed.data["number"], feed.data["amount"], feed.data["client_tax_id"]) == (
            number,
            "30000.00",
            "7712345678",
        )

    # The lookup the bank-statement import matches invoice numbers with.
    pool = await asyncpg.create_pool(stack.database_urls["contracts"], min_size=1, max_size=1)
    try:
        ref = await PostgresInvoiceBook(pool).by_number(settings.company().series, number)
    finally:
        await pool.close()
    assert ref is not None and (str(ref.contract_id), str(ref.period_id), str(ref.amount)) == (
        contract_id,
        q2,
        "30000.00",
    )


async def test_renew_by_hand_and_its_refusals(contracts_api):
    signed = await sign_client_for_a_year(contracts_api, year=2035)
    url = f"/contracts/{signed.contract_id}/renew"
    too_early = await contracts_api.post(url, json={"through": "2035-12-31"})
    assert too_early.status_code == 422 and too_early.json()["errors"][0]["rule"] == "through_not_after_last_period"
    r = await contracts_api.post(url, json={"through": "2036-12-31", "indexation_percent": "5"})
    assert r.status_code == 201, r.text
    assert len(r.json()["period_ids"]) == 4
    periods = (await contracts_api.get(f"/contracts/{signed.contract_id}")).json()["periods"]
    assert [(p["starts_on"], p["amount"]) for p in periods[4:]] == [
        ("2036-01-01", "31500.00"),
        ("2036-04-01", "31500.00"),
        ("2036-07-01", "31500.00"),
        ("2036-10-01", "31500.00"),
    ]
    auto = await contracts_api.put(
        f"/contracts/{signed.contract_id}/auto_renew",
        json={"enabled": True, "notice_days": 30, "indexation_percent": "5"},
    )
    assert auto.status_code == 200, auto.text
    view = (await contracts_api.get(f"/contracts/{signed.contract_id}")).json()
    assert view["auto_renew"]["renews_on"] == "2036-12-01"
    await contracts_api.post(
        f"/contracts/{signed.contract_id}/terminate", json={"terminated_on": "2035-02-01", "reason": "moved"}
    )
    refused = await contracts_api.post(url, json={"through": "2037-12-31"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "contract_terminated"


@pytest.fixture(autouse=True)
def _poppler() -> None:
    if shutil.which("pdftotext") is None:  # make system-packages installs poppler-utils
        pytest.fail("pdftotext is missing: run `make system-packages`")
