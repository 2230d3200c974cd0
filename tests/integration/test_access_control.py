"""Every route of every service's OpenAPI document, table-driven (issue 13 "Must show").

For each operation: no token, and tokens that are expired, not yet valid, from another
issuer, for another audience, badly signed or ``alg: none`` -> 401 with a short reason and
``WWW-Authenticate: Bearer``; malformed Authorization headers -> 401, never 500; a role the
operation does not declare -> 403; each role it declares -> neither 401 nor 403. An
operation (other than /health/* and /metrics) without declared roles fails the test.
The four services run in-process on the real stack (no consumers, no relays: nothing here
writes anything that would be published).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from services.contracts.bootstrap import create_app as contracts_app
from services.contracts.settings import ContractsSettings
from services.notifier.bootstrap import create_app as notifier_app
from services.notifier.settings import NotifierSettings
from services.projections.bootstrap import create_app as projections_app
from services.projections.settings import ProjectionsSettings
from services.tickets.bootstrap import create_app as tickets_app
from services.tickets.settings import TicketsSettings
from shared.auth import AuthSettings
from shared.auth.principal import ROLES
from tests.support.servers import serving

OPEN = ("/health/", "/metrics")
Operation = tuple[str, str, str, frozenset[str]]  # service, method, path, declared roles

# The issue's role table, route by route (admin may do everything and is always declared).
EXPECTED: dict[tuple[str, str, str], set[str]] = {
    ("contracts", "POST", "/clients"): {"manager"},
    ("contracts", "PATCH", "/clients/{client_id}"): {"manager"},
    ("contracts", "GET", "/clients/{client_id}"): {"manager"},
    ("contracts", "POST", "/contracts"): {"manager"},
    ("contracts", "GET", "/contracts/{contract_id}"): {"manager", "accountant", "integration"},
    ("contracts", "GET", "/contracts/{contract_id}/events"): {"manager"},
    ("contracts", "POST", "/contracts/{contract_id}/terminate"): {"manager"},
    ("contracts", "POST", "/contracts/{contract_id}/periods"): {"manager"},
    ("contracts", "POST", "/contracts/{contract_id}/periods/schedule"): {"manager"},
    ("contracts", "PATCH", "/contracts/{contract_id}/periods/{period_id}"): {"manager"},
    ("contracts", "DELETE", "/contracts/{contract_id}/periods/{period_id}"): {"manager"},
    ("contracts", "POST", "/contracts/{contract_id}/periods/{period_id}/payments"): {"accountant", "integration"},
    ("contracts", "DELETE", "/contracts/{contract_id}/periods/{period_id}/payments/{payment_id}"): {"accountant"},
    ("contracts", "POST", "/scheduler/tick"): set(),
    ("contracts", "POST", "/contracts/{contract_id}/renew"): {"manager"},
    ("contracts", "PUT", "/contracts/{contract_id}/auto_renew"): {"manager"},
    ("contracts", "POST", "/contracts/{contract_id}/periods/{period_id}/invoice"): {"manager", "accountant"},
    ("contracts", "GET", "/invoices/{invoice_id}"): {"manager", "accountant"},
    ("contracts", "GET", "/invoices/{invoice_id}.pdf"): {"manager", "accountant"},
    ("contracts", "POST", "/payments/import"): {"accountant"},
    ("contracts", "GET", "/payments/unallocated"): {"accountant"},
    ("contracts", "POST", "/payments/unallocated/{receipt_id}/allocate"): {"accountant"},
    ("projections", "GET", "/clients/{client_id}/coverage"): {"dispatcher", "manager", "integration", "service"},
    ("projections", "GET", "/clients"): {"dispatcher", "manager", "accountant", "integration"},
    ("projections", "GET", "/clients/{client_id}"): {"dispatcher", "manager", "accountant", "integration"},
    ("projections", "GET", "/contracts"): {"manager", "accountant", "integration"},
    ("projections", "GET", "/debtors"): {"manager", "accountant", "integration"},
    ("projections", "GET", "/income"): {"manager", "accountant", "integration"},
    ("tickets", "POST", "/tickets"): {"dispatcher"},
    ("tickets", "GET", "/tickets"): {"dispatcher", "manager"},
    ("tickets", "GET", "/tickets/{ticket_id}"): {"dispatcher", "manager"},
    ("tickets", "POST", "/tickets/{ticket_id}/items"): {"dispatcher"},
    ("tickets", "DELETE", "/tickets/{ticket_id}/items/{line_id}"): {"dispatcher"},
    ("tickets", "POST", "/price-list"): set(),
    ("tickets", "GET", "/price-list"): {"dispatcher", "manager"},
    ("notifier", "GET", "/notifications"): {"manager"},
    ("notifier", "POST", "/notifications/{event_id}/retry"): set(),
}


@pytest.fixture(scope="module")
async def services(stack) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    kafka = {"bootstrap_servers": stack.kafka_bootstrap}
    urls = stack.database_urls
    async with (
        serving(
            projections_app(
                ProjectionsSettings(database_url=urls["projections"], http_port=0, kafka=kafka, consume=False)
            ),
            role=None,
        ) as projections,
        serving(
            contracts_app(ContractsSettings(database_url=urls["contracts"], http_port=0, kafka=kafka, run_relay=False)),
            role=None,
        ) as contracts,
        serving(
            tickets_app(
                TicketsSettings(
                    database_url=urls["tickets"],
                    http_port=0,
                    kafka=kafka,
                    run_relay=False,
                    projections_url=str(projections.base_url),
                )
            ),
            role=None,
        ) as tickets,
        serving(
            notifier_app(
                NotifierSettings(
                    database_url=urls["notifier"],
                    http_port=0,
                    kafka=kafka,
                    consume=False,
                    smtp_host=stack.smtp_host,
                    smtp_port=stack.smtp_port,
                )
            ),
            role=None,
        ) as notifier,
    ):
        yield {"contracts": contracts, "projections": projections, "tickets": tickets, "notifier": notifier}


@pytest.fixture(scope="module")
async def operations(services) -> list[Operation]:
    found: list[Operation] = []
    for name, client in services.items():
        document = (await client.get("/openapi.json")).json()
        for path, methods in document["paths"].items():
            for method, operation in methods.items():
                if path.startswith(OPEN):
                    assert not operation.get("security"), f"{path} is meant to stay open"
                    continue
                declared = [roles for requirement in operation.get("security") or [] for roles in requirement.values()]
                assert declared and declared[0], f"{name} {method.upper()} {path} declares no roles: add allow(...)"
                for status in ("401", "403"):
                    assert status in operation["responses"], f"{name} {method.upper()} {path}: {status} undocumented"
                found.append((name, method.upper(), path, frozenset(declared[0])))
    return found


def token(role: str = "manager", key: str | None = None, algorithm: str = "HS256", **overrides: Any) -> str:
    settings = AuthSettings()
    now = int(time.time())
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": f"table-{role}",
        "roles": [role],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        **overrides,
    }
    secret = key or (settings.hs256_secret.get_secret_value() if settings.hs256_secret else "")
    return jwt.encode(claims, secret if algorithm != "none" else "", algorithm=algorithm)  # "none" takes no key


def bad_tokens() -> dict[str, str]:
    now = int(time.time())
    return {
        "token expired": token(exp=now - 3600, iat=now - 7200, nbf=now - 7200),
        "token not yet valid": token(nbf=now + 3600),
        "wrong issuer": token(iss="https://evil.example"),
        "wrong audience": token(aud="another-system"),
        "bad signature": token(key="another-secret-of-at-least-32-bytes!!"),
        "algorithm not allowed": token(algorithm="none"),
    }


MALFORMED = [
    b"Token abc",
    b"Bearer",
    b"Bearer a.b.c d.e.f",
    b"Bearer " + b"g" * 10_240,
    "Bearer токен".encode(),
    b"Bearer \xff\xfe.abc.x",
    b"bearer",
]


async def call(services: dict[str, httpx.AsyncClient], op: Operation, headers: dict[str, Any]) -> httpx.Response:
    service, method, path, _ = op
    concrete = path
    while "{" in concrete:
        start, end = concrete.index("{"), concrete.index("}")
        concrete = concrete[:start] + str(uuid.uuid4()) + concrete[end + 1 :]
    body: dict[str, Any] | None = {} if method in ("POST", "PATCH") else None
    return await services[service].request(method, concrete, json=body, headers=headers)


def refused_as(r: httpx.Response, reason: str | None = None) -> bool:
    if r.status_code != 401 or not r.headers.get("WWW-Authenticate", "").startswith("Bearer"):
        return False
    [error] = r.json()["errors"]
    return error["rule"] == "unauthenticated" and (reason is None or error["message"] == reason)


async def test_every_operation_needs_a_valid_token_and_a_declared_role(services, operations):
    assert len(operations) >= len(EXPECTED)
    for op in operations:
        service, method, path, declared = op
        where = f"{service} {method} {path}"
        assert refused_as(await call(services, op, {}), "missing bearer token"), where
        for reason, bad in bad_tokens().items():
            assert refused_as(await call(services, op, {"Authorization": f"Bearer {bad}"}), reason), (where, reason)
        for header in MALFORMED:
            r = await call(services, op, {"Authorization": header})
            assert refused_as(r), (where, header[:20], r.status_code, r.text[:200])
        for role in sorted(ROLES - declared)[:2]:
            r = await call(services, op, {"Authorization": f"Bearer {token(role)}"})
            assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "forbidden", (where, role, r.text)
        for role in sorted(declared):
            r = await call(services, op, {"Authorization": f"Bearer {token(role)}"})
            assert r.status_code not in (401, 403) and r.status_code < 500, (where, role, r.status_code, r.text)


async def test_the_declared_roles_follow_the_issue_table(operations):
    declared = {(s, m, p): set(roles) for s, m, p, roles in operations}
    for key, roles in EXPECTED.items():
        assert key in declared, f"{key} is no longer served"
        assert declared[key] == roles | {"admin"}, key
