"""``Idempotency-Key`` on the contracts service's creates (issue 15 "Idempotent creates"):
the same key and request again is the original answer (status, ids, position) and writes
nothing; the same key with another request is 422; keys are per caller; a refused request
keeps no answer, so its retry runs again."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from tests.integration.contracts.scenario import sign_client_for_a_year
from tests.support.auth import bearer


def client_body(tag: str) -> dict[str, str]:
    return {"name": f"Idem {tag}", "manager_name": "M", "manager_email": f"m.{tag}@example.com"}


async def test_a_retry_gets_the_original_answer_and_writes_nothing(contracts_api):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = client_body(uuid.uuid4().hex[:8])
    first = await contracts_api.post("/clients", json=body, headers=key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = await contracts_api.post("/clients", content=f" {body!r}".replace("'", '"'), headers=key)
    assert again.status_code == 201 and again.json() == first.json()  # same id, same position
    assert again.headers["idempotent-replayed"] == "true"

    reused = await contracts_api.post("/clients", json={**body, "name": "Another"}, headers=key)
    assert reused.status_code == 422
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json()["errors"][0]["rule"] == "idempotency_key_reused"
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"

    mine = await contracts_api.post("/clients", json=body, headers={**key, **bearer("manager", sub="someone-else")})
    assert mine.status_code == 201 and mine.json()["id"] != first.json()["id"]  # keys are per caller


async def test_every_create_replays(contracts_api):
    signed = await sign_client_for_a_year(contracts_api)
    contract = f"/contracts/{signed.contract_id}"
    creates = [
        (
            "/contracts",
            {
                "client_id": signed.client_id,
                "number": f"N-{uuid.uuid4().hex[:6]}",
                "title": "t",
                "signed_on": "2026-01-01",
            },
        ),
        (
            f"{contract}/periods",
            {
                "starts_on": "2027-01-01",
                "ends_on": "2027-01-31",
                "amount": "1.00",
                "currency": "RUB",
                "payment_terms": "prepaid",
            },
        ),
        (
            f"{contract}/periods/schedule",
            {
                "starts_on": "2027-02-01",
                "ends_on": "2027-04-30",
                "every": "month",
                "amount": "1.00",
                "currency": "RUB",
                "payment_terms": "prepaid",
            },
        ),
        (f"{contract}/periods/{signed.period_ids[1]}/payments", {"paid_on": "2026-01-02", "amount": "1.00"}),
        (f"{contract}/payments", {"paid_on": "2026-01-02", "amount": "2.00", "reference": f"r-{uuid.uuid4().hex[:6]}"}),
    ]
    for url, body in creates:
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await contracts_api.post(url, json=body, headers=key)
        assert first.status_code == 201, (url, first.text)
        events = len((await contracts_api.get(f"{contract}/events")).json()["items"])
        again = await contracts_api.post(url, json=body, headers=key)
        assert (again.status_code, again.json()) == (201, first.json()), url
        assert len((await contracts_api.get(f"{contract}/events")).json()["items"]) == events, url


async def test_a_refused_request_keeps_no_answer(contracts_api):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"client_id": str(uuid.uuid4()), "number": "N", "title": "t", "signed_on": "2026-01-01"}
    refused = await contracts_api.post("/contracts", json=body, headers=key)
    assert refused.status_code == 404, refused.text
    again = await contracts_api.post("/contracts", json=body, headers=key)
    assert again.status_code == 404 and "idempotent-replayed" not in again.headers


async def test_concurrent_retries_create_one_client(contracts_api):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = client_body(uuid.uuid4().hex[:8])
    answers = await asyncio.gather(*(contracts_api.post("/clients", json=body, headers=key) for _ in range(8)))
    created = {r.json()["id"] for r in answers if r.status_code == 201}
    assert len(created) == 1, [r.text for r in answers]
    assert {r.status_code for r in answers} <= {201, 409}
    for r in answers:
        if r.status_code == 409:
            assert r.json()["errors"][0]["rule"] == "idempotency_key_in_use" and r.headers["retry-after"] == "1"


async def test_keys_are_kept_a_day_and_then_forgotten(contracts_api, stack):
    key = str(uuid.uuid4())
    body = client_body(uuid.uuid4().hex[:8])
    first = await contracts_api.post("/clients", json=body, headers={"Idempotency-Key": key})
    conn = await asyncpg.connect(stack.database_urls["contracts"])
    try:
        await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = $1", key)
        kept = await contracts_api.post("/clients", json=body, headers={"Idempotency-Key": key})
        assert kept.json() == first.json()
        await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1", key)
        fresh = await contracts_api.post("/clients", json=body, headers={"Idempotency-Key": key})
        assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]
    finally:
        await conn.close()


async def test_a_bad_key_is_refused_naming_the_header(contracts_api):
    r = await contracts_api.post("/clients", json=client_body("x"), headers={"Idempotency-Key": "x" * 256})
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "Idempotency-Key"), r.text
