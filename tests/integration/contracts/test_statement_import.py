"""Bank statements through the contracts service on real PostgreSQL and Kafka (issue 17, "Must
show"): a statement with a period's payment, one line already imported and one unknown payer —
the period becomes paid, the duplicate is skipped, the unknown payer waits in unallocated and
is allocated by hand. And the bad input: cut off, another encoding, a bad line, missing CSV
columns, a 200 MB upload."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import date
from urllib.parse import urlsplit

import httpx

from tests.support.auth import bearer
from tests.support.statements import Doc, csv_text, exchange_1c

ACCOUNTANT = bearer("accountant")


def tax_id() -> str:
    return str(uuid.uuid4().int)[:10]


async def signed(api: httpx.AsyncClient, tax: str | None) -> tuple[str, list[str]]:
    """A client (with ``tax``) and a contract for 2026, quarterly prepaid, 30 000 RUB each."""
    tag = uuid.uuid4().hex[:8]
    body = {"name": f"ООО Альфа {tag}", "manager_name": "Ирина", "manager_email": f"i.{tag}@example.com"}
    r = await api.post("/clients", json=body | ({"tax_id": tax} if tax else {}))
    assert r.status_code == 201, r.text
    client_id = r.json()["id"]
    assert (await api.get(f"/clients/{client_id}")).json()["tax_id"] == tax
    r = await api.post(
        "/contracts", json={"client_id": client_id, "number": f"AB-{tag}", "title": "IT", "signed_on": "2025-12-20"}
    )
    contract_id = r.json()["id"]
    r = await api.post(
        f"/contracts/{contract_id}/periods/schedule",
        json={
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "every": "quarter",
            "amount": "30000.00",
            "currency": "RUB",
            "payment_terms": "prepaid",
        },
    )
    assert r.status_code == 201, r.text
    return contract_id, r.json()["period_ids"]


async def upload(api: httpx.AsyncClient, data: bytes, name: str = "statement.txt") -> httpx.Response:
    return await api.post("/payments/import", files={"file": (name, data, "text/plain")}, headers=ACCOUNTANT)


async def contract_number(api: httpx.AsyncClient, contract_id: str) -> str:
    return (await api.get(f"/contracts/{contract_id}")).json()["number"]


async def paid(api: httpx.AsyncClient, contract_id: str) -> list[str]:
    return [p["paid_amount"] for p in (await api.get(f"/contracts/{contract_id}")).json()["periods"]]


async def test_a_statement_pays_a_period_skips_a_duplicate_and_keeps_an_unknown_payer(contracts_api):
    api = contracts_api
    tax, stranger = tax_id(), tax_id()
    contract_id, _ = await signed(api, tax)
    number = await contract_number(api, contract_id)
    doc_number = uuid.uuid4().hex[:6]
    q1 = Doc(f"{doc_number}-1", "30000.00", tax, f"Оплата по договору {number} за 1 квартал", on=date(2026, 1, 12))
    first = await upload(api, exchange_1c([q1]).encode("cp1251"))
    assert first.status_code == 200, first.text
    assert (first.json()["matched"], first.json()["matched_by"]) == (1, {"contract_number": 1})

    q2 = Doc(f"{doc_number}-2", "30000.00", tax, f"Оплата по договору {number} за 2 квартал", on=date(2026, 4, 2))
    unknown = Doc(f"{doc_number}-3", "12500.00", stranger, "Оплата за ООО Альфа по письму", payer="ИП Иванов")
    r = await upload(api, exchange_1c([q1, q2, unknown]).encode("cp1251"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["format"], report["encoding"], report["payments"]) == ("1c", "cp1251", 3)
    assert (report["matched"], report["already_imported"], report["unallocated"], report["rejected"]) == (1, 1, 1, 0)
    assert await paid(api, contract_id) == ["30000.00", "30000.00", "0.00", "0.00"]
    contract = (await api.get(f"/contracts/{contract_id}")).json()
    assert [p["reference"] for p in contract["periods"][1]["payments"]] == [
        f"bank {q2.number} of 2026-04-02 from {tax}"
    ]

    listed = (await api.get("/payments/unallocated", params={"page_size": 500}, headers=ACCOUNTANT)).json()["items"]
    [waiting] = [u for u in listed if u["document_number"] == unknown.number]
    assert (waiting["amount"], waiting["payer"], waiting["payer_tax_id"]) == ("12500.00", "ИП Иванов", stranger)
    assert waiting["reason"] == f"no client is registered with tax id {stranger}"

    r = await api.post(
        f"/payments/unallocated/{waiting['id']}/allocate", json={"contract_id": contract_id}, headers=ACCOUNTANT
    )
    assert r.status_code == 201, r.text
    assert [p["amount"] for p in r.json()["payments"]] == ["12500.00"]
    assert await paid(api, contract_id) == ["30000.00", "30000.00", "12500.00", "0.00"]
    listed = (await api.get("/payments/unallocated", params={"page_size": 500}, headers=ACCOUNTANT)).json()["items"]
    assert waiting["id"] not in [u["id"] for u in listed]
    again = await api.post(
        f"/payments/unallocated/{waiting['id']}/allocate", json={"contract_id": contract_id}, headers=ACCOUNTANT
    )
    assert (again.status_code, again.json()["errors"][0]["rule"]) == (409, "receipt_allocated")

    # the whole statement once more: nothing new anywhere
    events = len((await api.get(f"/contracts/{contract_id}/events")).json()["items"])
    r = await upload(api, exchange_1c([q1, q2, unknown]).encode("utf-8"))
    assert (r.json()["matched"], r.json()["already_imported"], r.json()["unallocated"]) == (0, 3, 0)
    assert len((await api.get(f"/contracts/{contract_id}/events")).json()["items"]) == events


async def test_a_csv_statement_and_its_bad_lines(contracts_api):
    api = contracts_api
    tax = tax_id()
    contract_id, _ = await signed(api, tax)
    number = await contract_number(api, contract_id)
    rows = [
        Doc(uuid.uuid4().hex[:6], "10000.00", tax, f"по договору {number}"),
        Doc(uuid.uuid4().hex[:6], "10 000", tax, f"по договору {number}"),
        Doc(uuid.uuid4().hex[:6], "5000.00", tax, f"по договору {number}"),
    ]
    r = await upload(api, csv_text(rows).encode("utf-8"), "statement.csv")
    assert r.status_code == 200, r.text
    assert (r.json()["matched"], r.json()["rejected"]) == (2, 1)
    assert r.json()["rejections"] == [
        {"line": 3, "rule": "invalid_amount", "message": 'amount "10 000" is not an amount (such as 1000.00)'}
    ]
    assert (await paid(api, contract_id))[0] == "15000.00"


async def test_a_file_that_cannot_be_imported_whole_applies_nothing_and_says_where(contracts_api):
    api = contracts_api
    tax = tax_id()
    contract_id, _ = await signed(api, tax)
    number = await contract_number(api, contract_id)
    text = exchange_1c([Doc(uuid.uuid4().hex[:6], "100.00", tax, number), Doc("2", "100.00", tax, number)], end=False)
    cut = text[: text.rindex("КонецДокумента")]
    for data, rule in [
        (cut.encode("cp1251"), "truncated"),
        (text.encode("koi8-r"), "encoding_unreadable"),
        (b"date,amount,payer\n2026-04-03,100,x\n", "missing_columns"),
    ]:
        r = await upload(api, data)
        assert r.status_code == 422, r.text
        [error] = r.json()["errors"]
        assert (error["field"], error["rule"]) == ("file", rule)
        assert error["message"].startswith("line ")
    assert await paid(api, contract_id) == ["0.00"] * 4
    r = await api.post("/payments/import", json={}, headers=ACCOUNTANT)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"


async def test_a_200_mb_upload_is_refused_before_it_is_read(contracts_api):
    url = urlsplit(str(contracts_api.base_url))
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    token = ACCOUNTANT["Authorization"]
    writer.write(
        (
            f"POST /payments/import HTTP/1.1\r\nHost: {url.hostname}\r\nAuthorization: {token}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 209715200\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(4096), 10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b'"rule":"body_too_large"' in body and b"67108864 bytes" in body


async def run_cli(stack, path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **stack.env(), "COLUMNS": "200"}
    argv = [sys.executable, "-m", "services.contracts.entrypoints.cli", "import-statement", str(path), "--actor", "cli"]
    return await asyncio.to_thread(subprocess.run, argv, env=env, capture_output=True, text=True, timeout=120)


async def test_the_cli_imports_with_a_progress_bar_and_refuses_a_cut_off_file(contracts_api, stack, tmp_path):
    api = contracts_api
    tax = tax_id()
    contract_id, _ = await signed(api, tax)
    number = await contract_number(api, contract_id)
    docs = [Doc(uuid.uuid4().hex[:6], "30000.00", tax, f"по договору {number}"), Doc("x", "1,5", tax, number)]
    statement = tmp_path / "statement.txt"
    statement.write_bytes(exchange_1c(docs).encode("cp1251"))
    done = await run_cli(stack, statement)
    assert done.returncode == 0, done.stderr
    assert "2/2" in done.stderr  # tqdm's bar: payments done of all
    assert "1 matched" in done.stderr and "1 rejected" in done.stderr and "invalid_amount" in done.stderr
    assert await paid(api, contract_id) == ["30000.00", "0.00", "0.00", "0.00"]
    cut = tmp_path / "cut.txt"
    cut.write_bytes(exchange_1c(docs, end=False).encode("cp1251"))
    refused = await run_cli(stack, cut)
    assert refused.returncode == 1
    assert "not imported (truncated): line" in refused.stderr.replace("\n", " ")
