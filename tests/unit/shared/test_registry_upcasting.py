"""The event registry: current payloads load as they are, old ones are upcast, unknown ones refused."""

from __future__ import annotations

from typing import ClassVar

import pytest

from shared.events.base import EventData, EventRegistry, UnknownEventType


def make_registry() -> EventRegistry:
    reg = EventRegistry()

    @reg.event
    class Renamed(EventData):
        event_type: ClassVar[str] = "Renamed"
        schema_version: ClassVar[int] = 3
        full_name: str
        reason: str

    @reg.upcaster("Renamed", 1)
    def v1_to_v2(data: dict) -> dict:
        return {"full_name": data["name"]}

    @reg.upcaster("Renamed", 2)
    def v2_to_v3(data: dict) -> dict:
        return {**data, "reason": "unknown (recorded before v3)"}

    return reg


def test_an_old_payload_is_upcast_step_by_step_to_the_current_version():
    event = make_registry().load("Renamed", 1, {"name": "Ромашка"})
    assert event.model_dump() == {"full_name": "Ромашка", "reason": "unknown (recorded before v3)"}


def test_a_current_payload_loads_unchanged():
    event = make_registry().load("Renamed", 3, {"full_name": "A", "reason": "typo"})
    assert event.full_name == "A"


def test_unknown_types_and_future_versions_are_refused():
    reg = make_registry()
    with pytest.raises(UnknownEventType):
        reg.load("Vanished", 1, {})
    with pytest.raises(UnknownEventType, match="newer"):
        reg.load("Renamed", 4, {})


def test_registering_two_models_under_one_type_is_an_error():
    reg = make_registry()

    class Other(EventData):
        event_type: ClassVar[str] = "Renamed"

    with pytest.raises(ValueError):
        reg.event(Other)
