"""Load an aggregate by folding its stream, decide, append with the version it was read at.

``execute`` is the one command loop every event-sourced service uses: a version clash means
someone else changed the aggregate between our read and our write, so we read again and
decide again; the command is re-checked against the new state (a payment that no longer
fits is refused then, not silently applied). After ``attempts`` clashes it gives up with
ConcurrencyError (HTTP 409).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncpg
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from shared.events.base import EventData, registry
from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.records import CommandContext, NewEvent, RecordedEvent
from shared.eventstore.store import EventStore

S = TypeVar("S")

Evolve = Callable[[S | None, EventData], S]
AlsoWithState = Callable[[asyncpg.Connection, S, list[RecordedEvent]], Awaitable[None]]


@dataclass(frozen=True)
class Loaded(Generic[S]):
    state: S | None
    version: int
    events: list[RecordedEvent]


@dataclass(frozen=True)
class Executed(Generic[S]):
    state: S | None
    recorded: list[RecordedEvent]
    version: int

    @property
    def position(self) -> int | None:
        """The position of the last event written (None when the command changed nothing)."""
        return self.recorded[-1].position if self.recorded else None


def to_new_events(events: Sequence[EventData], ctx: CommandContext) -> list[NewEvent]:
    return [
        NewEvent(uuid.uuid4(), e.event_type, e.schema_version, e.model_dump(mode="json"), ctx.now)
        for e in events
    ]


class AggregateRepository(Generic[S]):
    def __init__(self, store: EventStore, evolve: Evolve[S]) -> None:
        self._store = store
        self._evolve = evolve

    async def load(self, stream_id: str) -> Loaded[S]:
        recorded = await self._store.read_stream(stream_id)
        state: S | None = None
        for r in recorded:
            state = self._evolve(state, registry.load(r.event_type, r.schema_version, r.data))
        return Loaded(state, len(recorded), recorded)

    async def execute(
        self,
        stream_id: str,
        decide: Callable[[S | None], Sequence[EventData]],
        *,
        partition_key: Callable[[S | None, Sequence[EventData]], str],
        ctx: CommandContext,
        also: AlsoWithState[S] | None = None,
        attempts: int = 20,
    ) -> Executed[S]:
        # Jittered exponential back-off spreads racing writers out, so most clashes resolve
        # on the next try instead of colliding again (50 payments on one contract at once).
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(ConcurrencyError), stop=stop_after_attempt(attempts),
            wait=wait_random_exponential(multiplier=0.005, max=0.5), reraise=True)
        async for attempt in retrying:
            with attempt:
                return await self._execute_once(stream_id, decide, partition_key, ctx, also)
        raise AssertionError("unreachable")

    async def _execute_once(
        self, stream_id: str, decide: Callable[[S | None], Sequence[EventData]],
        partition_key: Callable[[S | None, Sequence[EventData]], str], ctx: CommandContext,
        also: AlsoWithState[S] | None,
    ) -> Executed[S]:
        loaded = await self.load(stream_id)
        events = decide(loaded.state)  # domain errors propagate to the caller unchanged
        if not events:
            return Executed(loaded.state, [], loaded.version)
        state = loaded.state
        for e in events:
            state = self._evolve(state, e)
        after = state

        async def hook(conn: asyncpg.Connection, recorded: list[RecordedEvent]) -> None:
            if also is not None and after is not None:
                await also(conn, after, recorded)

        recorded = await self._store.append(
            stream_id, loaded.version, to_new_events(events, ctx),
            partition_key=partition_key(loaded.state, events), ctx=ctx, also=hook)
        return Executed(after, recorded, recorded[-1].stream_version)
