"""The compatibility check that guards payments.v1 (docs/integrating.md, "Evolution"), on
copies of the released document: what a consumer survives passes, what breaks it fails."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from shared.asyncapi.compat import breaking_changes
from shared.asyncapi.document import DOCS

RELEASED = json.loads((DOCS / "released" / "payments.v1.json").read_text())


def edited(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(RELEASED)
    change(document["components"]["schemas"], document)
    return document


def recorded(schemas: dict[str, Any]) -> dict[str, Any]:
    return schemas["PaymentRecorded"]


def test_the_released_document_is_compatible_with_itself_and_with_the_current_one() -> None:
    assert breaking_changes(RELEASED, RELEASED) == []
    current = json.loads((DOCS / "payments.v1.json").read_text())
    assert breaking_changes(RELEASED, current) == []


def test_removing_a_field_fails() -> None:
    def remove(schemas: dict[str, Any], _: dict[str, Any]) -> None:
        del recorded(schemas)["properties"]["paid_on"]
        recorded(schemas)["required"].remove("paid_on")

    problems = breaking_changes(RELEASED, edited(remove))
    assert problems and "'paid_on' removed" in problems[0]


def test_adding_an_optional_field_passes() -> None:
    def add(schemas: dict[str, Any], _: dict[str, Any]) -> None:
        recorded(schemas)["properties"]["cashier"] = {"type": "string", "description": "who took the money"}

    assert breaking_changes(RELEASED, edited(add)) == []


def test_adding_a_required_field_fails_because_old_records_lack_it() -> None:
    def add(schemas: dict[str, Any], _: dict[str, Any]) -> None:
        recorded(schemas)["properties"]["cashier"] = {"type": "string"}
        recorded(schemas)["required"].append("cashier")

    assert any("'cashier' is required" in p for p in breaking_changes(RELEASED, edited(add)))


def test_adding_a_message_type_passes_and_removing_one_fails() -> None:
    def add(_: dict[str, Any], document: dict[str, Any]) -> None:
        document["components"]["messages"]["InvoiceIssued"] = {"payload": {"type": "object"}}
        document["channels"]["payments.v1"]["messages"]["InvoiceIssued"] = {
            "$ref": "#/components/messages/InvoiceIssued"
        }

    def remove(_: dict[str, Any], document: dict[str, Any]) -> None:
        del document["channels"]["payments.v1"]["messages"]["DebtSettled"]

    assert breaking_changes(RELEASED, edited(add)) == []
    assert breaking_changes(RELEASED, edited(remove)) == ["channel payments.v1: message DebtSettled removed"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["PaymentRecorded"]["properties"].update(period_paid={"type": "string"}), "period_paid: type"),
        (lambda s: s["PaymentRecorded"]["required"].remove("amount"), "'amount' no longer always present"),
        (lambda s: s["PaymentRecorded"]["properties"]["paid_on"].update(format="date-time"), "format 'date'"),
        (
            lambda s: s["PeriodAdjusted"]["properties"]["reason"]["enum"].append("goodwill"),
            "new values ['goodwill']",
        ),
    ],
    ids=["type changed", "made optional", "format changed", "enum widened"],
)
def test_other_breaking_changes_fail(change: Any, expected: str) -> None:
    def apply(schemas: dict[str, Any], _: dict[str, Any]) -> None:
        change(schemas)

    problems = breaking_changes(RELEASED, edited(apply))
    assert any(expected in p for p in problems), problems


def test_narrowing_is_not_breaking() -> None:
    def narrow(schemas: dict[str, Any], _: dict[str, Any]) -> None:
        schemas["PaymentRecorded"]["properties"]["reference"] = {"type": "string"}  # no longer nullable

    assert breaking_changes(RELEASED, edited(narrow)) == []
