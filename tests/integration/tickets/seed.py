"""The reference scenario's client, made through the contracts service's HTTP API."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.integration.contracts.scenario import sign_client_for_a_year

YEAR = 2026
Q1_DAY, Q2_DAY, AFTER_THE_YEAR = f"{YEAR}-02-16", f"{YEAR}-05-15", f"{YEAR + 1}-01-15"


@dataclass
class SeedClient:
    client_id: str
    contract_id: str
    period_ids: list[str]
    position: int
    """The position of the last contracts write: pass it as ``min_position``."""


async def reference_client(contracts: httpx.AsyncClient) -> SeedClient:
    """1 Jan – 31 Dec, four quarterly prepaid periods of 30000.00 RUB, Q1 paid."""
    signed = await sign_client_for_a_year(contracts, YEAR)
    r = await contracts.post(
        f"/contracts/{signed.contract_id}/periods/{signed.period_ids[0]}/payments",
        json={"paid_on": f"{YEAR}-01-10", "reference": "pp-q1"},
    )
    assert r.status_code == 201, r.text
    return SeedClient(signed.client_id, signed.contract_id, signed.period_ids, r.json()["position"])
