"""Turn a raw Kafka record into an :class:`Envelope` plus its validated payload.

Anything that cannot become one — no value, a value far over the size any event of ours
has (``MAX_RECORD_BYTES``), not JSON, not an envelope, an event type the registry does not
know, a payload that fails its schema — raises :class:`PoisonMessage` with a one-line reason
(and the envelope, when it could be read: a consumer may then hold the event back until a
fix is deployed, see the projector). The caller dead-letters it and goes on; it never
retries a message that can only fail again.

What is validated: everything, for our own topics too — the whole envelope, and the whole
payload (after upcasting) against its registered model. Checking only the fields a consumer
reads would let a record its schema refuses (a producer bug, a hand-published fix, drift
between versions) into the read model, where queries trip over it later instead of the DLQ
showing it now; and the live consumer and a replay must refuse exactly the same records, or
``cli rebuild`` builds another read model than the live one (``cli check`` would say so).
The cost is kept down instead (figures: docs/decisions/performance.md): one ``orjson.loads``
(faster than pydantic's JSON parsing of the envelope's free-form ``data``), the models
validate the dicts in pydantic-core, and amounts are parsed once per distinct text
(``shared.money``). A single ``model_validate_json`` of an envelope typed per event type
needs the type before parsing (a header) and yields no wire ``data`` dict, which the
projector stores for parked events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from pydantic import ValidationError

from shared.events.base import EventData, EventRegistry, UnknownEventType, registry
from shared.events.envelope import Envelope

MAX_REASON = 1000
MAX_RECORD_BYTES = 512 * 1024
"""Far over any event Abonent writes (a request body is at most 1 MiB, an event a few KiB):
a record this large is a producer's mistake, refused before it is parsed."""


class RawRecord(Protocol):
    """What aiokafka's ``ConsumerRecord`` offers (and what tests may fake)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any


class PoisonMessage(ValueError):
    """The message can never be processed as it is; ``reason`` says why."""

    def __init__(self, reason: str, envelope: Envelope | None = None) -> None:
        super().__init__(reason)
        self.reason = reason[:MAX_REASON]
        self.envelope = envelope
        """The envelope when only the payload was unreadable (unknown type, invalid body)."""


@dataclass(frozen=True, slots=True)
class Decoded:
    record: RawRecord
    envelope: Envelope
    payload: EventData


@dataclass(frozen=True, slots=True)
class Poison:
    record: RawRecord
    reason: str
    envelope: Envelope | None = None


def _short(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "value"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def decode_record(record: RawRecord, events: EventRegistry = registry, max_bytes: int = MAX_RECORD_BYTES) -> Decoded:
    if not record.value:
        raise PoisonMessage("empty message value")
    if len(record.value) > max_bytes:
        raise PoisonMessage(f"record too large: {len(record.value)} bytes, over the {max_bytes} any event has")
    try:
        raw = orjson.loads(record.value)
    except orjson.JSONDecodeError as exc:
        raise PoisonMessage(f"invalid envelope: not JSON ({exc})") from None
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise PoisonMessage(f"invalid envelope: {_short(exc)}") from None
    try:
        payload = events.load(envelope.event_type, envelope.schema_version, envelope.data)
    except UnknownEventType as exc:
        raise PoisonMessage(f"unknown event type: {exc}", envelope) from None
    except ValidationError as exc:
        raise PoisonMessage(
            f"invalid {envelope.event_type} v{envelope.schema_version} payload: {_short(exc)}", envelope
        ) from None
    return Decoded(record, envelope, payload)


def decode_batch(
    records: Iterable[RawRecord],
    events: EventRegistry = registry,
) -> tuple[list[Decoded], list[Poison]]:
    """Decode every record, keeping their order; poison ones are returned apart."""
    good: list[Decoded] = []
    poison: list[Poison] = []
    for record in records:
        try:
            good.append(decode_record(record, events))
        except PoisonMessage as exc:
            poison.append(Poison(record, exc.reason, exc.envelope))
    return good, poison
