"""AsyncAPI 3.0 documents that describe what is really on the wire, built from the event models.

Each message is one event type. Its payload is the whole record value — the envelope, with
``event_type`` fixed to the type (the discriminator) and ``data`` that type's schema; its
headers schema is what ``Envelope.kafka_headers`` (plus the outbox's ``traceparent``) writes;
its Kafka key binding is the client id. Schemas are open for readers (no
``additionalProperties: false``): a field may be added within a topic version, and consumers
ignore fields they do not know (docs/integrating.md, "Evolution").

Examples come from a real run (``make asyncapi-examples`` records them from the broker into
``docs/asyncapi/examples/<topic>.json``); a message without a recorded example has none.
Adding an event model to a topic's list is all it takes to document it: ``make asyncapi``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.events.base import EventData
from shared.events.envelope import Envelope
from shared.topics import ALL_TOPICS

JsonObject = dict[str, Any]

REF = "#/components/schemas/{model}"
KAFKA_BINDING = "0.5.0"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"
EXAMPLES = DOCS / "examples"


@dataclass(frozen=True)
class Channel:
    """One topic and the event types published on it."""

    topic: str
    description: str
    events: Sequence[type[EventData]]


@dataclass(frozen=True)
class Spec:
    """One AsyncAPI document: its file name under docs/asyncapi/ and its channels."""

    file: str
    title: str
    version: str
    description: str
    channels: Sequence[Channel]


SERVERS: JsonObject = {
    "development": {
        "host": "127.0.0.1:19092",
        "protocol": "kafka",
        "description": "The local stack (`make up`): one broker, PLAINTEXT, no authentication.",
    },
    "production": {
        "host": "kafka.abonent.example:9093",
        "protocol": "kafka-secure",
        "description": (
            "Placeholder: the cluster your operations team gives you. SASL over TLS only "
            "(security.protocol=SASL_SSL): SCRAM-SHA-512 by default, SCRAM-SHA-256 or PLAIN where "
            "the cluster is set up so; the broker's certificate is verified against your CA. "
            "docs/integrating.md shows the client settings."
        ),
        "security": [
            {"$ref": "#/components/securitySchemes/scramSha512"},
            {"$ref": "#/components/securitySchemes/scramSha256"},
            {"$ref": "#/components/securitySchemes/plain"},
        ],
    },
}

SECURITY_SCHEMES: JsonObject = {
    "scramSha512": {
        "type": "scramSha512",
        "description": "SASL/SCRAM-SHA-512 over TLS: a user and password issued per consuming system.",
    },
    "scramSha256": {"type": "scramSha256", "description": "SASL/SCRAM-SHA-256 over TLS."},
    "plain": {"type": "plain", "description": "SASL/PLAIN, only over TLS."},
}

_DIGITS = "^[0-9]+$"
HEADERS: JsonObject = {
    "type": "object",
    "description": (
        "Kafka record headers, every value a UTF-8 string. The ids repeat the envelope's, so a "
        "consumer can route, deduplicate and log before parsing the value. Unknown headers may appear."
    ),
    "required": [
        "event_id",
        "event_type",
        "schema_version",
        "stream_id",
        "stream_version",
        "correlation_id",
        "actor",
        "content-type",
    ],
    "properties": {
        "event_id": {"type": "string", "format": "uuid", "description": "= envelope event_id; dedupe by it"},
        "event_type": {"type": "string", "description": "= envelope event_type"},
        "schema_version": {"type": "string", "pattern": _DIGITS, "description": "= envelope schema_version"},
        "stream_id": {"type": "string", "description": "= envelope stream_id"},
        "stream_version": {"type": "string", "pattern": _DIGITS, "description": "= envelope stream_version"},
        "correlation_id": {"type": "string", "description": "= envelope correlation_id"},
        "causation_id": {"type": "string", "description": "= envelope causation_id, when there is one"},
        "actor": {"type": "string", "description": "= envelope actor"},
        "position": {"type": "string", "pattern": _DIGITS, "description": "= envelope position"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {
            "type": "string",
            "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
            "description": "W3C trace context of the request that caused the event (only when tracing is on)",
        },
        "tracestate": {"type": "string", "description": "W3C trace state, with traceparent"},
    },
}

KEY: JsonObject = {
    "type": "string",
    "format": "uuid",
    "description": "The client id (UTF-8): one client's events share a partition and keep their order.",
}


def _open(schema: Any) -> Any:
    """``schema`` with every ``additionalProperties: false`` removed: open for readers."""
    if isinstance(schema, dict):
        return {k: _open(v) for k, v in schema.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(schema, list):
        return [_open(v) for v in schema]
    return schema


def _summary(model: type[Any]) -> str:
    doc = (model.__doc__ or model.__name__).strip()
    return doc.split("\n\n")[0].replace("\n", " ").strip()


def load_examples(topic: str) -> dict[str, JsonObject]:
    path = EXAMPLES / f"{topic}.json"
    examples: dict[str, JsonObject] = json.loads(path.read_text()) if path.exists() else {}
    return examples


def build(spec: Spec, examples: Mapping[str, Mapping[str, JsonObject]] | None = None) -> JsonObject:
    """The AsyncAPI document of ``spec``. ``examples``: per topic, per event type, a recorded
    ``{"key", "headers", "payload"}`` (default: the committed files)."""
    models: list[type[EventData]] = []
    for channel in spec.channels:
        models.extend(channel.events)
    names = [m.event_type for m in models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{spec.file}: event types on two channels of one document: {duplicates}")
    refs, defs = models_json_schema([(m, "serialization") for m in models], ref_template=REF)
    schemas: JsonObject = {"Envelope": _envelope_schema(), "Headers": HEADERS, **_open(defs.get("$defs", {}))}
    messages: JsonObject = {}
    channels: JsonObject = {}
    operations: JsonObject = {}
    partitions = {t.name: t.partitions for t in ALL_TOPICS}
    for channel in spec.channels:
        recorded = examples[channel.topic] if examples is not None else load_examples(channel.topic)
        channel_messages: JsonObject = {}
        for model in channel.events:
            name = model.event_type
            schemas[f"{name}Envelope"] = _message_payload(model, refs[(model, "serialization")])
            messages[name] = _message(model, recorded.get(name))
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        channels[channel.topic] = {
            "address": channel.topic,
            "title": channel.topic,
            "description": channel.description,
            "messages": channel_messages,
            "bindings": {
                "kafka": {
                    "topic": channel.topic,
                    "partitions": partitions.get(channel.topic, 12),
                    "topicConfiguration": {"cleanup.policy": ["delete"], "retention.ms": -1},
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
        operations[f"publish.{channel.topic}"] = {
            "action": "send",
            "title": f"Abonent publishes {channel.topic}",
            "channel": {"$ref": f"#/channels/{channel.topic}"},
            "messages": [{"$ref": f"#/channels/{channel.topic}/messages/{m.event_type}"} for m in channel.events],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": spec.title, "version": spec.version, "description": spec.description},
        "defaultContentType": "application/json",
        "servers": SERVERS,
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _envelope_schema() -> JsonObject:
    schema = _open(Envelope.model_json_schema(mode="serialization"))
    schema.pop("title", None)
    schema["description"] = (
        "The value of every record: one event. `event_type` says which message it is (the "
        "discriminator); `data` is that type's payload. Fields may be added: ignore unknown ones."
    )
    schema["discriminator"] = "event_type"
    return dict(schema)


def _message_payload(model: type[EventData], data: Mapping[str, Any]) -> JsonObject:
    return {
        "description": f"The envelope of a {model.event_type}.",
        "allOf": [
            {"$ref": REF.format(model="Envelope")},
            {
                "type": "object",
                "required": ["event_type", "schema_version", "data"],
                "properties": {
                    "event_type": {"type": "string", "const": model.event_type},
                    "schema_version": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": model.schema_version,
                        "description": f"{model.schema_version} is current; see docs/integrating.md for older ones",
                    },
                    "data": dict(data),
                },
            },
        ],
    }


def _message(model: type[EventData], example: Mapping[str, Any] | None) -> JsonObject:
    message: JsonObject = {
        "name": model.event_type,
        "title": model.event_type,
        "summary": _summary(model),
        "contentType": "application/json",
        "correlationId": {"location": "$message.header#/correlation_id"},
        "headers": {
            "allOf": [
                {"$ref": REF.format(model="Headers")},
                {"type": "object", "properties": {"event_type": {"type": "string", "const": model.event_type}}},
            ]
        },
        "payload": {"$ref": REF.format(model=f"{model.event_type}Envelope")},
        "bindings": {"kafka": {"key": KEY, "bindingVersion": KAFKA_BINDING}},
    }
    if example is not None:
        message["examples"] = [
            {
                "name": f"{model.event_type} from a run",
                "summary": f"Recorded from the broker (Kafka key {example['key']}).",
                "headers": example["headers"],
                "payload": example["payload"],
            }
        ]
    return message
