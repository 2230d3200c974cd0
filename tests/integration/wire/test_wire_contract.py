"""The committed AsyncAPI documents describe what is really on the wire.

After a scenario that makes every event type, the real records of every topic (read from the
broker from the beginning, as an integrator's consumer would) are validated — key, headers and
the FULL value — against the committed document's message for their ``event_type``; and every
documented message must have been seen on the wire.

``ABONENT_ASYNCAPI_EXAMPLES=write`` (``make asyncapi-examples``) also records the first record
of each type as the document's example (``docs/asyncapi/examples/<topic>.json``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka import ConsumerRecord
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from shared.asyncapi.document import DOCS, EXAMPLES
from tests.integration.wire.records import read_records

DOCUMENTS = ("payments.v1.json", "contracts-internal.json", "tickets.events.v1.json")


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """Validates against ``schema``, resolving its ``#/components/...`` references in ``document``."""
    return Draft202012Validator(
        {**schema, "components": document["components"]}, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def channels() -> Iterable[tuple[dict[str, Any], str, list[str]]]:
    for name in DOCUMENTS:
        document = json.loads((DOCS / name).read_text())
        for topic, channel in document["channels"].items():
            yield document, topic, list(channel["messages"])


def event_types(records: list[ConsumerRecord]) -> set[str]:
    return {dict(r.headers)["event_type"].decode() for r in records}


def all_of(want: frozenset[str]) -> Callable[[list[ConsumerRecord]], bool]:
    return lambda found: want <= event_types(found)


def check_record(document: dict[str, Any], record: ConsumerRecord) -> str:
    """Validate one real record against ``document``; returns its event type."""
    headers = {name: value.decode() for name, value in record.headers}
    event_type = headers["event_type"]
    message = document["components"]["messages"].get(event_type)
    assert message is not None, f"{record.topic}: {event_type} is on the wire but not in the document"
    value = json.loads(record.value)
    validator(document, message["payload"]).validate(value)
    validator(document, message["headers"]).validate(headers)
    validator(document, message["bindings"]["kafka"]["key"]).validate(record.key.decode())
    return event_type


async def test_every_record_on_every_topic_matches_its_committed_document(stack, played) -> None:
    examples: dict[str, dict[str, Any]] = {}
    for document, topic, documented in channels():
        records = await read_records(
            stack.kafka_bootstrap, topic, keys={played.client_id}, until=all_of(frozenset(documented))
        )
        seen: dict[str, ConsumerRecord] = {}
        for record in records:
            seen.setdefault(check_record(document, record), record)
        assert sorted(seen) == sorted(documented), f"{topic}: documented but never seen: {set(documented) - set(seen)}"
        examples[topic] = {
            event_type: {
                "key": record.key.decode(),
                "headers": {name: value.decode() for name, value in record.headers},
                "payload": json.loads(record.value),
            }
            for event_type, record in sorted(seen.items())
        }
    assert_data_alone_is_not_a_record(examples["payments.v1"]["PaymentRecorded"]["payload"])
    if os.environ.get("ABONENT_ASYNCAPI_EXAMPLES") == "write":
        EXAMPLES.mkdir(exist_ok=True)
        for topic, recorded in examples.items():
            (EXAMPLES / f"{topic}.json").write_text(json.dumps(recorded, indent=2, ensure_ascii=False) + "\n")


def assert_data_alone_is_not_a_record(value: dict[str, Any]) -> None:
    """The old document's flaw, pinned: its payload was the ``data`` models, so a real record's
    value failed and only ``value["data"]`` passed. Now the value passes and the data alone fails."""
    document = json.loads((DOCS / "payments.v1.json").read_text())
    schema = document["components"]["messages"][value["event_type"]]["payload"]
    validator(document, schema).validate(value)
    try:
        validator(document, schema).validate(value["data"])
    except ValidationError:
        return
    raise AssertionError("the data alone validated as a whole record")
