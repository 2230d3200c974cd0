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


# Issue 15 "500s from input": each answered 500 before the fix.


@pytest.mark.parametrize(
    "field, value",
    [("name", "Ромашка\u0000"), ("name", "Ромашка\x07"), ("manager_name", "Ирина\u202ePetrova"), ("name", "a\nb")],
)
async def test_control_characters_in_text_are_refused_naming_the_field(contracts_api, field, value):
    body = {"name": "A", "manager_name": "B", "manager_email": "b@example.com", field: value}
    r = await contracts_api.post("/clients", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == field and r.json()["errors"][0]["rule"] == "control_character"


@pytest.mark.parametrize("ends_on", ["9999-12-31", "2200-01-01"])
async def test_dates_beyond_2199_are_refused(contracts_api, ends_on):
    signed = await sign_client_for_a_year(contracts_api)
    url = f"/contracts/{signed.contract_id}/periods"
    r = await contracts_api.post(url, json={**GOOD_PERIOD, "starts_on": "2027-01-01", "ends_on": ends_on})
    assert (r.status_code, r.json()["errors"][0]["field"], r.json()["errors"][0]["rule"]) == (
        422,
        "ends_on",
        "date_out_of_range",
    ), r.text
    r = await contracts_api.post(
        f"{url}/schedule",
        json={**GOOD_PERIOD, "starts_on": "2099-01-01", "ends_on": ends_on, "every": "month"},
    )
    assert (r.status_code, r.json()["errors"][0]["rule"]) == (422, "date_out_of_range"), r.text
    r = await contracts_api.post(url, json={**GOOD_PERIOD, "starts_on": "1899-12-31"})
    assert (r.status_code, r.json()["errors"][0]["rule"]) == (422, "date_out_of_range"), r.text


async def test_a_schedule_up_to_the_last_day_allowed_is_written_and_armed(contracts_api):
    """Writing periods arms their time events (the day after ends_on included): no overflow."""
    signed = await sign_client_for_a_year(contracts_api)
    r = await contracts_api.post(
        f"/contracts/{signed.contract_id}/periods/schedule",
        json={**GOOD_PERIOD, "starts_on": "2199-01-01", "ends_on": "2199-12-31", "every": "quarter"},
    )
    assert r.status_code == 201, r.text
    assert len(r.json()["period_ids"]) == 4


async def test_a_control_character_in_a_query_reason_is_refused(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    r = await contracts_api.delete(f"/contracts/{signed.contract_id}/termination", params={"reason": "x\u0000y"})
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "field": "reason",
        "rule": "control_character",
        "message": "control character U+0000 at position 1 is not allowed in text",
    }


async def test_contract_events_are_paged(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    url = f"/contracts/{signed.contract_id}/events"
    everything = (await contracts_api.get(url)).json()
    assert everything["next_page"] is None and everything["page_size"] == 500
    first = (await contracts_api.get(url, params={"page_size": 2})).json()
    second = (await contracts_api.get(url, params={"page_size": 2, "page": 2})).json()
    assert [e["event_id"] for e in first["items"] + second["items"]] == [e["event_id"] for e in everything["items"][:4]]
    assert first["next_page"] == 2
    r = await contracts_api.get(url, params={"page": 2**63})
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "page")
