"""Decoding by the ``event_type``/``schema_version`` headers (one typed ``model_validate_json``)
gives what decoding by the body gives, and the headers are only a hint: a body they do not
fit is decoded, or refused with the same reason, by the body."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import uuid4

import pytest

import shared.events.contracts  # noqa: F401 - registers the payload models
from shared.consumer import PoisonMessage, decode_batch, decode_record
from shared.consumer.decoding import typed_envelope
from shared.events.base import EventData, EventRegistry
from shared.events.envelope import Envelope


@dataclass
class Record:
    value: bytes | None
    headers: Any = field(default_factory=list)
    key: bytes | None = b"k"
    topic: str = "contracts.events.v1"
    partition: int = 0
    offset: int = 7


def envelope(event_type: str = "PaymentRecorded", version: int = 1, **data: Any) -> Envelope:
    client = uuid4()
    now = datetime.now(UTC)
    payment = {
        "client_id": str(client),
        "contract_id": str(uuid4()),
        "period_id": str(uuid4()),
        "payment_id": str(uuid4()),
        "amount": "1000.00",
        "currency": "RUB",
        "paid_on": "2026-03-01",
        "reference": "pp-1",
        "period_paid_amount": "1000.00",
        "period_paid": True,
    }
    return Envelope(
        event_id=uuid4(),
        event_type=event_type,
        schema_version=version,
        stream_id=f"contract-{uuid4()}",
        stream_version=3,
        position=17,
        partition_key=str(client),
        occurred_at=now,
        recorded_at=now,
        correlation_id="c",
        causation_id="k",
        actor="test",
        data=data or payment,
    )


def relayed(env: Envelope) -> Record:
    """As the relay publishes it: the envelope's headers (the outbox keeps them in jsonb's key
    order, not the envelope's)."""
    return Record(env.to_bytes(), tuple(sorted(env.kafka_headers(), key=lambda h: (len(h[0]), h[0]))))


def test_by_header_equals_by_body() -> None:
    env = envelope()
    by_header, by_body = decode_record(relayed(env)), decode_record(Record(env.to_bytes()))
    assert not isinstance(by_header.envelope, Envelope)  # the typed envelope: the fast way was taken
    assert isinstance(by_body.envelope, Envelope)
    assert by_header.payload == by_body.payload and type(by_header.payload) is type(by_body.payload)
    assert by_header.envelope.model_dump(exclude={"data"}) == by_body.envelope.model_dump(exclude={"data"})
    assert by_header.wire_data() == env.data == by_body.wire_data()
    assert by_header.full_envelope() == by_body.full_envelope() == env


def test_headers_as_a_mapping_and_in_any_order_are_read() -> None:
    env = envelope()
    as_dict = Record(env.to_bytes(), {k: v for k, v in env.kafka_headers()})
    reversed_order = Record(env.to_bytes(), list(reversed(env.kafka_headers())))
    for record in (as_dict, reversed_order, relayed(env)):
        decoded = decode_record(record)
        assert not isinstance(decoded.envelope, Envelope)
        assert decoded.envelope.event_id == env.event_id


def test_a_header_naming_another_type_than_the_body_is_ignored() -> None:
    client = uuid4()
    env = envelope("ClientRegistered", client_id=str(client), name="N", manager_name="M", manager_email="m@example.com")
    lying = Record(env.to_bytes(), [("event_type", b"PaymentRecorded"), ("schema_version", b"1")])
    decoded = decode_record(lying)
    assert decoded.envelope.event_type == "ClientRegistered"
    assert type(decoded.payload).__name__ == "ClientRegistered"


@pytest.mark.parametrize(
    "headers",
    [
        [("event_type", b"NoSuchEvent"), ("schema_version", b"1")],
        [("event_type", b"PaymentRecorded"), ("schema_version", b"x")],
        [("event_type", b"\xff\xfe"), ("schema_version", b"1")],
        [("event_type", b"PaymentRecorded")],
        [("unrelated", b"1")],
        "not pairs",
    ],
)
def test_headers_that_name_no_current_model_leave_it_to_the_body(headers: Any) -> None:
    env = envelope()
    decoded = decode_record(Record(env.to_bytes(), headers))
    assert isinstance(decoded.envelope, Envelope)
    assert decoded.envelope.event_id == env.event_id


def test_a_malformed_record_with_good_headers_is_refused_for_the_body_s_reason() -> None:
    """The dead-letter contract: the same reason with the headers as without."""
    bad_payload = envelope(**{**envelope().data, "amount": "ten roubles"})
    not_json = Record(b"{not json", relayed(bad_payload).headers)
    no_envelope = Record(b'{"data": {}}', relayed(bad_payload).headers)
    extra_field = envelope(**{**envelope().data, "surprise": 1})
    for record, plain in (
        (relayed(bad_payload), Record(bad_payload.to_bytes())),
        (not_json, Record(not_json.value)),
        (no_envelope, Record(no_envelope.value)),
        (relayed(extra_field), Record(extra_field.to_bytes())),
    ):
        with pytest.raises(PoisonMessage) as with_headers:
            decode_record(record)
        with pytest.raises(PoisonMessage) as without:
            decode_record(plain)
        assert with_headers.value.reason == without.value.reason
        assert (with_headers.value.envelope is None) == (without.value.envelope is None)
    _, poison = decode_batch([relayed(bad_payload)])
    assert poison[0].reason.startswith("invalid PaymentRecorded v1 payload") and "amount" in poison[0].reason
    assert poison[0].envelope is not None and poison[0].envelope.data == bad_payload.data


def test_an_older_version_is_upcast_by_the_body() -> None:
    events = EventRegistry()

    @events.event
    class Renamed(EventData):
        event_type: ClassVar[str] = "Renamed"
        schema_version: ClassVar[int] = 2
        title: str

    @events.upcaster("Renamed", 1)
    def _v1(data: dict[str, Any]) -> dict[str, Any]:
        return {"title": data["name"]}

    old = envelope("Renamed", 1, name="old name")
    decoded = decode_record(relayed(old), events)
    assert isinstance(decoded.envelope, Envelope)  # v1 header, v2 model: by the body, upcast
    assert decoded.payload == Renamed(title="old name")
    new = envelope("Renamed", 2, title="new")
    assert decode_record(relayed(new), events).payload == Renamed(title="new")
    assert not isinstance(decode_record(relayed(new), events).envelope, Envelope)


def test_a_model_registered_later_is_used_by_the_header() -> None:
    """The per-registry cache of header answers is emptied when a model is registered."""
    events = EventRegistry()
    env = envelope("LateComer", title="t")
    with pytest.raises(PoisonMessage, match="unknown event type"):
        decode_record(relayed(env), events)

    @events.event
    class LateComer(EventData):
        event_type: ClassVar[str] = "LateComer"
        title: str

    decoded = decode_record(relayed(env), events)
    assert decoded.payload == LateComer(title="t") and not isinstance(decoded.envelope, Envelope)
    assert typed_envelope(LateComer) is typed_envelope(LateComer)


def test_junk_header_values_do_not_grow_the_cache_without_bound(monkeypatch) -> None:
    from shared.consumer import decoding

    monkeypatch.setattr(decoding, "MAX_HEADER_PAIRS", 10)
    events = EventRegistry()
    env = envelope()
    for n in range(25):
        with pytest.raises(PoisonMessage):
            decode_record(
                Record(env.to_bytes(), [("event_type", f"Junk{n}".encode()), ("schema_version", b"1")]), events
            )
        assert len(events.decoders) <= 10
