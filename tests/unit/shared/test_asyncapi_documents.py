"""The committed AsyncAPI documents hold together: every message has an example recorded from
a real run, and each example validates (value, headers, key) against its own message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from shared.asyncapi.document import DOCS

DOCUMENTS = ("payments.v1.json", "contracts-internal.json", "tickets.events.v1.json")


def messages() -> list[tuple[str, dict[str, Any], str]]:
    out: list[tuple[str, dict[str, Any], str]] = []
    for name in DOCUMENTS:
        document = json.loads((DOCS / name).read_text())
        out.extend((name, document, message) for message in document["components"]["messages"])
    return out


def validate(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    Draft202012Validator(
        {**schema, "components": document["components"]}, format_checker=Draft202012Validator.FORMAT_CHECKER
    ).validate(instance)


@pytest.mark.parametrize(("file", "document", "name"), messages(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_message_has_a_recorded_example_that_validates(file: str, document: dict[str, Any], name: str) -> None:
    message = document["components"]["messages"][name]
    assert message.get("examples"), f"{file} {name}: no example; run `make asyncapi-examples`"
    [example] = message["examples"]
    validate(document, message["payload"], example["payload"])
    validate(document, message["headers"], example["headers"])
    assert example["payload"]["event_type"] == name


@pytest.mark.parametrize("file", DOCUMENTS)
def test_every_document_has_a_production_server_with_sasl_over_tls(file: str) -> None:
    document = json.loads((DOCS / file).read_text())
    production = document["servers"]["production"]
    assert production["protocol"] == "kafka-secure"
    schemes = document["components"]["securitySchemes"]
    assert [schemes[ref["$ref"].rsplit("/", 1)[1]]["type"] for ref in production["security"]] == [
        "scramSha512",
        "scramSha256",
        "plain",
    ]
    assert '"additionalProperties": false' not in json.dumps(document["components"]["schemas"])  # open for readers
