"""The contracts service over HTTP against real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import uuid

from shared.topics import CONTRACTS_EVENTS, PAYMENTS
from tests.integration.contracts.scenario import sign_client_for_a_year
from tests.support.kafka import collect


async def test_reference_contract_is_created_and_its_events_reach_kafka_in_order(contracts_api, stack):
    signed = await sign_client_for_a_year(contracts_api)
    assert len(signed.period_ids) == 4
    r = await contracts_api.post(
        f"/contracts/{signed.contract_id}/periods/{signed.period_ids[0]}/payments",
        json={"paid_on": "2026-01-10", "reference": "bank-001"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["position"] > signed.position

    contract = (await contracts_api.get(f"/contracts/{signed.contract_id}")).json()
    assert [(p["starts_on"], p["ends_on"]) for p in contract["periods"]] == [
        ("2026-01-01", "2026-03-31"),
        ("2026-04-01", "2026-06-30"),
        ("2026-07-01", "2026-09-30"),
        ("2026-10-01", "2026-12-31"),
    ]
    assert [p["paid"] for p in contract["periods"]] == [True, False, False, False]
    assert contract["periods"][0]["paid_amount"] == "30000.00"
    assert contract["periods"][0]["remind_on"] == "2026-03-21"

    events = await collect(
        stack.kafka_bootstrap, CONTRACTS_EVENTS, key=signed.client_id, until=lambda found: len(found) >= 7
    )
    assert [e.event_type for e in events] == [
        "ClientRegistered",
        "ContractOpened",
        *["ServicePeriodAdded"] * 4,
        "PaymentRecorded",
    ]
    positions = [e.position for e in events]
    assert positions == sorted(positions)
    public = await collect(stack.kafka_bootstrap, PAYMENTS, key=signed.client_id, until=lambda found: len(found) >= 1)
    assert public[0].event_type == "PaymentRecorded"
    assert public[0].data["amount"] == "30000.00" and public[0].data["reference"] == "bank-001"

    history = (await contracts_api.get(f"/contracts/{signed.contract_id}/events")).json()["items"]
    assert [h["event_type"] for h in history][-1] == "PaymentRecorded"
    assert all(h["correlation_id"] and h["actor"] for h in history)


async def test_fifty_concurrent_payments_on_one_contract_lose_no_update(contracts_api):
    signed = await sign_client_for_a_year(contracts_api, amount="5000.00")
    period = signed.period_ids[1]
    answers = await asyncio.gather(
        *(
            contracts_api.post(
                f"/contracts/{signed.contract_id}/periods/{period}/payments",
                json={"amount": "100.00", "paid_on": "2026-04-02"},
            )
            for _ in range(50)
        )
    )
    created = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert all(a.status_code == 409 and a.json()["errors"][0]["rule"] == "concurrent_modification" for a in refused), [
        a.text for a in refused
    ]
    contract = (await contracts_api.get(f"/contracts/{signed.contract_id}")).json()
    recorded = contract["periods"][1]["payments"]
    assert {p["payment_id"] for p in recorded} == {a.json()["payment_id"] for a in created}
    assert contract["periods"][1]["paid_amount"] == f"{100 * len(created)}.00"
    assert len(created) >= 25  # retries absorb most clashes even on a loaded 2-core machine


async def test_the_same_payment_reference_twice_is_recorded_once(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    url = f"/contracts/{signed.contract_id}/periods/{signed.period_ids[0]}/payments"
    first = await contracts_api.post(url, json={"amount": "1000.00", "paid_on": "2026-01-05", "reference": "pp-77"})
    again = await contracts_api.post(url, json={"amount": "1000.00", "paid_on": "2026-01-05", "reference": "pp-77"})
    assert first.status_code == 201 and again.status_code == 200  # the retry: the original answer
    assert again.json() == first.json() and again.json()["position"] is not None
    contract = (await contracts_api.get(f"/contracts/{signed.contract_id}")).json()
    assert contract["periods"][0]["paid_amount"] == "1000.00"


async def test_partial_payment_then_cancel_restores_what_is_owed(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    url = f"/contracts/{signed.contract_id}/periods/{signed.period_ids[0]}/payments"
    paid = (await contracts_api.post(url, json={"amount": "10000.00", "paid_on": "2026-01-05"})).json()
    too_much = await contracts_api.post(url, json={"amount": "25000.00", "paid_on": "2026-01-06"})
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["rule"] == "payment_exceeds_owed"
    assert "20000.00" in too_much.json()["errors"][0]["message"]
    r = await contracts_api.delete(f"{url}/{paid['payment_id']}", params={"reason": "wrong client"})
    assert r.status_code == 200 and r.json()["position"] > paid["position"]
    contract = (await contracts_api.get(f"/contracts/{signed.contract_id}")).json()
    assert contract["periods"][0]["paid_amount"] == "0.00"
    assert contract["periods"][0]["payments"][0]["cancelled"] is True


async def test_terminated_contract_takes_no_new_periods(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    r = await contracts_api.post(
        f"/contracts/{signed.contract_id}/terminate", json={"terminated_on": "2026-06-30", "reason": "client left"}
    )
    assert r.status_code == 200
    r = await contracts_api.post(
        f"/contracts/{signed.contract_id}/periods",
        json={
            "starts_on": "2027-01-01",
            "ends_on": "2027-03-31",
            "amount": "1.00",
            "currency": "RUB",
            "payment_terms": "prepaid",
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "contract_terminated"


async def test_unknown_client_for_a_new_contract_is_404_naming_client_id(contracts_api):
    r = await contracts_api.post(
        "/contracts", json={"client_id": str(uuid.uuid4()), "number": "X-1", "title": "t", "signed_on": "2026-01-01"}
    )
    assert r.status_code == 404
    assert r.json()["errors"][0]["field"] == "client_id"
