"""The event store contract: one set of test bodies, run against every backend.

A test module imports these and provides a ``backend`` fixture (an ``EventStoreBackend``):
``tests/integration/test_event_store.py`` runs them on PostgreSQL,
``tests/unit/shared/test_memory_event_store.py`` on ``MemoryEventStore``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

import pytest

from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.ports import EventStore
from shared.eventstore.records import ANY_VERSION, NEW_STREAM, Append, CommandContext, NewEvent
from shared.outbox.messages import OutboxRouter, envelope_message


@dataclass(frozen=True)
class QueuedMessage:
    event_id: UUID
    key: str
    headers: dict[str, str]


class EventStoreBackend(Protocol):
    def store(self, router: OutboxRouter | None = None) -> EventStore: ...

    async def outbox_of(self, event_ids: Sequence[UUID]) -> list[QueuedMessage]:
        """The outbox messages of these events, in the order they were queued."""
        ...


def ctx() -> CommandContext:
    return CommandContext(correlation_id=str(uuid.uuid4()), actor="test", now=datetime.now(UTC))


def new(n: int = 1, kind: str = "Happened") -> list[NewEvent]:
    return [NewEvent(uuid.uuid4(), kind, 1, {"i": i}, datetime.now(UTC)) for i in range(n)]


async def test_append_and_read_stream_in_version_order(backend: EventStoreBackend) -> None:
    store = backend.store()
    stream = f"thing-{uuid.uuid4()}"
    first = await store.append(stream, NEW_STREAM, new(2), partition_key="k1", ctx=ctx())
    second = await store.append(stream, 2, new(1), partition_key="k1", ctx=ctx())
    events = await store.read_stream(stream)
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert [e.event_id for e in events] == [e.event_id for e in first + second]
    assert first[0].position < first[1].position < second[0].position
    assert events[0].data == {"i": 0} and events[0].actor == "test"


async def test_payloads_versions_and_positions_read_back(backend: EventStoreBackend) -> None:
    store = backend.store()
    stream = f"thing-{uuid.uuid4()}"
    recorded = await store.append(stream, NEW_STREAM, new(2, kind="Seen"), partition_key="k", ctx=ctx())
    assert await store.read_payloads(stream) == [("Seen", 1, {"i": 0}), ("Seen", 1, {"i": 1})]
    assert await store.stream_version(stream) == 2
    assert await store.stream_version(f"thing-{uuid.uuid4()}") == 0
    assert await store.position_at(stream, 2) == recorded[1].position
    assert await store.position_at(stream, 3) is None


async def test_new_stream_expectation_refuses_an_existing_stream(backend: EventStoreBackend) -> None:
    store = backend.store()
    stream = f"thing-{uuid.uuid4()}"
    await store.append(stream, NEW_STREAM, new(), partition_key="k", ctx=ctx())
    with pytest.raises(ConcurrencyError) as err:
        await store.append(stream, NEW_STREAM, new(), partition_key="k", ctx=ctx())
    assert err.value.actual == 1
    assert len(await store.read_stream(stream)) == 1


async def test_any_version_appends_after_whatever_is_there(backend: EventStoreBackend) -> None:
    store = backend.store()
    stream = f"thing-{uuid.uuid4()}"
    await store.append(stream, ANY_VERSION, new(2), partition_key="k", ctx=ctx())
    recorded = await store.append(stream, ANY_VERSION, new(1), partition_key="k", ctx=ctx())
    assert recorded[0].stream_version == 3


async def test_two_concurrent_appends_with_the_same_expected_version_one_wins(backend: EventStoreBackend) -> None:
    store = backend.store()
    stream = f"thing-{uuid.uuid4()}"
    await store.append(stream, NEW_STREAM, new(), partition_key="k", ctx=ctx())
    results = await asyncio.gather(
        *(store.append(stream, 1, new(2), partition_key="k", ctx=ctx()) for _ in range(2)),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, list)]
    losses = [r for r in results if isinstance(r, ConcurrencyError)]
    assert len(wins) == 1 and len(losses) == 1
    events = await store.read_stream(stream)
    assert [e.stream_version for e in events] == [1, 2, 3]  # nothing half-written
    assert {e.event_id for e in events[1:]} == {e.event_id for e in wins[0]}


async def test_duplicate_event_id_is_refused_and_nothing_is_written(backend: EventStoreBackend) -> None:
    store = backend.store()
    stream = f"thing-{uuid.uuid4()}"
    events = new()
    await store.append(stream, NEW_STREAM, events, partition_key="k", ctx=ctx())
    other = f"thing-{uuid.uuid4()}"
    with pytest.raises(Exception, match="event_id"):
        await store.append(other, NEW_STREAM, events + new(), partition_key="k", ctx=ctx())
    assert await store.read_stream(other) == []


async def test_outbox_rows_commit_with_the_events_or_not_at_all(backend: EventStoreBackend) -> None:
    store = backend.store(router=lambda e: [envelope_message("t", e)])
    stream = f"thing-{uuid.uuid4()}"
    failed = new(3)

    async def fail(tx, recorded):
        raise RuntimeError("the caller's own write failed")

    with pytest.raises(RuntimeError):
        await store.append(stream, NEW_STREAM, failed, partition_key="k", ctx=ctx(), in_transaction=fail)
    assert await store.read_stream(stream) == []
    assert await backend.outbox_of([e.event_id for e in failed]) == []
    recorded = await store.append(stream, NEW_STREAM, new(3), partition_key="k", ctx=ctx())
    rows = await backend.outbox_of([r.event_id for r in recorded])
    assert [r.event_id for r in rows] == [r.event_id for r in recorded]
    assert rows[0].headers["stream_version"] == "1" and rows[0].key == "k"


async def test_read_all_returns_committed_events_in_position_order(backend: EventStoreBackend) -> None:
    store = backend.store()
    streams = [f"thing-{uuid.uuid4()}" for _ in range(5)]
    for s in streams:
        await store.append(s, NEW_STREAM, new(2), partition_key=s, ctx=ctx())
    everything = await store.read_all(0, limit=1000)
    positions = [e.position for e in everything]
    assert positions == sorted(positions) and len(everything) == 10
    assert [e.stream_id for e in await store.read_all(positions[3], limit=2)] == [
        everything[4].stream_id,
        everything[5].stream_id,
    ]


async def test_append_many_writes_several_streams_in_one_transaction(backend: EventStoreBackend) -> None:
    """A group commit: each stream at its own version, positions in the order given, the
    outbox in that order, the hook given each append's events."""
    store = backend.store(router=lambda e: [envelope_message("t", e)])
    old, fresh, other = (f"thing-{uuid.uuid4()}" for _ in range(3))
    await store.append(old, NEW_STREAM, new(2), partition_key="k1", ctx=ctx())
    seen: list[list[int]] = []

    async def hook(tx, recorded):
        seen.extend([r.stream_version for r in part] for part in recorded)

    recorded = await store.append_many(
        [
            Append(old, 2, new(2), "k1"),
            Append(fresh, NEW_STREAM, new(1), "k2"),
            Append(other, ANY_VERSION, new(3), "k1"),
        ],
        ctx=ctx(),
        in_transaction=hook,
    )
    assert seen == [[3, 4], [1], [1, 2, 3]]
    assert [[r.stream_id for r in part] for part in recorded] == [[old, old], [fresh], [other] * 3]
    flat = [r for part in recorded for r in part]
    assert [r.position for r in flat] == sorted(r.position for r in flat)
    assert [e.stream_version for e in await store.read_stream(old)] == [1, 2, 3, 4]
    rows = await backend.outbox_of([r.event_id for r in flat])
    assert [r.event_id for r in rows] == [r.event_id for r in flat]
    assert await store.append_many([Append(fresh, 1, [], "k2")], ctx=ctx()) == []


