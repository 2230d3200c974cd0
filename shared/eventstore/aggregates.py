"""Load an aggregate by folding its stream, decide, append with the version it was read at.

``execute`` is the one command loop every event-sourced service uses: a version clash means
someone else changed the aggregate between our read and our write, so we read again and
decide again; the command is re-checked against the new state (a payment that no longer
fits is refused then, not silently applied). After ``attempts`` clashes it gives up with
ConcurrencyError (HTTP 409).

Commands start from the state this process last saw (``StateCache``) instead of re-reading
the stream each time, and a command that mints its stream id starts from "empty" without a
read: the append's version check keeps both honest.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from shared.domain_errors import DomainError
from shared.events.base import EventData, registry
from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.ports import EventStore, InTransaction, Transaction
from shared.eventstore.records import NEW_STREAM, Append, CommandContext, NewEvent, RecordedEvent
from shared.fold import fold

S = TypeVar("S")

Evolve = Callable[[S | None, EventData], S]
InTransactionWithState = Callable[[Transaction, S, list[RecordedEvent]], Awaitable[None]]
"""``InTransaction`` that is also given the state after the command."""
WriteFor = Callable[[S | None, S, Sequence[EventData]], InTransaction | None]
"""A command's own write (None: nothing to write), made from the state before it, the state after
it and its events before the append, so that the PostgreSQL store can send a ``RowWrite`` in the
append's own statement."""


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
    return [NewEvent(uuid.uuid4(), e.event_type, e.schema_version, e.model_dump(mode="json"), ctx.now) for e in events]


