"""``eventstore_append`` (shared/eventstore/sql/0004): one round trip per append, and the
envelopes it stamps are the ones Python would have written."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from shared.events.envelope import Envelope
from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.records import NEW_STREAM, PendingEvent
from shared.eventstore.row_write import RowWrite
from shared.eventstore.store import PostgresEventStore
from shared.outbox.messages import OutboxMessage, envelope_draft, envelope_message, stamped
from tests.support.eventstore_contract import ctx, new


class Counted:
    """A pooled connection that notes every statement sent (each call is one round trip)."""

    def __init__(self, conn: asyncpg.Connection, sent: list[str]) -> None:
        self._conn, self._sent = conn, sent

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._conn, name)
        if name not in ("execute", "fetch", "fetchval", "fetchrow"):
            return method

        async def counted(query: str, *args: Any) -> Any:
            plain_append = query.startswith("SELECT appended_position") and "eventstore_append" in query
            self._sent.append("eventstore_append" if plain_append else query)
            return await method(query, *args)

        return counted


class CountingPool:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.sent: list[str] = []

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Counted]:
        async with self._pool.acquire() as conn:
            yield Counted(conn, self.sent)


def route(event: PendingEvent) -> list[OutboxMessage]:
    """An envelope, a second envelope of the same event with other fields (a public copy),
    and a message with a payload of its own (not stamped)."""
    fields = {**event.envelope_fields(), "event_id": uuid.uuid5(event.event_id, "public"), "event_type": "Public"}
    return [
        envelope_message("events", event),
        envelope_draft("public", event.partition_key, fields),
        OutboxMessage("plain", event.partition_key, uuid.uuid4(), b'{"as": "given"}', {"event_type": "Plain"}),
    ]


async def test_an_append_is_one_round_trip_and_its_envelopes_are_stamped_as_python_stamps_them(eventstore_pool):
    pool = CountingPool(eventstore_pool)
    store = PostgresEventStore(pool, router=route)  # the pool's one method the store uses
    key = f"client-{uuid.uuid4()}"
    recorded = await store.append(f"thing-{uuid.uuid4()}", NEW_STREAM, new(2), partition_key=key, ctx=ctx())
    assert pool.sent == ["eventstore_append"]
    assert [r.stream_version for r in recorded] == [1, 2]
    rows = await eventstore_pool.fetch("SELECT topic, payload, headers FROM outbox WHERE key = $1 ORDER BY id", key)
    assert [r["topic"] for r in rows] == ["events", "public", "plain"] * 2  # in the order routed
    by_topic = {t: [r for r in rows if r["topic"] == t] for t in ("events", "public", "plain")}
    for event, row in zip(recorded, by_topic["events"], strict=True):
        assert Envelope.from_bytes(row["payload"]) == event.envelope()
        assert row["headers"] == stamped(envelope_message("events", event), event).headers
        assert row["headers"]["position"] == str(event.position)
    for event, row in zip(recorded, by_topic["public"], strict=True):
        python = Envelope.from_bytes(stamped(route(event)[1], event).payload)
        assert Envelope.from_bytes(row["payload"]) == python
        assert (python.position, python.stream_version, python.event_type) == (
            event.position,
            event.stream_version,
            "Public",
        )
    assert [bytes(r["payload"]) for r in by_topic["plain"]] == [b'{"as": "given"}'] * 2
    assert all("position" not in r["headers"] for r in by_topic["plain"])


async def test_a_clash_is_one_round_trip_too_and_names_the_actual_version(eventstore_pool):
    pool = CountingPool(eventstore_pool)
    store = PostgresEventStore(pool, router=route)
    stream = f"thing-{uuid.uuid4()}"
    await store.append(stream, NEW_STREAM, new(3), partition_key=f"client-{uuid.uuid4()}", ctx=ctx())
    pool.sent.clear()
    attempted = new(1)
    with pytest.raises(ConcurrencyError) as clash:
        await store.append(stream, 1, attempted, partition_key=f"client-{uuid.uuid4()}", ctx=ctx())
    assert (clash.value.expected, clash.value.actual) == (1, 3)
    assert pool.sent == ["eventstore_append"]
    assert await eventstore_pool.fetchval("SELECT count(*) FROM outbox WHERE event_id = $1", attempted[0].event_id) == 0


async def test_with_the_callers_own_write_the_append_runs_inside_its_transaction(eventstore_pool):
    pool = CountingPool(eventstore_pool)
    store = PostgresEventStore(pool, router=route)
    await eventstore_pool.execute("CREATE TABLE IF NOT EXISTS side (position bigint PRIMARY KEY)")

    async def side(tx, recorded):
        await tx.execute("INSERT INTO side VALUES ($1)", recorded[-1].position)

    recorded = await store.append(
        f"thing-{uuid.uuid4()}",
        NEW_STREAM,
        new(1),
        partition_key=f"client-{uuid.uuid4()}",
        ctx=ctx(),
        in_transaction=side,
    )
    assert pool.sent == ["BEGIN", "eventstore_append", "INSERT INTO side VALUES ($1)", "COMMIT"]
    assert await eventstore_pool.fetchval("SELECT count(*) FROM side WHERE position = $1", recorded[0].position) == 1


SIDE_ROW = """INSERT INTO side_rows (stream_id, label, position)
SELECT $1::text, $2::text, appended.position FROM appended"""


def append_with_row(store: PostgresEventStore, stream: str, events: int, label: str):
    """``events`` new events on ``stream`` (expected new) with the side row ``label`` as a RowWrite."""
    return store.append(
        stream,
        NEW_STREAM,
        new(events),
        partition_key=f"client-{uuid.uuid4()}",
        ctx=ctx(),
        in_transaction=RowWrite.of(SIDE_ROW, stream, label),
    )


async def side_rows(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS side_rows"
        " (stream_id text PRIMARY KEY, label text NOT NULL, position bigint NOT NULL)"
    )


async def test_a_row_write_goes_in_the_appends_own_statement_at_its_last_position(eventstore_pool):
    """The tickets list's row: one round trip, not BEGIN / append / row / COMMIT."""
    await side_rows(eventstore_pool)
    pool = CountingPool(eventstore_pool)
    store = PostgresEventStore(pool, router=route)
    stream = f"thing-{uuid.uuid4()}"
    recorded = await append_with_row(store, stream, 2, "first")
    (sent,) = pool.sent  # one statement: the append and the row
    assert "eventstore_append" in sent and "INSERT INTO side_rows" in sent
    row = await eventstore_pool.fetchrow("SELECT label, position FROM side_rows WHERE stream_id = $1", stream)
    assert (row["label"], row["position"]) == ("first", recorded[-1].position)
    assert [r.stream_version for r in recorded] == [1, 2]
    assert await eventstore_pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", recorded[0].partition_key) == 6


