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

Two ways to the same answer (figures: docs/decisions/performance.md):

* **by the header** (every record our outbox relay publishes): the ``event_type`` and
  ``schema_version`` headers name the payload model before the body is parsed, so ONE
  ``model_validate_json`` of an envelope typed for that event (``data`` is the payload model,
  ``event_type`` and ``schema_version`` must equal the headers') parses and validates it all
  in pydantic-core. The header is only a hint: a body it does not fit goes the other way;
* **by the body** (no such headers — other producers, hand-published records —, a version
  that needs upcasting, or a body the typed envelope refused): ``orjson.loads``, the
  :class:`Envelope`, then the registry's upcasters and payload model. Its reasons are the
  ones a dead letter carries.

The first yields an :class:`EnvelopeHead` (no wire ``data`` dict: :meth:`Decoded.wire_data`
reads it from the record when a consumer needs it, e.g. to park the event).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

import orjson
from pydantic import ValidationError, create_model

from shared.events.base import EventData, EventRegistry, UnknownEventType, registry
from shared.events.envelope import Envelope, EnvelopeHead

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
    envelope: EnvelopeHead
    """An :class:`Envelope` (decoded by the body) or the typed envelope (by the header)."""
    payload: EventData

    def wire_data(self) -> dict[str, Any]:
        """The payload as it came on the wire (before upcasting)."""
        if isinstance(self.envelope, Envelope):
            return self.envelope.data
        assert self.record.value is not None  # decoded, so it had a value
        data: dict[str, Any] = orjson.loads(self.record.value)["data"]
        return data

    def full_envelope(self) -> Envelope:
        """The :class:`Envelope` with its wire ``data`` (parsed again when decoded by the header)."""
        if isinstance(self.envelope, Envelope):
            return self.envelope
        return Envelope.model_validate({**dict(self.envelope), "data": self.wire_data()})


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


@lru_cache(maxsize=512)
def typed_envelope(model: type[EventData]) -> type[EnvelopeHead]:
    """The envelope of one event type at its current version, ``data`` validated as ``model``."""
    event_type: Any = Literal[model.event_type]  # a value known at run time, not a static type
    version: Any = Literal[model.schema_version]
    typed: type[EnvelopeHead] = create_model(
        f"{model.__name__}Envelope",
        __base__=EnvelopeHead,
        event_type=(event_type, ...),
        schema_version=(version, ...),
        data=(model, ...),
    )
    return typed


MAX_HEADER_PAIRS = 1000
"""Distinct (event_type, schema_version) header pairs remembered per registry (ours: a few dozen)."""
_AT = [0, 0]
"""Where the last record carried its ``event_type`` and ``schema_version`` headers: one
producer (our relay) writes them at the same places every time, so a look there usually
finds them without a scan (checked by name; a wrong guess only costs the scan)."""


def _header_pair(headers: Any) -> tuple[Any, Any]:
    if isinstance(headers, dict):
        return headers.get("event_type"), headers.get("schema_version")
    at_type, at_version = _AT
    try:
        if headers[at_type][0] == "event_type" and headers[at_version][0] == "schema_version":
            return headers[at_type][1], headers[at_version][1]
    except (IndexError, TypeError, KeyError):
        pass
    event_type = version = None
    for i, (name, value) in enumerate(headers):
        if name == "event_type":
            event_type, _AT[0] = value, i
        elif name == "schema_version":
            version, _AT[1] = value, i
    return event_type, version


def _by_header(record: RawRecord, events: EventRegistry) -> type[EnvelopeHead] | None:
    """The typed envelope the ``event_type`` and ``schema_version`` headers name, when this
    code's current model of that type has that version (None: decode by the body). Per
    distinct pair of header values the answer is worked out once (``events.decoders``)."""
    headers = record.headers
    if not headers:
        return None
    try:
        key = _header_pair(headers)
        return events.decoders[key]  # type: ignore[no-any-return]  # only this function fills it
    except KeyError:
        pass
    except (TypeError, ValueError):  # headers of another shape, unhashable values
        return None
    typed = None
    try:
        event_type, version = (v.decode() if isinstance(v, bytes) else v for v in key)
        model = events.current(event_type) if isinstance(event_type, str) else None
        if model is not None and version is not None and int(version) == model.schema_version:
            typed = typed_envelope(model)
    except ValueError:  # not UTF-8, not a number
        pass
    if len(events.decoders) >= MAX_HEADER_PAIRS:  # junk headers from some producer: start again
        events.decoders.clear()
    events.decoders[key] = typed
    return typed


def decode_record(record: RawRecord, events: EventRegistry = registry, max_bytes: int = MAX_RECORD_BYTES) -> Decoded:
    if not record.value:
        raise PoisonMessage("empty message value")
    if len(record.value) > max_bytes:
        raise PoisonMessage(f"record too large: {len(record.value)} bytes, over the {max_bytes} any event has")
    if (typed := _by_header(record, events)) is not None:
        try:
            head = typed.model_validate_json(record.value)
        except ValidationError:
            pass  # not what the header says, or invalid: the body decides, and names the reason
        else:
            return Decoded(record, head, head.data)  # type: ignore[attr-defined]  # the typed envelope's payload field
    return _by_body(record, events)


def _by_body(record: RawRecord, events: EventRegistry) -> Decoded:
    assert record.value is not None
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
