"""Group commit on real PostgreSQL: concurrent appends on different streams share a transaction,
and what one member's failure does to the others (shared/eventstore/group_commit.py).

The contract every store passes runs with group commit too (``test_event_store.py``); these
are the group's own promises.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.records import ANY_VERSION, NEW_STREAM, RecordedEvent
from shared.eventstore.store import PostgresEventStore
from shared.outbox.messages import envelope_message
from tests.support.eventstore_contract import ctx, new


class CountingPool:
    """The pool, counting the connections the store takes (one per transaction it writes)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.acquired = 0

    def acquire(self):
        self.acquired += 1
        return self._pool.acquire()

    def __getattr__(self, name: str):
        return getattr(self._pool, name)


def streams(n: int) -> list[str]:
    return [f"thing-{uuid.uuid4()}" for _ in range(n)]


async def test_concurrent_appends_on_different_streams_share_transactions(eventstore_pool: asyncpg.Pool) -> None:
    pool = CountingPool(eventstore_pool)
    store = PostgresEventStore(pool, router=lambda e: [envelope_message("t", e)], group_commit=True)
    names = streams(40)
    results = await asyncio.gather(
        *(store.append(s, NEW_STREAM, new(2), partition_key=f"k{i % 7}", ctx=ctx()) for i, s in enumerate(names))
    )
    assert pool.acquired < len(names)  # grouped: fewer transactions than appends
    for name, recorded in zip(names, results, strict=True):
        assert [r.stream_version for r in recorded] == [1, 2]
        read = await store.read_stream(name)
        assert [(e.event_id, e.position, e.recorded_at) for e in read] == [
            (r.event_id, r.position, r.recorded_at) for r in recorded
        ]
    # the outbox rows carry the positions the events got, in position order per key
    rows = await eventstore_pool.fetch(
        "SELECT event_id, headers FROM outbox WHERE event_id = ANY($1::uuid[]) ORDER BY id",
        [r.event_id for rs in results for r in rs],
    )
    by_id = {r.event_id: r for rs in results for r in rs}
    assert len(rows) == 80
    for row in rows:
        assert row["headers"]["position"] == str(by_id[row["event_id"]].position)
    positions_by_key: dict[str, list[int]] = {}
    for row in rows:
        event = by_id[row["event_id"]]
        positions_by_key.setdefault(event.partition_key, []).append(event.position)
    assert all(p == sorted(p) for p in positions_by_key.values())


async def test_a_stale_stream_in_a_group_fails_alone(eventstore_pool: asyncpg.Pool) -> None:
    pool = CountingPool(eventstore_pool)
    store = PostgresEventStore(pool, group_commit=True)
    stale, *others = streams(12)
    await store.append(stale, NEW_STREAM, new(), partition_key="k", ctx=ctx())
    pool.acquired = 0
    results = await asyncio.gather(
        store.append(stale, NEW_STREAM, new(), partition_key="k", ctx=ctx()),  # the stream is at 1 already
        *(store.append(s, NEW_STREAM, new(), partition_key="k", ctx=ctx()) for s in others),
        return_exceptions=True,
    )
    assert pool.acquired == 1  # one group, not retried one by one
    assert isinstance(results[0], ConcurrencyError) and results[0].stream_id == stale
    assert all(isinstance(r, list) and len(r) == 1 for r in results[1:])
    assert len(await store.read_stream(stale)) == 1
    assert [len(await store.read_stream(s)) for s in others] == [1] * len(others)


async def test_a_statement_error_in_a_group_is_raised_to_its_command_only(eventstore_pool: asyncpg.Pool) -> None:
    pool = CountingPool(eventstore_pool)
    store = PostgresEventStore(pool, group_commit=True)
    taken = new()
    await store.append(f"thing-{uuid.uuid4()}", NEW_STREAM, taken, partition_key="k", ctx=ctx())
    bad, *others = streams(12)
    pool.acquired = 0
    results = await asyncio.gather(
        *(store.append(s, NEW_STREAM, new(), partition_key="k", ctx=ctx()) for s in others[:1]),
        store.append(bad, NEW_STREAM, taken, partition_key="k", ctx=ctx()),  # a duplicate event id
        *(store.append(s, NEW_STREAM, new(), partition_key="k", ctx=ctx()) for s in others[1:]),
        return_exceptions=True,
    )
    assert pool.acquired == 1 + 12  # the group failed as a whole, then each member went alone
    assert isinstance(results[1], asyncpg.UniqueViolationError)
    assert all(isinstance(r, list) for i, r in enumerate(results) if i != 1)
    assert await store.read_stream(bad) == []
    assert [len(await store.read_stream(s)) for s in others] == [1] * len(others)


async def test_appends_on_one_stream_are_never_in_one_group(eventstore_pool: asyncpg.Pool) -> None:
    """The second of two appends at the same version is decided against the first's result:
    it fails as it would alone, and an append at the version after the first goes in."""
    store = PostgresEventStore(eventstore_pool, group_commit=True)
    (name,) = streams(1)
    fillers = streams(5)
    results = await asyncio.gather(
        *(store.append(s, NEW_STREAM, new(), partition_key="f", ctx=ctx()) for s in fillers),
        store.append(name, NEW_STREAM, new(), partition_key="k", ctx=ctx()),
        store.append(name, NEW_STREAM, new(), partition_key="k", ctx=ctx()),
        store.append(name, 1, new(), partition_key="k", ctx=ctx()),
        return_exceptions=True,
    )
    mine = results[5:]
    assert isinstance(mine[0], list) and isinstance(mine[1], ConcurrencyError)
    assert isinstance(mine[2], list) and [r.stream_version for r in mine[2]] == [2]
    assert [e.stream_version for e in await store.read_stream(name)] == [1, 2]