async def test_a_refused_append_writes_no_row_either(eventstore_pool):
    await side_rows(eventstore_pool)
    store = PostgresEventStore(eventstore_pool, router=route)
    stream = f"thing-{uuid.uuid4()}"
    await store.append(stream, NEW_STREAM, new(1), partition_key=f"client-{uuid.uuid4()}", ctx=ctx())
    with pytest.raises(ConcurrencyError) as clash:
        await append_with_row(store, stream, 1, "refused")
    assert clash.value.actual == 1
    assert await eventstore_pool.fetchval("SELECT count(*) FROM side_rows WHERE stream_id = $1", stream) == 0


async def test_in_a_group_commit_each_row_write_runs_in_the_groups_transaction(eventstore_pool):
    """Row writes of one shape go in one round trip with the others' hooks beside them; each
    row at its own command's position."""
    await side_rows(eventstore_pool)
    store = PostgresEventStore(eventstore_pool, router=route, group_commit=True)
    names = [f"thing-{uuid.uuid4()}" for _ in range(30)]

    def write(i: int, stream: str):
        if i % 3 == 0:  # a hook that is not a row write

            async def hook(tx, recorded):
                await tx.execute("INSERT INTO side_rows VALUES ($1, $2, $3)", stream, f"n{i}", recorded[-1].position)

            return hook
        if i % 3 == 1:  # another shape: two parts
            return RowWrite.of(SIDE_ROW, stream, f"n{i}") + RowWrite.of(
                "DELETE FROM side_rows WHERE stream_id = $1 AND EXISTS (SELECT FROM appended)", "nothing-" + stream
            )
        return RowWrite.of(SIDE_ROW, stream, f"n{i}")

    results = await asyncio.gather(
        *(
            store.append(
                s,
                NEW_STREAM,
                new(1 + i % 2),
                partition_key=f"k{i % 5}",
                ctx=ctx(),
                in_transaction=write(i, s),
            )
            for i, s in enumerate(names)
        )
    )
    rows = await eventstore_pool.fetch(
        "SELECT stream_id, label, position FROM side_rows WHERE stream_id = ANY($1)", names
    )
    written = {r["stream_id"]: (r["label"], r["position"]) for r in rows}
    assert written == {
        s: (f"n{i}", recorded[-1].position) for i, (s, recorded) in enumerate(zip(names, results, strict=True))
    }
