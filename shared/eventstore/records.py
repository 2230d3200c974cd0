"""What goes into the store and what comes out of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from shared.events.envelope import Envelope

NEW_STREAM = 0
"""expected_version for a stream that must not exist yet."""
ANY_VERSION = -1
"""expected_version when the caller does not care (appends after whatever is there)."""


@dataclass(frozen=True)
class CommandContext:
    """Who asked, why, and when: travels into every event's metadata."""

    correlation_id: str
    actor: str
    now: datetime
    causation_id: str | None = None


@dataclass(frozen=True)
class NewEvent:
    event_id: UUID
    event_type: str
    schema_version: int
    data: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True)
class Append:
    """One stream's part of an append over several streams (``EventStore.append_many``)."""

    stream_id: str
    expected_version: int
    events: Sequence[NewEvent]
    partition_key: str


@dataclass(frozen=True)
class PendingEvent:
    """An event as the outbox router sees it: all but what the store assigns as it records
    it (``position``, ``stream_version``, ``recorded_at``), so that routing can happen before
    the one statement that records the event and queues its messages (``shared.outbox.messages``)."""

    event_id: UUID
    stream_id: str
    event_type: str
    schema_version: int
    partition_key: str
    data: dict[str, Any]
    occurred_at: datetime
    correlation_id: str
    causation_id: str | None
    actor: str

    @classmethod
    def of(cls, stream_id: str, partition_key: str, event: NewEvent, ctx: CommandContext) -> PendingEvent:
        """``event`` of a command (``ctx``) appended to ``stream_id``."""
        return cls(
            event.event_id,
            stream_id,
            event.event_type,
            event.schema_version,
            partition_key,
            event.data,
            event.occurred_at,
            ctx.correlation_id,
            ctx.causation_id,
            ctx.actor,
        )

    def recorded(self, position: int, stream_version: int, recorded_at: datetime) -> RecordedEvent:
        """The event as the store recorded it, with what the store assigned."""
        return RecordedEvent(
            event_id=self.event_id,
            stream_id=self.stream_id,
            event_type=self.event_type,
            schema_version=self.schema_version,
            partition_key=self.partition_key,
            data=self.data,
            occurred_at=self.occurred_at,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            actor=self.actor,
            position=position,
            stream_version=stream_version,
            recorded_at=recorded_at,
        )

    def envelope_fields(self) -> dict[str, Any]:
        """The envelope (``Envelope``'s fields) without the store-assigned ones, for orjson."""
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "stream_id": self.stream_id,
            "partition_key": self.partition_key,
            "occurred_at": self.occurred_at,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor": self.actor,
            "data": self.data,
        }


@dataclass(frozen=True, kw_only=True)
class RecordedEvent(PendingEvent):
    position: int
    stream_version: int
    recorded_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    def envelope(self) -> Envelope:
        # Every field comes typed from the store's own columns: no validation to pay for.
        return Envelope.model_construct(
            event_id=self.event_id,
            event_type=self.event_type,
            schema_version=self.schema_version,
            stream_id=self.stream_id,
            stream_version=self.stream_version,
            position=self.position,
            partition_key=self.partition_key,
            occurred_at=self.occurred_at,
            recorded_at=self.recorded_at,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            actor=self.actor,
            data=self.data,
        )