async def test_a_cancelled_command_waiting_for_its_group_is_not_written(eventstore_pool: asyncpg.Pool) -> None:
    store = PostgresEventStore(eventstore_pool, group_commit=True)
    first, waiting = streams(2)
    writing = asyncio.ensure_future(store.append(first, NEW_STREAM, new(), partition_key="k", ctx=ctx()))
    await asyncio.sleep(0)  # the writer has taken the first append
    queued = asyncio.ensure_future(store.append(waiting, NEW_STREAM, new(), partition_key="k", ctx=ctx()))
    await asyncio.sleep(0)
    queued.cancel()
    recorded: list[RecordedEvent] = await writing
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert len(recorded) == 1
    await asyncio.sleep(0.05)
    assert await store.read_stream(waiting) == []


async def test_each_members_own_writes_run_in_the_group_and_a_failing_one_fails_alone(
    eventstore_pool: asyncpg.Pool,
) -> None:
    pool = CountingPool(eventstore_pool)
    store = PostgresEventStore(pool, group_commit=True)
    await eventstore_pool.execute("CREATE TABLE IF NOT EXISTS group_hook_rows (stream_id text, version int)")
    names = streams(10)
    failing = names[4]
    seen: list[str] = []

    def hook(name: str):
        async def write(tx: asyncpg.Connection, recorded: list[RecordedEvent]) -> None:
            seen.append(name)
            await tx.execute(
                "INSERT INTO group_hook_rows VALUES ($1, $2)", recorded[-1].stream_id, recorded[-1].stream_version
            )
            if name == failing:
                raise RuntimeError("this command's own write failed")

        return write

    results = await asyncio.gather(
        *(store.append(s, NEW_STREAM, new(2), partition_key=s, ctx=ctx(), in_transaction=hook(s)) for s in names),
        return_exceptions=True,
    )
    assert pool.acquired == 1 + len(names)  # the group, rolled back; then each member alone
    assert len(seen) == 5 + len(names)  # in the group up to the failing one; then each alone
    assert isinstance(results[4], RuntimeError)
    assert all(isinstance(r, list) for i, r in enumerate(results) if i != 4)
    assert await store.read_stream(failing) == []
    rows = dict(
        await eventstore_pool.fetch(
            "SELECT stream_id, version FROM group_hook_rows WHERE stream_id = ANY($1::text[])", names
        )
    )
    assert rows == {s: 2 for s in names if s != failing}


async def test_each_members_own_writes_commit_with_its_events_in_one_group(eventstore_pool: asyncpg.Pool) -> None:
    pool = CountingPool(eventstore_pool)
    store = PostgresEventStore(pool, group_commit=True)
    await eventstore_pool.execute("CREATE TABLE IF NOT EXISTS group_hook_rows (stream_id text, version int)")
    names = streams(10)

    async def write(tx: asyncpg.Connection, recorded: list[RecordedEvent]) -> None:
        await tx.execute(
            "INSERT INTO group_hook_rows VALUES ($1, $2)", recorded[-1].stream_id, recorded[-1].stream_version
        )

    await asyncio.gather(
        *(store.append(s, NEW_STREAM, new(3), partition_key=s, ctx=ctx(), in_transaction=write) for s in names)
    )
    assert pool.acquired == 1  # all ten in one transaction
    rows = dict(
        await eventstore_pool.fetch(
            "SELECT stream_id, version FROM group_hook_rows WHERE stream_id = ANY($1::text[])", names
        )
    )
    assert rows == {s: 3 for s in names}


async def test_waves_of_appends_all_finish_with_several_groups_in_flight(eventstore_pool: asyncpg.Pool) -> None:
    """Several writers at once: every append is answered (none left queued without a writer),
    and each stream's versions are contiguous in position order."""
    store = PostgresEventStore(eventstore_pool, group_commit=True)
    names = streams(30)
    for _ in range(3):
        results = await asyncio.wait_for(
            asyncio.gather(
                *(
                    store.append(s, ANY_VERSION, new(1), partition_key=f"k{i % 3}", ctx=ctx())
                    for i, s in enumerate(names)
                ),
                *(
                    store.append(s, ANY_VERSION, new(1), partition_key=f"k{i % 3}", ctx=ctx())
                    for i, s in enumerate(names)
                ),
            ),
            timeout=60,
        )
        assert all(len(r) == 1 for r in results)
        await asyncio.sleep(0)
    for name in names:
        assert [e.stream_version for e in await store.read_stream(name)] == list(range(1, 7))
    rows = await eventstore_pool.fetch(
        "SELECT stream_id, stream_version FROM events WHERE stream_id = ANY($1::text[]) ORDER BY position",
        names,
    )
    last: dict[str, int] = {}
    for row in rows:
        assert row["stream_version"] == last.get(row["stream_id"], 0) + 1
        last[row["stream_id"]] = row["stream_version"]
