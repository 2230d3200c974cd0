"""shared.consumer: decoding envelopes and dead-lettering what cannot be decoded."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import shared.events.contracts  # noqa: F401 - registers the payload models
from shared.consumer import DeadLetterPublisher, Poison, decode_batch
from shared.events.envelope import Envelope


@dataclass
class Record:
    value: bytes | None
    key: bytes | None = b"k"
    topic: str = "contracts.events.v1"
    partition: int = 3
    offset: int = 42
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def envelope(event_type: str = "ClientRegistered", **data: Any) -> Envelope:
    client = uuid4()
    now = datetime.now(UTC)
    return Envelope(
        event_id=uuid4(),
        event_type=event_type,
        schema_version=1,
        stream_id=f"client-{client}",
        stream_version=1,
        position=1,
        partition_key=str(client),
        occurred_at=now,
        recorded_at=now,
        correlation_id="c",
        actor="test",
        data=data or {"client_id": str(client), "name": "N", "manager_name": "M", "manager_email": "m@example.com"},
    )


def test_good_and_poison_records_are_told_apart_in_order() -> None:
    good = Record(envelope().to_bytes())
    records = [
        Record(b"not json"),
        good,
        Record(None),
        Record(envelope("NoSuchEvent").to_bytes()),
        Record(envelope("ContractOpened", client_id="x").to_bytes()),
    ]
    decoded, poison = decode_batch(records)
    assert [d.record for d in decoded] == [good]
    reasons = [p.reason for p in poison]
    assert reasons[0].startswith("invalid envelope")
    assert reasons[1] == "empty message value"
    assert reasons[2].startswith("unknown event type")
    assert reasons[3].startswith("invalid ContractOpened v1 payload") and "client_id" in reasons[3]


async def test_dead_letter_keeps_the_raw_message_and_adds_the_error_headers() -> None:
    sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = []

    async def send(topic: str, key: bytes | None, value: bytes | None, headers: Any) -> None:
        sent.append((topic, key, value, headers))

    counted: list[int] = []
    dlq = DeadLetterPublisher(send, "abonent.projections", on_published=counted.append)
    record = Record(b"\xff garbage", headers=[("event_id", b"e1"), ("dlq_error", b"old")])
    await dlq.publish_all([Poison(record, "invalid envelope: boom")])

    ((topic, key, value, headers),) = sent
    assert (topic, key, value) == ("abonent.projections.dlq", b"k", b"\xff garbage")
    h = dict(headers)
    assert h["event_id"] == b"e1"
    assert h["dlq_error"] == b"invalid envelope: boom"
    assert (h["dlq_source_topic"], h["dlq_source_partition"], h["dlq_source_offset"]) == (
        b"contracts.events.v1",
        b"3",
        b"42",
    )
    assert h["dlq_group"] == h["dlq_consumer_group"] == b"abonent.projections"
    assert [n for n, _ in headers].count("dlq_error") == 1
    assert counted == [1]


async def test_a_second_read_models_dead_letter_goes_to_the_services_topic_naming_its_own_group() -> None:
    sent: list[tuple[str, list[tuple[str, bytes]]]] = []

    async def send(topic: str, key: bytes | None, value: bytes | None, headers: Any) -> None:
        sent.append((topic, headers))

    second = DeadLetterPublisher(send, "abonent.projections", consumer_group="abonent.projections.v2")
    resent = Record(b"x", headers=[("dlq_consumer_group", b"abonent.projections"), ("dlq_group", b"old")])
    await second.publish_all([Poison(resent, "invalid envelope: boom")])

    ((topic, headers),) = sent
    assert topic == "abonent.projections.dlq"
    assert dict(headers)["dlq_group"] == b"abonent.projections"
    assert dict(headers)["dlq_consumer_group"] == b"abonent.projections.v2"
    # a message dead-lettered again keeps only the latest sender's headers
    assert [n for n, _ in headers].count("dlq_consumer_group") == 1
