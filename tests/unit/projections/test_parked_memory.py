"""A parked event is unparked from memory when this projector parked it (no second validation),
and from its stored row otherwise — never from memory for another event at that place."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import orjson

import shared.events.contracts  # noqa: F401 - registers the payload models
from services.projections.application import projector as projector_module
from services.projections.application.projector import Projector, incoming_from
from shared.consumer import decode_record
from tests.unit.shared.test_decoding_by_header import envelope, relayed


def parked_row(item: Any) -> dict[str, Any]:
    names = ("stream_id", "stream_version", "event_id", "event_type", "schema_version", "client_id", "position")
    row = dict(zip(names, item.parked_row()[:7], strict=True))
    wire = item.parked_row()[7]
    return {
        **row,
        "data": orjson.dumps(wire).decode(),
        "source_topic": item.topic,
        "source_partition": item.partition,
        "source_offset": item.offset,
    }


def test_unparked_from_memory_only_for_the_same_event(monkeypatch) -> None:
    projector = Projector(store=None, dead_letters=None)  # type: ignore[arg-type]  # neither is used here
    item = incoming_from(decode_record(relayed(envelope())))
    row = parked_row(item)
    assert item.decoded is not None
    assert orjson.loads(row["data"]) == item.decoded.wire_data()  # parked with its wire data

    projector._remember_parked([item])
    remembered = projector._unparked(row)
    assert remembered.fact is item.fact  # the payload validated when it was parked
    assert remembered.wire_data == item.decoded.wire_data() and remembered.offset == item.offset
    again = projector._unparked(row)  # taken once: now validated from the row
    assert again.fact is not item.fact and again.fact == item.fact

    other = incoming_from(decode_record(relayed(envelope())))
    projector._remember_parked([other])
    stranger = {**parked_row(other), "event_id": uuid4()}  # same place, another event
    assert projector._unparked(stranger).fact is not other.fact

    monkeypatch.setattr(projector_module, "PARKED_MEMORY", 2)
    many = [incoming_from(decode_record(relayed(envelope()))) for _ in range(5)]
    projector._remember_parked(many)
    assert [fact for _, fact in projector._parked.values()] == [m.fact for m in many[-2:]]  # the oldest go
