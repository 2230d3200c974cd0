"""The envelope every message travels in, and its Kafka form (value + key + headers).

The same ids travel as headers so a consumer can route, deduplicate and log a message
before (or without) parsing its body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field

CONTENT_TYPE = "application/json"
HEADER_NAMES = (
    "event_id",
    "event_type",
    "schema_version",
    "stream_id",
    "stream_version",
    "correlation_id",
    "causation_id",
    "actor",
    "position",
)


class EnvelopeHead(BaseModel):
    """Every field of an :class:`Envelope` but ``data``: what a consumer that validated the
    payload on its own (``shared.consumer.decoding``'s envelope typed per event type) keeps."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    event_type: str
    schema_version: int = Field(ge=1)
    stream_id: str
    stream_version: int = Field(ge=1)
    position: int | None = Field(default=None, description="global position in the producer's store")
    partition_key: str = Field(description="the Kafka key: the client id")
    occurred_at: datetime
    recorded_at: datetime
    correlation_id: str
    causation_id: str | None = None
    actor: str

    def log_context(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "stream": self.stream_id,
            "stream_version": self.stream_version,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }


class Envelope(EnvelopeHead):
    """One event as it leaves a service (docs/design.md §3). Field names may grow, never change."""

    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        values: dict[str, Any] = {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor": self.actor,
            "position": self.position,
        }
        headers = [(k, str(v).encode()) for k, v in values.items() if v is not None]
        headers.append(("content-type", CONTENT_TYPE.encode()))
        return headers


def headers_to_dict(headers: Any) -> dict[str, str]:
    """Kafka headers (a list of (name, bytes) pairs or a mapping) as a str→str dict."""
    items = headers.items() if hasattr(headers, "items") else headers or []
    out: dict[str, str] = {}
    for name, value in items:
        out[name] = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return out
