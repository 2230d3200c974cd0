"""Event schemas are public contracts: frozen pydantic models with a type and a version.

A payload model names itself with two class variables::

    @registry.event
    class PaymentRecorded(EventData):
        event_type: ClassVar[str] = "PaymentRecorded"
        schema_version: ClassVar[int] = 1
        ...

Inside Abonent (the event stores and the internal topics, read through this registry), a
breaking change is a new model with ``schema_version = 2`` plus an upcaster that turns a
stored version-1 payload into version 2; old payloads are never rewritten in place. The
public feed ``payments.v1`` has its own rule, for readers without our upcasters:
docs/integrating.md, "Evolution".
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from functools import reduce
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class EventData(BaseModel):
    """Base for every event payload (the envelope's ``data``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


def one_of(models: Sequence[type[EventData]]) -> Any:
    """``A | B | …`` of ``models``, in their order: the payload a topic's AsyncAPI document shows."""
    return reduce(operator.or_, models)


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    """The registry has no schema for this event type."""


class EventRegistry:
    """Maps ``event_type`` to its current payload model and upcasts old payloads."""

    def __init__(self) -> None:
        self._models: dict[str, type[EventData]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self.decoders: dict[Any, Any] = {}
        """A cache for code that decodes with this registry (``shared.consumer.decoding``),
        emptied whenever a model or an upcaster is registered."""

    def event(self, model: type[EventData]) -> type[EventData]:
        """Class decorator: register ``model`` as the current schema of its event type."""
        current = self._models.get(model.event_type)
        if current is not None and current is not model:
            raise ValueError(f"event type {model.event_type!r} is already registered")
        self._models[model.event_type] = model
        self.decoders.clear()
        return model

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: turn a ``from_version`` payload into ``from_version + 1``."""

        def register(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            self.decoders.clear()
            return fn

        return register

    def model(self, event_type: str) -> type[EventData]:
        try:
            return self._models[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def current(self, event_type: str) -> type[EventData] | None:
        """The current model of ``event_type`` (None: not registered)."""
        return self._models.get(event_type)

    def __contains__(self, event_type: str) -> bool:
        return event_type in self._models

    def load(self, event_type: str, schema_version: int, data: dict[str, Any]) -> EventData:
        """Validate a stored or received payload, upcasting it to the current version."""
        model = self.model(event_type)
        version = schema_version
        while version < model.schema_version:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise UnknownEventType(f"{event_type} v{version}: no upcaster to v{version + 1}")
            data = step(data)
            version += 1
        if version != model.schema_version:
            raise UnknownEventType(f"{event_type} v{schema_version} is newer than this code knows")
        return model.model_validate(data)


registry = EventRegistry()
"""The one registry every service loads payloads through."""
