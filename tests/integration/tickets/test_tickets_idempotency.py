"""``Idempotency-Key`` on the tickets service's creates (issue 15 "Idempotent creates")."""

from __future__ import annotations

import uuid

from tests.integration.tickets.seed import Q1_DAY, reference_client


async def test_a_retried_registration_answers_the_first_ticket(contracts_api, tickets_api):
    seed = await reference_client(contracts_api)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"client_id": seed.client_id, "title": "Printer", "registered_at": Q1_DAY, "min_position": seed.position}
    first = await tickets_api.post("/tickets", json=body, headers=key)
    again = await tickets_api.post("/tickets", json=body, headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    listed = (await tickets_api.get("/tickets", params={"client_id": seed.client_id})).json()["items"]
    assert [t["id"] for t in listed] == [first.json()["id"]]

    other = await tickets_api.post("/tickets", json={**body, "title": "Scanner"}, headers=key)
    assert (other.status_code, other.json()["errors"][0]["rule"]) == (422, "idempotency_key_reused")

    code = f"IK-{uuid.uuid4().hex[:8]}"
    item = {"code": code, "name": "Set-up", "unit": "pcs", "price": "10.00", "currency": "RUB"}
    assert (await tickets_api.post("/price-list", json=item)).status_code == 201
    line_key = {"Idempotency-Key": f"line-{uuid.uuid4()}"}
    url = f"/tickets/{first.json()['id']}/items"
    added = await tickets_api.post(url, json={"code": code, "quantity": 2}, headers=line_key)
    retried = await tickets_api.post(url, json={"quantity": 2, "code": code}, headers=line_key)  # same data
    assert added.status_code == retried.status_code == 201
    assert retried.json()["line_id"] == added.json()["line_id"]
    assert len((await tickets_api.get(f"/tickets/{first.json()['id']}")).json()["lines"]) == 1
