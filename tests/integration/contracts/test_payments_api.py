"""Payments over HTTP against real PostgreSQL: references, receipts over several periods, the
paid_on bound and currencies' minor units (issue 12, cases 1 and 11)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from services.contracts.bootstrap import create_app
from shared.calendar import CompanyCalendar
from tests.integration.contracts.conftest import contracts_settings
from tests.integration.contracts.scenario import sign_client_for_a_year
from tests.support.servers import serving


async def history(api, contract_id: str) -> list[dict]:
    return (await api.get(f"/contracts/{contract_id}/events")).json()["items"]


def error(r) -> dict:
    return r.json()["errors"][0]


# --- case 1: a real payment dropped silently ----------------------------------------------


async def test_a_second_payment_under_the_same_reference_is_409_not_a_silent_201(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    url = f"/contracts/{signed.contract_id}/periods/{signed.period_ids[0]}/payments"
    first = await contracts_api.post(url, json={"amount": "10000", "paid_on": "2026-01-05", "reference": "Счёт 15"})
    assert first.status_code == 201, first.text
    before = await history(contracts_api, signed.contract_id)
    second = await contracts_api.post(url, json={"amount": "20000", "paid_on": "2026-01-05", "reference": "Счёт 15"})
    assert second.status_code == 409, second.text
    assert (error(second)["rule"], error(second)["field"]) == ("reference_used", "reference")
    assert first.json()["payment_id"] in error(second)["message"]
    assert await history(contracts_api, signed.contract_id) == before


async def test_a_retry_answers_200_with_the_original_payment_and_its_position(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    url = f"/contracts/{signed.contract_id}/periods/{signed.period_ids[0]}/payments"
    body = {"amount": "10000.00", "paid_on": "2026-01-05", "reference": "п/п 15"}
    first = await contracts_api.post(url, json=body)
    # something else happens on the contract in between: the retry still names its own position
    other = await contracts_api.post(
        f"/contracts/{signed.contract_id}/periods/{signed.period_ids[1]}/payments",
        json={"amount": "1.00", "paid_on": "2026-01-06"},
    )
    again = await contracts_api.post(url, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert first.json()["position"] < other.json()["position"]


# --- receipts: one bank payment over several periods ------------------------------------


async def test_one_bank_payment_over_q3_and_q4_then_its_retry(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    q1, q2, q3, q4 = signed.period_ids
    body = {
        "amount": "60000",
        "paid_on": "2026-07-02",
        "reference": "Счёт 15",
        "allocations": [{"period_id": q3, "amount": "30000"}, {"period_id": q4, "amount": "30000"}],
    }
    r = await contracts_api.post(f"/contracts/{signed.contract_id}/payments", json=body)
    assert r.status_code == 201, r.text
    answer = r.json()
    assert [(p["period_id"], p["amount"]) for p in answer["payments"]] == [(q3, "30000.00"), (q4, "30000.00")]
    assert answer["position"] > signed.position and answer["receipt_id"]
    again = await contracts_api.post(f"/contracts/{signed.contract_id}/payments", json=body)
    assert again.status_code == 200 and again.json() == answer
    contract = (await contracts_api.get(f"/contracts/{signed.contract_id}")).json()
    assert [p["paid"] for p in contract["periods"]] == [False, False, True, True]
    assert [p["payments"][0]["receipt_id"] for p in contract["periods"][2:]] == [answer["receipt_id"]] * 2
    recorded = [
        h["data"] for h in await history(contracts_api, signed.contract_id) if h["event_type"] == "PaymentRecorded"
    ]
    assert {(d["reference"], d["receipt_id"]) for d in recorded} == {("Счёт 15", answer["receipt_id"])}
    assert len(recorded) == 2
    different = await contracts_api.post(
        f"/contracts/{signed.contract_id}/payments", json={**body, "paid_on": "2026-07-03"}
    )
    assert different.status_code == 409 and error(different)["rule"] == "reference_used"
    assert answer["receipt_id"] in error(different)["message"]


async def test_without_allocations_the_oldest_owed_periods_are_paid_first(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    q1, q2, q3, q4 = signed.period_ids
    await contracts_api.post(f"/contracts/{signed.contract_id}/periods/{q1}/payments", json={"paid_on": "2026-01-05"})
    r = await contracts_api.post(
        f"/contracts/{signed.contract_id}/payments",
        json={"amount": "45000.50", "paid_on": "2026-04-02", "reference": "bank 9"},
    )
    assert r.status_code == 201, r.text
    assert [(p["period_id"], p["amount"]) for p in r.json()["payments"]] == [(q2, "30000.00"), (q3, "15000.50")]
    too_much = await contracts_api.post(
        f"/contracts/{signed.contract_id}/payments",
        json={"amount": "44999.51", "paid_on": "2026-04-02", "reference": "bank 10"},
    )
    assert too_much.status_code == 422, too_much.text
    assert (error(too_much)["rule"], error(too_much)["field"]) == ("payment_exceeds_owed", "amount")
    assert "44999.50 RUB still owed" in error(too_much)["message"]


def _bad(q: list[str]) -> list[tuple[str, dict, int, str, str]]:
    return [
        (
            "allocations not adding up",
            {"allocations": [{"period_id": q[0], "amount": "100"}]},
            422,
            "allocations",
            "allocations_sum",
        ),
        (
            "unknown period",
            {
                "allocations": [
                    {"period_id": q[0], "amount": "50"},
                    {"period_id": "00000000-0000-4000-8000-000000000000", "amount": "50"},
                ]
            },
            422,
            "allocations[1].period_id",
            "unknown_period",
        ),
        (
            "duplicated period",
            {"allocations": [{"period_id": q[0], "amount": "50"}, {"period_id": q[0], "amount": "50"}]},
            422,
            "allocations[1].period_id",
            "duplicate_period",
        ),
        ("reference of 101 characters", {"reference": "x" * 101}, 422, "reference", "string_too_long"),
        ("no reference", {"reference": None}, 422, "reference", "string_type"),
        ("arabic-indic digits", {"amount": "٢٠٠"}, 422, "amount", "amount_format"),
        (
            "period id not a uuid",
            {"allocations": [{"period_id": "q1", "amount": "200"}]},
            422,
            "allocations[0].period_id",
            "uuid_parsing",
        ),
    ]


@pytest.mark.parametrize("case", range(7))
async def test_bad_receipts_are_refused_naming_the_field_and_rule_and_write_nothing(contracts_api, case):
    signed = await sign_client_for_a_year(contracts_api)
    name, change, status, field, rule = _bad(signed.period_ids)[case]
    before = await history(contracts_api, signed.contract_id)
    body = {"amount": "200", "paid_on": "2026-02-01", "reference": f"r-{case}", **change}
    r = await contracts_api.post(f"/contracts/{signed.contract_id}/payments", json=body)
    assert r.status_code == status, (name, r.text)
    assert (error(r)["field"], error(r)["rule"]) == (field, rule), name
    assert await history(contracts_api, signed.contract_id) == before


async def test_a_reference_longer_than_100_characters_is_refused_on_one_period_too(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    r = await contracts_api.post(
        f"/contracts/{signed.contract_id}/periods/{signed.period_ids[0]}/payments",
        json={"paid_on": "2026-01-05", "reference": "я" * 101},
    )
    assert r.status_code == 422 and (error(r)["field"], error(r)["rule"]) == ("reference", "string_too_long")


# --- paid_on at most tomorrow in the company's time zone --------------------------------


async def test_paid_on_after_tomorrow_in_the_company_zone_is_refused_on_both_endpoints(stack):
    calendar = CompanyCalendar(ZoneInfo("Pacific/Kiritimati"))  # UTC+14: often a day ahead of UTC
    tomorrow = calendar.latest_paid_on()
    async with serving(create_app(contracts_settings(stack, run_relay=False), calendar)) as api:
        signed = await sign_client_for_a_year(api)
        period_url = f"/contracts/{signed.contract_id}/periods/{signed.period_ids[0]}/payments"
        receipt_url = f"/contracts/{signed.contract_id}/payments"
        before = await history(api, signed.contract_id)
        for url, extra in ((period_url, {}), (receipt_url, {"amount": "10", "reference": "later"})):
            for late in (tomorrow + timedelta(days=1), tomorrow.replace(year=2099)):
                r = await api.post(url, json={"paid_on": late.isoformat(), **extra})
                assert r.status_code == 422, r.text
                assert (error(r)["rule"], error(r)["field"]) == ("paid_on_in_future", "paid_on")
                assert tomorrow.isoformat() in error(r)["message"]
        assert await history(api, signed.contract_id) == before
        ok = await api.post(period_url, json={"amount": "10", "paid_on": tomorrow.isoformat()})
        assert ok.status_code == 201, ok.text
        ok = await api.post(receipt_url, json={"amount": "10", "paid_on": tomorrow.isoformat(), "reference": "b"})
        assert ok.status_code == 201, ok.text


# --- case 11: currencies' minor units ---------------------------------------------------


@pytest.mark.parametrize(
    "currency, amount, shown, bad",
    [
        ("KWD", "1000.125", "1000.125", "1000.1255"),
        ("JPY", "30000", "30000", "30000.5"),
        ("BHD", "12", "12.000", "0.0001"),
        ("RUB", "30000", "30000.00", "1.005"),
    ],
)
async def test_amounts_are_kept_in_their_currency_minor_units(contracts_api, currency, amount, shown, bad):
    signed = await sign_client_for_a_year(contracts_api, remind_days_before=None)
    period = {
        "starts_on": "2027-01-01",
        "ends_on": "2027-03-31",
        "amount": amount,
        "currency": currency,
        "payment_terms": "prepaid",
    }
    r = await contracts_api.post(
        "/contracts",
        json={"client_id": signed.client_id, "number": f"K-{currency}", "title": "IT", "signed_on": "2026-11-01"},
    )
    contract_id = r.json()["id"]
    r = await contracts_api.post(f"/contracts/{contract_id}/periods", json=period)
    assert r.status_code == 201, r.text
    contract = (await contracts_api.get(f"/contracts/{contract_id}")).json()
    assert (contract["periods"][0]["amount"], contract["periods"][0]["paid_amount"]) == (
        shown,
        "0" if currency == "JPY" else "0." + "0" * (len(shown.split(".")[1])),
    )
    refused = await contracts_api.post(
        f"/contracts/{contract_id}/periods",
        json={**period, "starts_on": "2027-04-01", "ends_on": "2027-06-30", "amount": bad},
    )
    assert refused.status_code == 422
    assert error(refused)["field"] == "amount"
    assert error(refused)["rule"] in ("amount_precision", "amount_format")
