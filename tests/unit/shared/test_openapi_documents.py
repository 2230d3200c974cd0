"""Each service's OpenAPI document says what the wire does (issue 15 "Contract violations",
issue 16 "HTTP conventions"): errors as problem JSON (never FastAPI's ``{"detail": [...]}``),
every status a route can answer, the one pagination style, readable unique operationIds,
``Idempotency-Key`` on every create. Built from the apps without starting them (no I/O)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.contracts.bootstrap import create_app as contracts_app
from services.contracts.settings import ContractsSettings
from services.notifier.bootstrap import create_app as notifier_app
from services.notifier.settings import NotifierSettings
from services.projections.bootstrap import create_app as projections_app
from services.projections.settings import ProjectionsSettings
from services.tickets.bootstrap import create_app as tickets_app
from services.tickets.settings import TicketsSettings

DB = "postgresql://abonent:secret@127.0.0.1:9/abonent"
KAFKA = {"bootstrap_servers": "127.0.0.1:9"}
PROBLEM = "application/problem+json"
CREATES = {
    ("contracts", "/clients"),
    ("contracts", "/contracts"),
    ("contracts", "/contracts/{contract_id}/periods"),
    ("contracts", "/contracts/{contract_id}/periods/schedule"),
    ("contracts", "/contracts/{contract_id}/periods/{period_id}/payments"),
    ("contracts", "/contracts/{contract_id}/payments"),
    ("contracts", "/contracts/{contract_id}/renew"),
    ("contracts", "/contracts/{contract_id}/periods/{period_id}/invoice"),
    ("contracts", "/payments/unallocated/{receipt_id}/allocate"),
    ("tickets", "/tickets"),
    ("tickets", "/tickets/{ticket_id}/items"),
    ("tickets", "/price-list"),
}


def documents() -> dict[str, dict[str, Any]]:
    return {
        "contracts": contracts_app(ContractsSettings(database_url=DB, kafka=KAFKA)).openapi(),
        "projections": projections_app(ProjectionsSettings(database_url=DB, kafka=KAFKA)).openapi(),
        "tickets": tickets_app(TicketsSettings(database_url=DB, kafka=KAFKA)).openapi(),
        "notifier": notifier_app(NotifierSettings(database_url=DB, kafka=KAFKA)).openapi(),
    }


DOCUMENTS = documents()


def operations(service: str):
    for path, methods in DOCUMENTS[service]["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_every_error_answer_is_documented_as_problem_json(service: str) -> None:
    document = DOCUMENTS[service]
    assert "HTTPValidationError" not in str(document)
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(
        document["components"]["schemas"]["ErrorBody"]["properties"]
    )
    for path, method, operation in operations(service):
        if path in ("/health/live", "/metrics"):
            continue
        responses = operation["responses"]
        assert "503" in responses, (service, method, path)
        if path == "/health/ready":
            continue
        expected = {"400", "401", "403", "503"} if operation.get("security") else {"400", "503"}
        if operation.get("parameters") or operation.get("requestBody"):
            expected.add("422")
        if "{" in path or method != "get":
            expected.add("404")
        if method != "get":
            expected.add("409")
        assert expected <= set(responses), (service, method, path, sorted(responses))
        for status, answer in responses.items():
            if status[0] in "45":
                assert list(answer["content"]) == [PROBLEM], (service, method, path, status)
        assert "Retry-After" in responses["503"]["headers"]


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_operation_ids_are_readable_and_unique(service: str) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(service)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", operation_id), operation_id


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_lists_page_one_way(service: str) -> None:
    for path, _method, operation in operations(service):
        names = {p["name"] for p in operation.get("parameters", [])}
        assert not names & {"limit", "offset"}, (service, path)
        schema = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        ref = schema.get("$ref", "").rsplit("/", 1)[-1]
        properties = DOCUMENTS[service]["components"]["schemas"].get(ref, {}).get("properties", {})
        if "items" in properties:
            assert {"page", "page_size"} <= names, (service, path)
            assert {"page", "page_size", "next_page"} <= set(properties), (service, path)
            page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")["schema"]
            assert page_size["maximum"] == 500


def test_every_create_takes_an_idempotency_key() -> None:
    found = set()
    for service in DOCUMENTS:
        for path, method, operation in operations(service):
            if any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation.get("parameters", [])):
                assert method == "post", (service, path)
                found.add((service, path))
    assert found == CREATES


def test_text_and_dates_document_their_bounds() -> None:
    schemas = DOCUMENTS["contracts"]["components"]["schemas"]
    name = schemas["RegisterClientRequest"]["properties"]["name"]
    assert name["maxLength"] == 300 and "\\x00" in name["pattern"]
    ends_on = schemas["AddPeriodRequest"]["properties"]["ends_on"]
    assert re.fullmatch(ends_on["pattern"], "2199-12-31") and not re.fullmatch(ends_on["pattern"], "9999-12-31")
