"""docs/integrating.md shows every event of payments.v1, each with an example that is valid
against the committed AsyncAPI document (a new event on the feed fails here until the guide
shows it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from shared.asyncapi.document import DOCS

GUIDE = (Path(__file__).resolve().parents[3] / "docs" / "integrating.md").read_text()
DOCUMENT = json.loads((DOCS / "payments.v1.json").read_text())


def section(name: str) -> str:
    match = re.search(rf"^### {name}\n(.*?)(?=^##)", GUIDE, re.MULTILINE | re.DOTALL)
    assert match, f"docs/integrating.md has no '### {name}' section"
    return match.group(1)


@pytest.mark.parametrize("name", list(DOCUMENT["channels"]["payments.v1"]["messages"]))
def test_every_payments_event_is_shown_with_a_valid_example(name: str) -> None:
    text = section(name)
    block = re.search(r"```json\n(.*?)```", text, re.DOTALL)
    assert block, f"'### {name}' has no JSON example"
    data = DOCUMENT["components"]["schemas"][f"{name}Envelope"]["allOf"][1]["properties"]["data"]
    schema = {**data, "components": DOCUMENT["components"]}
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
        json.loads(block.group(1))
    )
