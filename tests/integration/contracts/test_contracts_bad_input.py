"""Every invalid request: a 4xx naming the field and the rule, and nothing reaches the store."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.contracts.scenario import sign_client_for_a_year

GOOD_PERIOD = {
    "starts_on": "2027-01-01",
    "ends_on": "2027-03-31",
    "amount": "100.00",
    "currency": "RUB",
    "payment_terms": "prepaid",
}

CASES = [
    ("overlapping period", {"starts_on": "2026-03-01", "ends_on": "2026-04-30"}, 422, "starts_on", "period_overlap"),
    ("end before start", {"starts_on": "2027-03-01", "ends_on": "2027-02-01"}, 422, "ends_on", "ends_before_start"),
    ("negative amount", {"amount": "-5.00"}, 422, "amount", "negative_amount"),
    ("non-numeric amount", {"amount": "ten"}, 422, "amount", "amount_format"),
    ("three decimals in RUB", {"amount": "1.005"}, 422, "amount", "amount_precision"),
    ("four decimals", {"amount": "1.0005"}, 422, "amount", "amount_format"),
    ("arabic-indic digits", {"amount": "٣٠٠٠٠"}, 422, "amount", "amount_format"),
    ("fullwidth digits", {"amount": "３００"}, 422, "amount", "amount_format"),
    ("replaced currency", {"currency": "DEM"}, 422, "currency", "unknown_currency"),
    ("unknown currency", {"currency": "XYZ"}, 422, "currency", "unknown_currency"),
    ("malformed date", {"starts_on": "2027-02-30"}, 422, "starts_on", None),
    ("unknown payment terms", {"payment_terms": "sometimes"}, 422, "payment_terms", "literal_error"),
    ("reminder after end", {"remind_on": "2027-04-05"}, 422, "remind_on", "reminder_after_end"),
    ("extra field", {"ammount": "1.00"}, 422, "ammount", "extra_forbidden"),
]


@pytest.mark.parametrize("name,change,status,field,rule", CASES, ids=[c[0] for c in CASES])
async def test_invalid_period_is_refused_naming_field_and_rule(contracts_api, name, change, status, field, rule):
    signed = await sign_client_for_a_year(contracts_api)
    before = (await contracts_api.get(f"/contracts/{signed.contract_id}/events")).json()["items"]
    r = await contracts_api.post(f"/contracts/{signed.contract_id}/periods", json={**GOOD_PERIOD, **change})
    assert r.status_code == status, r.text
    error = r.json()["errors"][0]
    assert error["field"] == field and error["message"]
    if rule is not None:
        assert error["rule"] == rule
    after = (await contracts_api.get(f"/contracts/{signed.contract_id}/events")).json()["items"]
    assert len(after) == len(before)


async def test_missing_field_is_named(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    body = dict(GOOD_PERIOD)
    del body["currency"]
    r = await contracts_api.post(f"/contracts/{signed.contract_id}/periods", json=body)
    assert r.status_code == 422
    assert r.json()["errors"][0] == {"field": "currency", "rule": "missing", "message": "Field required"}


async def test_unknown_contract_and_period_are_404(contracts_api):
    r = await contracts_api.post(f"/contracts/{uuid.uuid4()}/periods", json=GOOD_PERIOD)
    assert r.status_code == 404 and r.json()["errors"][0]["rule"] == "contract_not_found"
    signed = await sign_client_for_a_year(contracts_api)
    r = await contracts_api.post(
        f"/contracts/{signed.contract_id}/periods/{uuid.uuid4()}/payments", json={"paid_on": "2026-01-01"}
    )
    assert r.status_code == 404 and r.json()["errors"][0]["rule"] == "period_not_found"
    r = await contracts_api.get("/contracts/not-a-uuid")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "contract_id"


async def test_bad_client_email_is_refused(contracts_api):
    r = await contracts_api.post("/clients", json={"name": "A", "manager_name": "B", "manager_email": "nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "manager_email"
