"""One bank payment over Q3 and Q4, recorded by the contracts service over HTTP, reaches the
projections (both periods paid) and the public payments.v1 feed (two PaymentRecorded with one
receipt_id) through the outbox relay and real Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.contracts.bootstrap import create_app
from services.contracts.settings import ContractsSettings
from shared.topics import PAYMENTS
from tests.integration.contracts.scenario import sign_client_for_a_year
from tests.integration.projections.helpers import fresh
from tests.support.kafka import collect
from tests.support.servers import serving


@pytest.fixture(scope="module")
async def contracts(stack) -> AsyncIterator[httpx.AsyncClient]:
    settings = ContractsSettings(
        database_url=stack.database_urls["contracts"], http_port=0, kafka={"bootstrap_servers": stack.kafka_bootstrap}
    )
    async with serving(create_app(settings)) as client:
        yield client


async def test_a_receipt_over_two_periods_reaches_projections_and_payments_v1(
    contracts,
    projections_api,
    stack,
) -> None:
    signed = await sign_client_for_a_year(contracts, 2026)
    q1, q2, q3, q4 = signed.period_ids
    r = await contracts.post(
        f"/contracts/{signed.contract_id}/payments",
        json={
            "amount": "60000.00",
            "paid_on": "2026-07-02",
            "reference": "Счёт 15",
            "allocations": [{"period_id": q3, "amount": "30000.00"}, {"period_id": q4, "amount": "30000.00"}],
        },
    )
    assert r.status_code == 201, r.text
    receipt = r.json()

    listed = await fresh(
        projections_api, "/contracts", {"client_id": signed.client_id, "min_position": receipt["position"]}
    )
    periods = {p["period_id"]: p for p in listed["items"][0]["matched_periods"]}
    assert [periods[q]["paid"] for q in (q1, q2, q3, q4)] == [False, False, True, True]
    assert periods[q3]["paid_amount"] == periods[q4]["paid_amount"] == "30000.00"
    paid = await fresh(
        projections_api,
        "/contracts",
        {"client_id": signed.client_id, "paid": "true", "min_position": receipt["position"]},
    )
    assert {p["period_id"] for p in paid["items"][0]["matched_periods"]} == {q3, q4}

    public = await collect(stack.kafka_bootstrap, PAYMENTS, key=signed.client_id, until=lambda found: len(found) >= 2)
    assert [e.event_type for e in public] == ["PaymentRecorded", "PaymentRecorded"]
    assert {e.data["receipt_id"] for e in public} == {receipt["receipt_id"]}
    assert {e.data["reference"] for e in public} == {"Счёт 15"}
    assert [(e.data["period_id"], e.data["amount"]) for e in public] == [(q3, "30000.00"), (q4, "30000.00")]
    assert [e.data["payment_id"] for e in public] == [p["payment_id"] for p in receipt["payments"]]