async def test_append_many_with_one_stream_moved_on_writes_nothing(backend: EventStoreBackend) -> None:
    store = backend.store(router=lambda e: [envelope_message("t", e)])
    ahead, fine = f"thing-{uuid.uuid4()}", f"thing-{uuid.uuid4()}"
    await store.append(ahead, NEW_STREAM, new(2), partition_key="k1", ctx=ctx())
    attempted = [Append(fine, NEW_STREAM, new(2), "k2"), Append(ahead, 1, new(1), "k1")]
    with pytest.raises(ConcurrencyError) as err:
        await store.append_many(attempted, ctx=ctx())
    assert (err.value.stream_id, err.value.expected, err.value.actual) == (ahead, 1, 2)
    assert await store.read_stream(fine) == [] and len(await store.read_stream(ahead)) == 2
    assert await backend.outbox_of([e.event_id for a in attempted for e in a.events]) == []

    async def fail(tx, recorded):
        raise RuntimeError("the caller's own write failed")

    with pytest.raises(RuntimeError):
        await store.append_many([Append(fine, NEW_STREAM, new(1), "k2")], ctx=ctx(), in_transaction=fail)
    assert await store.read_stream(fine) == []
    with pytest.raises(ValueError, match="twice"):
        await store.append_many([Append(fine, NEW_STREAM, new(1), "k2"), Append(fine, 1, new(1), "k2")], ctx=ctx())
