"""The HTTP shell ceiling does the shell's whole work with contracts' real route: it
authenticates, checks the role, validates the body, and answers 201 — only the application's
work (the database) is missing."""

from __future__ import annotations

import uuid

import httpx
import pytest

from bench.http_ceiling import PATH, shell_app
from shared.auth import AuthSettings, mint

SECRET = "s" * 32


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setenv("ABONENT_AUTH_HS256_SECRET", SECRET)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=shell_app()), base_url="http://shell")


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(AuthSettings(hs256_secret=SECRET), [role], 'bench-' + role)}"}


def path() -> str:
    return PATH.format(contract_id=uuid.uuid4(), period_id=uuid.uuid4())


async def test_an_accountants_payment_is_answered_201_with_the_route_schema(client) -> None:
    async with client:
        answer = await client.post(
            path(), json={"amount": "1.00", "paid_on": "2026-11-30"}, headers=bearer("accountant")
        )
    assert answer.status_code == 201
    assert uuid.UUID(answer.json()["payment_id"])
    assert answer.json()["position"] >= 1


async def test_it_refuses_what_the_service_refuses(client) -> None:
    body = {"amount": "1.00", "paid_on": "2026-11-30"}
    async with client:
        anonymous = await client.post(path(), json=body)
        manager = await client.post(path(), json=body, headers=bearer("manager"))
        bad = await client.post(path(), json={"amount": "1.00", "paid_on": "30.11.2026"}, headers=bearer("accountant"))
    assert anonymous.status_code == 401
    assert manager.status_code == 403
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["paid_on"]
