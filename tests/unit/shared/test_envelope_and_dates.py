"""The envelope's wire form and the strict date types."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from pydantic import BaseModel, ValidationError

from shared.dates import IsoDate, YearMonth
from shared.events.envelope import Envelope, headers_to_dict


def envelope() -> Envelope:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    return Envelope(
        event_id=uuid.uuid4(),
        event_type="PaymentRecorded",
        schema_version=1,
        stream_id="contract-1",
        stream_version=7,
        position=42,
        partition_key="client-1",
        occurred_at=now,
        recorded_at=now,
        correlation_id="corr-1",
        causation_id=None,
        actor="tester",
        data={"amount": "30000.00"},
    )


def test_envelope_round_trips_through_bytes():
    env = envelope()
    assert Envelope.from_bytes(env.to_bytes()) == env


def test_headers_carry_the_ids_and_skip_missing_ones():
    env = envelope()
    headers = headers_to_dict(env.kafka_headers())
    assert headers["event_id"] == str(env.event_id)
    assert headers["stream_version"] == "7" and headers["position"] == "42"
    assert headers["correlation_id"] == "corr-1"
    assert "causation_id" not in headers


class Body(BaseModel):
    on: IsoDate
    month: YearMonth | None = None


def test_iso_dates_only():
    assert Body(on="2026-02-28").on == date(2026, 2, 28)
    for bad in ("1700000000", "2026-02-30", "28.02.2026", 1700000000):
        with pytest.raises(ValidationError):
            Body(on=bad)


def test_months_are_written_yyyy_mm():
    body = Body(on="2026-01-01", month="2026-03")
    assert body.month == date(2026, 3, 1)
    assert body.model_dump(mode="json")["month"] == "2026-03"
    with pytest.raises(ValidationError):
        Body(on="2026-01-01", month="2026-13")


def test_a_recorded_event_builds_the_same_envelope_as_a_validated_one():
    from shared.eventstore.records import RecordedEvent

    now = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    recorded = RecordedEvent(
        position=7,
        event_id=uuid.uuid4(),
        stream_id="contract-x",
        stream_version=3,
        event_type="PaymentRecorded",
        schema_version=1,
        partition_key="client-1",
        data={"amount": "10.00"},
        occurred_at=now,
        recorded_at=now,
        correlation_id="c",
        causation_id=None,
        actor="ops",
    )
    built = recorded.envelope()  # model_construct: no validation
    validated = Envelope.model_validate(built.model_dump())
    assert built.to_bytes() == validated.to_bytes()
    assert built.kafka_headers() == validated.kafka_headers()


async def test_a_stamped_envelope_message_is_the_recorded_events_envelope_and_headers():
    """Routing happens before the store assigns position, stream_version and recorded_at; the
    message then carries the envelope without them and the store stamps them in (in SQL, in
    ``eventstore_append``; ``stamped`` is its Python twin, checked against it in
    tests/integration/test_append_function.py)."""
    from shared.eventstore.records import RecordedEvent
    from shared.outbox.messages import enqueue, envelope_message, outbox_headers, stamped

    recorded = RecordedEvent(
        position=41,
        event_id=uuid.uuid4(),
        stream_id="contract-x",
        stream_version=2,
        event_type="PaymentRecorded",
        schema_version=1,
        partition_key="client-1",
        data={"amount": "10.00", "nested": {"b": [1, 2]}},
        occurred_at=datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
        recorded_at=datetime(2026, 3, 1, 12, 30, 0, 123456, tzinfo=UTC),
        correlation_id="c",
        causation_id=None,
        actor="ops",
    )
    draft = envelope_message("t", recorded)
    assert draft.stamp and b"position" not in draft.payload and "position" not in draft.headers
    message = stamped(draft, recorded)
    assert not message.stamp
    assert Envelope.from_bytes(message.payload) == recorded.envelope()
    assert message.headers == outbox_headers(recorded.envelope())
    with pytest.raises(ValueError, match="position"):
        await enqueue(None, [draft])  # refused before any I/O
