"""The reference scenario's first steps over HTTP, reused by several tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx


@dataclass
class Signed:
    client_id: str
    contract_id: str
    period_ids: list[str]
    position: int


async def sign_client_for_a_year(
    api: httpx.AsyncClient,
    year: int = 2026,
    *,
    amount: str = "30000.00",
    terms: str = "prepaid",
    remind_days_before: int | None = 10,
) -> Signed:
    tag = uuid.uuid4().hex[:8]
    r = await api.post(
        "/clients",
        json={
            "name": f"ООО Ромашка {tag}",
            "manager_name": "Ирина Петрова",
            "manager_email": f"irina.{tag}@example.com",
        },
    )
    assert r.status_code == 201, r.text
    client_id = r.json()["id"]
    r = await api.post(
        "/contracts",
        json={
            "client_id": client_id,
            "number": f"AB-{tag}",
            "title": "IT outsourcing",
            "signed_on": f"{year - 1}-12-20",
        },
    )
    assert r.status_code == 201, r.text
    contract_id = r.json()["id"]
    body: dict[str, object] = {
        "starts_on": f"{year}-01-01",
        "ends_on": f"{year}-12-31",
        "every": "quarter",
        "amount": amount,
        "currency": "RUB",
        "payment_terms": terms,
    }
    if remind_days_before is not None:
        body["remind_days_before"] = remind_days_before
    r = await api.post(f"/contracts/{contract_id}/periods/schedule", json=body)
    assert r.status_code == 201, r.text
    return Signed(client_id, contract_id, r.json()["period_ids"], r.json()["position"])
