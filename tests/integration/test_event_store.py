"""The event store against real PostgreSQL: versions, concurrency, atomicity, ordering."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.records import ANY_VERSION, NEW_STREAM, CommandContext, NewEvent
from shared.eventstore.store import EventStore
from shared.outbox.messages import envelope_message


def ctx() -> CommandContext:
    return CommandContext(correlation_id=str(uuid.uuid4()), actor="test", now=datetime.now(UTC))


def new(n: int = 1, kind: str = "Happened") -> list[NewEvent]:
    return [NewEvent(uuid.uuid4(), kind, 1, {"i": i}, datetime.now(UTC)) for i in range(n)]


async def test_append_and_read_stream_in_version_order(eventstore_pool):
    store = EventStore(eventstore_pool)
    stream = f"thing-{uuid.uuid4()}"
    first = await store.append(stream, NEW_STREAM, new(2), partition_key="k1", ctx=ctx())
    second = await store.append(stream, 2, new(1), partition_key="k1", ctx=ctx())
    events = await store.read_stream(stream)
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert [e.event_id for e in events] == [e.event_id for e in first + second]
    assert first[0].position < first[1].position < second[0].position
    assert events[0].data == {"i": 0} and events[0].actor == "test"


async def test_new_stream_expectation_refuses_an_existing_stream(eventstore_pool):
    store = EventStore(eventstore_pool)
    stream = f"thing-{uuid.uuid4()}"
    await store.append(stream, NEW_STREAM, new(), partition_key="k", ctx=ctx())
    with pytest.raises(ConcurrencyError) as err:
        await store.append(stream, NEW_STREAM, new(), partition_key="k", ctx=ctx())
    assert err.value.actual == 1
    assert len(await store.read_stream(stream)) == 1


async def test_any_version_appends_after_whatever_is_there(eventstore_pool):
    store = EventStore(eventstore_pool)
    stream = f"thing-{uuid.uuid4()}"
    await store.append(stream, ANY_VERSION, new(2), partition_key="k", ctx=ctx())
    recorded = await store.append(stream, ANY_VERSION, new(1), partition_key="k", ctx=ctx())
    assert recorded[0].stream_version == 3


async def test_two_concurrent_appends_with_the_same_expected_version_one_wins(eventstore_pool):
    store = EventStore(eventstore_pool)
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


async def test_duplicate_event_id_is_refused_and_nothing_is_written(eventstore_pool):
    store = EventStore(eventstore_pool)
    stream = f"thing-{uuid.uuid4()}"
    events = new()
    await store.append(stream, NEW_STREAM, events, partition_key="k", ctx=ctx())
    other = f"thing-{uuid.uuid4()}"
    with pytest.raises(Exception, match="event_id"):
        await store.append(other, NEW_STREAM, events + new(), partition_key="k", ctx=ctx())
    assert await store.read_stream(other) == []


async def test_outbox_rows_commit_with_the_events_or_not_at_all(eventstore_pool):
    store = EventStore(eventstore_pool, router=lambda e: [envelope_message("t", e)])
    stream = f"thing-{uuid.uuid4()}"

    async def fail(conn, recorded):
        raise RuntimeError("the caller's own write failed")

    with pytest.raises(RuntimeError):
        await store.append(stream, NEW_STREAM, new(3), partition_key="k", ctx=ctx(), in_transaction=fail)
    assert await store.read_stream(stream) == []
    recorded = await store.append(stream, NEW_STREAM, new(3), partition_key="k", ctx=ctx())
    rows = await eventstore_pool.fetch(
        "SELECT event_id, key, headers FROM outbox WHERE event_id = ANY($1::uuid[]) ORDER BY id",
        [r.event_id for r in recorded])
    assert [r["event_id"] for r in rows] == [r.event_id for r in recorded]
    assert rows[0]["headers"]["stream_version"] == "1" and rows[0]["key"] == "k"


async def test_read_all_returns_committed_events_in_position_order(eventstore_pool):
    store = EventStore(eventstore_pool)
    streams = [f"thing-{uuid.uuid4()}" for _ in range(5)]
    for s in streams:
        await store.append(s, NEW_STREAM, new(2), partition_key=s, ctx=ctx())
    everything = await store.read_all(0, limit=1000)
    positions = [e.position for e in everything]
    assert positions == sorted(positions) and len(everything) == 10
    assert [e.stream_id for e in await store.read_all(positions[3], limit=2)] == [
        everything[4].stream_id, everything[5].stream_id]