class StateCache(Generic[S]):
    """The last known state of recently used streams, with the version it is at (an LRU).

    A hint, never the truth: an append made from a cached state still names the version it
    was decided at, so a stale entry (another replica, the scheduler process) costs one
    ConcurrencyError and a re-read, never a wrong write.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, Loaded[S]] = OrderedDict()

    def get(self, stream_id: str) -> Loaded[S] | None:
        hit = self._items.get(stream_id)
        if hit is not None:
            self._items.move_to_end(stream_id)
        return hit

    def put(self, stream_id: str, state: S | None, version: int) -> None:
        if self._size <= 0 or state is None:
            return
        self._items[stream_id] = Loaded(state, version, [])
        self._items.move_to_end(stream_id)
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def drop(self, stream_id: str) -> None:
        self._items.pop(stream_id, None)


@dataclass(frozen=True)
class Decided(Generic[S]):
    """A command decided outside ``execute`` (``AggregateRepository.append_decided`` writes
    several together): the state it started from, the events, the state they make."""

    stream_id: str
    start: Loaded[S]
    events: Sequence[EventData]
    after: S
    partition_key: str


InTransactionManyWithState = Callable[[Transaction, list[tuple[S, list[RecordedEvent]]]], Awaitable[None]]
"""``append_decided``'s hook: each stream's state after the command and its recorded events."""


@dataclass(frozen=True)
class _HookSpec(Generic[S]):
    """``execute``'s ``in_transaction`` or ``writes``, turned into one command's hook."""

    write: InTransactionWithState[S] | None
    writes: WriteFor[S] | None = None

    def for_command(self, before: S | None, after: S | None, events: Sequence[EventData]) -> InTransaction | None:
        write = self.write
        if after is None:
            return None
        if self.writes is not None:
            return self.writes(before, after, events)
        if write is None:
            return None

        async def hook(tx: Transaction, recorded: list[RecordedEvent]) -> None:
            await write(tx, after, recorded)

        return hook


NEW = Loaded[Any](None, NEW_STREAM, [])
"""What a stream the command creates is known to be, without reading it."""


class AggregateRepository(Generic[S]):
    def __init__(self, store: EventStore, evolve: Evolve[S], *, cache_size: int = 4096) -> None:
        self._store = store
        self._evolve = evolve
        self._cache: StateCache[S] = StateCache(cache_size)

    async def load(self, stream_id: str) -> Loaded[S]:
        """The stream folded from the store, with its events (for reads and audits)."""
        recorded = await self._store.read_stream(stream_id)
        state = self._remember(stream_id, ((r.event_type, r.schema_version, r.data) for r in recorded))
        return Loaded(state, len(recorded), recorded)

    async def current(self, stream_id: str) -> S | None:
        """The latest state a command can start from: cached, else folded from the store."""
        hit = self._cache.get(stream_id)
        return hit.state if hit is not None else (await self._fold(stream_id)).state

    async def start(self, stream_id: str) -> Loaded[S]:
        """What a command starts from, with its version: cached, else folded from the store."""
        hit = self._cache.get(stream_id)
        return hit if hit is not None else await self._fold(stream_id)

    async def append_decided(
        self,
        decided: Sequence[Decided[S]],
        *,
        ctx: CommandContext,
        in_transaction: InTransactionManyWithState[S] | None = None,
    ) -> list[Executed[S]]:
        """Write several streams' decisions in one transaction (a group commit), each at the
        version it started from. A clash on any stream writes nothing: ConcurrencyError, and
        the streams are re-read next time (the caller decides again, one by one if it likes)."""
        decided = [d for d in decided if d.events]
        if not decided:
            return []

        async def hook(tx: Transaction, recorded: list[list[RecordedEvent]]) -> None:
            if in_transaction is not None:
                await in_transaction(tx, [(d.after, r) for d, r in zip(decided, recorded, strict=True)])

        try:
            recorded = await self._store.append_many(
                [Append(d.stream_id, d.start.version, to_new_events(d.events, ctx), d.partition_key) for d in decided],
                ctx=ctx,
                in_transaction=hook,
            )
        except Exception:
            for d in decided:
                self._cache.drop(d.stream_id)
            raise
        done = []
        for d, r in zip(decided, recorded, strict=True):
            self._cache.put(d.stream_id, d.after, r[-1].stream_version)
            done.append(Executed(d.after, r, r[-1].stream_version))
        return done

    async def _fold(self, stream_id: str) -> Loaded[S]:
        """Like ``load`` but reads only what folding needs (commands never need the metadata)."""
        payloads = await self._store.read_payloads(stream_id)
        return Loaded(self._remember(stream_id, payloads), len(payloads), [])

    def _remember(self, stream_id: str, payloads: Iterable[tuple[str, int, dict[str, Any]]]) -> S | None:
        """Fold (event_type, schema_version, data) in stream order and cache the result."""
        events = [registry.load(event_type, schema_version, data) for event_type, schema_version, data in payloads]
        state = fold(self._evolve, events, None)
        self._cache.put(stream_id, state, len(events))
        return state

    async def execute(
        self,
        stream_id: str,
        decide: Callable[[S | None], Sequence[EventData]],
        *,
        partition_key: Callable[[S | None, Sequence[EventData]], str],
        ctx: CommandContext,
        in_transaction: InTransactionWithState[S] | None = None,
        writes: WriteFor[S] | None = None,
        attempts: int = 20,
        creates: bool = False,
    ) -> Executed[S]:
        """Run a command against the stream. ``creates``: the stream id was minted for this
        command (a new client, a new contract), so it is known to be empty without a read.
        ``in_transaction``: the caller's write, given the state after the command, in the append's
        transaction. ``writes``: instead, the command's write made before the append (None when it
        has nothing to write: its append is then one round trip; a ``RowWrite`` goes in the
        append's own statement, one round trip as well)."""
        hooked = _HookSpec(in_transaction, writes)
        start = NEW if creates else self._cache.get(stream_id)
        try:  # the common case, without the retry machinery's cost
            return await self._execute_once(stream_id, start, decide, partition_key, ctx, hooked)
        except ConcurrencyError:
            if attempts <= 1:
                raise
        # The first retry re-reads at once (the read is a pause in itself); after that, jittered
        # exponential back-off spreads racing writers out, so most clashes resolve on the next
        # try instead of colliding again (50 payments on one contract at once).
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(ConcurrencyError),
            stop=stop_after_attempt(attempts - 1),
            wait=wait_random_exponential(multiplier=0.005, max=0.5),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._execute_once(
                    stream_id, self._cache.get(stream_id), decide, partition_key, ctx, hooked
                )
        raise AssertionError("unreachable")

    async def _execute_once(
        self,
        stream_id: str,
        start: Loaded[S] | None,
        decide: Callable[[S | None], Sequence[EventData]],
        partition_key: Callable[[S | None, Sequence[EventData]], str],
        ctx: CommandContext,
        hooked: _HookSpec[S],
    ) -> Executed[S]:
        """Decide on ``start`` (a cached or assumed state) or, without one, on the stream read now.

        An append from a stale start fails on its version and is retried on fresh state. A
        refusal or a no-op writes nothing that could fail, so one decided on an assumed state
        stands only if the stream is still at that version; else it is decided again on the
        stream as it is.
        """
        fresh = start is None
        loaded = start if start is not None else await self._fold(stream_id)
        try:
            events = decide(loaded.state)
        except DomainError:
            if fresh or await self._store.stream_version(stream_id) == loaded.version:
                raise
            return await self._execute_once(stream_id, None, decide, partition_key, ctx, hooked)
        if not events:
            if fresh or await self._store.stream_version(stream_id) == loaded.version:
                return Executed(loaded.state, [], loaded.version)
            return await self._execute_once(stream_id, None, decide, partition_key, ctx, hooked)
        state = loaded.state
        for e in events:
            state = self._evolve(state, e)
        after = state
        try:
            recorded = await self._store.append(
                stream_id,
                loaded.version,
                to_new_events(events, ctx),
                partition_key=partition_key(loaded.state, events),
                ctx=ctx,
                in_transaction=hooked.for_command(loaded.state, after, events),
            )
        except ConcurrencyError:
            self._cache.drop(stream_id)
            raise
        self._cache.put(stream_id, after, recorded[-1].stream_version)
        return Executed(after, recorded, recorded[-1].stream_version)
